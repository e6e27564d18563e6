# redteam: eval a string
# expect: error NameError
# message: eval
result = eval('1 + 1')
