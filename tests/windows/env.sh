# Sourced by the Windows scripts: where things go, and the installs they need (each only when
# missing). Everything lands under the cargo target dir (git-ignored).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
WIN_TRIPLE=x86_64-pc-windows-gnu
# The Windows build's profile: release (what the zip ships; see tests/windows/README.md for the
# measured alternative).
WIN_PROFILE=${CODEMODE_WIN_PROFILE:-release}
WIN_OUT=$TARGET_DIR/$WIN_TRIPLE/$WIN_PROFILE
WIN_EXE=$WIN_OUT/codemode.exe
export WINEPREFIX=${CODEMODE_WINEPREFIX:-$TARGET_DIR/wineprefix}
export WINEDEBUG=-all
# Never let Wine open dialogs or install Mono/Gecko into the test prefix.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
export DISPLAY=

apt_install() {
  # apt_install PACKAGE... : installs the Debian packages that are missing.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "windows: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

need_windows_toolchain() {
  if ! rustup target list --installed 2>/dev/null | grep -qx "$WIN_TRIPLE"; then
    rustup target add "$WIN_TRIPLE"
  fi
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || apt_install gcc-mingw-w64-x86-64
}

need_wine() {
  command -v wine >/dev/null 2>&1 || apt_install wine wine64
}
