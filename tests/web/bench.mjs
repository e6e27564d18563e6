// The browser bench: codemode's WebAssembly package in headless Debian Chromium, against the
// issue's targets, with the desktop engine measured in the same run for the crunch snippet.
//   node bench.mjs <package dir> --desktop <codemode binary> [--runs N]
// Prints a markdown table.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { spawn } from "node:child_process";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { serve } from "./lib/serve.mjs";
import { launch, openReady } from "./lib/browser.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const args = process.argv.slice(2);
const pkg = args[0];
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const desktop = option("--desktop");
const runs = Number(option("--runs") ?? 50);
const CRUNCH = `rows = []
for i in range(1000):
    rows.append({"id": i, "name": f"item{i}", "price": i * 1.5,
                 "tags": ["a", "b"] if i % 3 == 0 else ["c"], "active": i % 2 == 0})
selected = [r for r in rows if r["active"] and "a" in r["tags"] and r["price"] > 100]
total = 0.0
for r in selected:
    total += r["price"]
result = {"count": len(selected), "total": total, "first": selected[0]["name"],
          "ids": [r["id"] for r in selected[:5]]}
`;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const ms = (x) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const rows = [];
const row = (measurement, result, target, met, note) => rows.push({ measurement, result, target, met, note });

const wasm = readFileSync(path.join(pkg, "codemode_web_bg.wasm"));
const gz = gzipSync(wasm, { level: 9 }).length;
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;
row(".wasm size raw / gzip", `${mb(wasm.length)} / ${mb(gz)}`, "≤ 12 MB gzip", gz <= 12 * 1024 * 1024, "release, no wasm-opt");

const server = await serve({ "/pkg/": pkg, "/pages/": path.join(here, "pages"), "/samples/": path.join(repo, "samples") });
const browser = await launch();
try {
  // Cold start: a fresh page (fresh compile, no HTTP cache) until createCodeMode resolved.
  const colds = [];
  let parts;
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`${server.base}/pages/generic.html`);
    await page.waitForFunction(() => window.__codemodeReady === true, null, { timeout: 60000 });
    colds.push(Date.now() - t0);
    parts = await page.evaluate(() => window.codemode.stats);
    await context.close();
  }
  row("cold start, page load → ready (median of 3)", ms(median(colds)), "≤ 1.5 s", median(colds) <= 1500,
    `compile ${ms(parts.compileMs)}, instantiate ${ms(parts.instantiateMs)}, interpreter ${ms(parts.interpreterMs)}`);

  const { page } = await openReady(browser, `${server.base}/pages/generic.html`);
  const timed = (code, n) => page.evaluate(async ([c, count]) => {
    const times = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const answer = await window.codemode.executePythonCode(c, { timeoutSeconds: 60 });
      times.push(performance.now() - t0);
      if (answer.isError) throw new Error(answer.text);
    }
    return times;
  }, [code, n]);
  await timed("result = 1", 5);
  const trivial = median(await timed("result = 1", runs));
  row(`warm trivial execute p50 (${runs} runs, page → worker → page)`, ms(trivial), "≤ 5 ms", trivial <= 5, "`result = 1`");

  // One host call: 200 sequential calls to an immediate page method, minus the same snippet
  // shape without calls, minus the page-side JS call itself.
  const N = 200;
  const withCalls = median(await timed(`for i in range(${N}):\n    echo.ping(n=i)`, 9));
  const without = median(await timed(`for i in range(${N}):\n    dict(n=i)`, 9));
  const jsOnly = await page.evaluate(async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await Promise.resolve({ n: i });
    return (performance.now() - t0) / n;
  }, N);
  const perCall = (withCalls - without) / N - jsOnly;
  row("one host call, beyond the JS call itself", ms(perCall), "≤ 0.5 ms", perCall <= 0.5, `${N} sequential calls: ${ms(withCalls)} vs ${ms(without)} without`);

  const gather = median(await timed("r = gather(*[echo.ping(n=i) for i in range(1000)])\nresult = len(r)", 5));
  row("gather of 1,000 host calls", ms(gather), "–", null, "all started before the first reply is read");

  const crunch = median(await page.evaluate(async (c) => {
    const times = [];
    for (let i = 0; i < 20; i++) times.push((await window.codemode.executePythonCode(c)).outcome.duration_ms);
    return times;
  }, CRUNCH));
  // The desktop: `codemode serve --mock-bus --mcp stdio`, the same snippet through the MCP
  // tool on its warm worker pool, read back from the tool's own "ran N ms".
  let desktopCrunch = null;
  if (desktop) desktopCrunch = median(await desktopRuns(desktop, CRUNCH, 20));
  const ratio = desktopCrunch ? crunch / desktopCrunch : null;
  row("crunch snippet, browser vs desktop engine", desktopCrunch ? `${ms(crunch)} vs ${ms(desktopCrunch)} (${ratio.toFixed(2)}×)` : ms(crunch),
    "≤ 2×", ratio === null ? null : ratio <= 2, "the engine's own run time (compile + run), median of 20 on a warm worker on both sides; desktop: `codemode serve --mock-bus --mcp stdio`, execute_python_code");
} finally {
  await browser.close();
  await server.close();
}

console.log("| measurement | result | target | met | note |\n|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.measurement} | ${r.result} | ${r.target} | ${r.met === null ? "–" : r.met ? "yes" : "no"} | ${r.note} |`);

/** `runs` executions of `code` through the desktop binary's MCP tool; the tool's "ran N ms". */
async function desktopRuns(binary, code, runs) {
  const child = spawn(binary, ["serve", "--mock-bus", "--mcp", "stdio"], { stdio: ["pipe", "pipe", "ignore"] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = new Map();
  lines.on("line", (line) => { try { const m = JSON.parse(line); waiting.get(m.id)?.(m); } catch { /* not ours */ } });
  let id = 0;
  const call = (method, params) => new Promise((resolve) => {
    const n = ++id;
    waiting.set(n, resolve);
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: n, method, params })}\n`);
  });
  await call("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } });
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  const times = [];
  for (let i = 0; i < runs + 3; i++) {
    const reply = await call("tools/call", { name: "execute_python_code", arguments: { code } });
    const text = reply.result?.content?.[0]?.text ?? "";
    const ran = /ran ([0-9.]+) ms/.exec(text);
    if (!ran || reply.result?.isError) throw new Error(`desktop run failed: ${text}`);
    if (i >= 3) times.push(Number(ran[1]));
  }
  child.kill();
  return times;
}
