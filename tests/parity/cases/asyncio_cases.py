# asyncio over local async functions, with top-level await as snippets use it.

# == top_level_await_coroutine
import asyncio
async def double(x):
    await asyncio.sleep(0)
    return x * 2

await double(21)

# == top_level_await_result_variable
import asyncio
async def fetch(n):
    await asyncio.sleep(0.001)
    return {"id": n}

result = await fetch(3)

# == gather_preserves_order
import asyncio
async def job(n, delay):
    await asyncio.sleep(delay)
    return n

await asyncio.gather(job(1, 0.03), job(2, 0.01), job(3, 0.02))

# == gather_list_comprehension
import asyncio
async def square(x):
    await asyncio.sleep(0)
    return x * x

await asyncio.gather(*[square(i) for i in range(6)])

# == gather_empty
import asyncio
await asyncio.gather()

# == gather_exception_propagates
import asyncio
async def ok():
    return 1
async def bad():
    raise ValueError("bad input")

await asyncio.gather(ok(), bad())

# == gather_return_exceptions
import asyncio
async def ok(n):
    return n
async def bad(n):
    raise KeyError(n)

results = await asyncio.gather(ok(1), bad("k"), ok(3), return_exceptions=True)
[r if not isinstance(r, Exception) else f"{type(r).__name__}: {r}" for r in results]

# == gather_catch_error_in_snippet
import asyncio
async def bad():
    raise RuntimeError("down")

try:
    await asyncio.gather(bad())
    result = "no error"
except RuntimeError as e:
    result = f"caught {e}"

# == asyncio_run_main
import asyncio
async def main():
    values = await asyncio.gather(*(asyncio.sleep(0, result=i) for i in range(3)))
    return sum(values)

asyncio.run(main())

# == sleep_result_value
import asyncio
await asyncio.sleep(0.001, result="woke")

# == create_task_and_await
import asyncio
async def work(name):
    await asyncio.sleep(0.01)
    return name.upper()

t1 = asyncio.create_task(work("a"))
t2 = asyncio.create_task(work("b"))
[await t1, await t2]

# == task_done_and_result
import asyncio
async def quick():
    return 5

t = asyncio.create_task(quick())
before = t.done()
await t
[before, t.done(), t.result()]

# == task_exception_method
import asyncio
async def fails():
    raise ValueError("nope")

t = asyncio.create_task(fails())
try:
    await t
except ValueError:
    pass
[t.done(), type(t.exception()).__name__, str(t.exception())]

# == task_runs_concurrently_order
import asyncio
log = []
async def worker(name, delay):
    log.append(f"start {name}")
    await asyncio.sleep(delay)
    log.append(f"end {name}")

await asyncio.gather(worker("slow", 0.03), worker("fast", 0.01))
log

# == wait_all_completed
import asyncio
async def job(n):
    await asyncio.sleep(0.01 * n)
    return n

tasks = [asyncio.create_task(job(n)) for n in (3, 1, 2)]
done, pending = await asyncio.wait(tasks)
[len(done), len(pending), sorted(t.result() for t in done)]

# == wait_first_completed
import asyncio
async def job(n):
    await asyncio.sleep(0.02 * n)
    return n

tasks = [asyncio.create_task(job(n)) for n in (3, 1, 2)]
done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
first = [t.result() for t in done]
for t in pending:
    t.cancel()
[first, len(pending)]

# == wait_for_ok
import asyncio
async def quick():
    await asyncio.sleep(0.001)
    return "fast"

await asyncio.wait_for(quick(), timeout=1)

# == wait_for_timeout
import asyncio
async def slow():
    await asyncio.sleep(1)
    return "late"

try:
    await asyncio.wait_for(slow(), timeout=0.01)
    result = "finished"
except asyncio.TimeoutError:
    result = "timed out"

# == wait_for_timeout_is_builtin_timeout_error
import asyncio
asyncio.TimeoutError is TimeoutError

# == as_completed_order
import asyncio
async def job(n):
    await asyncio.sleep(0.01 * n)
    return n

order = []
for fut in asyncio.as_completed([job(3), job(1), job(2)]):
    order.append(await fut)
order

# == timeout_context_manager
import asyncio
async def main():
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
        return "finished"
    except TimeoutError:
        return "timeout"

await main()

# == timeout_not_hit
import asyncio
async def main():
    async with asyncio.timeout(1):
        await asyncio.sleep(0.001)
    return "in time"

await main()

# == taskgroup_results
import asyncio
async def fetch(n):
    await asyncio.sleep(0.001 * n)
    return n * 10

async def main():
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(fetch(n)) for n in range(1, 4)]
    return [t.result() for t in tasks]

await main()

# == taskgroup_error_group
import asyncio
async def fine():
    await asyncio.sleep(0.01)
    return 1
async def broken():
    raise ValueError("broken task")

async def main():
    messages = []
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fine())
            tg.create_task(broken())
    except* ValueError as eg:
        messages = [str(e) for e in eg.exceptions]
    return messages

await main()

# == semaphore_limits_concurrency
import asyncio
sem = asyncio.Semaphore(2)
running, peak = 0, 0
async def job(n):
    global running, peak
    async with sem:
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return n

results = await asyncio.gather(*(job(i) for i in range(6)))
[results, peak]

# == lock_serializes
import asyncio
lock = asyncio.Lock()
log = []
async def critical(name):
    async with lock:
        log.append(f"{name} in")
        await asyncio.sleep(0.001)
        log.append(f"{name} out")

await asyncio.gather(critical("a"), critical("b"))
log

# == lock_locked_state
import asyncio
lock = asyncio.Lock()
async def main():
    await lock.acquire()
    state = lock.locked()
    lock.release()
    return [state, lock.locked()]

