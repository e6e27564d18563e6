# redteam: import os
# expect: error ImportError
# message: allowed modules
import os
result = os.listdir('/')
