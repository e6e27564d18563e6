# redteam: restart the loop from finally blocks; each 10 ms interrupt adds one frame, so the 1 s grace ends in the kill long before the 400-frame recursion limit
# (usually the kill at deadline + grace ends it; now and then an interrupt lands where RustPython's exception table does not reach the handler and it ends in the worker, a little earlier: both are the wall-time limit, so only that is pinned)
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
def spin():
    try:
        while True:
            pass
    finally:
        spin()
spin()
