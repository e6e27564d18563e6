# redteam: 10**(10**8): a long native big-int operation
# expect: limit wall_time
result = 10 ** (10 ** 8)
