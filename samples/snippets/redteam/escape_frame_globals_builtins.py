# redteam: reach real builtins through a frame and restore open()
# expect: error NameError
import json
frame = (lambda: 0).__globals__
real = frame["__builtins__"]
result = open("/etc/passwd").read()
