#!/usr/bin/env bash
# Prepares the Wine prefix of the Windows tests (installs Debian's wine/wine64 and mingw when
# missing): a fresh prefix under the cargo target dir, with the TEST-ONLY bcryptprimitives.dll
# shim (tests/windows/bcryptprimitives.c, built here from source with mingw) in its system32,
# which Wine < 8.13 needs to start any exe built by Rust >= 1.78. Idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
need_wine
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || apt_install gcc-mingw-w64-x86-64

shim_src=$REPO/tests/windows/bcryptprimitives.c
shim=$TARGET_DIR/wine-shim/bcryptprimitives.dll
if [ ! -f "$shim" ] || [ "$shim_src" -nt "$shim" ]; then
  mkdir -p "$(dirname "$shim")"
  x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" "$shim_src" -ladvapi32
fi

system32=$WINEPREFIX/drive_c/windows/system32
if [ ! -d "$system32" ]; then
  started=$(date +%s)
  wineboot -i >/dev/null 2>&1 || true
  wineserver -w
  echo "windows: new Wine prefix $WINEPREFIX in $(( $(date +%s) - started )) s" >&2
fi
[ -d "$system32" ] || { echo "wine-prefix.sh: wineboot did not create $WINEPREFIX" >&2; exit 1; }
if ! cmp -s "$shim" "$system32/bcryptprimitives.dll"; then
  cp "$shim" "$system32/bcryptprimitives.dll"
fi
