"""codemode's snippet runtime: bus exceptions, catalogue namespaces and concurrent calls.

Trusted code, frozen into the sandbox worker. Snippets only see what the engine copies into
their globals: the exception classes, the namespaces, `gather`, and the `asyncio` shim.

Concurrency model: a bus call made directly inside `gather(...)`, a top-level `await`, or a
coroutine returns a `BusCall` (already started) instead of blocking. `_Loop` drives
coroutines and waits on the host for whichever started calls are still pending, so N calls
take about as long as the slowest one.
"""

import collections as _collections
import datetime as _dt
import functools as _functools
import heapq as _heapq
import re as _re

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


class ApprovalDeniedError(BusError):
    """The call needed a person's approval and did not get it (declined, no approver, or no
    answer in time); it never went out. `reason_uri` is "declined", "timeout" or
    "no_approver"."""

    kind = "approval_denied"


class PolicyError(BusError):
    """The device's policy refuses the call (read-only mode, a hidden function, a cap); it
    never went out."""

    kind = "policy_refused"


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
        ApprovalDeniedError,
        PolicyError,
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


class _Record(dict):
    """A dict a bus call returned. It behaves as a dict; a missing key raises the usual
    `KeyError`, carrying the keys the record has (`_cm_keys`) so the error can name them."""

    def __missing__(self, key):
        error = KeyError(key)
        error._cm_keys = list(self)
        raise error


_Record.__name__ = "dict"
_Record.__qualname__ = "dict"


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
    if isinstance(obj, (BusCall, Future)):
        return repr(obj)
    return obj


# ---------------------------------------------------------------------------------------------
# Catalogue namespaces


class _Namespace:
    """A read-only group of catalogue functions, e.g. `crm`. Its members are made on first use
    (from the catalogue's function set, through `_native`) and kept, so a worker holds Python
    objects only for the functions its snippets touched, not for all of a large catalogue."""

    __slots__ = ("_cm_path", "_cm_members")

    def __init__(self, path):
        object.__setattr__(self, "_cm_path", path)
        object.__setattr__(self, "_cm_members", {})

    def __getattr__(self, name):
        members = object.__getattribute__(self, "_cm_members")
        if name in members:
            return members[name]
        path = object.__getattribute__(self, "_cm_path")
        member = _native.namespace_member(path, name)
        if member is None:
            raise AttributeError(_native.unknown_attribute(path, name))
        if member[0] == "function":
            value = _bus_function(path + "." + name, name, member[1])
        else:
            value = _Namespace(path + "." + name)
        members[name] = value
        return value

    def __setattr__(self, name, value):
        raise AttributeError(f"catalogue namespace '{self._cm_path}' is read-only")

    def __delattr__(self, name):
        raise AttributeError(f"catalogue namespace '{self._cm_path}' is read-only")

    def __dir__(self):
        return list(self._cm_names)

    @property
    def _cm_names(self):
        return tuple(_native.namespace_members(self._cm_path))

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


def _build_namespaces(top_level):
    """`top_level` lists (name, kind, doc): kind "function" (a global bus function) or
    "namespace" (its members are resolved when first used). Returns {name: object}."""
    built = {}
    for name, kind, doc in top_level:
        if kind == "function":
            built[name] = _bus_function(name, name, doc)
        else:
            built[name] = _Namespace(name)
    return built


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

    def done(self):
        return self._done

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


class CancelledError(BaseException):
    """The task or future was cancelled (`asyncio.CancelledError`)."""


class InvalidStateError(Exception):
    """`result()` or `exception()` of an unfinished future, or a future set twice."""


_PENDING = "PENDING"
_CANCELLED = "CANCELLED"
_FINISHED = "FINISHED"


