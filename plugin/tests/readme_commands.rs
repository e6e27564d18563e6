//! The README's first two commands are the ones CI runs, and the first one can run as written.
//!
//! `cargo run --release -- demo` from the workspace root once failed with "could not determine
//! which binary to run" because the plugin package has two binaries and no `default-run`; nothing
//! ran that command, so nothing caught it. These checks ask cargo itself (no build).

use std::{path::PathBuf, process::Command};

use serde_json::Value;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// `cargo metadata` of the workspace's own packages (no build, no network).
fn workspace_metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|error| panic!("cargo metadata could not start: {error}"));
    assert!(output.status.success(), "cargo metadata failed: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap_or_default()
}

/// The names of `package`'s binaries.
fn binaries(package: &Value) -> Vec<&str> {
    package["targets"]
        .as_array()
        .map(|targets| {
            targets
                .iter()
                .filter(|t| t["kind"][0] == "bin")
                .filter_map(|t| t["name"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The commands in the README's first fenced block, without their comments.
fn readme_first_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap_or_default();
    let block = readme
        .split("```")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .skip(1);
    block
        .map(|line| {
            line.split(" #")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn readme_opens_with_the_demo_and_the_test_command() {
    let commands = readme_first_commands();
    assert_eq!(
        commands,
        ["cargo run --release -- demo", "bash tests/run-all.sh"],
        "the README's first block must give the demo and the test command"
    );
}

#[test]
fn ci_runs_the_readme_commands_exactly_as_written() {
    let ci = std::fs::read_to_string(workspace_root().join(".ci/run")).unwrap_or_default();
    let lines: Vec<&str> = ci.lines().map(str::trim).collect();
    let tests_at = lines
        .iter()
        .position(|line| *line == "bash tests/run-all.sh");
    let demo_at = lines
        .iter()
        .position(|line| *line == "cargo run --release -- demo");
    assert!(tests_at.is_some(), ".ci/run must run the test command");
    assert!(demo_at.is_some(), ".ci/run must run the demo command");
    assert!(
        tests_at < demo_at,
        ".ci/run runs the tests first, then the demo"
    );
}

#[test]
fn cargo_run_at_the_workspace_root_picks_the_codemode_binary() {
    let metadata = workspace_metadata();
    let default_members = metadata["workspace_default_members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let runnable: Vec<&Value> = packages
        .iter()
        .filter(|package| default_members.contains(&package["id"]))
        .filter(|package| !binaries(package).is_empty())
        .collect();
    assert_eq!(
        runnable.len(),
        1,
        "`cargo run` at the root needs exactly one default member with binaries"
    );
    let package = runnable[0];
    let found = binaries(package);
    let chosen = if found.len() == 1 {
        found[0]
    } else {
        package["default_run"].as_str().unwrap_or("")
    };
    assert_eq!(
        chosen, "codemode",
        "`cargo run` must run the codemode binary (binaries: {found:?})"
    );
}

#[test]
fn cargo_install_of_the_plugin_installs_only_the_codemode_binary() {
    let metadata = workspace_metadata();
    let plugin = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "codemode"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        binaries(&plugin),
        ["codemode"],
        "`cargo install --path plugin` installs these"
    );
}
