# redteam: reach os (and the environment) through the time module
# expect: error AttributeError
import time
result = time.os.environ