class Future:
    """A result that is set later (`asyncio.Future`). Awaiting it parks the task until then."""

    def __init__(self):
        self._state = _PENDING
        self._result = None
        self._exception = None
        self._callbacks = []
        self._cancel_message = None

    def done(self):
        return self._state != _PENDING

    def cancelled(self):
        return self._state == _CANCELLED

    def _cancelled_error(self):
        if self._cancel_message is None:
            return CancelledError()
        return CancelledError(self._cancel_message)

    def result(self):
        if self._state == _CANCELLED:
            raise self._cancelled_error()
        if self._state == _PENDING:
            raise InvalidStateError("Result is not set.")
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self):
        if self._state == _CANCELLED:
            raise self._cancelled_error()
        if self._state == _PENDING:
            raise InvalidStateError("Exception is not set.")
        return self._exception

    def set_result(self, result):
        if self._state != _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        self._result = result
        self._state = _FINISHED
        self._run_callbacks()

    def set_exception(self, exception):
        if self._state != _PENDING:
            raise InvalidStateError(f"{self._state}: {self!r}")
        if isinstance(exception, type):
            exception = exception()
        self._exception = exception
        self._state = _FINISHED
        self._run_callbacks()

    def cancel(self, msg=None):
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._cancel_message = msg
        self._run_callbacks()
        return True

    def add_done_callback(self, fn, *, context=None):
        if self._state != _PENDING:
            fn(self)
        else:
            self._callbacks.append(fn)

    def remove_done_callback(self, fn):
        kept = [callback for callback in self._callbacks if callback != fn]
        removed = len(self._callbacks) - len(kept)
        self._callbacks = kept
        return removed

    def _run_callbacks(self):
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def get_loop(self):
        return _current_loop()

    def __await__(self):
        if self._state == _PENDING:
            yield self
        return self.result()

    __iter__ = __await__

    def __repr__(self):
        return f"<{type(self).__name__} {self._state.lower()}>"


_TASK_COUNTER = [0]


class Task(Future):
    """A coroutine scheduled by `asyncio.create_task` or `gather` (`asyncio.Task`)."""

    def __init__(self, coro, *, name=None):
        super().__init__()
        if name is None:
            _TASK_COUNTER[0] += 1
            name = f"Task-{_TASK_COUNTER[0]}"
        self._coro = coro
        self._name = str(name)
        self._loop = None
        # What the task is parked on: a wake-up that carries another marker is stale.
        self._marker = None
        self._must_cancel = False
        self._waiter = None

    def get_name(self):
        return self._name

    def set_name(self, value):
        self._name = str(value)

    def get_coro(self):
        return self._coro

    def cancel(self, msg=None):
        if self.done():
            return False
        self._cancel_message = msg
        loop = self._loop
        if loop is None or loop.current is self:
            self._must_cancel = True
            return True
        waiter = self._waiter
        if waiter is not None and waiter.cancel(msg):
            return True
        loop._wake(self, self._marker, self._cancelled_error())
        return True

    def __repr__(self):
        return f"<Task {self._state.lower()} name={self._name!r}>"


class _GatheringFuture(Future):
    """What `asyncio.gather(...)` returns: await it for the list of results."""

    def _misuse(self, *args, **kwargs):
        raise TypeError(
            "inside `async def`, gather(...) returns an awaitable: write `await gather(...)`"
        )

    __getitem__ = __len__ = _misuse


class _Sleep:
    __slots__ = ("seconds",)

    def __init__(self, seconds):
        self.seconds = seconds


class _Timer:
    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when, callback):
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True

    def __lt__(self, other):
        return self.when < other.when


_LOOPS = []
_RUN_LOOP = [None]

_FATAL = (LimitExceeded, KeyboardInterrupt, MemoryError, RecursionError, SystemExit)


async def _await_it(awaitable):
    return await awaitable


def _is_coroutine(obj):
    return hasattr(obj, "send") and hasattr(obj, "throw")


def _is_awaitable(obj):
    return hasattr(obj, "__await__") or _is_coroutine(obj)


def _finished_coroutine(obj):
    """A coroutine that already ran to its end (CPython refuses to await it again)."""
    return type(obj).__name__ == "coroutine" and getattr(obj, "cr_frame", 0) is None


def _run_loop():
    """The run's event loop: tasks created at top level live here between top-level awaits."""
    loop = _RUN_LOOP[0]
    if loop is None:
        loop = _RUN_LOOP[0] = _Loop()
    return loop


def _current_loop():
    return _LOOPS[-1] if _LOOPS else _run_loop()


def _reset_run():
    """Called by the engine before and after every run: no task outlives its run."""
    _RUN_LOOP[0] = None
    _TASK_COUNTER[0] = 0


