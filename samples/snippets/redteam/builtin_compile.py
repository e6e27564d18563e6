# redteam: compile a string
# expect: error NameError
# message: compile
code = compile('1', 's', 'eval')
