# redteam: reach os through the random module
# expect: error AttributeError
import random
result = random.os.environ
