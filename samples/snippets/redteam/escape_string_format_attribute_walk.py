# redteam: walk attributes inside a format string ('{0.__class__...}': str.format only returns text)
# expect: ok "<class 'object'>"
result = "{0.__class__.__base__}".format(1)
