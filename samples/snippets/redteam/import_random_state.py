# redteam: import random to seed state shared with later runs
# expect: error ImportError
# message: allowed modules
import random
random.seed(1)
