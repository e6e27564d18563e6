# redteam: copy a module object to get at a private copy of its internals
# expect: error TypeError
import copy
import json
result = copy.copy(json)
