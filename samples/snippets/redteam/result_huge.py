# redteam: return a ten-million-character result
# expect: ok_truncated
result = ['x' * 100] * 100_000
