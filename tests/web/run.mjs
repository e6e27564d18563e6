// Browser tests of the codemode WebAssembly package in headless Debian Chromium.
//   node run.mjs <package dir> [--only <group>] [--desktop <codemode binary>] [--bench]
// Groups: generic (the {methods, invoke} adapter), containment (deadline, memory, no way out,
// time), glue42 (a real Glue42 Core platform with client apps), fdc3 (the FINOS reference
// agent), parity (the same snippets on the desktop binary), sample (screenshot of samples/web).
import { fileURLToPath } from "node:url";
import path from "node:path";
import { serve } from "./lib/serve.mjs";
import { launch, openReady } from "./lib/browser.mjs";
import { groups } from "./lib/groups.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const args = process.argv.slice(2);
const pkg = args[0];
if (!pkg) { console.error("usage: node run.mjs <package dir> [--only group] [--desktop bin]"); process.exit(2); }
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const only = option("--only");
const desktop = option("--desktop");

const server = await serve({
  "/pkg/": pkg,
  "/pages/": path.join(here, "pages"),
  "/samples/": path.join(repo, "samples"),
  "/vendor/glue42/web-platform/": path.join(here, "node_modules/@glue42/web-platform/dist"),
  "/vendor/glue42/web/": path.join(here, "node_modules/@glue42/web/dist"),
  "/vendor/bundles/": path.join(here, "node_modules/.codemode-bundles"),
});
const browser = await launch();
const context = { browser, base: server.base, repo, here, desktop, openReady };
let failed = 0;
let passed = 0;
const started = Date.now();
try {
  for (const [group, tests] of Object.entries(groups)) {
    if (only && !only.split(",").includes(group)) continue;
    console.log(`# ${group}`);
    let state;
    try {
      state = await tests.setup?.(context);
    } catch (error) {
      failed++;
      console.log(`not ok - ${group}: setup failed: ${error.stack ?? error}`);
      continue;
    }
    for (const [name, test] of Object.entries(tests.cases)) {
      const t0 = Date.now();
      try {
        await test(state, context);
        passed++;
        console.log(`ok - ${name} (${Date.now() - t0} ms)`);
      } catch (error) {
        failed++;
        console.log(`not ok - ${name}: ${error.stack ?? error}`);
      }
    }
    await tests.teardown?.(state);
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(`# ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
