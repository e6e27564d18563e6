# redteam: open a file
# expect: error NameError
# message: open
result = open('/etc/passwd').read()
