"use strict";
// A sample approver for codemode's on-bus approvals, written with the real
// @interopio/desktop client. It serves `CodeMode.Approval.Request` (see docs/control.md):
// codemode calls it when a snippet's call needs a person's approval, and waits (its wall-time
// clock stopped) for the answer {approved, by, reason}.
//
// A real assistant UI shows `text` to its user and answers with their choice. This sample
// answers by rule, so it can run unattended:
//
//   node approver.js --url ws://127.0.0.1:8385/gw --user U --secret S \
//        [--approve GLOB ...] [--delay-ms N]
//
// Calls whose wire name (`OrderTicket.PlaceOrder`) or Python name matches an --approve glob are
// approved; every other one is declined with a reason. It prints one JSON line per decision and
// {"ready": true} once the method is registered. Needs @interopio/desktop on the module path
// (NODE_PATH), e.g. tests/fixtures/ioconnect/node_modules.

const IODesktop = require("@interopio/desktop");

function parse(argv) {
  const options = { approve: [], delayMs: 0, application: "SampleApprover" };
  for (let i = 0; i < argv.length; i += 1) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case "--url": options.url = value; i += 1; break;
      case "--user": options.user = value; i += 1; break;
      case "--secret": options.secret = value; i += 1; break;
      case "--approve": options.approve.push(value); i += 1; break;
      case "--delay-ms": options.delayMs = Number(value); i += 1; break;
      case "--application": options.application = value; i += 1; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (!options.url || !options.user || !options.secret) {
    throw new Error("--url, --user and --secret are required");
  }
  return options;
}

function globMatch(glob, text) {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "i").test(text);
}

async function main() {
  const options = parse(process.argv.slice(2));
  const io = await IODesktop({
    application: options.application,
    gateway: { ws: options.url },
    auth: { username: options.user, password: options.secret },
    logger: { console: "error", publish: "off" },
    metrics: false,
    appManager: false, apps: false, windows: false, layouts: false, displays: false,
    activities: false, channels: false,
    intents: { enableIntentsResolverUI: false },
  });
  await io.interop.register({
    name: "CodeMode.Approval.Request",
    displayName: "Approve a Code Mode call",
    description: "Asks the user whether one call of a Code Mode snippet may go out.",
  }, async (request) => {
    if (options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const names = [request.wire, request.function].filter(Boolean);
    const approved = names.some((name) => options.approve.some((glob) => globMatch(glob, name)));
    const answer = approved
      ? { approved: true, by: `${options.application} rule` }
      : { approved: false, by: `${options.application} rule`, reason: `${request.wire} is not on the approve list` };
    process.stdout.write(`${JSON.stringify({ request: request.id, function: request.function, ...answer })}\n`);
    return answer;
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const stop = async () => { try { await io.done(); } finally { process.exit(0); } };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
}

main().catch((error) => {
  process.stderr.write(`approver: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
