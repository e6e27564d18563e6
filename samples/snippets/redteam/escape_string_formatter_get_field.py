# redteam: string.Formatter.get_field hands out the object an attribute path reaches (it taints its worker)
# expect: ok true
import string
found, _ = string.Formatter().get_field("0." + "_" * 2 + "class" + "_" * 2, (1,), {})
result = found is int
