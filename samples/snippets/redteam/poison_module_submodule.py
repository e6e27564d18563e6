# redteam: reach sys through statistics.sys
# expect: error AttributeError
import statistics
result = statistics.sys.modules
