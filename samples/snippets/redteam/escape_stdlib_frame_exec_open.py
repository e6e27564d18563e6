# redteam: reach the interpreter's real `exec` through a stdlib function's frame (json.loads) and run code that opens a file; `exec` runs Python (which a snippet can anyway), but the interpreter's own builtins have no `open`
# expect: error NameError
# message: name 'open' is not defined
import json

try:
    json.loads("{")
except ValueError as error:
    frame = error.__traceback__.tb_next.tb_frame
real = frame.f_builtins
real["exec"]("data = open('/etc/passwd').read()", {})
result = "reached the file system"
