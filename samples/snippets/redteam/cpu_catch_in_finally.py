# redteam: restart the loop from finally blocks; each 10 ms interrupt adds one frame, so the 1 s grace ends in the kill long before the 400-frame recursion limit
# expect: limit wall_time
# message: wall time limit of 2 s exceeded: the snippet did not stop at the deadline
def spin():
    try:
        while True:
            pass
    finally:
        spin()
spin()
