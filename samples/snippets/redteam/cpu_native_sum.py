# redteam: one long native call the interpreter cannot interrupt
# expect: limit wall_time
result = sum(range(10**12))
