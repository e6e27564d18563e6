#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (the io.Connect
# fixture's npm packages, into an ignored node_modules), then checks formatting and lints and
# runs every test, including the ones against the real open-source gateway.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "node is required for the real-gateway tests; installing Debian's nodejs and npm" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
bash tests/fixtures/ioconnect/install.sh

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
