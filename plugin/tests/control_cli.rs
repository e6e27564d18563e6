//! The policy flags and approval answers of the `codemode` binary on its embedded mock bus:
//! `exec --require-approval writes --deny` declines the write (the snippet catches it),
//! `--approve` lets it out, `--read-only` refuses it before the bus, and `catalogue list` shows
//! the class.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

const ADD_NOTE: &str = "try:\n    note = notes.add_note(client_id='c-001', text='called')['note']['id']\nexcept ApprovalDeniedError as error:\n    note = 'denied: ' + error.reason_uri\nexcept PolicyError as error:\n    note = 'refused: ' + str(error)\nresult = note\n";

fn exec(flags: &[&str]) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let snippet = dir.join("control-cli-add-note.py");
    std::fs::write(&snippet, ADD_NOTE).unwrap_or_else(|error| panic!("write the snippet: {error}"));
    let output = Command::new(BINARY)
        .args(["exec", "--mock-bus"])
        .args(flags)
        .arg(&snippet)
        .output()
        .unwrap_or_else(|error| panic!("run codemode: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "codemode exec failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn exec_deny_declines_the_write_and_the_snippet_catches_it() {
    let out = exec(&["--require-approval", "writes", "--deny"]);
    assert!(out.starts_with("result: denied: declined"), "{out}");
}

#[test]
fn exec_approve_lets_the_write_out() {
    let out = exec(&["--require-approval", "writes", "--approve"]);
    assert!(out.starts_with("result: n-"), "a new note id: {out}");
}

#[test]
fn exec_read_only_refuses_the_write_before_the_bus() {
    let out = exec(&["--read-only"]);
    assert!(
        out.starts_with("result: refused: ") && out.contains("read-only"),
        "{out}"
    );
    assert!(
        out.contains("bus calls: 1 (notes.add_note; 1 failed)"),
        "{out}"
    );
}

#[test]
fn catalogue_list_shows_which_functions_need_approval() {
    let output = Command::new(BINARY)
        .args([
            "catalogue",
            "--mock-bus",
            "--require-approval",
            "writes",
            "list",
            "--namespace",
            "notes",
        ])
        .output()
        .unwrap_or_else(|error| panic!("run codemode: {error}"));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("notes.add_note(") && out.contains("[writes — needs approval]"),
        "{out}"
    );
    let get_notes = out
        .lines()
        .find(|line| line.starts_with("notes.get_notes("))
        .unwrap_or_default();
    assert!(!get_notes.contains("needs approval"), "a read: {get_notes}");
}
