# redteam: while True: pass
# expect: limit wall_time
while True:
    pass
