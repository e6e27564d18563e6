# redteam: open a file through io.FileIO (the sandbox's io has in-memory streams only)
# expect: error AttributeError
# message: FileIO
import io
result = io.FileIO("/etc/passwd").read()
