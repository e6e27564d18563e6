# redteam: walk object.__subclasses__() to BuiltinImporter and load the real os module; the sandbox's os has no system()
# expect: error AttributeError
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
spec = importer.find_spec("posix")
if spec is None:
    raise AttributeError("no posix module: nothing to load")
posix = importer.load_module("posix")
result = posix.system("id")
