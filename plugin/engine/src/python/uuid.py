"""A stand-in for `uuid` inside the sandbox: the `UUID` class, `uuid3`, `uuid4`, `uuid5`.

`uuid4` takes its bytes from the OS's randomness. `uuid1` and `getnode` (the host's MAC address)
do not exist here; CPython's module is frozen as `_cpython_uuid` and only its safe part is
re-exported.
"""

from _cpython_uuid import (
    MAX,
    NAMESPACE_DNS,
    NAMESPACE_OID,
    NAMESPACE_URL,
    NAMESPACE_X500,
    NIL,
    RESERVED_FUTURE,
    RESERVED_MICROSOFT,
    RESERVED_NCS,
    RFC_4122,
    UUID,
    SafeUUID,
    uuid3,
    uuid4,
    uuid5,
)

__all__ = ["UUID", "SafeUUID", "uuid3", "uuid4", "uuid5", "NAMESPACE_DNS", "NAMESPACE_URL",
           "NAMESPACE_OID", "NAMESPACE_X500", "NIL", "MAX", "RESERVED_NCS", "RFC_4122",
           "RESERVED_MICROSOFT", "RESERVED_FUTURE"]
