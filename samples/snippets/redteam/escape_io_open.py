# redteam: use the real _io module to open a file (the worker's _io has no FileIO)
# expect: error UnsupportedOperation
# message: Couldn't get FileIO
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
io = importer.load_module("_io")
result = io.open("/etc/passwd").read()
