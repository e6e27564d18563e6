# redteam: [0] * 10**9
# expect: limit memory
x = [0] * (10 ** 9)
