"""A stand-in for `os` inside the sandbox: only `urandom`, which `random` needs at import.

There is no file system, environment or process access in the sandbox; snippets cannot import
this module (it is not on the allowlist).
"""

import _random

_source = _random.Random()


def urandom(size):
    """`size` pseudo-random bytes (not for cryptography)."""
    return _source.getrandbits(8 * size).to_bytes(size, "little") if size else b""


name = "sandbox"


class path:
    """Just enough of `os.path` for the warnings code paths of the modules above."""

    @staticmethod
    def dirname(name):
        return str(name).rpartition("/")[0]
