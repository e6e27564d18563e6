# redteam: poison re's private pattern cache
# expect: error AttributeError
import re
re._cache.clear()
