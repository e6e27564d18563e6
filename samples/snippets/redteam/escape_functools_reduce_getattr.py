# redteam: pass getattr around as a value to walk computed attribute names (it taints its worker)
# expect: ok ["_native"]
import functools
name = "_" * 2 + "globals" + "_" * 2
found = functools.reduce(getattr, [name], gather)
result = [key for key in found if key == "_native"]
