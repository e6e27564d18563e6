# redteam: read a catalogue function's __globals__ and call the builtins' __import__ from the snippet
# expect: error ImportError
# message: allowed modules
g = crm.get_clients.__globals__
imp = g["__builtins__"]["__import__"] if isinstance(g["__builtins__"], dict) else g["__builtins__"].__import__
result = imp("subprocess")
