# redteam: catch the deadline's exception forever; the run still ends at the wall time: usually killed at deadline + grace ("the snippet did not stop at the deadline"), but on a busy machine a repeated interrupt can land on the `continue`, outside the try, and stop it in the worker, or inside the handler and make RustPython panic ("CopyItem: stack underflow")
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
while True:
    try:
        while True:
            pass
    except BaseException:
        continue
