# redteam: catch the deadline's exception forever
# expect: limit wall_time
while True:
    try:
        while True:
            pass
    except BaseException:
        continue
