# redteam: exec a string
# expect: error NameError
# message: exec
exec('import os')
