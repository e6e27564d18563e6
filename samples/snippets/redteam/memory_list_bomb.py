# redteam: [0] * 10**9
# expect: limit memory
# message: memory limit of 256 MiB exceeded
x = [0] * (10 ** 9)