await main()

# == event_wait_set
import asyncio
event = asyncio.Event()
log = []
async def waiter():
    await event.wait()
    log.append("released")

async def setter():
    await asyncio.sleep(0.01)
    log.append("setting")
    event.set()

await asyncio.gather(waiter(), setter())
[log, event.is_set()]

# == queue_producer_consumer
import asyncio
async def main():
    q = asyncio.Queue()
    out = []
    async def producer():
        for i in range(5):
            await q.put(i)
        await q.put(None)
    async def consumer():
        while (item := await q.get()) is not None:
            out.append(item * item)
    await asyncio.gather(producer(), consumer())
    return out

await main()

# == queue_maxsize_and_nowait
import asyncio
async def main():
    q = asyncio.Queue(maxsize=1)
    q.put_nowait("a")
    try:
        q.put_nowait("b")
    except asyncio.QueueFull:
        full = True
    item = q.get_nowait()
    try:
        q.get_nowait()
    except asyncio.QueueEmpty:
        empty = True
    return [item, full, empty, q.qsize()]

await main()

# == queue_join_task_done
import asyncio
async def main():
    q = asyncio.Queue()
    seen = []
    for i in range(3):
        q.put_nowait(i)
    async def worker():
        while True:
            item = await q.get()
            seen.append(item)
            q.task_done()
    w = asyncio.create_task(worker())
    await q.join()
    w.cancel()
    return seen

await main()

# == await_coroutine_twice_error
import asyncio
async def once():
    return 1

c = once()
await c
await c

# == await_coroutine_twice_message
import asyncio
async def once():
    return 1

c = once()
first = await c
try:
    await c
except RuntimeError as e:
    result = [first, str(e)]

# == cancel_task
import asyncio
async def forever():
    await asyncio.sleep(10)

t = asyncio.create_task(forever())
await asyncio.sleep(0)
t.cancel()
try:
    await t
except asyncio.CancelledError:
    result = [t.cancelled(), t.done()]

# == cancelled_error_is_base_exception
import asyncio
[issubclass(asyncio.CancelledError, BaseException), issubclass(asyncio.CancelledError, Exception)]

# == iscoroutine_checks
import asyncio
async def f():
    return 1

c = f()
out = [asyncio.iscoroutine(c), asyncio.iscoroutinefunction(f), asyncio.iscoroutinefunction(len)]
await c
out

# == async_generator_comprehension
import asyncio
async def ticker(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i

async def main():
    return [x async for x in ticker(4)]

await main()

# == async_for_in_function
import asyncio
async def numbers():
    for i in range(3):
        yield i * 10

async def main():
    total = 0
    async for n in numbers():
        total += n
    return total

await main()

# == async_context_manager_class
import asyncio
log = []
class Conn:
    async def __aenter__(self):
        log.append("open")
        return self
    async def __aexit__(self, *exc):
        log.append("close")

async def main():
    async with Conn():
        log.append("use")

await main()
log

# == fan_out_fan_in_local
import asyncio
PRICES = {"AAPL": 190.5, "MSFT": 410.25, "GOOG": 150.0}
async def get_price(symbol):
    await asyncio.sleep(0.001)
    if symbol not in PRICES:
        raise KeyError(symbol)
    return PRICES[symbol]

symbols = ["AAPL", "NOPE", "MSFT", "GOOG"]
prices = await asyncio.gather(*(get_price(s) for s in symbols), return_exceptions=True)
ok = {s: p for s, p in zip(symbols, prices) if not isinstance(p, Exception)}
failed = [s for s, p in zip(symbols, prices) if isinstance(p, Exception)]
{"total": round(sum(ok.values()), 2), "failed": failed, "count": len(ok)}

# == fan_out_with_semaphore_and_timeout
import asyncio
sem = asyncio.Semaphore(3)
async def fetch(i):
    async with sem:
        await asyncio.sleep(0.001 * (i % 3))
        return {"id": i, "ok": i % 4 != 0}

async def main():
    rows = await asyncio.wait_for(asyncio.gather(*(fetch(i) for i in range(10))), timeout=2)
    return [r["id"] for r in rows if r["ok"]]

await main()

# == sequential_vs_gather_same_values
import asyncio
async def v(i):
    await asyncio.sleep(0)
    return i + 100

seq = [await v(i) for i in range(3)]
par = await asyncio.gather(*(v(i) for i in range(3)))
[seq, par, seq == par]

# == gather_nested
import asyncio
async def leaf(x):
    return x
async def branch(xs):
    return await asyncio.gather(*(leaf(x) for x in xs))

await asyncio.gather(branch([1, 2]), branch([3]))

# == task_name_and_result_after_gather
import asyncio
async def f():
    return "r"

t = asyncio.create_task(f(), name="fetch-1")
await asyncio.gather(t)
[t.get_name(), t.result()]

# == ensure_future_coroutine
import asyncio
async def f():
    return 9

fut = asyncio.ensure_future(f())
await fut

# == get_running_loop_time_type
import asyncio
async def main():
    loop = asyncio.get_running_loop()
    return type(loop.time()).__name__

await main()

# == wait_for_error_propagates
import asyncio
async def boom():
    raise ZeroDivisionError("inner")

await asyncio.wait_for(boom(), timeout=1)

# == gather_return_exceptions_all_fail
import asyncio
async def fail(i):
    raise ValueError(i)

rs = await asyncio.gather(*(fail(i) for i in range(3)), return_exceptions=True)
[str(r) for r in rs]

# == shield_and_sleep_zero
import asyncio
async def f():
    await asyncio.sleep(0)
    return "shielded"

await asyncio.shield(f())
