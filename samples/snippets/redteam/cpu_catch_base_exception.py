# redteam: catch the deadline's exception forever; the in-worker interrupt cannot stop it, the kill at deadline + grace does
# expect: limit wall_time
# message: wall time limit of 2 s exceeded: the snippet did not stop at the deadline
while True:
    try:
        while True:
            pass
    except BaseException:
        continue
