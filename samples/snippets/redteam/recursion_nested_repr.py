# redteam: repr of a 100,000-deep nested list
# expect: limit recursion
# message: recursion depth limit of 400 frames exceeded
nested = []
for _ in range(100_000):
    nested = [nested]
result = repr(nested)
