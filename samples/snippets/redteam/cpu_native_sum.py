# redteam: one long native call the interpreter cannot interrupt
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
result = sum(range(10**12))
