// The red-team snippets (samples/snippets/redteam) in the browser, each followed by the
// clean-state probe, against their pinned outcomes; where the browser's containment differs
// from the desktop's, tests/web/redteam-browser.json pins the browser outcome and says why.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

function parse(name, source) {
  const header = {};
  for (const line of source.split("\n")) {
    if (!line.startsWith("#")) break;
    const match = /^#\s*(\w+):\s*(.*)$/.exec(line);
    if (match) header[match[1]] = match[2].trim();
  }
  return { name, source, ...header };
}

function check(expectText, message, printedContains, answer) {
  const outcome = answer.outcome;
  if (!outcome) return `no outcome: ${answer.text}`;
  const [what, ...rest] = expectText.split(" ");
  const arg = rest.join(" ");
  if (what === "ok") {
    if (!outcome.ok || JSON.stringify(outcome.result) !== JSON.stringify(JSON.parse(arg))) return `expected ok ${arg}, got ${answer.text}`;
  } else if (what === "ok_truncated") {
    if (!outcome.ok || !outcome.result_truncated) return `expected a truncated result, got ${answer.text}`;
  } else if (what === "error") {
    if (outcome.ok || outcome.error?.type !== arg) return `expected error ${arg}, got ${answer.text}`;
  } else if (what === "limit") {
    if (outcome.ok || outcome.error?.limit?.kind !== arg) return `expected limit ${arg}, got ${answer.text}`;
  } else return `unknown expectation ${expectText}`;
  if (message && !(outcome.error?.message ?? "").includes(message)) return `expected message containing ${JSON.stringify(message)}, got ${answer.text}`;
  if (printedContains && !(outcome.printed ?? "").includes(printedContains)) return `expected printed output containing ${JSON.stringify(printedContains)}`;
  return null;
}

export const redteam = {
  async setup({ browser, base, openReady, repo, here }) {
    const dir = path.join(repo, "samples", "snippets", "redteam");
    const cases = readdirSync(dir).filter((f) => f.endsWith(".py")).sort()
      .map((f) => parse(f.replace(/\.py$/, ""), readFileSync(path.join(dir, f), "utf8")));
    const probe = parse("probe", readFileSync(path.join(repo, "samples", "snippets", "probe.py"), "utf8"));
    const browserPins = JSON.parse(readFileSync(path.join(here, "redteam-browser.json"), "utf8"));
    return { ...(await openReady(browser, `${base}/pages/redteam.html`)), cases, probe, browserPins };
  },
  teardown: ({ page }) => page.close(),
  cases: {
    async "redteam: every hostile snippet ends in its pinned outcome and leaves a clean worker"({ page, cases, probe, browserPins }) {
      const failures = [];
      const used = new Set();
      for (const c of cases) {
        const pin = browserPins[c.name];
        if (pin) used.add(c.name);
        const wall = /wall_time_ms=(\d+)/.exec(c.limits ?? "");
        const timeoutSeconds = wall ? Number(wall[1]) / 1000 : 2;
        const answer = await page.evaluate(([code, t]) => window.codemode.executePythonCode(code, { timeoutSeconds: t }), [c.source, timeoutSeconds]);
        const problem = pin ? check(pin.expect, pin.message, null, answer) : check(c.expect, c.message, c.printed_contains, answer);
        if (problem) failures.push(`${c.name}: ${problem}`);
        const after = await page.evaluate((code) => window.codemode.executePythonCode(code), probe.source);
        const dirty = check(probe.expect, null, null, after);
        if (dirty) failures.push(`${c.name} left the worker dirty: ${dirty}`);
      }
      for (const name of Object.keys(browserPins)) if (!used.has(name)) failures.push(`${name}: pinned in redteam-browser.json but no such case`);
      assert.equal(failures.length, 0, `${failures.length} of ${cases.length}:\n${failures.join("\n")}`);
    },
  },
};
