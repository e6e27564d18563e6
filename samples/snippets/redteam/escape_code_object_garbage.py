# redteam: replace a function's bytecode with garbage and call it
# expect: error InterpreterPanic
# message: the interpreter failed internally and was stopped:
# (RustPython's own panic text after the colon differs by platform: "execute_instrumented called
# with non-instrumented opcode" on Linux, "EnterExecutor instruction should not be executed" on
# Windows; the kind, the phase and the replaced worker are the same.)
def f():
    return 1
f.__code__ = f.__code__.replace(co_code=b"\xff\xff\xff\xff" * 8)
result = f()
