# redteam: poison re's private pattern cache
# expect: error AttributeError
# message: module 're' has no attribute '_cache'
import re
re._cache.clear()
