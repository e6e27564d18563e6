# redteam: 'x' * 10**10
# expect: limit memory
x = 'x' * (10 ** 10)