class _Loop:
    """A small event loop: runs tasks until they wait on bus calls, timers or futures, then
    waits on the host for whichever started calls are still pending."""

    def __init__(self):
        self.ready = []
        self.waiting = {}
        self.calls = {}
        self.timers = []
        self.current = None
        self.running = False

    # -- the parts of asyncio's loop API snippets use

    def time(self):
        return _native.monotonic()

    def create_task(self, coro, *, name=None, context=None):
        return self.spawn(coro, name)

    def create_future(self):
        return Future()

    def call_at(self, when, callback, *args, context=None):
        timer = _Timer(when, (lambda: callback(*args)) if args else callback)
        _heapq.heappush(self.timers, timer)
        return timer

    def call_later(self, delay, callback, *args, context=None):
        return self.call_at(self.time() + delay, callback, *args)

    def call_soon(self, callback, *args, context=None):
        return self.call_at(0.0, callback, *args)

    def is_running(self):
        return self.running

    def run_until_complete(self, awaitable):
        return self.run(awaitable)

    # -- scheduling

    def spawn(self, awaitable, name=None):
        if isinstance(awaitable, Task):
            if awaitable._loop is None:
                awaitable._loop = self
                self._start(awaitable)
            return awaitable
        if isinstance(awaitable, Future):
            return awaitable
        if not _is_awaitable(awaitable):
            raise TypeError(f"An asyncio.Future, a coroutine or an awaitable is required")
        coro = awaitable if _is_coroutine(awaitable) else _await_it(awaitable)
        task = Task(coro, name=name)
        task._loop = self
        self._start(task)
        return task

    def _start(self, task):
        task._marker = marker = object()
        self.ready.append((task, marker, None, None))

    def _wake(self, task, marker, error=None, value=None):
        if task._marker is not marker or task.done():
            return
        task._marker = fresh = object()
        task._waiter = None
        self.ready.append((task, fresh, error, value))

    def run(self, awaitable):
        if not _is_awaitable(awaitable):
            raise TypeError(f"object {type(awaitable).__name__} can't be used in 'await' expression")
        if _finished_coroutine(awaitable):
            raise RuntimeError("cannot reuse already awaited coroutine")
        if self.running:
            return _Loop().run(awaitable)
        self.running = True
        _LOOPS.append(self)
        try:
            main = self.spawn(awaitable)
            while not main.done():
                self.turn()
        finally:
            _LOOPS.pop()
            self.running = False
        return main.result()

    def turn(self):
        if self.ready:
            batch, self.ready = self.ready, []
            for task, marker, error, value in batch:
                self.step(task, marker, error, value)
            self.fire_timers()
            return
        while self.timers and self.timers[0].cancelled:
            _heapq.heappop(self.timers)
        timeout = None
        if self.timers:
            timeout = max(0.0, self.timers[0].when - _native.monotonic())
        if not self.waiting and timeout is None:
            raise RuntimeError("deadlock: every task is waiting and no bus call is pending")
        if self.waiting or timeout > 0:
            # The dict itself, not a list of its keys: the native side only looks up the calls
            # that completed, so a turn costs O(completed), not O(pending).
            for ticket, ok, payload in _native.wait(self.waiting, timeout):
                call = self.calls.pop(ticket, None)
                if call is not None:
                    call._settle(ok, payload)
                for task, marker in self.waiting.pop(ticket, ()):
                    self._wake(task, marker)
        self.fire_timers()

    def fire_timers(self):
        if not self.timers:
            return
        now = _native.monotonic()
        while self.timers and self.timers[0].when <= now:
            timer = _heapq.heappop(self.timers)
            if not timer.cancelled:
                timer.callback()

    def step(self, task, marker, error, value):
        if task._marker is not marker or task.done():
            return
        if task._must_cancel:
            task._must_cancel = False
            if not isinstance(error, CancelledError):
                error = task._cancelled_error()
        self.current = task
        try:
            if error is None:
                yielded = task._coro.send(value)
            else:
                yielded = task._coro.throw(error)
        except StopIteration as stop:
            task._marker = None
            Future.set_result(task, stop.value)
            return
        except CancelledError as exc:
            task._marker = None
            Future.cancel(task, exc.args[0] if exc.args else None)
            return
        except _FATAL:
            raise
        except BaseException as exc:  # noqa: BLE001 - the task's failure is its result
            task._marker = None
            Future.set_exception(task, exc)
            return
        finally:
            self.current = None
        self.park(task, yielded)

    def park(self, task, yielded):
        task._marker = marker = object()
        kind = type(yielded)
        if kind is BusCall:
            if yielded._done:
                self._wake(task, marker)
            else:
                self.waiting.setdefault(yielded.ticket, []).append((task, marker))
                self.calls[yielded.ticket] = yielded
        elif isinstance(yielded, Future):
            if yielded is task:
                self._wake(task, marker, RuntimeError(f"Task cannot await on itself: {task!r}"))
                return
            if isinstance(yielded, Task) and yielded._loop is None:
                self.spawn(yielded)
            task._waiter = yielded
            yielded.add_done_callback(lambda _future: self._wake(task, marker))
        elif kind is _Sleep:
            if yielded.seconds <= 0:
                self._wake(task, marker)
            else:
                self.call_later(yielded.seconds, lambda: self._wake(task, marker))
        elif yielded is None:
            self._wake(task, marker)
        else:
            self._wake(task, marker, RuntimeError(f"await got an unsupported object: {yielded!r}"))
        if task._must_cancel:
            task._must_cancel = False
            waiter = task._waiter
            if waiter is None or not waiter.cancel(task._cancel_message):
                self._wake(task, task._marker, task._cancelled_error())


