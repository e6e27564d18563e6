# redteam: bytearray(10**10)
# expect: limit memory
x = bytearray(10 ** 10)
