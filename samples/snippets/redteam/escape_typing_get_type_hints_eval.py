# redteam: make typing.get_type_hints evaluate a string built at run time (it taints its worker; the snippet's own imports stay on the allowlist)
# expect: error ImportError
# message: allowed modules
import typing
code = "_" * 2 + "import" + "_" * 2 + "('os')"
def f(x: code):
    pass
result = typing.get_type_hints(f)
