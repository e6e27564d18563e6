# redteam: repr of a 100,000-deep nested list
# expect: contained
nested = []
for _ in range(100_000):
    nested = [nested]
result = repr(nested)
