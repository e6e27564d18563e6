"""codemode's snippet runtime: bus exceptions, catalogue namespaces and concurrent calls.

Trusted code, frozen into the sandbox worker. Snippets only see what the engine copies into
their globals: the exception classes, the namespaces, `gather`, and the `asyncio` shim.

Concurrency model: a bus call made directly inside `gather(...)`, a top-level `await`, or a
coroutine returns a `BusCall` (already started) instead of blocking. `_Loop` drives
coroutines and waits on the host for whichever started calls are still pending, so N calls
take about as long as the slowest one.
"""

import datetime as _dt

import _codemode_native as _native


class BusError(Exception):
    """A bus call failed. `function`, `kind`, `reason`, `reason_uri` and `context` say how."""

    kind = "error"

    def __init__(self, message="", *, function=None, reason=None, reason_uri=None, context=None):
        super().__init__(message)
        self.message = message
        self.function = function
        self.reason = reason if reason is not None else message
        self.reason_uri = reason_uri
        self.context = context


class MethodNotFoundError(BusError):
    """No server offers the method (or no app handles the intent's target)."""

    kind = "method_not_found"


class NoMatchingServerError(MethodNotFoundError):
    """Servers offer the method, but none matches `target=`."""

    kind = "no_matching_server"


class InvocationFailedError(BusError):
    """The server ran the method and reported a failure; see `reason` and `context`."""

    kind = "invocation_failed"


class IntentNotResolvedError(BusError):
    """No handler could take the intent. When several could (an ambiguous raise), `choices`
    lists them as `{"app", "instance"}` dicts: raise again with one of them."""

    kind = "intent_not_resolved"

    @property
    def choices(self):
        context = self.context if isinstance(self.context, dict) else {}
        choices = context.get("choices")
        return list(choices) if isinstance(choices, list) else []


class BusTimeoutError(BusError, TimeoutError):
    """The server did not answer in time."""

    kind = "timeout"


class DisconnectedError(BusError, ConnectionError):
    """The connection to the bus is down."""

    kind = "disconnected"


class PeerLeftError(DisconnectedError):
    """The server left the bus while the call was pending."""

    kind = "peer_left"


class InvalidArgumentsError(TypeError, BusError):
    """The bus refused the arguments.

    `TypeError` comes first: RustPython refuses `TypeError.__new__` for a class whose first
    base is a plain `Exception` subclass ("is not safe"), which made this error impossible to
    raise. `BusError.__init__` still runs (`TypeError` has no `__init__` of its own).
    """

    kind = "invalid_arguments"


class LimitExceeded(BaseException):
    """A sandbox limit was hit (wall time, bus calls). Not caught by `except Exception`."""


_ERRORS = {
    cls.kind: cls
    for cls in (
        BusError,
        MethodNotFoundError,
        NoMatchingServerError,
        InvocationFailedError,
        IntentNotResolvedError,
        BusTimeoutError,
        DisconnectedError,
        PeerLeftError,
        InvalidArgumentsError,
    )
}


def _make_error(kind, message, function, reason_uri, context):
    cls = _ERRORS.get(kind, BusError)
    return cls(message, function=function, reason_uri=reason_uri, context=context)


# ---------------------------------------------------------------------------------------------
# Values that are not plain JSON

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MS = _dt.timedelta(milliseconds=1)


def _date_from_ms(ms):
    """A bus date (`#T42_DATE#<ms>`) as an aware UTC datetime."""
    return _EPOCH + _dt.timedelta(milliseconds=ms)


