# redteam: reach sys through statistics.sys
# expect: error AttributeError
# message: module 'statistics' has no attribute 'sys'
import statistics
result = statistics.sys.modules