def _gather_future(items, return_exceptions):
    """A future for `items` run concurrently on the current loop."""
    loop = _current_loop()
    children = []
    seen = {}
    for item in items:
        key = id(item)
        if key not in seen:
            seen[key] = loop.spawn(item)
        children.append(seen[key])
    outer = _GatheringFuture()
    if not children:
        outer.set_result([])
        return outer
    remaining = [len(seen)]

    def child_done(child):
        if outer.done():
            return
        if not return_exceptions:
            if child.cancelled():
                outer.set_exception(child._cancelled_error())
                return
            if child._exception is not None:
                outer.set_exception(child._exception)
                return
        remaining[0] -= 1
        if remaining[0] > 0:
            return
        results = []
        for each in children:
            if each.cancelled():
                results.append(each._cancelled_error())
            elif each._exception is not None:
                results.append(each._exception)
            else:
                results.append(each._result)
        outer.set_result(results)

    for child in seen.values():
        child.add_done_callback(child_done)
    return outer


def gather(*calls, return_exceptions=False):
    """Runs bus calls concurrently and returns their results in order.

    `gather(crm.get_clients(adviser="a"), crm.get_clients(adviser="b"))` starts both calls at
    once; so does `gather(*[crm.get_client(id=i) for i in ids])`. Coroutines work too. With
    `return_exceptions=True` a failed call's exception is returned in its place.
    """
    if len(calls) == 1 and isinstance(calls[0], (list, tuple)):
        calls = tuple(calls[0])
    if _native.caller_is_async():
        return _gather_future(calls, return_exceptions)
    items = [item if _is_awaitable(item) else _Ready(item) for item in calls]
    return _current_loop().run(_gather_coroutine(items, return_exceptions))


def stream(function, /, **kwargs):
    """`async for item in stream(market_data.subscribe, symbol="AAPL", max_items=20, seconds=5)`.

    Iterates over what a streaming catalogue function collects with the same arguments and caps
    (`max_items`, `seconds`); the subscription is closed before the first item is yielded, so
    leaving the loop early leaves nothing open. Other tasks run while it collects.
    """
    if not callable(function):
        raise TypeError(
            "stream() takes a streaming catalogue function and its arguments, "
            "e.g. stream(market_data.subscribe, symbol='AAPL', max_items=20)"
        )
    return _Stream(function, kwargs)


class _Stream:
    """The async iterator `stream(...)` returns."""

    __slots__ = ("_function", "_kwargs", "_items")

    def __init__(self, function, kwargs):
        self._function = function
        self._kwargs = kwargs
        self._items = None

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._items is None:
            collected = self._function(**self._kwargs)
            if isinstance(collected, BusCall):
                collected = await collected
            if not isinstance(collected, list):
                name = getattr(self._function, "__qualname__", repr(self._function))
                raise TypeError(f"{name} is not a streaming method: call it directly")
            self._items = iter(collected)
        for item in self._items:
            return item
        raise StopAsyncIteration

    def __iter__(self):
        raise TypeError(
            "stream(...) is an async iterator: write `async for item in stream(...)`, "
            "or call the function itself for a list"
        )


async def _gather_coroutine(items, return_exceptions):
    return await _gather_future(items, return_exceptions)


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
    return _run_loop().run(_native.defer(thunk, False))


def run(main, *, debug=None):
    """`asyncio.run(main())`: runs a coroutine (or any awaitable) to completion."""
    if _native.caller_is_async():
        raise RuntimeError("asyncio.run() cannot be called from a running event loop")
    return _run_loop().run(main)


def gather_async(*aws, return_exceptions=False):
    """`asyncio.gather(...)`: an awaitable of the results, in order."""
    return _gather_future(aws, return_exceptions)


def create_task(coro, *, name=None, context=None):
    """`asyncio.create_task(coro)`: runs `coro` alongside the current task."""
    if not _is_awaitable(coro) or isinstance(coro, Future):
        raise TypeError(f"a coroutine was expected, got {coro!r}")
    return _current_loop().spawn(coro, name)


