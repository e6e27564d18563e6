# redteam: importlib.import_module
# expect: error ImportError
# message: allowed modules
import importlib
result = importlib.import_module('os')
