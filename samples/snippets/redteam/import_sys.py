# redteam: import sys
# expect: error ImportError
# message: allowed modules
import sys
result = sys.modules
