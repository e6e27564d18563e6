#!/usr/bin/env bash
# Creates target/pyvenv with mypy and the official MCP Python SDK, the Python tools the tests
# drive. Idempotent and quiet on success; reinstalls when this script changes. Versions are
# pinned: the MCP tests assert the protocol version the SDK negotiates.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=target/pyvenv
stamp=$venv/.codemode-install-stamp
if [ -f "$stamp" ] && [ "$stamp" -nt "${BASH_SOURCE[0]}" ] \
  && [ -x "$venv/bin/mypy" ] && "$venv/bin/python" -c 'import mcp' 2>/dev/null; then
  exit 0
fi
mkdir -p target
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  echo "install-pyvenv.sh: python3 has no venv module; installing Debian's python3-venv" >&2
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
python3 -m venv "$venv"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/pip" install --quiet --disable-pip-version-check 'mypy==2.4.1' 'mcp==2.3.0' >"$log" 2>&1; then
  echo "install-pyvenv.sh: pip install failed:" >&2
  cat "$log" >&2
  exit 1
fi
touch "$stamp"