def ensure_future(obj, *, loop=None):
    """`asyncio.ensure_future(x)`: a future or task for an awaitable."""
    return _current_loop().spawn(obj)


def shield(awaitable):
    """`asyncio.shield(x)`: cancelling the awaiting task does not cancel `x`."""
    inner = _current_loop().spawn(awaitable)
    if inner.done():
        return inner
    outer = Future()

    def copy_state(done):
        if outer.done():
            return
        if done.cancelled():
            outer.cancel()
        elif done._exception is not None:
            outer.set_exception(done._exception)
        else:
            outer.set_result(done._result)

    inner.add_done_callback(copy_state)
    return outer


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


def get_running_loop():
    """The loop running the current task (RuntimeError outside `async def`)."""
    if not _LOOPS:
        raise RuntimeError("no running event loop")
    return _LOOPS[-1]


def get_event_loop():
    return _current_loop()


def current_task(loop=None):
    loop = _LOOPS[-1] if _LOOPS else None
    return loop.current if loop is not None else None


def all_tasks(loop=None):
    loop = _current_loop()
    tasks = {task for task, *_ in loop.ready if not task.done()}
    for entries in loop.waiting.values():
        tasks.update(task for task, _ in entries if not task.done())
    if loop.current is not None:
        tasks.add(loop.current)
    return tasks


def iscoroutine(obj):
    return type(obj).__name__ == "coroutine"


def iscoroutinefunction(func):
    while isinstance(func, _functools.partial):
        func = func.func
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    return code is not None and bool(code.co_flags & 0x80)


FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"


async def wait(fs, *, timeout=None, return_when=ALL_COMPLETED):
    """`asyncio.wait(tasks)`: waits for some or all of them; returns `(done, pending)` sets."""
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError(f"Invalid return_when value: {return_when}")
    loop = _current_loop()
    futures = {loop.spawn(item) for item in set(fs)}
    if not futures:
        raise ValueError("Set of Tasks/Futures is empty.")
    waiter = Future()
    remaining = [len(futures)]

    def done_one(future):
        remaining[0] -= 1
        if waiter.done():
            return
        failed = not future.cancelled() and future._exception is not None
        if (
            remaining[0] <= 0
            or return_when == FIRST_COMPLETED
            or (return_when == FIRST_EXCEPTION and failed)
        ):
            waiter.set_result(None)

    timer = None
    if timeout is not None:
        timer = loop.call_later(timeout, lambda: waiter.done() or waiter.set_result(None))
    for future in futures:
        future.add_done_callback(done_one)
    try:
        if not waiter.done():
            await waiter
    finally:
        if timer is not None:
            timer.cancel()
        for future in futures:
            future.remove_done_callback(done_one)
    done = {future for future in futures if future.done()}
    return done, futures - done


class Timeout:
    """`asyncio.timeout(delay)`: an async context manager that cancels its block at the deadline
    and raises `TimeoutError` instead."""

    def __init__(self, when):
        self._when = when
        self._task = None
        self._timer = None
        self._expired = False

    def when(self):
        return self._when

    def expired(self):
        return self._expired

    def reschedule(self, when):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._when = when
        if when is not None and self._task is not None:
            self._timer = _current_loop().call_at(when, self._on_timeout)

    def _on_timeout(self):
        self._timer = None
        self._expired = True
        self._task.cancel()

    async def __aenter__(self):
        self._task = current_task()
        if self._task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self.reschedule(self._when)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._expired and exc_type is not None and issubclass(exc_type, CancelledError):
            raise TimeoutError from exc
        return None


def timeout(delay):
    return Timeout(None if delay is None else _native.monotonic() + delay)


def timeout_at(when):
    return Timeout(when)


async def wait_for(aw, timeout):
    """`asyncio.wait_for(aw, timeout)`: `aw`'s result, or `TimeoutError` (and `aw` cancelled)."""
    if timeout is None:
        return await aw
    task = _current_loop().spawn(aw)
    if timeout <= 0 and not task.done():
        task.cancel()
        raise TimeoutError
    done, _ = await wait([task], timeout=timeout)
    if task in done:
        return task.result()
    task.cancel()
    await wait([task])
    raise TimeoutError


