"""A stand-in for `locale` inside the sandbox: the "C" locale only.

`_strptime` (behind `datetime.strptime`) and `calendar` ask for the time locale; there is no
host locale to read in the sandbox. Snippets cannot import this module.
"""

LC_CTYPE = 0
LC_NUMERIC = 1
LC_TIME = 2
LC_COLLATE = 3
LC_MONETARY = 4
LC_MESSAGES = 5
LC_ALL = 6
CHAR_MAX = 127


class Error(Exception):
    """A locale operation failed."""


def setlocale(category, locale=None):
    """Only the "C" locale exists."""
    if locale not in (None, "", "C", "POSIX"):
        raise Error("unsupported locale setting")
    return "C"


def getlocale(category=LC_CTYPE):
    return (None, None)


def getencoding():
    return "UTF-8"


def getpreferredencoding(do_setlocale=True):
    return "UTF-8"


def normalize(localename):
    return localename
