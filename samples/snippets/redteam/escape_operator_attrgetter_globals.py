# redteam: reach the runtime's globals with operator.attrgetter and a computed name (it taints its worker)
# expect: ok ["_native"]
import operator
name = "_" * 2 + "globals" + "_" * 2
found = operator.attrgetter(name)(gather)
result = [key for key in found if key == "_native"]
