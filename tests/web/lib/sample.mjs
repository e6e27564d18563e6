// The developer sample (samples/web/index.html) runs its three tools, and its screenshot in
// docs/ is taken here.
import assert from "node:assert/strict";
import path from "node:path";

export const sample = {
  async setup({ browser, base, openReady }) {
    return openReady(browser, `${base}/samples/web/index.html?demo=1&pkg=/pkg/`);
  },
  teardown: ({ page }) => page.close(),
  cases: {
    async "sample: the sample page runs its snippet through execute_python_code"({ page }) {
      await page.click("#run");
      await page.waitForFunction(() => document.querySelector("#out").textContent.startsWith("result"), null, { timeout: 30000 });
      const text = await page.textContent("#out");
      assert.match(text, /^result: S Novak: NVDA\n/);
      assert.match(text, /bus calls: 3 \(crm\.get_clients, crm\.get_portfolio ×2\)/);
    },
    async "sample: a screenshot of the sample goes to docs/web-sample.png"({ page }, { repo }) {
      await page.setViewportSize({ width: 1100, height: 620 });
      const file = path.join(repo, "docs", "web-sample.png");
      await page.screenshot({ path: file });
    },
  },
};
