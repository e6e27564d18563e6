"""A stand-in for `io` inside the sandbox: in-memory streams only.

`StringIO` and `BytesIO` (e.g. for `csv` and `pprint`). There is no file-backed I/O in the
sandbox: no `open`, `FileIO`, `TextIOWrapper` or buffered file classes.
"""

from _io import BytesIO, StringIO, UnsupportedOperation

SEEK_SET = 0
SEEK_CUR = 1
SEEK_END = 2

__all__ = ["StringIO", "BytesIO", "UnsupportedOperation", "SEEK_SET", "SEEK_CUR", "SEEK_END"]
