// Debian's Chromium driven by playwright-core (nothing downloaded), one page per test group.
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.CODEMODE_CHROMIUM
  ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));

export async function launch() {
  if (!CHROMIUM) throw new Error("no Chromium found: apt-get install -y chromium (or set CODEMODE_CHROMIUM)");
  return chromium.launch({ executablePath: CHROMIUM, args: ["--disable-dev-shm-usage"] });
}

/** Opens `url` and waits until the page sets `window.__codemodeReady`. */
export async function openReady(browser, url, { timeout = 60000, log = false } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on("console", (message) => { if (log || message.type() === "error") console.log(`  [page] ${message.text()}`); });
  page.on("pageerror", (error) => { errors.push(error); console.log(`  [pageerror] ${error.message}`); });
  const loaded = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.__codemodeReady === true || window.__codemodeFailed, null, { timeout });
  const failed = await page.evaluate(() => window.__codemodeFailed ?? null);
  if (failed) throw new Error(`page failed to start: ${failed}`);
  return { page, errors, readyAfterMs: Date.now() - loaded };
}
