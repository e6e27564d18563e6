# redteam: 10**(10**8): a long native big-int operation
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
result = 10 ** (10 ** 8)
