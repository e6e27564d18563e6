# redteam: reach the real import machinery through a frozen module's globals and import os; the worker's os is a stub with no environ
# expect: error AttributeError
# message: module 'os' has no attribute 'environ'
loader = [c for c in ().__class__.__base__.__subclasses__() if "FrozenImporter" in repr(c)][0]
real_import = loader.find_spec.__globals__["__import__"]
os = real_import("os")
result = os.environ
