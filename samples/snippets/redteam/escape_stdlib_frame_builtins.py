# redteam: reach the interpreter's real builtins through a stdlib function's frame (json.loads) and open a file with them; `open` is gone from the interpreter's own builtins too
# expect: error KeyError
# message: 'open'
import json

try:
    json.loads("{")
except ValueError as error:
    frame = error.__traceback__.tb_next.tb_frame
real = frame.f_builtins
result = real["open"]("/etc/passwd").read()
