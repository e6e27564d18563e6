# redteam: walk object.__subclasses__() to BuiltinImporter and load posix, the real os's backend; the worker has none built in
# expect: error ImportError
# message: 'posix' is not a built-in module
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
posix = importer.load_module("posix")
result = posix.system("id")
