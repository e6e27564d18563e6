# redteam: 'x' * 10**10
# expect: limit memory
# message: memory limit of 256 MiB exceeded
x = 'x' * (10 ** 10)
