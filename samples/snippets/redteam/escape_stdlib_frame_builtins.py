# redteam: reach the interpreter's real builtins through a stdlib function's frame (json.loads) and open a file with them; the worker's io has no FileIO
# expect: error UnsupportedOperation
# message: Couldn't get FileIO
import json

try:
    json.loads("{")
except ValueError as error:
    frame = error.__traceback__.tb_next.tb_frame
real = frame.f_builtins
result = real["open"]("/etc/passwd").read()
