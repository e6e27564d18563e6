# redteam: unbounded recursion
# expect: limit recursion
# message: recursion depth limit of 400 frames exceeded
def f(n):
    return f(n + 1)
f(0)
