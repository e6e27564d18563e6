# redteam: import subprocess
# expect: error ImportError
# message: allowed modules
import subprocess
result = subprocess.run(['id'])
