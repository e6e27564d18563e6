# redteam: open a file through io.open
# expect: error AttributeError
# message: open
import io
result = io.open("/etc/passwd").read()
