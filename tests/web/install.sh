#!/usr/bin/env bash
# Installs the browser tests' npm dependencies into ./node_modules (git-ignored) when they are
# missing or package.json changed since the last install. Never writes a package-lock.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stamp=node_modules/.codemode-install-stamp
need=0
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ]; then
  need=1
else
  for d in playwright-core @glue42/web-platform @glue42/web @finos/fdc3-web-impl @finos/fdc3-get-agent esbuild; do
    [ -f "node_modules/$d/package.json" ] || need=1
  done
fi
[ "$need" = 1 ] || exit 0

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npm install --no-package-lock --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  echo "install.sh: npm install failed in $(pwd):" >&2
  cat "$log" >&2
  exit 1
fi
touch "$stamp"
