# redteam: grow a list of strings until something gives
# expect: limit memory
# limits: wall_time_ms=20000
# message: memory limit of 256 MiB exceeded
chunks = []
while True:
    chunks.append('x' * 1_000_000)
