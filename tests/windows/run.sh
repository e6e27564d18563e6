#!/usr/bin/env bash
# The Windows part of the suite: cross-builds codemode.exe and the release zip
# (tests/windows/build.sh), prepares a Wine prefix with the test-only bcryptprimitives shim
# (tests/windows/wine-prefix.sh), then runs, under Wine:
#  1. from Linux, real peers against codemode.exe (plugin/tests/windows_wine.rs): the demo, exec
#     on the mock bus, serve --mcp stdio driven by the official MCP Python SDK, serve --mcp http
#     driven by rmcp's client, serve on the real io.Connect gateway with a real client, and the
#     job object's kill-on-close;
#  2. Windows test binaries (cross-built, run by Wine): the job object read back and the heap
#     cap (plugin/tests/sandbox_windows.rs) and the red-team suite (plugin/tests/sandbox_redteam.rs)
#     with the same pinned outcomes as on Linux.
# Prints how long each step took.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

step() { echo "windows: $1 in $(( $(date +%s) - $2 )) s" >&2; }
t0=$(date +%s)
bash tests/windows/build.sh
step "build" "$t0"
t=$(date +%s)
bash tests/windows/wine-prefix.sh
step "Wine prefix" "$t"

# One wineserver for all the steps (it stays up 60 s after the last process), stopped at the end.
wineserver -p60
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT

t=$(date +%s)
CODEMODE_WINE_EXE=$WIN_EXE cargo test --locked -p codemode --test windows_wine -- --ignored --test-threads 2
step "codemode.exe against real peers" "$t"

t=$(date +%s)
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine cargo test --locked --profile "$WIN_PROFILE" \
  --target "$WIN_TRIPLE" -p codemode --test sandbox_windows --test sandbox_redteam -- \
  --skip each_worker_runs_in_a_job_object_configured_with_every_limit
# Skipped under Wine 8.0: its QueryInformationJobObject answers ERROR_INVALID_FUNCTION, so the
# job cannot be read back there (the test is for real Windows; see tests/windows/README.md).
# each_worker_job_is_given_every_limit_and_windows_accepts_them runs instead.
step "Windows test binaries under Wine" "$t"
step "the Windows part" "$t0"
