# redteam: walk gc.get_objects() for anything that reaches the host (the worker holds none: the snippet raises its own PermissionError)
# expect: error PermissionError
# message: nothing that reaches the host
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
gc = importer.load_module("gc")
names = sorted({type(o).__name__ for o in gc.get_objects()})
bad = [n for n in names if n in ("socket", "Popen", "FileIO", "TextIOWrapper")]
if bad:
    result = bad
else:
    raise PermissionError("nothing that reaches the host")
