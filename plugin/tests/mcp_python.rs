//! The MCP server driven by the official MCP Python SDK (`mcp` in `target/pyvenv`), over stdio
//! against the `codemode` binary and over streamable HTTP, with both the 2026-07-28 protocol
//! (no handshake; the SDK's default) and the legacy initialize handshake.
//!
//! `mcp_python/client.py` runs the scenario and reports what the SDK saw as JSON; the
//! assertions are here. The venv comes from `bash tests/install-pyvenv.sh`; without it these
//! tests fail (they never skip).
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

pub mod mcp_support;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use codemode::mcp::{McpHttpOptions, start_http};
use mcp_support::{
    ADVISER_SNIPPET, ENDLESS_SNIPPET, FAILING_LINE, FAILING_SNIPPET, Fixture, THREE_CALLS_SNIPPET,
};
use serde_json::{Value, json};

/// The newest protocol, which the SDK picks by default (`mode="auto"`).
const MODERN: &str = "2026-07-28";
/// The newest protocol with the initialize handshake (`mode="legacy"`).
const LEGACY: &str = "2025-11-25";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_stdio_lists_searches_gets_executes_and_sees_progress() {
    let report = run_client(
        "stdio-auto",
        "auto",
        &[
            "--stdio",
            env!("CARGO_BIN_EXE_codemode"),
            "serve",
            "--mock-bus",
            "--mcp",
            "stdio",
        ],
    )
    .await;
    check_report(&report, true, MODERN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_with_the_legacy_handshake_over_stdio_sees_the_same() {
    let report = run_client(
        "stdio-legacy",
        "legacy",
        &[
            "--stdio",
            env!("CARGO_BIN_EXE_codemode"),
            "serve",
            "--mock-bus",
            "--mcp",
            "stdio",
        ],
    )
    .await;
    check_report(&report, true, LEGACY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_streamable_http_lists_searches_gets_executes_and_sees_progress() {
    let fixture = Fixture::start(0).await;
    let server = start_http(Arc::clone(&fixture.service), loopback_port_0())
        .await
        .expect("HTTP server starts");
    let report = run_client("http-auto", "auto", &["--http", &server.url()]).await;
    check_report(&report, false, MODERN);
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_with_a_legacy_session_over_streamable_http_sees_the_same() {
    let fixture = Fixture::start(0).await;
    let server = start_http(Arc::clone(&fixture.service), loopback_port_0())
        .await
        .expect("HTTP server starts");
    let report = run_client("http-legacy", "legacy", &["--http", &server.url()]).await;
    check_report(&report, true, LEGACY);
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}

/// The session steps of the scenario, driven through the official SDK: state kept, a large
/// result and long printed text by reference, a wrong key answered with the keys that exist,
/// nothing leaking into stateless runs, an unknown id told, and a reset. `stateful`: the
/// transport keeps one handler per client (stdio, an HTTP session with the initialize
/// handshake) and `session: true` names the connection's session; streamable HTTP on the
/// 2026-07-28 protocol has no MCP session, so the first answer names an id that the client
/// passes back.
fn check_sessions(report: &Value, stateful: bool) {
    let step = |name: &str| {
        let text = report["session"][name]["text"].as_str().unwrap_or_default();
        let failed = report["session"][name]["is_error"]
            .as_bool()
            .unwrap_or(true);
        (text.to_owned(), failed)
    };
    let issued = report["session"]["id"].as_str().unwrap_or_default();
    let (name, passed_back) = if stateful {
        assert!(
            issued.is_empty(),
            "no id over a stateful transport: {issued}"
        );
        ("default".to_owned(), "session=true".to_owned())
    } else {
        assert!(
            issued.len() == 34 && issued.starts_with("s-"),
            "an id is issued: {report}"
        );
        (issued.to_owned(), format!("session=\"{issued}\""))
    };
    let (first, failed) = step("first");
    assert!(!failed && first.starts_with("result: 480"), "{first}");
    assert!(
        first.contains(&format!(
            "Session \"{name}\": run 1; variables kept for the next call with {passed_back}"
        )),
        "{first}"
    );
    let (kept, failed) = step("kept");
    assert!(
        !failed
            && kept.contains("stays in this session as `_r1`")
            && kept.contains("list of 480 items")
            && kept.contains("run 2;"),
        "{kept}"
    );
    assert!(kept.contains("result = _r1[3:12]"), "{kept}");
    assert!(
        kept.len() < 2_500,
        "the preview is small: {} chars",
        kept.len()
    );
    let (by_reference, failed) = step("by_reference");
    assert!(
        !failed && by_reference.starts_with("result: c-001 of 480"),
        "{by_reference}"
    );
    let (printed, failed) = step("printed");
    assert!(
        !failed
            && printed.contains("all of it stays in this session as `_p1`")
            && printed.contains("in 480 lines")
            && printed.contains("c-001 "),
        "{printed}"
    );
    assert!(printed.len() < 3_000, "the preview is small: {printed}");
    let (printed_by_reference, failed) = step("printed_by_reference");
    assert!(
        !failed && printed_by_reference.starts_with("result: c-480"),
        "{printed_by_reference}"
    );
    let (key_error, failed) = step("key_error");
    assert!(
        failed
            && key_error.contains("KeyError: 'advisor'; this dict (a bus result) has the keys")
            && key_error.contains("'adviser'")
            && key_error.contains("Did you mean: 'adviser'?"),
        "{key_error}"
    );
    let (stateless, failed) = step("without_session");
    assert!(failed && stateless.contains("clients"), "{stateless}");
    let (unknown, failed) = step("unknown_id");
    assert!(failed && unknown.contains("NameError"), "{unknown}");
    if !stateful {
        assert!(
            unknown.contains("is not open (it expired, ended, or was never issued)"),
            "{unknown}"
        );
    }
    let (reset, failed) = step("after_reset");
    assert!(
        failed && reset.contains(&format!("Session \"{name}\" was reset.")),
        "{reset}"
    );
}

/// Everything a model needs from the three tools, as the Python SDK saw it (`stateful`: see
/// [`check_sessions`]).
fn check_report(report: &Value, stateful: bool, protocol: &str) {
    check_sessions(report, stateful);
    assert_eq!(report["protocol_version"], protocol, "negotiated version");
    assert_eq!(report["server_name"], "codemode");

    let tools: Vec<&str> = report["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|tool| tool["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        tools,
        [
            "list_python_definitions",
            "get_python_definitions",
            "execute_python_code"
        ]
    );
    let instructions = report["instructions"].as_str().unwrap_or_default();
    for tool in &tools {
        assert!(
            instructions.contains(tool),
            "instructions name {tool}: {instructions}"
        );
    }
    assert_eq!(
        report["tools"][2]["input_schema"]["required"],
        json!(["code"]),
        "execute_python_code requires code"
    );

    let listing = &report["listing"];
    assert_eq!(listing["is_error"], false, "{listing}");
    assert!(text_of(listing).contains("crm."), "{listing}");
    assert!(
        text_of(&report["search"]).contains("crm.get_clients"),
        "search finds the CRM: {}",
        report["search"]
    );
    let stubs = &report["stubs"];
    assert_eq!(stubs["is_error"], false, "{stubs}");
    assert!(text_of(stubs).contains("def get_clients("), "{stubs}");

    let answer = &report["answer"];
    assert_eq!(answer["is_error"], false, "{answer}");
    assert_eq!(
        answer["structured"], true,
        "structuredContent (validated by the SDK against outputSchema) next to the text: {answer}"
    );
    assert!(text_of(answer).contains("result: M Carter"), "{answer}");
    assert!(
        text_of(answer).contains("bus calls: 1 (crm.get_clients)"),
        "{answer}"
    );

    let failure = &report["failure"];
    assert_eq!(failure["is_error"], true, "a tool error: {failure}");
    assert!(text_of(failure).contains("IndexError"), "{failure}");
    assert!(
        text_of(failure).contains(&format!("at line 2: {FAILING_LINE}")),
        "quotes the snippet line: {failure}"
    );

    let timeout = &report["timeout"];
    assert_eq!(timeout["is_error"], true, "{timeout}");
    assert!(text_of(timeout).contains("wall time"), "{timeout}");
    assert!(
        timeout["seconds"].as_f64().unwrap_or(f64::MAX) < 10.0,
        "timeout_seconds=0.5 is honoured: {timeout}"
    );

    assert_eq!(report["three_calls"]["is_error"], false, "{report}");
    let progress = report["progress"].as_array().expect("progress list");
    assert_eq!(
        progress.len(),
        3,
        "one notification per bus call: {progress:?}"
    );
    for (step, notification) in (1_u32..).zip(progress) {
        assert_eq!(
            notification["progress"],
            json!(f64::from(step)),
            "{notification}"
        );
        assert!(
            notification["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("crm.get_clients: ok in"),
            "{notification}"
        );
    }
}

fn text_of(outcome: &Value) -> &str {
    outcome["text"].as_str().unwrap_or_default()
}

/// Runs `mcp_python/client.py` with the snippets and `target`; returns its JSON report.
async fn run_client(name: &str, mode: &str, target: &[&str]) -> Value {
    let plan_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mcp-python-{name}.json"));
    let plan = json!({
        "adviser": ADVISER_SNIPPET,
        "failing": FAILING_SNIPPET,
        "endless": ENDLESS_SNIPPET,
        "three_calls": THREE_CALLS_SNIPPET,
    });
    std::fs::write(&plan_path, plan.to_string()).expect("write the plan");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_python/client.py");
    let child = tokio::process::Command::new(python_with_mcp())
        .arg(script)
        .arg("--plan")
        .arg(&plan_path)
        .args(["--mode", mode])
        .args(target)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let output = tokio::time::timeout(Duration::from_mins(3), child.wait_with_output())
        .await
        .expect("the Python client finishes within 3 minutes")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client failed ({}):\n{stderr}",
        output.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|error| panic!("report is not JSON ({error}): {stdout}\n{stderr}"))
}

/// `target/pyvenv/bin/python` with the MCP SDK importable, or a failure naming the fix.
fn python_with_mcp() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let python = target.join("pyvenv/bin/python");
    let install = "install it with:\n  bash tests/install-pyvenv.sh";
    assert!(
        python.exists(),
        "the Python venv is missing at {}; {install}",
        python.display()
    );
    let probe = std::process::Command::new(&python)
        .args(["-c", "import mcp"])
        .output()
        .expect("run the venv's python");
    assert!(
        probe.status.success(),
        "the MCP Python SDK is not installed in {}; {install}\n{}",
        python.display(),
        String::from_utf8_lossy(&probe.stderr)
    );
    python
}

fn loopback_port_0() -> McpHttpOptions {
    McpHttpOptions {
        listen: "127.0.0.1:0".parse().expect("address"),
        ..McpHttpOptions::default()
    }
}
