# redteam: read environment variables
# expect: error ImportError
# message: allowed modules
from os import environ
result = dict(environ)
