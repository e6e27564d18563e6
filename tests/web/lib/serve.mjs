// A static server on 127.0.0.1 (random port) for the browser tests: each URL prefix maps to a
// folder; .wasm is served as application/wasm (compileStreaming needs it).
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";

const TYPES = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".json": "application/json", ".css": "text/css", ".png": "image/png", ".map": "application/json",
};

export function serve(routes) {
  const entries = Object.entries(routes).map(([prefix, dir]) => [prefix, path.resolve(dir)]);
  const server = http.createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, "http://h").pathname);
    const route = entries.find(([prefix]) => pathname.startsWith(prefix));
    if (!route) { res.writeHead(404).end(); return; }
    const [prefix, root] = route;
    const file = path.join(root, pathname.slice(prefix.length));
    if (file !== root && !file.startsWith(root + path.sep)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    base: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((done) => server.close(done)),
  })));
}
