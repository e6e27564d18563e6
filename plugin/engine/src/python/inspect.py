"""A stand-in for `inspect` inside the sandbox: what `dataclasses` and `typing` call.

CPython's `inspect` imports `os`, `linecache`, `tokenize`, `dis` and `importlib.machinery`;
none of that belongs in the sandbox. Snippets cannot import this module (it is not on the
allowlist). `signature` raises `ValueError`, which `dataclasses` handles (the class docstring
is then just the class name).
"""

import types as _types


def signature(obj, *, follow_wrapped=True, globals=None, locals=None, eval_str=False,
              annotation_format=None):
    raise ValueError("signatures are not available in the sandbox")


def unwrap(func, *, stop=None):
    seen = {id(func)}
    while hasattr(func, "__wrapped__") and not (stop is not None and stop(func)):
        func = func.__wrapped__
        if id(func) in seen:
            raise ValueError(f"wrapper loop when unwrapping {func!r}")
        seen.add(id(func))
    return func


_sentinel = object()


def getattr_static(obj, attr, default=_sentinel):
    """Looks `attr` up without running descriptors or `__getattr__` (simplified)."""
    klass = obj if isinstance(obj, type) else type(obj)
    if not isinstance(obj, type):
        try:
            instance_dict = object.__getattribute__(obj, "__dict__")
        except AttributeError:
            instance_dict = {}
        if attr in instance_dict:
            return instance_dict[attr]
    for entry in type.__dict__["__mro__"].__get__(klass):
        entry_dict = type.__dict__["__dict__"].__get__(entry)
        if attr in entry_dict:
            return entry_dict[attr]
    if default is not _sentinel:
        return default
    raise AttributeError(attr)


def isclass(obj):
    return isinstance(obj, type)


def isfunction(obj):
    return isinstance(obj, _types.FunctionType)


def ismethod(obj):
    return isinstance(obj, _types.MethodType)


def isgenerator(obj):
    return isinstance(obj, _types.GeneratorType)


def iscoroutine(obj):
    return isinstance(obj, _types.CoroutineType)


def isawaitable(obj):
    return iscoroutine(obj) or hasattr(type(obj), "__await__")


def iscoroutinefunction(obj):
    code = getattr(unwrap(obj) if callable(obj) else obj, "__code__", None)
    return code is not None and bool(code.co_flags & 0x80)


def isbuiltin(obj):
    return isinstance(obj, _types.BuiltinFunctionType)


def isroutine(obj):
    return isbuiltin(obj) or isfunction(obj) or ismethod(obj)
