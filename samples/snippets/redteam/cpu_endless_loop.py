# redteam: while True: pass
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
while True:
    pass
