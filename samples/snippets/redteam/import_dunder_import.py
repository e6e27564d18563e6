# redteam: __import__('posix') directly
# expect: error ImportError
# message: allowed modules
posix = __import__('posix')
result = posix.getcwd()
