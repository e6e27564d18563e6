# redteam: bytearray(10**10)
# expect: limit memory
# message: memory limit of 256 MiB exceeded
x = bytearray(10 ** 10)
