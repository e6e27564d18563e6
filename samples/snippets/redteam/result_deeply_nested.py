# redteam: return a 10,000-deep nested list
# expect: ok_truncated
nested = []
for _ in range(10_000):
    nested = [nested]
result = nested
