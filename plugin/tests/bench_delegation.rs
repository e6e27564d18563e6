//! `codemode bench …` runs the separate `codemode-bench` executable from its own folder, passing
//! every argument through and exiting with its status; without it, it says how to build it.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// A folder holding a copy of the `codemode` binary (and nothing else yet).
fn lone_codemode(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::copy(env!("CARGO_BIN_EXE_codemode"), dir.join("codemode")).expect("copy codemode");
    dir
}

#[test]
fn bench_without_the_bench_executable_says_how_to_build_it() {
    let dir = lone_codemode("bench-missing");
    let output = Command::new(dir.join("codemode"))
        .args(["bench", "tokens"])
        .output()
        .expect("codemode runs");
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
    std::fs::write(&fake, "#!/bin/sh\nprintf '%s|' \"$@\"\nexit 7\n").expect("write the stand-in");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let output = Command::new(dir.join("codemode"))
        .args(["bench", "perf", "--runs", "3", "--help"])
        .output()
        .expect("codemode runs");
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "perf|--runs|3|--help|"
    );
}
