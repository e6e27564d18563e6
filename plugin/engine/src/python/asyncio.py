"""asyncio for snippets: `run`, `gather`, `sleep`, `create_task` over codemode's bus calls.

Inside `async def`, a catalogue call returns an awaitable, so
`await asyncio.gather(*[crm.get_client(id=i) for i in ids])` runs the calls concurrently.
Top-level `await` works too. This is not CPython's asyncio: there are no sockets, threads or
event-loop objects.
"""

from _codemode import BusCall as Future
from _codemode import Task, create_task, run, sleep
from _codemode import gather_async as gather

TimeoutError = TimeoutError


class CancelledError(BaseException):
    """Never raised here; defined so `except asyncio.CancelledError` works."""


__all__ = ["run", "gather", "sleep", "create_task", "Task", "Future", "TimeoutError",
           "CancelledError"]
