# redteam: make a module named os with types.ModuleType (an empty module, nothing of the real os)
# expect: ok ["module", false, false]
import types
fake = types.ModuleType("os")
result = [type(fake).__name__, hasattr(fake, "environ"), hasattr(fake, "system")]
