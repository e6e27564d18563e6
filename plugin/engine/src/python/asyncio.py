"""asyncio for snippets, over codemode's bus calls.

Inside `async def`, a catalogue call returns an awaitable, so
`await asyncio.gather(*[crm.get_client(id=i) for i in ids])` runs the calls concurrently, and
`async with asyncio.Semaphore(5):` limits how many are in flight. Top-level `await` works too.
This is not CPython's asyncio: the loop lives in codemode's runtime and waits on the host, and
there are no sockets, subprocesses, threads or signal handlers.
"""

from _codemode import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    BoundedSemaphore,
    CancelledError,
    Event,
    Future,
    InvalidStateError,
    LifoQueue,
    Lock,
    PriorityQueue,
    Queue,
    QueueEmpty,
    QueueFull,
    Semaphore,
    Task,
    TaskGroup,
    Timeout,
    all_tasks,
    as_completed,
    create_task,
    current_task,
    ensure_future,
    get_event_loop,
    get_running_loop,
    iscoroutine,
    iscoroutinefunction,
    run,
    shield,
    sleep,
    timeout,
    timeout_at,
    wait,
    wait_for,
)
from _codemode import gather_async as gather

TimeoutError = TimeoutError

__all__ = [
    "run", "gather", "sleep", "create_task", "ensure_future", "shield", "wait", "wait_for",
    "as_completed", "timeout", "timeout_at", "Timeout", "TaskGroup", "Task", "Future",
    "Semaphore", "BoundedSemaphore", "Lock", "Event", "Queue", "LifoQueue", "PriorityQueue",
    "QueueEmpty", "QueueFull", "CancelledError", "TimeoutError", "InvalidStateError",
    "FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "current_task", "all_tasks",
    "get_running_loop", "get_event_loop", "iscoroutine", "iscoroutinefunction",
]
