# redteam: setattr on datetime's class
# expect: ok 1
import datetime
setattr(datetime.datetime, 'now', classmethod(lambda cls, tz=None: 1))
result = datetime.datetime.now()
