// A real browser interop platform: Glue42 Core (@glue42/web-platform with its GW3 gateway in
// the page) and client apps in iframes registering methods and intent handlers.
import assert from "node:assert/strict";

const run = (page, code, options) => page.evaluate(([c, o]) => window.codemode.executePythonCode(c, o), [code, options ?? {}]);

export const glue42 = {
  async setup({ browser, base, openReady }) {
    return openReady(browser, `${base}/pages/glue-platform.html`);
  },
  teardown: ({ page }) => page.close(),
  cases: {
    async "glue42: the apps' methods and intents are listed as Python functions"({ page }) {
      const answer = await page.evaluate(() => window.codemode.listPythonDefinitions({}));
      assert.equal(answer.isError, false);
      for (const name of ["crm.get_clients", "crm.get_portfolio", "intents.view_chart"]) assert.ok(answer.text.includes(name), `${name} missing:\n${answer.text}`);
      const stubs = await page.evaluate(() => window.codemode.getPythonDefinitions(["crm.get_clients", "intents.view_chart"]));
      assert.match(stubs.text, /def get_clients\(\*, adviser: str\) -> GetClientsResult:/);
      assert.match(stubs.text, /def view_chart\(/);
    },
    async "glue42: seed task: an adviser's clients and their portfolios in one snippet, calls concurrent"({ page }) {
      const answer = await run(page, [
        'clients = crm.get_clients(adviser="Ann Lee")["clients"]',
        'books = gather(*[crm.get_portfolio(client_id=c["id"]) for c in clients])',
        'result = {c["name"]: b["holdings"][0]["ticker"] for c, b in zip(clients, books)}',
      ].join("\n"));
      assert.equal(answer.isError, false, answer.text);
      assert.match(answer.text, /^result: \{"M Carter":"AAPL","J Okafor":"MSFT","S Novak":"NVDA"\}\n/);
      assert.match(answer.text, /bus calls: 4 \(crm\.get_clients, crm\.get_portfolio ×3\)/);
      // Three 30 ms handlers one after another would take 90 ms or more.
      assert.equal(answer.outcome.calls.filter((c) => c.function === "crm.get_portfolio").length, 3);
      // The CRM app counted how many of its GetPortfolio calls overlapped.
      const overlap = await run(page, 'result = crm.stats()["maxInFlight"]');
      assert.match(overlap.text, /^result: 3\n/, `the portfolio calls did not overlap: ${overlap.text}`);
    },
    async "glue42: rank then raise: the top client by AUM is charted through the ViewChart intent"({ page }) {
      const answer = await run(page, [
        'clients = crm.get_clients(adviser="Ann Lee")["clients"]',
        'top = max(clients, key=lambda c: c["aum"])',
        'shown = intents.view_chart({"type": "fdc3.instrument", "id": {"ticker": top["ticker"]}})',
        'result = [top["name"], shown]',
      ].join("\n"));
      assert.equal(answer.isError, false, answer.text);
      assert.match(answer.text, /^result: \["S Novak",.*"ticker":"NVDA"/);
      const charted = await run(page, 'result = charts.shown()["tickers"]');
      assert.match(charted.text, /^result: \[.*"NVDA".*\]/, charted.text);
    },
    async "glue42: a handler's exception reaches the snippet as InvocationFailedError"({ page }) {
      const answer = await run(page, 'try:\n    crm.delete_client(client_id="C1")\nexcept InvocationFailedError as e:\n    result = str(e)');
      assert.equal(answer.isError, false, answer.text);
      assert.match(answer.text, /deleting clients is not allowed/);
      const missing = await run(page, 'crm.get_portfolio(client_id="NOPE")');
      assert.equal(missing.isError, true);
      assert.match(missing.text, /^InvocationFailedError: .*unknown client NOPE/);
    },
    async "glue42: an app that leaves: its methods are gone and a call says it left"({ page }) {
      await page.evaluate(async () => {
        window.closeApp("CRM");
        for (let i = 0; i < 100 && window.glue.interop.methods().some((m) => m.name === "CRM.GetClients"); i++) await new Promise((r) => setTimeout(r, 50));
      });
      const listing = await page.evaluate(() => window.codemode.listPythonDefinitions({}));
      assert.ok(!listing.text.includes("crm.get_clients("), listing.text);
      const answer = await run(page, 'crm.get_clients(adviser="Ann Lee")');
      assert.equal(answer.isError, true);
      assert.match(answer.text, /crm\.get_clients/);
      assert.match(answer.text, /left|no longer/i, answer.text);
      // It comes back when the app is opened again.
      await page.evaluate(() => window.openApp("CRM", "glue-crm.html"));
      await page.evaluate(async () => { for (let i = 0; i < 100 && !window.glue.interop.methods().some((m) => m.name === "CRM.GetClients"); i++) await new Promise((r) => setTimeout(r, 50)); });
      const back = await run(page, 'result = len(crm.get_clients(adviser="Ann Lee")["clients"])');
      assert.match(back.text, /^result: 3\n/, back.text);
    },
  },
};
