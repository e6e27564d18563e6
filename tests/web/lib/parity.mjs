// Parity: the same snippets give the same outcome text on the desktop binary
// (`codemode exec --mock-bus`) and in the browser (timings aside: "ran N ms").
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

const normalise = (text) => text.replace(/ran [0-9.]+ ms/g, "ran N ms");

export const parity = {
  async setup({ browser, base, openReady, desktop, here }) {
    if (!desktop) throw new Error("parity needs --desktop <path of the codemode binary>");
    const ready = await openReady(browser, `${base}/pages/generic.html`);
    return { ...ready, desktop, snippets: JSON.parse(readFileSync(path.join(here, "parity-snippets.json"), "utf8")) };
  },
  teardown: ({ page }) => page.close(),
  cases: {
    async "parity: every shared snippet reads the same on the desktop binary and in the browser"({ page, desktop, snippets }) {
      const differences = [];
      for (const code of snippets) {
        const native = spawnSync(desktop, ["exec", "--mock-bus", "-"], { input: code, encoding: "utf8", timeout: 60000 });
        if (native.error) throw native.error;
        const web = await page.evaluate((c) => window.codemode.executePythonCode(c), code);
        if (normalise(native.stdout) !== normalise(web.text)) differences.push(`--- ${JSON.stringify(code)}\ndesktop: ${JSON.stringify(normalise(native.stdout))}\nbrowser: ${JSON.stringify(normalise(web.text))}`);
        assert.equal(web.isError, native.status !== 0, `isError differs for ${JSON.stringify(code)}`);
      }
      assert.equal(differences.length, 0, `${differences.length} of ${snippets.length} differ:\n${differences.join("\n")}`);
    },
  },
};
