# redteam: restart the loop from finally blocks; each 10 ms interrupt adds one frame, and the run ends at the wall time long before the 400-frame recursion limit: usually killed at deadline + grace ("the snippet did not stop at the deadline"), but on a busy machine an interrupt can land in a finally block before its call and unwind every frame, stopping the run in the worker first
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
def spin():
    try:
        while True:
            pass
    finally:
        spin()
spin()
