# redteam: replace a function's bytecode with garbage and call it
# expect: error InterpreterPanic
# message: the interpreter failed internally and was stopped: execute_instrumented called with non-instrumented opcode
def f():
    return 1
f.__code__ = f.__code__.replace(co_code=b"\xff\xff\xff\xff" * 8)
result = f()
