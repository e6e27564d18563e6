# redteam: read __name__ of every class object.__subclasses__() returns (some make RustPython panic)
# expect: error InterpreterPanic
# message: the interpreter failed internally and was stopped: static type name must be already interned
names = [c.__name__ for c in ().__class__.__base__.__subclasses__()]
result = len(names)
