//! The sandbox worker as a binary of its own, for the sandbox tests (which spawn it through
//! `CARGO_BIN_EXE_codemode-sandbox-worker`). The `codemode` binary offers the same worker as
//! its hidden `sandbox-worker` subcommand.

use std::process::ExitCode;

fn main() -> ExitCode {
    codemode::sandbox::worker::run_worker_stdio()
}
