# redteam: walk object.__subclasses__() to BuiltinImporter and load the os module it knows; the worker's os is a stub with no system()
# expect: error AttributeError
# message: module 'os' has no attribute 'system'
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
os = importer.load_module("os")
result = os.system("id")
