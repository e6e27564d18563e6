//! Approvals and PII over MCP, driven by the official MCP Python SDK (`target/pyvenv`) against
//! codemode's streamable HTTP server under a policy: the SDK's elicitation callback accepts,
//! declines, never answers, or is absent; placeholders round-trip within one MCP session.
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

pub mod control_support;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use codemode::mcp::{McpHttpOptions, start_http};
use control_support::Env;
use serde_json::{Value, json};

const POLICY: &str = "[policy]\napprove = \"writes\"\napproval_timeout_seconds = 1.5\n\
[policy.pii]\npatterns = [\"email\"]\nname_fields = [\"name\"]\n";

const PLACE_ORDER: &str = "try:\n    result = order_ticket.place_order(symbol='AAPL', side='buy', quantity=100)['order']['symbol']\nexcept ApprovalDeniedError as error:\n    result = 'denied: ' + error.reason_uri";

async fn run(name: &str, answer: &str, mode: &str, snippets: &[(&str, &str)]) -> (Env, Value) {
    let env = Env::start(&format!("mcp-{name}"), POLICY).await;
    let server = start_http(
        Arc::clone(&env.service),
        McpHttpOptions {
            listen: "127.0.0.1:0".parse().expect("address"),
            ..McpHttpOptions::default()
        },
    )
    .await
    .expect("HTTP server starts");
    let plan_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("control-mcp-{name}.json"));
    std::fs::write(&plan_path, json!({ "snippets": snippets }).to_string()).expect("plan");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_python/approval.py");
    let child = tokio::process::Command::new(python())
        .arg(script)
        .arg("--plan")
        .arg(&plan_path)
        .args(["--http", &server.url(), "--answer", answer, "--mode", mode])
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
        "the Python client failed:\n{stderr}"
    );
    server.shutdown().await.expect("server stops");
    let report = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|error| panic!("report is not JSON ({error}): {stdout}\n{stderr}"));
    (env, report)
}

fn python() -> PathBuf {
    let in_target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|target| target.join("pyvenv/bin/python"))
        .unwrap_or_default();
    if in_target.exists() {
        return in_target;
    }
    let in_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pyvenv/bin/python");
    assert!(
        in_tree.exists(),
        "the Python venv is missing; install it with: bash tests/install-pyvenv.sh"
    );
    in_tree
}

fn run_text<'a>(report: &'a Value, name: &str) -> &'a str {
    report["runs"][name]["text"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_elicitation_lets_the_write_out_and_the_surface_follows_the_policy() {
    let (env, report) = run("accept", "accept", "legacy", &[("order", PLACE_ORDER)]).await;
    assert_eq!(
        run_text(&report, "order").lines().next(),
        Some("result: AAPL"),
        "{report}"
    );
    let asked = report["asked"].as_array().expect("asked");
    assert_eq!(asked.len(), 1, "{report}");
    let message = asked[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("order_ticket.place_order") && message.contains("OrderTicket"),
        "{message}"
    );
    assert!(
        message.contains("\"symbol\":\"AAPL\"") && message.contains("Snippet line 2"),
        "{message}"
    );
    let hints = &report["annotations"]["execute_python_code"];
    assert_eq!(hints["destructiveHint"], true, "{hints}");
    assert_eq!(hints["openWorldHint"], false, "{hints}");
    assert_eq!(hints["readOnlyHint"], false, "{hints}");
    assert!(
        report["instructions"]
            .as_str()
            .unwrap_or_default()
            .contains("needs approval"),
        "{report}"
    );
    assert!(
        report["listing"]
            .as_str()
            .unwrap_or_default()
            .contains("[writes — needs approval]"),
        "{report}"
    );
    assert_eq!(env.orders().await.len(), 1, "the order reached the bus");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_elicitation_is_caught_by_the_snippet() {
    let (env, report) = run("decline", "decline", "legacy", &[("order", PLACE_ORDER)]).await;
    assert!(
        run_text(&report, "order").starts_with("result: denied: declined"),
        "{report}"
    );
    assert!(env.orders().await.is_empty());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_elicitation_fails_closed_with_a_clear_error() {
    let (env, report) = run(
        "none",
        "none",
        "legacy",
        &[(
            "order",
            "order_ticket.place_order(symbol='AAPL', side='buy', quantity=100)",
        )],
    )
    .await;
    let run = &report["runs"]["order"];
    assert_eq!(run["is_error"], true, "{report}");
    let text = run["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("ApprovalDeniedError") && text.contains("does not support elicitation"),
        "{text}"
    );
    assert!(env.orders().await.is_empty());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_elicitation_times_out_closed() {
    let (env, report) = run("never", "never", "legacy", &[("order", PLACE_ORDER)]).await;
    assert!(
        run_text(&report, "order").starts_with("result: denied: timeout"),
        "{report}"
    );
    assert!(env.orders().await.is_empty());
    env.stop().await;
}

async fn placeholders_round_trip(name: &str, mode: &str) {
    let (env, report) = run(
        name,
        "accept",
        mode,
        &[
            (
                "read",
                "c = crm.get_client(client_id='c-001')['client']\nresult = [c['name'], c['email']]",
            ),
            (
                "back",
                "result = crm.find_client_by_email(email='<email_1>')['client']['id']",
            ),
        ],
    )
    .await;
    let client = env
        .probe("CRM.GetClient", json!({"clientId": "c-001"}))
        .await;
    let email = client["client"]["email"].as_str().expect("email");
    let read = run_text(&report, "read");
    assert!(
        read.contains("<name_1>") && read.contains("<email_1>"),
        "{read}"
    );
    assert!(!read.contains(email), "{read}");
    assert!(
        run_text(&report, "back").starts_with("result: c-001"),
        "the bus got the real email: {report}"
    );
    env.stop().await;
}

/// 2026-07-28 is stateless: the placeholders live as long as the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholders_round_trip_across_stateless_mcp_requests() {
    placeholders_round_trip("pii-modern", "auto").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholders_round_trip_within_one_legacy_mcp_session() {
    placeholders_round_trip("pii-legacy", "legacy").await;
}
