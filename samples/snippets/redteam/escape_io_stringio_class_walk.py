# redteam: walk from io.StringIO's base classes to a file-backed class (the interpreter has none)
# expect: error IndexError
import io
bases = [cls.__name__ for cls in io.StringIO.__mro__]
raw = [cls for cls in io.StringIO.__mro__[1].__subclasses__() if "FileIO" in cls.__name__][0]
result = raw("/etc/passwd").read()