def _convert_other(obj, for_bus):
    """A JSON-able stand-in for `obj`; returns `obj` itself when it has none (results only)."""
    if isinstance(obj, _dt.datetime):
        if for_bus:
            if obj.tzinfo is None:
                obj = obj.replace(tzinfo=_dt.timezone.utc)
            return "#T42_DATE#" + str((obj - _EPOCH) // _MS)
        return obj.isoformat()
    if isinstance(obj, _dt.date):
        if for_bus:
            midnight = _dt.datetime(obj.year, obj.month, obj.day, tzinfo=_dt.timezone.utc)
            return "#T42_DATE#" + str((midnight - _EPOCH) // _MS)
        return obj.isoformat()
    if isinstance(obj, _dt.time):
        return obj.isoformat()
    if isinstance(obj, _dt.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (set, frozenset)):
        items = list(obj)
        try:
            items.sort()
        except TypeError:
            pass
        return items
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode("utf-8", "replace")
    if for_bus:
        raise TypeError(
            f"a {type(obj).__name__} cannot be passed to a bus call; use str, int, float, "
            "bool, None, list, dict or datetime"
        )
    if type(obj).__name__ in ("Decimal", "Fraction"):
        return float(obj)
    if isinstance(obj, (BusCall, Task)):
        return repr(obj)
    return obj


# ---------------------------------------------------------------------------------------------
# Catalogue namespaces


class _Namespace:
    """A read-only group of catalogue functions, e.g. `crm`."""

    __slots__ = ()
    _cm_path = ""
    _cm_names = ()

    def __getattr__(self, name):
        raise AttributeError(_native.unknown_attribute(self._cm_path, name))

    def __setattr__(self, name, value):
        raise AttributeError(f"catalogue namespace '{self._cm_path}' is read-only")

    def __delattr__(self, name):
        raise AttributeError(f"catalogue namespace '{self._cm_path}' is read-only")

    def __dir__(self):
        return list(self._cm_names)

    def __repr__(self):
        return f"<namespace {self._cm_path}: {', '.join(self._cm_names)}>"


def _bus_function(path, name, doc):
    def bus_function(*args, **kwargs):
        return _native.call(path, args, kwargs)

    bus_function.__name__ = name
    bus_function.__qualname__ = path
    bus_function.__doc__ = doc
    return bus_function


_WRAPPER_CODE = _bus_function("", "", None).__code__


def _build_namespaces(tree):
    """`tree` maps a path to (kind, payload): ("function", (name, doc)) or
    ("namespace", [child paths]). Returns {top-level name: object}."""
    built = {}

    def build(path):
        if path in built:
            return built[path]
        kind, payload = tree[path]
        if kind == "function":
            name, doc = payload
            obj = _bus_function(path, name, doc)
        else:
            members = {}
            names = []
            for child in payload:
                short = child.rpartition(".")[2]
                value = build(child)
                if tree[child][0] == "function":
                    value = staticmethod(value)
                members[short] = value
                names.append(short)
            members["__slots__"] = ()
            members["_cm_path"] = path
            members["_cm_names"] = tuple(names)
            cls = type(path.rpartition(".")[2], (_Namespace,), members)
            obj = cls()
        built[path] = obj
        return obj

    return {path: build(path) for path in tree if "." not in path}


# ---------------------------------------------------------------------------------------------
# Concurrent calls


class BusCall:
    """A bus call that was started without waiting: `await` it, or pass it to `gather()`."""

    __slots__ = ("ticket", "function", "_done", "_ok", "_value")

    def __init__(self, ticket, function):
        self.ticket = ticket
        self.function = function
        self._done = False
        self._ok = False
        self._value = None

    def __await__(self):
        if not self._done:
            yield self
        return self._outcome()

    def _settle(self, ok, payload):
        self._done = True
        self._ok = ok
        self._value = payload if ok else _make_error(*payload)

    def _outcome(self):
        if self._ok:
            return self._value
        raise self._value

    def result(self):
        """Waits for the call and returns its value (raises its `BusError`)."""
        if not self._done:
            _Loop().run(self)
        return self._outcome()

    def _misuse(self, *args, **kwargs):
        raise TypeError(
            f"{self.function}(...) was started concurrently and returns an awaitable here: "
            f"write `await {self.function}(...)`, or pass the calls to gather(...)"
        )

    __getitem__ = __iter__ = _misuse
    keys = items = values = get = _misuse

    def __repr__(self):
        state = "done" if self._done else "pending"
        return f"<BusCall {self.function}(...) {state}>"


class Task:
    """A coroutine scheduled by `asyncio.create_task` or `gather`."""

    __slots__ = ("coro", "done", "ok", "value", "joiners", "_loop")

    def __init__(self, coro):
        self.coro = coro
        self.done = False
        self.ok = False
        self.value = None
        self.joiners = []
        self._loop = None

    def __await__(self):
        if not self.done:
            yield self
        if self.ok:
            return self.value
        raise self.value

    def result(self):
        if not self.done:
            raise RuntimeError("the task is not finished")
        if self.ok:
            return self.value
        raise self.value

    def __repr__(self):
        return f"<Task {'done' if self.done else 'pending'}>"


class _Join:
    __slots__ = ("items", "return_exceptions")

    def __init__(self, items, return_exceptions):
        self.items = items
        self.return_exceptions = return_exceptions


class _Sleep:
    __slots__ = ("seconds",)

    def __init__(self, seconds):
        self.seconds = seconds


class _GatherFuture:
    """What `asyncio.gather(...)` returns: await it for the list of results."""

    __slots__ = ("items", "return_exceptions")

    def __init__(self, items, return_exceptions):
        self.items = items
        self.return_exceptions = return_exceptions

    def __await__(self):
        return (yield _Join(self.items, self.return_exceptions))

    def _misuse(self, *args, **kwargs):
        raise TypeError(
            "inside `async def`, gather(...) returns an awaitable: write `await gather(...)`"
        )

    __getitem__ = __iter__ = __len__ = _misuse


class _Joiner:
    """A task waiting for `children`. Counts the unfinished ones, so each child's finish costs
    O(1): rescanning every child on every finish made `gather` of N calls O(N²)."""

    __slots__ = ("task", "children", "return_exceptions", "resolved", "remaining")

    def __init__(self, task, children, return_exceptions):
        self.task = task
        self.children = children
        self.return_exceptions = return_exceptions
        self.resolved = False
        self.remaining = sum(1 for child in children if not child.done)


_LOOPS = []

_FATAL = (LimitExceeded, KeyboardInterrupt, MemoryError, RecursionError, SystemExit)


async def _await_it(awaitable):
    return await awaitable


def _is_coroutine(obj):
    return hasattr(obj, "send") and hasattr(obj, "throw")


def _is_awaitable(obj):
    return hasattr(obj, "__await__") or _is_coroutine(obj)


class _Loop:
    """A tiny event loop: runs tasks until they wait on bus calls, then waits on the host."""

    def __init__(self):
        self.ready = []
        self.waiting = {}
        self.calls = {}
        self.sleepers = []

    def spawn(self, awaitable):
        if isinstance(awaitable, Task):
            if awaitable._loop is None:
                awaitable._loop = self
                self.ready.append((awaitable, None))
            return awaitable
        coro = awaitable if _is_coroutine(awaitable) else _await_it(awaitable)
        task = Task(coro)
        task._loop = self
        self.ready.append((task, None))
        return task

    def run(self, awaitable):
        if not _is_awaitable(awaitable):
            raise TypeError(f"object {type(awaitable).__name__} can't be used in 'await' expression")
        _LOOPS.append(self)
        try:
            main = self.spawn(awaitable)
            while not main.done:
                self.turn()
        finally:
            _LOOPS.pop()
        return main.result()

    def turn(self):
        if self.ready:
            batch, self.ready = self.ready, []
            for task, error in batch:
                self.step(task, error)
            return
        timeout = None
        if self.sleepers:
            timeout = max(0.0, min(until for until, _ in self.sleepers) - _native.monotonic())
        if not self.waiting and timeout is None:
            raise RuntimeError("deadlock: every task is waiting and no bus call is pending")
        # The dict itself, not a list of its keys: the native side only looks up the calls
        # that completed, so a turn costs O(completed), not O(pending).
        for ticket, ok, payload in _native.wait(self.waiting, timeout):
            call = self.calls.pop(ticket, None)
            if call is not None:
                call._settle(ok, payload)
            for task in self.waiting.pop(ticket, ()):
                self.ready.append((task, None))
        if self.sleepers:
            now = _native.monotonic()
            due = [entry for entry in self.sleepers if entry[0] <= now]
            self.sleepers = [entry for entry in self.sleepers if entry[0] > now]
            for _, task in due:
                self.ready.append((task, None))

    def step(self, task, error):
        try:
            if error is None:
                yielded = task.coro.send(None)
            elif type(error) is _Deliver:
                yielded = task.coro.send(error.value)
            else:
                yielded = task.coro.throw(error)
        except StopIteration as stop:
            self.finish(task, True, stop.value)
            return
        except _FATAL:
            raise
        except BaseException as exc:  # noqa: BLE001 - the task's failure is its result
            self.finish(task, False, exc)
            return
        self.park(task, yielded)

    def park(self, task, yielded):
        if type(yielded) is BusCall:
            if yielded._done:
                self.ready.append((task, None))
            else:
                self.waiting.setdefault(yielded.ticket, []).append(task)
                self.calls[yielded.ticket] = yielded
        elif type(yielded) is _Join:
            children = [self.spawn(item) for item in yielded.items]
            joiner = _Joiner(task, children, yielded.return_exceptions)
            for child in children:
                if not child.done:
                    child.joiners.append(joiner)
            if not joiner.return_exceptions:
                # A child that already failed fails the gather at once.
                for child in children:
                    if child.done and not child.ok:
                        self.check(joiner, child)
                        return
            self.check(joiner, None)
        elif type(yielded) is Task:
            if yielded._loop is None:
                self.spawn(yielded)
            joiner = _Joiner(task, [yielded], True)
            joiner.return_exceptions = None
            if not yielded.done:
                yielded.joiners.append(joiner)
            self.check(joiner, None)
        elif type(yielded) is _Sleep:
            self.sleepers.append((_native.monotonic() + max(0.0, yielded.seconds), task))
        elif yielded is None:
            self.ready.append((task, None))
        else:
            self.ready.append(
                (task, RuntimeError(f"await got an unsupported object: {yielded!r}"))
            )

    def finish(self, task, ok, value):
        task.done = True
        task.ok = ok
        task.value = value
        joiners, task.joiners = task.joiners, []
        for joiner in joiners:
            joiner.remaining -= 1
            self.check(joiner, task)

    def check(self, joiner, finished):
        """Resumes the joiner's task if it can go on; `finished` is the child that just
        finished (or already had, when the join started), if any."""
        if joiner.resolved:
            return
        if joiner.return_exceptions is None:
            # A plain `await task`: Task.__await__ reads the result itself.
            if joiner.remaining <= 0:
                joiner.resolved = True
                self.ready.append((joiner.task, None))
            return
        if not joiner.return_exceptions and finished is not None and not finished.ok:
            joiner.resolved = True
            self.ready.append((joiner.task, finished.value))
            return
        if joiner.remaining <= 0:
            joiner.resolved = True
            results = [child.value for child in joiner.children]
            self.resume_with(joiner.task, results)

    def resume_with(self, task, value):
        # Deliver a value into a task parked on a _Join: the generator's `yield` evaluates to it.
        self.ready.append((task, _Deliver(value)))


class _Deliver(Exception):
    """Internal: carries a value into a parked task (see `_Loop.step`)."""

    def __init__(self, value):
        super().__init__()
        self.value = value


def gather(*calls, return_exceptions=False):
    """Runs bus calls concurrently and returns their results in order.

    `gather(crm.get_clients(adviser="a"), crm.get_clients(adviser="b"))` starts both calls at
    once; so does `gather(*[crm.get_client(id=i) for i in ids])`. Coroutines work too. With
    `return_exceptions=True` a failed call's exception is returned in its place.
    """
    if len(calls) == 1 and isinstance(calls[0], (list, tuple)):
        calls = tuple(calls[0])
    future = _GatherFuture(list(calls), return_exceptions)
    if _native.caller_is_async():
        return future
    items = []
    for item in future.items:
        if not _is_awaitable(item):
            item = _Ready(item)
        items.append(item)
    future.items = items
    return _Loop().run(future)


class _Ready:
    """A plain value inside gather(): already done."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __await__(self):
        return self.value
        yield  # pragma: no cover - makes this a generator


def _defer(thunk):
    """`gather(a(), b())` is compiled as `gather(*_defer(lambda: (a(), b(),)))`."""
    items = _native.defer(thunk, True)
    if len(items) == 1 and isinstance(items[0], (list, tuple)):
        return tuple(items[0])
    return items


def _await_top(thunk):
    """Top-level `await x` is compiled as `_await_top(lambda: (x))`."""
    return _Loop().run(_native.defer(thunk, False))


def run(main):
    """`asyncio.run(main())`: runs a coroutine (or any awaitable) to completion."""
    if _native.caller_is_async():
        raise RuntimeError("asyncio.run() cannot be called from a running event loop")
    return _Loop().run(main)


def gather_async(*aws, return_exceptions=False):
    """`asyncio.gather(...)`: an awaitable of the results, in order."""
    return _GatherFuture(list(aws), return_exceptions)


def create_task(coro):
    """`asyncio.create_task(coro)`: runs `coro` alongside the current task."""
    task = Task(coro if _is_coroutine(coro) else _await_it(coro))
    if _LOOPS:
        _LOOPS[-1].spawn(task)
    return task


async def sleep(seconds, result=None):
    """`asyncio.sleep(seconds)`: lets other tasks run; counts against the wall time."""
    await _SleepAwaitable(seconds)
    return result


class _SleepAwaitable:
    __slots__ = ("seconds",)

    def __init__(self, seconds):
        self.seconds = seconds

    def __await__(self):
        yield _Sleep(float(self.seconds))


# ---------------------------------------------------------------------------------------------
# Modules with process-wide state: each run's view gets its own


def _rebind(view, old, new):
    """Points the view's functions that are bound methods of `old` at the same methods of `new`."""
    for key, value in list(view.items()):
        if getattr(value, "__self__", None) is old:
            view[key] = getattr(new, value.__name__)


def _per_run_view(name, real, view):
    """Gives a run's view of module `name` fresh state, so nothing one run sets (a seed, a
    decimal context, the first weekday) is seen by the next."""
    if name == "random":
        _rebind(view, real._inst, real.Random())
    elif name == "decimal":
        real.setcontext(real.Context())
    elif name == "calendar":
        instance = real.TextCalendar()
        _rebind(view, real.c, instance)

        def setfirstweekday(firstweekday):
            if not real.MONDAY <= firstweekday <= real.SUNDAY:
                raise real.IllegalWeekdayError(firstweekday)
            instance.firstweekday = firstweekday

        view["setfirstweekday"] = setfirstweekday
