# redteam: replace json.dumps for later runs
# expect: ok "poisoned here"
import json
json.dumps = lambda *args, **kwargs: 'poisoned'
result = 'poisoned here'