def as_completed(fs, *, timeout=None):
    """`asyncio.as_completed(aws)`: awaitables that give the results in the order they finish."""
    loop = _current_loop()
    todo = []
    seen = set()
    for item in fs:
        if id(item) not in seen:
            seen.add(id(item))
            todo.append(loop.spawn(item))
    finished = []
    waiters = []
    expired = [False]

    def done_one(future):
        finished.append(future)
        while waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break

    def on_timeout():
        expired[0] = True
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    for future in todo:
        future.add_done_callback(done_one)
    if timeout is not None:
        loop.call_later(timeout, on_timeout)

    async def next_done():
        while not finished:
            if expired[0]:
                raise TimeoutError
            waiter = Future()
            waiters.append(waiter)
            await waiter
        return finished.pop(0).result()

    for _ in range(len(todo)):
        yield next_done()


class TaskGroup:
    """`asyncio.TaskGroup`: tasks created in the block all finish before it ends; failures are
    raised together as an `ExceptionGroup` and cancel the other tasks."""

    def __init__(self):
        self._tasks = []
        self._errors = []
        self._parent = None
        self._entered = False
        self._exiting = False
        self._aborting = False
        self._parent_cancel_requested = False

    async def __aenter__(self):
        if self._entered:
            raise RuntimeError(f"TaskGroup {self!r} has already been entered")
        self._entered = True
        self._parent = current_task()
        return self

    def create_task(self, coro, *, name=None, context=None):
        if not self._entered:
            raise RuntimeError(f"TaskGroup {self!r} has not been entered")
        if self._exiting and not self._tasks:
            raise RuntimeError(f"TaskGroup {self!r} is finished")
        if self._aborting:
            raise RuntimeError(f"TaskGroup {self!r} is shutting down")
        task = create_task(coro, name=name)
        self._tasks.append(task)
        task.add_done_callback(self._on_task_done)
        return task

    def _abort(self):
        self._aborting = True
        for task in self._tasks:
            if not task.done():
                task.cancel()

    def _on_task_done(self, task):
        if task.cancelled():
            return
        error = task._exception
        if error is None:
            return
        self._errors.append(error)
        if not self._aborting:
            self._abort()
            parent = self._parent
            if not self._exiting and parent is not None and not parent.done():
                self._parent_cancel_requested = True
                parent.cancel()

    async def __aexit__(self, exc_type, exc, tb):
        self._exiting = True
        propagate_cancel = None
        if exc is not None and not isinstance(exc, CancelledError):
            self._errors.append(exc)
            if not self._aborting:
                self._abort()
        if isinstance(exc, CancelledError) and not self._parent_cancel_requested:
            propagate_cancel = exc
            if not self._aborting:
                self._abort()
        while True:
            pending = [task for task in self._tasks if not task.done()]
            if not pending:
                break
            try:
                await wait(pending)
            except CancelledError as cancelled:
                if not self._parent_cancel_requested:
                    propagate_cancel = cancelled
                self._abort()
        if propagate_cancel is not None and not self._errors:
            raise propagate_cancel
        if self._errors:
            errors, self._errors = self._errors, []
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", errors)
        return None


class Lock:
    """`asyncio.Lock`: one task at a time inside `async with lock:`."""

    def __init__(self):
        self._locked = False
        self._waiters = []

    def locked(self):
        return self._locked

    async def acquire(self):
        if not self._locked and all(waiter.cancelled() for waiter in self._waiters):
            self._locked = True
            return True
        waiter = Future()
        self._waiters.append(waiter)
        try:
            await waiter
        except CancelledError:
            if waiter.done() and not waiter.cancelled() and not self._locked:
                self._wake_first()
            raise
        finally:
            self._waiters.remove(waiter)
        self._locked = True
        return True

    def release(self):
        if not self._locked:
            raise RuntimeError("Lock is not acquired.")
        self._locked = False
        self._wake_first()

    def _wake_first(self):
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(True)
                break

    async def __aenter__(self):
        await self.acquire()
        return None

    async def __aexit__(self, exc_type, exc, tb):
        self.release()


class Semaphore:
    """`asyncio.Semaphore(n)`: at most `n` tasks at a time inside `async with sem:`."""

    def __init__(self, value=1):
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        self._value = value
        self._waiters = []

    def locked(self):
        return self._value == 0 or any(not waiter.cancelled() for waiter in self._waiters)

    async def acquire(self):
        if not self.locked():
            self._value -= 1
            return True
        waiter = Future()
        self._waiters.append(waiter)
        try:
            await waiter
        except CancelledError:
            # A permit handed over just before the cancellation goes to the next waiter.
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise
        finally:
            self._waiters.remove(waiter)
        return True

    def release(self):
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(True)
                return
        self._value += 1

    async def __aenter__(self):
        await self.acquire()
        return None

    async def __aexit__(self, exc_type, exc, tb):
        self.release()


