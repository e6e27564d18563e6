# redteam: replace Counter.most_common for later runs
# expect: ok "pwned"
import collections
collections.Counter.most_common = lambda self, n=None: 'pwned'
result = collections.Counter('aab').most_common()
