# redteam: replace len and print in this run's builtins
# expect: ok -1
__builtins__['len'] = lambda value: -1
result = len([1, 2])