class BoundedSemaphore(Semaphore):
    """`asyncio.BoundedSemaphore`: releasing more than acquired is a `ValueError`."""

    def __init__(self, value=1):
        self._bound_value = value
        super().__init__(value)

    def release(self):
        if self._value >= self._bound_value and not any(
            not waiter.done() for waiter in self._waiters
        ):
            raise ValueError("BoundedSemaphore released too many times")
        super().release()


class Event:
    """`asyncio.Event`: tasks `await event.wait()` until someone calls `event.set()`."""

    def __init__(self):
        self._value = False
        self._waiters = []

    def is_set(self):
        return self._value

    def set(self):
        if not self._value:
            self._value = True
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(True)

    def clear(self):
        self._value = False

    async def wait(self):
        if self._value:
            return True
        waiter = Future()
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            self._waiters.remove(waiter)


class QueueEmpty(Exception):
    """`get_nowait()` on an empty queue."""


class QueueFull(Exception):
    """`put_nowait()` on a full queue."""


class Queue:
    """`asyncio.Queue(maxsize=0)`: a FIFO queue for producer and consumer tasks."""

    def __init__(self, maxsize=0):
        self._maxsize = maxsize
        self._items = _collections.deque()
        self._getters = []
        self._putters = []
        self._unfinished = 0
        self._finished = Event()
        self._finished.set()

    @property
    def maxsize(self):
        return self._maxsize

    def qsize(self):
        return len(self._items)

    def empty(self):
        return not self._items

    def full(self):
        return 0 < self._maxsize <= len(self._items)

    def _put(self, item):
        self._items.append(item)

    def _get(self):
        return self._items.popleft()

    @staticmethod
    def _wake_next(waiters):
        while waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break

    async def put(self, item):
        while self.full():
            putter = Future()
            self._putters.append(putter)
            try:
                await putter
            except CancelledError:
                if putter in self._putters:
                    self._putters.remove(putter)
                if not self.full() and not putter.cancelled():
                    self._wake_next(self._putters)
                raise
        return self.put_nowait(item)

    def put_nowait(self, item):
        if self.full():
            raise QueueFull
        self._put(item)
        self._unfinished += 1
        self._finished.clear()
        self._wake_next(self._getters)

    async def get(self):
        while self.empty():
            getter = Future()
            self._getters.append(getter)
            try:
                await getter
            except CancelledError:
                if getter in self._getters:
                    self._getters.remove(getter)
                if not self.empty() and not getter.cancelled():
                    self._wake_next(self._getters)
                raise
        return self.get_nowait()

    def get_nowait(self):
        if self.empty():
            raise QueueEmpty
        item = self._get()
        self._wake_next(self._putters)
        return item

    def task_done(self):
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0:
            self._finished.set()

    async def join(self):
        if self._unfinished > 0:
            await self._finished.wait()


class LifoQueue(Queue):
    """`asyncio.LifoQueue`: the last item put is the first taken."""

    def _get(self):
        return self._items.pop()


class PriorityQueue(Queue):
    """`asyncio.PriorityQueue`: the smallest item is taken first."""

    def __init__(self, maxsize=0):
        super().__init__(maxsize)
        self._items = []

    def _put(self, item):
        _heapq.heappush(self._items, item)

    def _get(self):
        return _heapq.heappop(self._items)



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


# ---------------------------------------------------------------------------------------------
# Sorting


def _list_sort(self, *args, **kwargs):
    """`list.sort(*, key=None, reverse=False)`: sorts in place with `sorted`'s native key
    comparisons (RustPython's own sort compares every pair through Python's `<`)."""
    if args:
        raise TypeError("sort() takes no positional arguments")
    ordered = _native.sorted(self, **kwargs)
    list.clear(self)
    list.extend(self, ordered)


_list_sort.__name__ = "sort"
_list_sort.__qualname__ = "list.sort"


# ---------------------------------------------------------------------------------------------
# Regular expressions over long text

_NATIVE_FINDALL = _re.Pattern.findall
# Text at least this long takes the bytes route below (shorter text is fast either way).
_LONG_TEXT = 4096
# The only ASCII characters `\s` matches in a str pattern and not in a bytes pattern.
_STR_ONLY_SPACES = "\x1c\x1d\x1e\x1f"


