// The browser test groups. Each case names what it proves; a case fails by throwing.
import assert from "node:assert/strict";
import { glue42 } from "./glue42.mjs";
import { fdc3 } from "./fdc3.mjs";
import { parity } from "./parity.mjs";
import { sample } from "./sample.mjs";
import { redteam } from "./redteam.mjs";

const run = (page, code, options) => page.evaluate(([c, o]) => window.codemode.executePythonCode(c, o), [code, options ?? {}]);
export const runIn = run;

/** "…; ran 12.3 ms" → "…; ran N ms": the one part of an outcome text that is a timing. */
export const normalise = (text) => text.replace(/ran [0-9.]+ ms/g, "ran N ms");

const generic = {
  async setup({ browser, base, openReady }) {
    return openReady(browser, `${base}/pages/generic.html`);
  },
  teardown: ({ page }) => page.close(),
  cases: {
    async "generic: the page starts a worker and is ready within 30 s"({ readyAfterMs }) {
      assert.ok(readyAfterMs < 30000, `${readyAfterMs} ms`);
    },
    async "generic: list_python_definitions lists every page method as a Python function"({ page }) {
      const answer = await page.evaluate(() => window.codemode.listPythonDefinitions({}));
      assert.equal(answer.isError, false);
      for (const name of ["crm.get_clients", "pricing.get_price", "orders.submit"]) assert.match(answer.text, new RegExp(name.replace(".", "\\.")));
    },
    async "generic: list_python_definitions searches with query"({ page }) {
      const answer = await page.evaluate(() => window.codemode.listPythonDefinitions({ query: "price of a symbol" }));
      assert.match(answer.text, /pricing\.get_price/);
    },
    async "generic: get_python_definitions gives typed stubs; no names and unknown names are errors"({ page }) {
      const found = await page.evaluate(() => window.codemode.getPythonDefinitions(["crm.get_clients"]));
      assert.equal(found.isError, false);
      assert.match(found.text, /def get_clients\(/);
      assert.match(found.text, /adviser: str \| None = None/);
      const none = await page.evaluate(() => window.codemode.getPythonDefinitions([]));
      assert.equal(none.isError, true);
      assert.match(none.text, /^names is empty/);
      const unknown = await page.evaluate(() => window.codemode.getPythonDefinitions(["nope.missing"]));
      assert.equal(unknown.isError, true);
    },
    async "generic: a snippet calls a page method, filters in Python and returns one line"({ page }) {
      const answer = await run(page, 'clients = crm.get_clients(adviser="Ann Lee")\nresult = sum(c["aum"] for c in clients)');
      assert.equal(answer.isError, false, answer.text);
      assert.match(normalise(answer.text), /^result: 1730000\nbus calls: 1 \(crm\.get_clients\); ran N ms\n$/);
      const last = await page.evaluate(() => window.invocations.at(-1));
      assert.deepEqual(last, { method: "CRM.GetClients", args: { adviser: "Ann Lee" }, target: "best" });
    },
    async "generic: printed output comes back after the result"({ page }) {
      const answer = await run(page, 'print("hello")\nresult = {"a": [1, 2.5, None, True]}');
      assert.equal(normalise(answer.text), 'result: {"a":[1,2.5,null,true]}\nprinted:\nhello\nbus calls: 0; ran N ms\n');
    },
    async "generic: gather runs host calls concurrently"({ page }) {
      await page.evaluate(() => { window.maxInFlight = 0; });
      const answer = await run(page, 'prices = gather(*[pricing.get_price(symbol=s) for s in ["A", "BB", "CCC", "DDDD", "EEEEE", "F", "GG", "HHH"]])\nresult = [p["price"] for p in prices]');
      assert.equal(answer.isError, false, answer.text);
      assert.match(answer.text, /^result: \[10\.5,21,31\.5,42,52\.5,10\.5,21,31\.5\]/); // JSON numbers from JS: 21.0 arrives as 21
      const inFlight = await page.evaluate(() => window.maxInFlight);
      assert.ok(inFlight >= 8, `at most ${inFlight} calls were in flight at once`);
      // Eight 20 ms calls one after another would take 160 ms.
      assert.ok(answer.outcome.duration_ms < 150, `${answer.outcome.duration_ms} ms`);
    },
    async "generic: a method's failure is InvocationFailedError with its message and reason"({ page }) {
      const caught = await run(page, 'try:\n    orders.submit(symbol="X", qty=1)\nexcept InvocationFailedError as e:\n    result = [str(e), e.reason_uri]');
      assert.equal(caught.isError, false, caught.text);
      assert.match(caught.text, /^result: \["market closed","orders\.closed"\]/);
      const uncaught = await run(page, 'x = 1\norders.submit(symbol="X", qty=1)');
      assert.equal(uncaught.isError, true);
      assert.match(normalise(uncaught.text), /^InvocationFailedError: market closed\n  at line 2: orders\.submit\(symbol="X", qty=1\)\n/);
      assert.match(uncaught.text, /bus calls: 1 \(orders\.submit; 1 failed\)/);
    },
    async "generic: a wrong argument is refused before any call is made"({ page }) {
      const before = await page.evaluate(() => window.invocations.length);
      const answer = await run(page, 'crm.get_clients(advisor="Ann")');
      assert.equal(answer.isError, true);
      assert.match(answer.text, /advisor/);
      assert.equal(await page.evaluate(() => window.invocations.length), before);
    },
    async "generic: a method whose app left says so"({ page }) {
      await page.evaluate(async () => {
        window.methods = window.methods.filter((m) => m.name !== "Echo.Ping");
        window.codemode.refresh();
        await window.codemode.listPythonDefinitions({});
      });
      const answer = await run(page, "echo.ping(n=1)");
      assert.equal(answer.isError, true);
      assert.match(answer.text, /echo\.ping/);
      assert.match(answer.text, /left|no longer/i, answer.text);
    },
  },
};

const containment = {
  async setup({ browser, base, openReady }) {
    return openReady(browser, `${base}/pages/generic.html`);
  },
  teardown: ({ page }) => page.close(),
  cases: {
    async "containment: a late reply to a run that ended at its deadline never reaches the next run"({ page }) {
      const first = await run(page, 'slow.wait(ms=600, tag="first")', { timeoutSeconds: 0.2 });
      assert.match(first.text, /^LimitExceeded: wall time limit of 200 ms exceeded/, first.text);
      // The first run's call answers while this one waits on its own call with the same ticket.
      const second = await run(page, 'result = slow.wait(ms=900, tag="second")');
      assert.match(second.text, /^result: second\n/, second.text);
    },
    async "containment: a busy loop is stopped at the deadline by replacing the worker"({ page }) {
      const before = await page.evaluate(() => window.codemode.stats.workersReplaced);
      const t0 = Date.now();
      const answer = await run(page, "while True:\n    pass", { timeoutSeconds: 1 });
      assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
      assert.equal(answer.isError, true);
      assert.match(answer.text, /^LimitExceeded: wall time limit of 1 s exceeded: .*Web Worker was terminated and replaced/);
      assert.equal(await page.evaluate(() => window.codemode.stats.workersReplaced), before + 1);
      const next = await run(page, "result = 6 * 7");
      assert.match(next.text, /^result: 42\n/);
    },
    async "containment: a snippet waiting on a slow call ends at the deadline inside the engine"({ page }) {
      const answer = await run(page, 'while True:\n    pricing.get_price(symbol="A")', { timeoutSeconds: 0.5 });
      assert.equal(answer.isError, true);
      assert.match(answer.text, /wall time limit of 500 ms exceeded/);
    },
    async "containment: unbounded memory ends in MemoryError and a fresh worker"({ page }) {
      const before = await page.evaluate(() => window.codemode.stats.workersReplaced);
      const answer = await run(page, 'chunks = []\nwhile True:\n    chunks.append(bytearray(50_000_000))', { timeoutSeconds: 20 });
      assert.equal(answer.isError, true);
      assert.match(answer.text, /^MemoryError: memory limit of 1024 MiB exceeded: an allocation failed and the Web Worker was replaced/, answer.text);
      assert.equal(await page.evaluate(() => window.codemode.stats.workersReplaced), before + 1);
      const next = await run(page, "result = len('ok')");
      assert.match(next.text, /^result: 2\n/);
    },
    async "containment: deep recursion is a RecursionError, not a crash"({ page }) {
      const answer = await run(page, "def f(n):\n    return f(n + 1)\nf(0)");
      assert.equal(answer.isError, true);
      assert.match(answer.text, /^RecursionError/, answer.text);
    },
    async "containment: Python has no JavaScript module and no file or network access"({ page }) {
      for (const code of ["import js", "import _js", "import browser", "import _window", "import socket", "import urllib.request", "import os\nos.listdir('/')"]) {
        const answer = await run(page, code);
        assert.equal(answer.isError, true, `${code}: ${answer.text}`);
      }
      const open = await run(page, "open('/etc/passwd')");
      assert.match(open.text, /^NameError/);
    },
    async "containment: the worker's own fetch, XHR, WebSocket, importScripts and storage are gone"({ page }) {
      const probe = await page.evaluate(() => window.codemode.probe());
      assert.deepEqual(probe, { fetch: "undefined", XMLHttpRequest: "undefined", WebSocket: "undefined",
        importScripts: "undefined", indexedDB: "undefined", caches: "undefined" });
    },
    async "containment: clocks, dates and sleep work on wasm32 (no trap path)"({ page }) {
      const answer = await run(page, "import time, datetime\nt0 = time.monotonic()\ntime.sleep(0.02)\nresult = [time.time() > 1.7e9, time.time_ns() > 0, time.perf_counter_ns() > 0, time.monotonic() - t0 >= 0.02, datetime.datetime.now().year >= 2025, datetime.datetime.now(datetime.timezone.utc).tzinfo is not None]");
      assert.equal(answer.text.split("\n")[0], "result: [true,true,true,true,true,true]", answer.text);
    },
  },
};

export const groups = { generic, containment, redteam, glue42, fdc3, parity, sample };
