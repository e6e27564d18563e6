# redteam: reach sys.modules through dataclasses (which imports sys and inspect)
# expect: error AttributeError
import dataclasses
result = [name for name in ("sys", "inspect", "copy", "re") if hasattr(dataclasses, name)] + list(dataclasses.sys.modules)
