# redteam: time.sleep for longer than the run may last
# expect: limit wall_time
import time
time.sleep(30)
result = "woke"