def _pattern_findall(self, string, *args, **kwargs):
    """`Pattern.findall` (and so `re.findall`). RustPython's `_sre` finds each match's text by
    walking the str from its start, so findall over long text was quadratic (20,000 lines:
    seconds). For ASCII text and an ASCII pattern the bytes engine, which slices directly, gives
    the same matches: Unicode `\d`, `\w`, `\b` and case folding agree with ASCII ones on
    ASCII characters, and text holding the four characters where `\s` differs stays here."""
    if (
        type(string) is str
        and not args
        and not kwargs
        and len(string) >= _LONG_TEXT
        and type(self.pattern) is str
        and self.pattern.isascii()
        and string.isascii()
        and not any(space in string for space in _STR_ONLY_SPACES)
    ):
        try:
            fast = _re.compile(self.pattern.encode("ascii"), self.flags & ~_re.UNICODE)
        except (_re.error, ValueError):
            fast = None
        if fast is not None:
            found = fast.findall(string.encode("ascii"))
            decoded = _decode_all(found, self.groups, string)
            if decoded is not None:
                return decoded
            if self.groups <= 1:
                return [_text(item) for item in found]
            return [tuple(_text(part) for part in item) for item in found]
    found = _NATIVE_FINDALL(self, string, *args, **kwargs)
    # RustPython gives None for a group that did not take part in a match; CPython "" (b"").
    if self.groups == 1:
        empty = string[:0]
        return [empty if item is None else item for item in found]
    if self.groups > 1:
        empty = string[:0]
        return [tuple(empty if part is None else part for part in item) for item in found]
    return found


def _decode_all(found, groups, string):
    """The bytes matches of `string` as str, decoded in three native steps (join, decode,
    split) instead of one Python call per match, which cost more than the search itself. None
    when a separator cannot be chosen (the text holds NUL) or a group did not take part in a
    match (RustPython gives None there; the caller maps it to "")."""
    if not found:
        return []
    if "\x00" in string:
        return None
    try:
        if groups <= 1:
            joined = b"\x00".join(found)
        else:
            joined = b"\x00".join(map(b"\x00".join, found))
    except TypeError:
        return None
    flat = joined.decode("ascii").split("\x00")
    if groups <= 1:
        return flat
    parts = iter(flat)
    return list(zip(*([parts] * groups)))


def _text(found):
    # RustPython's bytes findall gives a group that did not take part as None or as "" (str).
    if found is None or type(found) is str:
        return ""
    return found.decode("ascii")


_pattern_findall.__name__ = "findall"
_pattern_findall.__qualname__ = "Pattern.findall"

_NATIVE_GROUPS = _re.Match.groups
_NATIVE_GROUPDICT = _re.Match.groupdict


def _match_groups(self, default=None):
    """`Match.groups(default=None)`: RustPython's takes `default` only by position."""
    return _NATIVE_GROUPS(self, default)


def _match_groupdict(self, default=None):
    """`Match.groupdict(default=None)`: RustPython's takes `default` only by position."""
    return _NATIVE_GROUPDICT(self, default)


_match_groups.__name__ = "groups"
_match_groups.__qualname__ = "Match.groups"
_match_groupdict.__name__ = "groupdict"
_match_groupdict.__qualname__ = "Match.groupdict"

# ---------------------------------------------------------------------------------------------
# Format specs of str

_NATIVE_STR_FORMAT = str.__format__


def _str_format(self, format_spec):
    """`str.__format__`: RustPython pads to the width first and cuts to the precision after, so
    `format("ab", ">10.1")` gave " " and `f"{name:10.5}"` lost its width. CPython cuts first:
    the text is cut to the precision here and the rest of the spec applied to it."""
    formatted = _NATIVE_STR_FORMAT(self, format_spec)  # raises what CPython raises for bad specs
    if type(format_spec) is str:
        after = format_spec[1:2]
        if after == "=" or (format_spec[:1] == "=" and (not after or after not in "<>^=")):
            raise ValueError("'=' alignment not allowed in string format specifier")
        dot = format_spec.rfind(".")
        if dot >= 0:
            tail = format_spec[dot + 1 :]
            kind = tail[-1:] if tail[-1:] and not tail[-1].isdigit() else ""
            digits = tail[: len(tail) - len(kind)]
            if kind in ("", "s") and digits.isascii() and digits.isdigit():
                return _NATIVE_STR_FORMAT(self[: int(digits)], format_spec[:dot] + kind)
    return formatted


_str_format.__name__ = "__format__"
_str_format.__qualname__ = "str.__format__"

# Methods of built-in types the engine replaces (the types are immutable to Python code).
_TYPE_PATCHES = [
    (str, "__format__", _str_format),
    (list, "sort", _list_sort),
    (_re.Pattern, "findall", _pattern_findall),
    (_re.Match, "groups", _match_groups),
    (_re.Match, "groupdict", _match_groupdict),
]
