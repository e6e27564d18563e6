// codemode's sandbox worker: one WebAssembly instance of the Rust core (catalogue + engine).
// Runs one operation at a time. Python reaches the outside only through the three host
// functions below, which relay bus calls to the page; everything else a worker could reach
// (fetch, XHR, WebSocket, importScripts, storage) is removed before any snippet runs.
import init, * as core from "./codemode_web.js";

const replies = [];
let waiter = null;
// Tickets restart at 0 in every run: a late reply to an earlier run (one that ended at its
// deadline with a call pending) carries that run's number and is dropped.
let run = 0;

globalThis.__codemodeHost = Object.freeze({
  start(ticket, request) {
    postMessage({ type: "call", ticket, request, run });
  },
  poll() {
    return replies.shift();
  },
  wait(timeoutMs) {
    if (replies.length) return Promise.resolve(replies.shift());
    return new Promise((resolve) => {
      const timer = setTimeout(() => { waiter = null; resolve(undefined); }, Math.max(0, timeoutMs));
      waiter = (reply) => { clearTimeout(timer); waiter = null; resolve(reply); };
    });
  },
});

/** Removes every way out of the worker that host calls do not need. */
function lockDown() {
  const names = ["fetch", "XMLHttpRequest", "WebSocket", "WebSocketStream", "EventSource",
    "importScripts", "indexedDB", "caches", "BroadcastChannel", "WebTransport", "Request",
    "Response", "SharedWorker", "Worker", "FileReaderSync", "localStorage", "sessionStorage"];
  for (const name of names) {
    try { delete globalThis[name]; } catch { /* not configurable */ }
    if (name in globalThis) {
      try { Object.defineProperty(globalThis, name, { value: undefined, configurable: false }); } catch { /* keep going */ }
    }
  }
  try { Object.defineProperty(globalThis.navigator, "storage", { value: undefined }); } catch { /* absent */ }
}

let memory = null;
let queue = Promise.resolve();

async function perform(message) {
  switch (message.op) {
    case "init": {
      const started = performance.now();
      const exports = await init({ module_or_path: message.module });
      memory = exports.memory;
      const instantiated = performance.now();
      core.start();
      lockDown();
      return { instantiateMs: instantiated - started, startMs: performance.now() - instantiated };
    }
    case "setModel":
      return core.setModel(JSON.stringify(message.model), Date.now());
    case "list":
      return JSON.parse(core.list(JSON.stringify(message.args ?? {})));
    case "get":
      return JSON.parse(core.get(JSON.stringify(message.names ?? [])));
    case "execute":
      run++;
      replies.length = 0;
      return JSON.parse(await core.execute(message.code, message.timeoutSeconds ?? undefined));
    case "stopped":
      return JSON.parse(core.stopped(message.reason, message.timeoutSeconds ?? undefined,
        message.elapsedMs, message.detail ?? "", JSON.stringify(message.calls ?? [])));
    case "probe":
      // What a snippet could reach if it ever got hold of the worker's globals (tests).
      return Object.fromEntries(["fetch", "XMLHttpRequest", "WebSocket", "importScripts",
        "indexedDB", "caches"].map((name) => [name, typeof globalThis[name]]));
    case "memory":
      return memory ? memory.buffer.byteLength : 0;
    default:
      throw new Error(`unknown operation ${message.op}`);
  }
}

onmessage = (event) => {
  const message = event.data;
  if (message.type === "reply") {
    if (message.run !== run) return;
    if (waiter) waiter(message.reply); else replies.push(message.reply);
    return;
  }
  queue = queue.then(async () => {
    try {
      const value = await perform(message);
      postMessage({ type: "done", id: message.id, value, memoryBytes: memory ? memory.buffer.byteLength : 0 });
    } catch (error) {
      // A trap (RuntimeError) leaves the Rust state undefined: the page replaces this worker.
      const trap = error instanceof WebAssembly.RuntimeError || error instanceof RangeError;
      // A Rust panic (the core's panic hook left its message here) aborts as a trap.
      const panic = trap ? globalThis.__codemodePanic ?? null : null;
      postMessage({ type: "failed", id: message.id, trap, panic, error: String(error?.message ?? error),
        memoryBytes: memory ? memory.buffer.byteLength : 0 });
    }
  });
};
