// codemode for the browser: Code Mode over io.Connect Browser / Glue42 Core, an FDC3 2.2
// DesktopAgent, or a generic {methods, invoke} pair. Snippets run in a dedicated Web Worker
// (the Rust catalogue and engine compiled to WebAssembly); this page-side module owns the bus
// client, performs the calls a snippet makes, enforces the deadline by terminating the worker,
// and replaces a worker that trapped.
import { ioAdapter, fdc3Adapter, genericAdapter } from "./adapters.js";

const here = new URL(".", import.meta.url);

/** Grace after the wall-time limit before the worker is terminated (the engine itself ends a
 * run that is waiting on bus calls at the deadline; only a busy loop needs the hard stop). */
const KILL_GRACE_MS = 250;
/** A worker whose linear memory grew past this is replaced after its run (memory never shrinks). */
const RECYCLE_BYTES = 512 * 1024 * 1024;

let compiled = null;

function compileOnce(wasmUrl) {
  compiled ??= WebAssembly.compileStreaming(fetch(wasmUrl));
  return compiled;
}

class SandboxWorker {
  constructor(workerUrl, module, onCall) {
    this.worker = new Worker(workerUrl, { type: "module", name: "codemode-sandbox" });
    this.nextId = 1;
    this.pending = new Map();
    this.onCall = onCall;
    this.dead = false;
    this.memoryBytes = 0;
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => this.fail(`worker error: ${event.message ?? event}`, true);
    this.ready = this.request({ op: "init", module });
  }

