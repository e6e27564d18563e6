"""`time` as snippets see it: clocks and formatting, and a `sleep` that counts against the run.

`sleep` waits in short slices so the wall-time limit still stops it, and refuses to sleep past
the run's deadline (it raises `LimitExceeded` at the deadline instead). Nothing here reads the
host beyond its clocks.
"""

import time as _time

import _codemode_native as _native

# The clocks come from the engine (RustPython's own monotonic, perf_counter and time_ns panic
# in a browser's WebAssembly build).


def time_ns():
    """Nanoseconds since the Unix epoch."""
    return _native.time_ns()


def time():
    """Seconds since the Unix epoch."""
    return _native.time_ns() / 1e9


monotonic = _native.monotonic
monotonic_ns = _native.monotonic_ns
perf_counter = _native.monotonic
perf_counter_ns = _native.monotonic_ns
process_time = _native.monotonic
strftime = _time.strftime
gmtime = _time.gmtime
localtime = _time.localtime
mktime = _time.mktime
asctime = _time.asctime
ctime = _time.ctime
struct_time = _time.struct_time
timezone = 0
altzone = 0
daylight = 0
tzname = ("UTC", "UTC")


def strptime(string, format="%a %b %d %H:%M:%S %Y"):
    """Parses `string` by `format` into a `struct_time`."""
    import _strptime

    return _strptime._strptime_time(string, format)


def sleep(seconds):
    """Waits `seconds` (counted against the snippet's wall-time limit)."""
    if not isinstance(seconds, (int, float)):
        raise TypeError(
            f"'{type(seconds).__name__}' object cannot be interpreted as an integer or float"
        )
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    _native.sleep(float(seconds))


__all__ = ["time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
           "process_time", "strftime", "gmtime", "localtime", "mktime", "asctime", "ctime",
           "struct_time", "strptime", "sleep", "timezone", "altzone", "daylight", "tzname"]


# Snippets see this module as `time`.
__name__ = "time"
