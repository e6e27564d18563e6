# redteam: reach sys.modules through typing
# expect: error AttributeError
import typing
result = list(typing.sys.modules)
