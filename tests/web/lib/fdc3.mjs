// The FINOS FDC3 reference agent in the browser (@finos/fdc3-web-impl in a page, apps in
// iframes connected with @finos/fdc3-get-agent): codemode finds and raises intents and gets
// their results.
import assert from "node:assert/strict";
import path from "node:path";
import { mkdirSync } from "node:fs";

const run = (frame, code) => frame.evaluate((c) => window.codemode.executePythonCode(c), code);

export async function bundleFdc3(here) {
  const { build } = await import("esbuild");
  const out = path.join(here, "node_modules", ".codemode-bundles");
  mkdirSync(out, { recursive: true });
  for (const [name, entry] of [["fdc3-web-impl", "export * from '@finos/fdc3-web-impl';"], ["fdc3-get-agent", "export { getAgent } from '@finos/fdc3-get-agent';"]]) {
    await build({ stdin: { contents: entry, resolveDir: here, loader: "js" }, bundle: true, format: "esm", platform: "browser",
      outfile: path.join(out, `${name}.js`), logLevel: "error", define: { "process.env.NODE_ENV": "\"production\"", global: "globalThis" } });
  }
}

export const fdc3 = {
  async setup({ browser, base, here }) {
    await bundleFdc3(here);
    const page = await browser.newPage();
    page.on("console", (m) => { if (m.type() === "error") console.log(`  [page] ${m.text()}`); });
    page.on("pageerror", (e) => console.log(`  [pageerror] ${e.message}`));
    await page.goto(`${base}/pages/fdc3-da.html`);
    const handle = await page.waitForSelector("iframe[data-app-id=codemode-host]");
    const frame = await handle.contentFrame();
    await frame.waitForFunction(() => window.__codemodeReady === true || window.__codemodeFailed, null, { timeout: 60000 });
    const failed = await frame.evaluate(() => window.__codemodeFailed ?? null);
    if (failed) throw new Error(failed);
    return { page, frame };
  },
  teardown: ({ page }) => page.close(),
  cases: {
    async "fdc3: the agent's intents are listed as Python functions"({ frame }) {
      const answer = await frame.evaluate(() => window.codemode.listPythonDefinitions({}));
      assert.match(answer.text, /intents\.view_chart/, answer.text);
      assert.match(answer.text, /intents\.get_rating/, answer.text);
    },
    async "fdc3: find_intents answers from the agent's handlers"({ frame }) {
      const answer = await run(frame, 'result = [i["name"] for i in find_intents(context_type="fdc3.instrument")]');
      assert.equal(answer.isError, false, answer.text);
      assert.match(answer.text, /"GetRating"/);
      assert.match(answer.text, /"ViewChart"/);
    },
    async "fdc3: raising intents returns the handlers' results, concurrently with gather"({ frame }) {
      const answer = await run(frame, [
        'tickers = ["AAPL", "MSFT", "NVDA"]',
        'ratings = gather(*[intents.get_rating({"type": "fdc3.instrument", "id": {"ticker": t}}) for t in tickers])',
        'best = [r["ticker"] for r in ratings if r["rating"] == "buy"]',
        'chart = intents.view_chart({"type": "fdc3.instrument", "id": {"ticker": best[0]}})',
        'result = [best, chart["type"]]',
      ].join("\n"));
      assert.equal(answer.isError, false, answer.text);
      assert.match(answer.text, /^result: \[\["AAPL","NVDA"\],"fdc3\.chart"\]\n/);
    },
    async "fdc3: an intent no app handles is IntentNotResolvedError with FDC3's reason"({ frame }) {
      const answer = await run(frame, 'try:\n    raise_intent("NoSuchIntent", {"type": "fdc3.instrument", "id": {"ticker": "AAPL"}})\nexcept IntentNotResolvedError as e:\n    result = [type(e).__name__, e.reason_uri]');
      assert.equal(answer.isError, false, answer.text);
      assert.match(answer.text, /^result: \["IntentNotResolvedError","NoAppsFound"\]\n/);
    },
  },
};
