//! The Windows build, `codemode.exe` (x86_64-pc-windows-gnu), run under Wine and driven from
//! Linux by real peers: the demo, `exec` on the embedded mock bus, `serve --mcp stdio` driven
//! by the official MCP Python SDK, `serve --mcp http` driven by rmcp's client, `serve` attached
//! to the real io.Connect gateway fixture with a real `@interopio/desktop` client, and the job
//! object's kill-on-close (a busy worker dies with a killed codemode.exe; Wine enforces it).
//!
//! These need the Windows build and a Wine prefix, so they are `#[ignore]`d in the ordinary
//! run; `tests/windows/run.sh` (part of `tests/run-all.sh`) builds both and runs them with
//! `--ignored`, with `CODEMODE_WINE_EXE` naming the exe. Without it they fail, never skip.
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

pub mod mcp_support;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use codemode_tests::{GatewayOptions, RealGateway, probe_url};
use mcp_support::{ADVISER_SNIPPET, ENDLESS_SNIPPET, FAILING_LINE, FAILING_SNIPPET};
use rmcp::{
    ServiceExt as _,
    model::{CallToolRequestParams, CallToolResult},
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

const WHY: &str = "needs codemode.exe and Wine: run by tests/windows/run.sh";

/// The Windows exe under test.
fn exe() -> PathBuf {
    let path = std::env::var_os("CODEMODE_WINE_EXE").map(PathBuf::from);
    let path = path.unwrap_or_else(|| {
        panic!("CODEMODE_WINE_EXE is not set; {WHY}");
    });
    assert!(path.is_file(), "{} is missing; {WHY}", path.display());
    path
}

/// `wine codemode.exe`, ready for arguments.
fn codemode_exe() -> tokio::process::Command {
    let mut command = tokio::process::Command::new("wine");
    command.arg(exe()).kill_on_drop(true);
    command
}

/// Runs `codemode.exe args` with `stdin`; returns (success, stdout, stderr).
async fn run(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = codemode_exe()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wine starts codemode.exe");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let output = tokio::time::timeout(Duration::from_mins(2), child.wait_with_output())
        .await
        .expect("codemode.exe finishes within 2 minutes")
        .expect("codemode.exe runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
#[ignore = "needs codemode.exe and Wine: run by tests/windows/run.sh"]
async fn the_demo_runs_under_wine() {
    let (ok, stdout, stderr) = run(&["demo"], "").await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("M Carter"), "the seed answer: {stdout}");
    assert!(
        stdout.contains("portfolio_shown_for"),
        "the multi-step task: {stdout}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes in piped logs: {stderr}"
    );
}

#[tokio::test]
#[ignore = "needs codemode.exe and Wine: run by tests/windows/run.sh"]
async fn exec_on_the_mock_bus_answers_and_reports_snippet_errors_under_wine() {
    let (ok, stdout, stderr) = run(&["exec", "--mock-bus", "-"], ADVISER_SNIPPET).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("result: M Carter"), "{stdout}\n{stderr}");

    let (ok, stdout, stderr) = run(&["exec", "--mock-bus", "-"], FAILING_SNIPPET).await;
    assert!(!ok, "a failing snippet fails the command: {stdout}");
    let both = format!("{stdout}{stderr}");
    assert!(both.contains("IndexError"), "{both}");
    assert!(both.contains(FAILING_LINE), "{both}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs codemode.exe and Wine: run by tests/windows/run.sh"]
async fn the_python_mcp_sdk_drives_codemode_exe_over_stdio() {
    let exe = exe();
    let exe = exe.to_string_lossy();
    // The SDK starts stdio servers with a minimal environment of its own; `env` hands Wine the
    // test prefix (with the bcryptprimitives shim) and its settings.
    let wine_env: Vec<String> = ["WINEPREFIX", "WINEDEBUG", "WINEDLLOVERRIDES"]
        .iter()
        .filter_map(|name| {
            std::env::var(name)
                .ok()
                .map(|value| format!("{name}={value}"))
        })
        .collect();
    let mut target = vec!["--stdio", "env"];
    target.extend(wine_env.iter().map(String::as_str));
    target.extend(["wine", &exe, "serve", "--mock-bus", "--mcp", "stdio"]);
    let report = run_python_client(&target).await;
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert_eq!(
        tools,
        [
            "list_python_definitions",
            "get_python_definitions",
            "execute_python_code"
        ]
    );
    assert!(text_of(&report["listing"]).contains("crm."), "{report}");
    assert!(
        text_of(&report["stubs"]).contains("def get_clients("),
        "{report}"
    );
    assert!(
        text_of(&report["answer"]).contains("result: M Carter"),
        "{report}"
    );
    assert_eq!(report["failure"]["is_error"], true, "{report}");
    assert!(
        text_of(&report["failure"]).contains(&format!("at line 2: {FAILING_LINE}")),
        "{report}"
    );
    assert!(
        text_of(&report["timeout"]).contains("wall time"),
        "{report}"
    );
    assert_eq!(
        report["progress"].as_array().map(Vec::len),
        Some(3),
        "one progress notification per bus call: {report}"
    );
}

fn text_of(outcome: &Value) -> &str {
    outcome["text"].as_str().unwrap_or_default()
}

/// Runs `tests/mcp_python/client.py` (the official MCP Python SDK) against `target`.
async fn run_python_client(target: &[&str]) -> Value {
    let plan_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wine-mcp-python.json");
    let plan = json!({
        "adviser": ADVISER_SNIPPET,
        "failing": FAILING_SNIPPET,
        "endless": ENDLESS_SNIPPET,
        "three_calls": mcp_support::THREE_CALLS_SNIPPET,
    });
    std::fs::write(&plan_path, plan.to_string()).expect("write the plan");
    let python = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|target| target.join("pyvenv/bin/python"))
        .expect("the target dir");
    assert!(
        python.exists(),
        "{} is missing: bash tests/install-pyvenv.sh",
        python.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_python/client.py");
    let child = tokio::process::Command::new(python)
        .arg(script)
        .arg("--plan")
        .arg(&plan_path)
        .args(["--mode", "auto"])
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
        "the Python client failed:\n{stderr}"
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|error| panic!("report is not JSON ({error}): {stdout}\n{stderr}"))
}

/// The last stderr lines of a child, for failure messages.
#[derive(Clone, Default)]
struct Tail(std::sync::Arc<std::sync::Mutex<String>>);

impl Tail {
    fn collect(mut stderr: tokio::process::ChildStderr) -> Self {
        let tail = Self::default();
        let sink = tail.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while let Ok(read) = stderr.read(&mut chunk).await {
                if read == 0 {
                    break;
                }
                if let Ok(mut text) = sink.0.lock() {
                    text.push_str(&String::from_utf8_lossy(&chunk[..read]));
                }
            }
        });
        tail
    }

    fn text(&self) -> String {
        self.0.lock().map(|text| text.clone()).unwrap_or_default()
    }

    async fn wait_for(&self, needle: &str, within: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.text().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &'static str,
    arguments: Value,
) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object");
    };
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .unwrap_or_else(|error| panic!("{tool} answers: {error}"))
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs codemode.exe and Wine: run by tests/windows/run.sh"]
async fn rmcp_drives_codemode_exe_over_http_and_ctrl_c_stops_it_cleanly() {
    let mut child = codemode_exe()
        .args([
            "serve",
            "--mock-bus",
            "--mcp",
            "http",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("codemode.exe serve starts");
    let stderr = Tail::collect(child.stderr.take().expect("stderr"));
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::time::timeout(Duration::from_mins(1), async {
        BufReader::new(stdout)
            .lines()
            .next_line()
            .await
            .ok()
            .flatten()
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| panic!("the server prints its URL on stdout\n{}", stderr.text()));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    codemode_adapters::tls::install_default_crypto_provider();
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("rmcp connects over HTTP");
    let tools = client.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), 3);
    let listing = call(&client, "list_python_definitions", json!({})).await;
    assert!(text(&listing).contains("crm."), "{}", text(&listing));
    let answer = call(
        &client,
        "execute_python_code",
        json!({"code": ADVISER_SNIPPET}),
    )
    .await;
    assert_ne!(answer.is_error, Some(true), "{}", text(&answer));
    assert!(
        text(&answer).contains("result: M Carter"),
        "{}",
        text(&answer)
    );
    let stopped = call(
        &client,
        "execute_python_code",
        json!({"code": ENDLESS_SNIPPET, "timeout_seconds": 1}),
    )
    .await;
    assert_eq!(stopped.is_error, Some(true), "{}", text(&stopped));
    assert!(text(&stopped).contains("wall time"), "{}", text(&stopped));
    client.cancel().await.expect("client closes");

    // Wine turns SIGINT into the console's Ctrl-C event.
    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap_or_else(|_| panic!("still running 30 s after Ctrl-C\n{}", stderr.text()))
        .expect("wait");
    assert!(status.success(), "{status}\n{}", stderr.text());
    assert!(
        stderr
            .wait_for("Ctrl-C: shutting down", Duration::from_secs(5))
            .await,
        "{}",
        stderr.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs codemode.exe and Wine: run by tests/windows/run.sh"]
async fn a_real_interopio_client_runs_a_snippet_through_codemode_exe_on_the_real_gateway() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let mut serve = codemode_exe()
        .args(["serve", "--mcp", "none", "--bus", &gateway.url])
        .args(["--user", &gateway.user, "--secret", &gateway.secret])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codemode.exe serve");
    let stderr = Tail::collect(serve.stderr.take().expect("stderr"));
    let url = gateway.url.clone();
    let user = gateway.user.clone();
    let answer = tokio::task::spawn_blocking(move || {
        probe_url(
            &url,
            &user,
            &[
                "--wait-ms",
                "60000",
                "invoke",
                "CodeMode.ExecutePythonCode",
                &json!({"code": "found = crm.get_clients(name_contains='Amelia Reid')\nresult = found['clients'][0]['adviser']"}).to_string(),
            ],
        )
    })
    .await
    .expect("the probe runs");
    assert_eq!(answer["ok"], json!(true), "{answer:#}\n{}", stderr.text());
    assert_eq!(
        answer["returned"]["result"],
        json!("M Carter"),
        "{answer:#}"
    );
    let _ = serve.kill().await;
    gateway.stop();
}

/// The Linux processes of Wine whose command line names `needle` (Wine shows a Windows
/// process's command line in `/proc/PID/cmdline`).
fn wine_processes(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(needle).then_some(pid)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs codemode.exe and Wine: run by tests/windows/run.sh"]
async fn a_busy_worker_dies_with_a_killed_codemode_exe() {
    // A copy of the exe under a name of its own, so only this test's workers match.
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codemode-killtest.exe");
    std::fs::copy(exe(), &copy).expect("copy the exe");
    let mut command = tokio::process::Command::new("wine");
    command
        .arg(&copy)
        .args(["exec", "--mock-bus", "--timeout-seconds", "120", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start codemode-killtest.exe");
    let stderr = Tail::collect(child.stderr.take().expect("stderr"));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"n = 0\nwhile True:\n    n += 1\n")
        .await
        .expect("write the snippet");
    drop(stdin);

    let started = Instant::now();
    let mut workers = Vec::new();
    while workers.is_empty() && started.elapsed() < Duration::from_mins(1) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        workers = wine_processes("codemode-killtest.exe sandbox-worker");
    }
    assert!(
        !workers.is_empty(),
        "no worker process seen\n{}",
        stderr.text()
    );
    // Let the worker get busy with the endless loop.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // SIGKILL: codemode.exe gets no chance to clean up; only the job object's
    // kill-on-close can end the worker.
    child.kill().await.expect("kill codemode-killtest.exe");
    let killed = Instant::now();
    let mut left = workers.clone();
    while !left.is_empty() && killed.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = wine_processes("codemode-killtest.exe sandbox-worker");
    }
    for pid in &left {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let _ = std::fs::remove_file(&copy);
    assert!(
        left.is_empty(),
        "workers {left:?} outlived the killed codemode.exe (was {workers:?})"
    );
}
