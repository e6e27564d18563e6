# redteam: import ctypes
# expect: error ImportError
# message: allowed modules
import ctypes
