#!/usr/bin/env bash
# Builds the browser package once: the wasm32 release build of codemode-web, wasm-bindgen
# (the CLI at exactly the crate's version, installed from crates.io with `cargo install` only
# when missing), and the JS wrapper, into an npm-style folder (never published):
#   ${CARGO_TARGET_DIR:-target}/codemode-web-pkg/{package.json, codemode.js, adapters.js,
#   worker.js, codemode_web.js, codemode_web_bg.wasm}
# Prints the folder on stdout; timings go to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=$target_dir/codemode-web-pkg
version=0.2.130   # = the wasm-bindgen crate version pinned in plugin/web/Cargo.toml

t0=$(date +%s)
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown >&2
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $version"; then
  echo "build-package: installing wasm-bindgen-cli $version from crates.io" >&2
  # --locked first; some registry mirrors lack a locked transitive version, then resolve.
  cargo install wasm-bindgen-cli --version "=$version" --locked >&2 \
    || cargo install wasm-bindgen-cli --version "=$version" >&2
fi
t1=$(date +%s)
cargo build --locked --release --target wasm32-unknown-unknown -p codemode-web >&2
t2=$(date +%s)
rm -rf "$out" && mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" \
  "$target_dir/wasm32-unknown-unknown/release/codemode_web.wasm"
cp plugin/web/js/*.js plugin/web/js/package.json "$out/"
t3=$(date +%s)
echo "build-package: toolchain $((t1 - t0)) s, cargo build $((t2 - t1)) s, wasm-bindgen $((t3 - t2)) s" >&2
echo "$out"
