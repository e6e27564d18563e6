# redteam: reach the builtins through the snippet's own frame and call the open() found there
# expect: error KeyError
# message: 'open'
try:
    raise ValueError("x")
except ValueError as error:
    frame = error.__traceback__.tb_frame
real = frame.f_globals["__builtins__"]
result = real["open"]("/etc/passwd").read()