  receive(message) {
    if (message.type === "call") {
      this.onCall?.(this, message.ticket, message.request, message.run);
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    this.pending.delete(message.id);
    this.memoryBytes = message.memoryBytes ?? this.memoryBytes;
    if (message.type === "done") entry.resolve(message.value);
    else entry.reject(Object.assign(new Error(message.error), { trap: message.trap, panic: message.panic, memoryBytes: message.memoryBytes }));
  }

  request(message, transfer = []) {
    if (this.dead) return Promise.reject(Object.assign(new Error("the worker is gone"), { trap: true }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  reply(ticket, reply, run) {
    if (!this.dead) this.worker.postMessage({ type: "reply", run, reply: JSON.stringify({ ticket, ...reply }) });
  }

  fail(text, trap) {
    for (const entry of this.pending.values()) entry.reject(Object.assign(new Error(text), { trap }));
    this.pending.clear();
  }

  terminate() {
    this.dead = true;
    this.worker.terminate();
    this.fail("the worker was terminated", true);
  }
}

/**
 * Code Mode over a browser bus client.
 *
 * options: one of `{ io }` (io.Connect Browser or Glue42 Core client), `{ fdc3, intents? }`
 * (FDC3 2.2 DesktopAgent), `{ methods, invoke }` (generic); plus `timeoutSeconds` (default
 * 30), `callTimeoutMs` (default 30000), `wasmUrl`, `workerUrl`.
 * Returns `{ listPythonDefinitions, getPythonDefinitions, executePythonCode, close, stats }`;
 * each operation resolves to `{ text, isError }` (the desktop MCP tools' texts).
 */
export async function createCodeMode(options = {}) {
  const adapter = options.io ? ioAdapter(options.io, options)
    : options.glue ? ioAdapter(options.glue, options)
      : options.fdc3 ? fdc3Adapter(options.fdc3, options)
        : (options.methods && options.invoke) ? genericAdapter(options)
          : null;
  if (!adapter) throw new TypeError("createCodeMode needs { io }, { fdc3 } or { methods, invoke }");
  const wasmUrl = options.wasmUrl ?? new URL("codemode_web_bg.wasm", here);
  const workerUrl = options.workerUrl ?? new URL("worker.js", here);
  const defaultTimeout = options.timeoutSeconds ?? 30;
  const started = performance.now();
  const module = await compileOnce(wasmUrl);
  const compiledAt = performance.now();
  const stats = { compileMs: compiledAt - started, workersStarted: 0, workersReplaced: 0 };

  let model = null;
  let modelSent = new WeakSet();
  let dirty = true;
  adapter.subscribe?.(() => { dirty = true; });

  // Each run's calls, for the outcome of a run the page has to stop.
  let currentRun = null;

  async function onCall(worker, ticket, requestJson, run) {
    let request;
    try { request = JSON.parse(requestJson); } catch { return; }
    const began = performance.now();
    const record = { function: request.function, ok: false, ms: null };
    currentRun?.calls.push(record);
    try {
      const value = request.kind === "raise" ? await adapter.raise(request) : await adapter.invoke(request);
      record.ok = true;
      record.ms = performance.now() - began;
      worker.reply(ticket, { value: value === undefined ? null : value }, run);
    } catch (error) {
      record.ms = performance.now() - began;
      record.error = String(error?.message ?? error);
      worker.reply(ticket, { error: toReplyError(error) }, run);
    }
  }

  function spawn() {
    stats.workersStarted++;
    const worker = new SandboxWorker(workerUrl, module, onCall);
    worker.ready.then((timing) => { worker.timing = timing; }, () => {});
    return worker;
  }

  let active = spawn();
  let spare = spawn();
  const first = await active.ready;
  stats.instantiateMs = first.instantiateMs;
  stats.interpreterMs = first.startMs;
  stats.readyMs = performance.now() - started;

  function replace(reason) {
    active.terminate();
    stats.workersReplaced++;
    stats.lastReplaced = reason;
    active = spare;
    spare = spawn();
  }

  async function syncModel(worker) {
    if (dirty || !model) {
      dirty = false;
      model = await adapter.model();
      modelSent = new WeakSet();
    }
    if (!modelSent.has(worker)) {
      await worker.ready;
      await worker.request({ op: "setModel", model });
      modelSent.add(worker);
    }
  }

  // One operation at a time (the worker runs one), in call order.
  let chain = Promise.resolve();
  const serial = (fn) => {
    const result = chain.then(fn, fn);
    chain = result.catch(() => {});
    return result;
  };

  async function stoppedAnswer(reason, timeoutSeconds, elapsedMs, detail, calls) {
    await active.ready;
    return active.request({ op: "stopped", reason, timeoutSeconds, elapsedMs, detail,
      calls: calls.map((c) => ({ function: c.function, ok: c.ok, ms: c.ms, error: c.error ?? null, target: null })) });
  }

  async function execute(code, { timeoutSeconds } = {}) {
    const worker = active;
    await syncModel(worker);
    const timeout = timeoutSeconds ?? defaultTimeout;
    const run = { calls: [] };
    currentRun = run;
    const began = performance.now();
    let timer;
    const killed = new Promise((resolve) => {
      const limitMs = Number.isFinite(timeout) && timeout > 0 ? Math.min(timeout, 600) * 1000 : 30000;
      timer = setTimeout(() => resolve("wall_time"), limitMs + KILL_GRACE_MS);
    });
    try {
      const outcome = await Promise.race([
        worker.request({ op: "execute", code, timeoutSeconds: timeoutSeconds ?? defaultTimeout }),
        killed,
      ]);
      if (outcome === "wall_time") {
        replace("wall_time");
        return await stoppedAnswer("wall_time", timeout, performance.now() - began, "", run.calls);
      }
      if (outcome.recycle) replace(outcome.recycle);
      else if (worker.memoryBytes > RECYCLE_BYTES) replace("memory grew past the recycle threshold");
      return outcome;
    } catch (error) {
      if (!error.trap) throw error;
      const memoryBytes = error.memoryBytes ?? worker.memoryBytes;
      const reason = error.panic ? "panic"
        : /unreachable|out of memory|allocation/i.test(error.message) && memoryBytes > RECYCLE_BYTES ? "memory" : "trap";
      replace(reason);
      return await stoppedAnswer(reason, timeout, performance.now() - began, error.panic ?? error.message, run.calls);
    } finally {
      clearTimeout(timer);
      currentRun = null;
    }
  }

  const strip = (answer) => ({ text: answer.text, isError: answer.isError, outcome: answer.outcome });

  return {
    async listPythonDefinitions(args = {}) {
      return serial(async () => { await syncModel(active); return strip(await active.request({ op: "list", args })); });
    },
    async getPythonDefinitions(names = []) {
      const list = Array.isArray(names) ? names : (names?.names ?? []);
      return serial(async () => { await syncModel(active); return strip(await active.request({ op: "get", names: list })); });
    },
    async executePythonCode(code, opts = {}) {
      const source = typeof code === "string" ? code : code?.code;
      const timeoutSeconds = typeof code === "object" ? code?.timeout_seconds ?? code?.timeoutSeconds : opts.timeoutSeconds;
      return serial(() => execute(source ?? "", { timeoutSeconds }));
    },
    /** Marks the catalogue stale (the adapters do this on bus events by themselves). */
    refresh() { dirty = true; },
    /** Timings and worker counts; `probe()` asks the worker what is reachable from it. */
    stats,
    probe() { return serial(() => active.request({ op: "probe" })); },
    close() { active.terminate(); spare.terminate(); adapter.close?.(); },
  };
}

/** A thrown bus error as the worker's reply error ({kind, message, reasonUri, context}). */
function toReplyError(error) {
  if (error && typeof error === "object" && typeof error.kind === "string") {
    return { kind: error.kind, message: String(error.message ?? ""), reasonUri: error.reasonUri ?? null, context: error.context ?? null };
  }
  return { kind: "invocation_failed", message: String(error?.message ?? error) };
}
