"""A stand-in for `os` inside the sandbox: only `urandom`, which `random` needs at import.

There is no file system, environment or process access in the sandbox; snippets cannot import
this module (it is not on the allowlist).
"""

import _random


def urandom(size):
    """`size` random bytes from a generator freshly seeded by the OS's randomness."""
    if size < 0:
        raise ValueError("negative argument not allowed")
    return _random.Random().getrandbits(8 * size).to_bytes(size, "little") if size else b""


name = "sandbox"
sep = "/"


class PathLike:
    """`contextlib` and `typing` name it; nothing in the sandbox is a path."""


class path:
    """Just enough of `os.path` for the warnings code paths of the modules above."""

    @staticmethod
    def dirname(name):
        return str(name).rpartition("/")[0]
