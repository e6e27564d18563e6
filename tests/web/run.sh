#!/usr/bin/env bash
# The browser tests, from a fresh clone: installs Debian's chromium when missing and the npm
# packages (playwright-core, Glue42 Core, the FDC3 web agent), builds the WebAssembly package
# once (plugin/web/build-package.sh: wasm32 release build + wasm-bindgen), then runs every
# group in headless Chromium (tests/web/run.mjs), the parity group against the desktop binary.
#   bash tests/web/run.sh [--only group,group] [--bench]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
target_dir=${CARGO_TARGET_DIR:-$(pwd)/target}

if ! command -v chromium >/dev/null 2>&1 && [ -z "${CODEMODE_CHROMIUM:-}" ]; then
  echo "tests/web: installing Debian's chromium" >&2
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
bash tests/web/install.sh
t0=$(date +%s)
pkg=$(bash plugin/web/build-package.sh)
t1=$(date +%s)
# The desktop binary for the parity group, built exactly as `cargo test --workspace` builds it
# (same package selection, so the same features): a no-op after run-all.sh's test step, where
# `cargo build -p codemode` alone would rebuild RustPython with other features (≈ 6 min).
cargo test --locked --workspace --no-run >&2
desktop=$target_dir/debug/codemode
t2=$(date +%s)
if [ "${1:-}" = "--bench" ]; then
  node tests/web/bench.mjs "$pkg" --desktop "$target_dir/release/codemode"
else
  node tests/web/run.mjs "$pkg" --desktop "$desktop" "$@"
fi
t3=$(date +%s)
echo "tests/web: package $((t1 - t0)) s, desktop binary $((t2 - t1)) s, browser tests $((t3 - t2)) s" >&2
