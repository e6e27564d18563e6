# redteam: feed garbage to marshal.loads through the escape
# expect: error ValueError
# message: bad marshal data
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
marshal = importer.load_module("marshal")
result = marshal.loads(b"\xe3" + b"\x00" * 64)
