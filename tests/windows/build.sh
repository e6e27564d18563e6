#!/usr/bin/env bash
# Cross-builds codemode.exe for x86_64-pc-windows-gnu with mingw (installs the rustup target
# and Debian's gcc-mingw-w64-x86-64 when missing; nothing prebuilt is downloaded) and packs the
# release zip: codemode.exe, the sample config, the io.Connect Desktop app definition and the
# README excerpt. Prints the build time and the sizes.
#
# Usage: bash tests/windows/build.sh    (honours CARGO_TARGET_DIR; output under it)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"
need_windows_toolchain

started=$(date +%s)
cargo build --locked --profile "$WIN_PROFILE" --target "$WIN_TRIPLE" -p codemode
built=$(date +%s)
echo "windows: codemode.exe built in $((built - started)) s ($WIN_PROFILE): $(stat -c %s "$WIN_EXE") bytes" >&2

zip=$TARGET_DIR/codemode-windows-x86_64.zip
python3 - "$zip" "$WIN_EXE" <<'PY'
import sys, zipfile
zip_path, exe = sys.argv[1], sys.argv[2]
files = [
    (exe, "codemode.exe"),
    ("samples/config/codemode.toml", "codemode.toml"),
    ("samples/ioconnect/codemode.json", "codemode.json"),
    ("samples/ioconnect/README.md", "README.md"),
]
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for source, name in files:
        z.write(source, name)
PY
echo "windows: $zip: $(stat -c %s "$zip") bytes" >&2
