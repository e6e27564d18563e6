# redteam: catch the deadline's exception forever; the kill at deadline + grace ends it
# (usually the kill at deadline + grace ends it; now and then an interrupt lands where RustPython's exception table does not reach the handler and it ends in the worker, a little earlier: both are the wall-time limit, so only that is pinned)
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
while True:
    try:
        while True:
            pass
    except BaseException:
        continue
