# redteam: relative import
# expect: error ImportError
# message: relative imports
from . import secrets
