# redteam: keep sleeping and swallow the deadline's exception; the kill at deadline + grace stops it
# expect: limit wall_time
# message: wall time limit of 2 s exceeded
import time
while True:
    try:
        time.sleep(1)
    except BaseException:
        pass
