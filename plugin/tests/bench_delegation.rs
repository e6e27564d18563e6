//! `codemode bench …` runs the separate `codemode-bench` executable from its own folder, passing
//! every argument through and exiting with its status; without it, it says how to build it.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{Mutex, MutexGuard, PoisonError},
};

/// Held while a test writes an executable and while any test starts one. A child forked while
/// another thread still has a freshly written executable open for writing inherits that
/// descriptor until it execs, and running the file then fails with ETXTBSY ("Text file busy");
/// the two tests here run in parallel threads, so they take turns writing and spawning.
static WRITE_OR_SPAWN: Mutex<()> = Mutex::new(());

fn write_or_spawn_turn() -> MutexGuard<'static, ()> {
    WRITE_OR_SPAWN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Runs `program` with `args` to completion, taking its turn to start.
fn run(program: &Path, args: &[&str]) -> Output {
    let child = {
        let _turn = write_or_spawn_turn();
        Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("codemode runs")
    };
    child.wait_with_output().expect("codemode finishes")
}

/// A folder holding a copy of the `codemode` binary (and nothing else yet).
fn lone_codemode(name: &str) -> PathBuf {
    let _turn = write_or_spawn_turn();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::copy(env!("CARGO_BIN_EXE_codemode"), dir.join("codemode")).expect("copy codemode");
    dir
}

#[test]
fn bench_without_the_bench_executable_says_how_to_build_it() {
    let dir = lone_codemode("bench-missing");
    let output = run(&dir.join("codemode"), &["bench", "tokens"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cargo build --release -p codemode-bench"),
        "{stderr}"
    );
    assert!(stderr.contains("codemode-bench"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn bench_passes_its_arguments_and_exit_status_through() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = lone_codemode("bench-forward");
    let fake = dir.join("codemode-bench");
    {
        let _turn = write_or_spawn_turn();
        std::fs::write(&fake, "#!/bin/sh\nprintf '%s|' \"$@\"\nexit 7\n")
            .expect("write the stand-in");
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let output = run(
        &dir.join("codemode"),
        &["bench", "perf", "--runs", "3", "--help"],
    );
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "perf|--runs|3|--help|"
    );
}
