# redteam: read __name__ of every class object.__subclasses__() returns (some make RustPython panic)
# expect: contained
names = [c.__name__ for c in ().__class__.__base__.__subclasses__()]
result = len(names)
