# redteam: load sys through the escape and read the host command line and executable
# expect: ok [[], "", []]
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
sys = importer.load_module("sys")
result = [sys.argv, sys.executable, sys.orig_argv]
