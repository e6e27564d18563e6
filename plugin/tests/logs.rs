//! Logs written to a pipe carry no terminal colour codes: io.Connect Desktop and MCP clients
//! keep codemode's stderr in their log files.

use std::process::Command;

#[test]
fn logs_on_a_piped_stderr_have_no_ansi_escape_codes() {
    let output = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(["catalogue", "list", "--mock-bus", "--mock-apps", "0"])
        .env("RUST_LOG", "info")
        .output()
        .expect("codemode runs");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INFO"), "info lines are logged: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no escape codes in piped logs: {stderr:?}"
    );
}
