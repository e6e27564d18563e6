# redteam: print without end
# expect: ok "done"
for i in range(20_000):
    print('spam' * 20, i)
result = 'done'
