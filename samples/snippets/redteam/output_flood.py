# redteam: print without end
# expect: ok "done"
# printed_contains: [output truncated: printed output limit of 6000 tokens or 48000 characters reached;
for i in range(20_000):
    print('spam' * 20, i)
result = 'done'
