//! The `codemode` binary against real peers:
//! - `codemode serve` attached to the real open-source io.Connect gateway registers the
//!   CodeMode.* methods, and a real `@interopio/desktop` client invokes
//!   `CodeMode.ExecutePythonCode` and gets the answer computed from the real CRM app;
//! - `codemode catalogue` / `codemode exec --dialect fdc3` against the FINOS reference Desktop
//!   Agent list its intents and raise one, getting the handler app's result; an ambiguous raise
//!   gives the snippet its choices, and agent errors arrive as typed exceptions;
//! - `codemode serve --dialect fdc3 --mcp http` (issue 8's done-when): an rmcp client lists the
//!   intents and a snippet gets the handler's result; Ctrl-C says `WCP6Goodbye` to the agent.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    io::Write as _,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use codemode_tests::{GatewayOptions, RealGateway, ReferenceAgent, probe_url};
use rmcp::{
    ServiceExt as _,
    model::{CallToolRequestParams, CallToolResult},
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

/// Kills the child on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn invoke(gateway: &RealGateway, method: &str, arguments: &Value) -> Value {
    probe_url(
        &gateway.url,
        &gateway.user,
        &[
            "--wait-ms",
            "20000",
            "invoke",
            method,
            &arguments.to_string(),
        ],
    )
}

#[test]
fn a_real_interopio_client_runs_a_snippet_through_code_mode_on_the_real_gateway() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let _serve = Running(
        Command::new(BINARY)
            .args(["serve", "--mcp", "none", "--bus", &gateway.url])
            .args(["--user", &gateway.user, "--secret", &gateway.secret])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start codemode serve"),
    );

    let answer = invoke(
        &gateway,
        "CodeMode.ExecutePythonCode",
        &json!({"code": "found = crm.get_clients(name_contains='Amelia Reid')\nresult = found['clients'][0]['adviser']"}),
    );
    assert_eq!(answer["ok"], json!(true), "{answer:#}");
    assert_eq!(
        answer["returned"]["result"],
        json!("M Carter"),
        "{answer:#}"
    );
    assert!(
        answer["returned"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("crm.get_clients")),
        "the text summarises the bus calls: {answer:#}"
    );

    let listed = invoke(
        &gateway,
        "CodeMode.ListPythonDefinitions",
        &json!({"query": "client adviser"}),
    );
    assert!(
        listed["returned"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("crm.get_clients")),
        "{listed:#}"
    );
    let stubs = invoke(
        &gateway,
        "CodeMode.GetPythonDefinitions",
        &json!({"names": ["crm.get_clients"]}),
    );
    assert!(
        stubs["returned"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("def get_clients(")),
        "{stubs:#}"
    );

    let failed = invoke(
        &gateway,
        "CodeMode.ExecutePythonCode",
        &json!({"code": "x = 1\ny = x / 0"}),
    );
    assert_eq!(failed["ok"], json!(false), "{failed:#}");
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("ZeroDivisionError") && message.contains("line 2"),
        "the error quotes the snippet line: {failed:#}"
    );
}

fn run_with_stdin(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codemode");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the snippet");
    let started = Instant::now();
    let output = child.wait_with_output().expect("codemode finishes");
    assert!(
        started.elapsed() < Duration::from_mins(2),
        "codemode took too long"
    );
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn codemode_lists_and_raises_intents_on_the_fdc3_reference_agent() {
    let agent = ReferenceAgent::start(1000);
    let bus = [
        "--dialect",
        "fdc3",
        "--bus",
        &agent.url,
        "--fdc3-identity-url",
        &agent.identity_url,
        "--fdc3-app-directory",
        &agent.appd_url,
    ];
    let mut list = vec!["catalogue"];
    list.extend_from_slice(&bus);
    list.extend_from_slice(&["list", "--namespace", "intents"]);
    let (ok, listing, stderr) = run_with_stdin(&list, "");
    assert!(ok, "catalogue list failed: {stderr}");
    assert!(listing.contains("intents.view_chart"), "{listing}");
    assert!(listing.contains("intents.view_contact"), "{listing}");

    let mut exec = vec!["exec"];
    exec.extend_from_slice(&bus);
    exec.extend_from_slice(&["--json", "-"]);
    let (ok, stdout, stderr) = run_with_stdin(
        &exec,
        "chart = intents.view_chart({'type': 'fdc3.instrument', 'name': 'Apple', 'id': {'ticker': 'AAPL'}})\n\
         result = chart",
    );
    let outcome: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("exec prints JSON ({error}): {stdout}\n{stderr}"));
    assert!(ok, "the snippet failed: {outcome:#}\n{stderr}");
    assert_eq!(outcome["calls"][0]["function"], json!("intents.view_chart"));
    // chart-app's ViewChart handler answers with a line chart of the instrument it was given.
    assert_eq!(
        outcome["result"],
        json!({
            "type": "fdc3.chart",
            "instruments": [{"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}}],
            "style": "line",
        }),
        "the handler's result comes back: {outcome:#}"
    );

    let (ok, stdout, _) = run_with_stdin(
        &exec,
        "try:\n    raise_intent('NoSuchIntent', {'type': 'fdc3.instrument', 'id': {'ticker': 'AAPL'}})\n    result = 'raised'\n\
         except IntentNotResolvedError as error:\n    result = 'not resolved'\n\
         except BusError as error:\n    result = type(error).__name__ + ': ' + str(error)",
    );
    let outcome: Value = serde_json::from_str(&stdout).expect("exec prints JSON");
    assert!(ok, "{outcome:#}");
    assert_eq!(outcome["result"], json!("not resolved"), "{outcome:#}");
}

/// The `--dialect fdc3` flags that attach to `agent`.
fn fdc3_bus(agent: &ReferenceAgent) -> Vec<String> {
    [
        "--dialect",
        "fdc3",
        "--bus",
        &agent.url,
        "--fdc3-identity-url",
        &agent.identity_url,
        "--fdc3-app-directory",
        &agent.appd_url,
    ]
    .map(str::to_owned)
    .to_vec()
}

#[test]
fn an_ambiguous_raise_gives_the_snippet_its_choices_and_agent_errors_are_typed() {
    let agent = ReferenceAgent::start(1000);
    let mut exec = vec!["exec".to_owned()];
    exec.extend(fdc3_bus(&agent));
    exec.extend(["--json".to_owned(), "-".to_owned()]);
    let exec: Vec<&str> = exec.iter().map(String::as_str).collect();
    // quote-app and watchlist-app both run and handle ViewInstrument.
    let (ok, stdout, stderr) = run_with_stdin(
        &exec,
        "ctx = {'type': 'fdc3.instrument', 'name': 'Apple', 'id': {'ticker': 'AAPL'}}\n\
         try:\n    intents.view_instrument(ctx)\n    result = 'resolved without a choice'\n\
         except IntentNotResolvedError as error:\n\
         \x20   running = [c for c in error.choices if c['instance']]\n\
         \x20   chosen = intents.view_instrument(ctx, **running[0])\n\
         \x20   try:\n\
         \x20       raise_intent('ViewChart', ctx, target={'app': 'no-such-app'})\n\
         \x20       unknown = 'raised'\n\
         \x20   except IntentNotResolvedError as missing:\n\
         \x20       unknown = missing.reason_uri\n\
         \x20   result = {'message': str(error), 'running': sorted(c['app'] for c in running),\n\
         \x20             'chosen': chosen, 'unknown_app': unknown}",
    );
    let outcome: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("exec prints JSON ({error}): {stdout}\n{stderr}"));
    assert!(ok, "the snippet failed: {outcome:#}\n{stderr}");
    let result = &outcome["result"];
    assert_eq!(
        result["running"],
        json!(["quote-app", "watchlist-app"]),
        "{outcome:#}"
    );
    let message = result["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("ambiguous")
            && message.contains("quote-app")
            && message.contains("watchlist-app"),
        "the message lists the choices: {message}"
    );
    assert_eq!(
        result["chosen"],
        Value::Null,
        "re-raised at a choice, the void handler answers: {outcome:#}"
    );
    assert_eq!(result["unknown_app"], json!("TargetAppUnavailable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codemode_serve_on_fdc3_over_mcp_http_lists_intents_and_returns_the_handlers_result() {
    let agent = ReferenceAgent::start(1000);
    let mut child = tokio::process::Command::new(BINARY)
        .arg("serve")
        .args(fdc3_bus(&agent))
        .args(["--mcp", "http", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("codemode serve starts");
    let stderr = collect_lines(child.stderr.take().expect("stderr"));
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::time::timeout(Duration::from_mins(2), async {
        BufReader::new(stdout)
            .lines()
            .next_line()
            .await
            .expect("read stdout")
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| {
        panic!(
            "codemode serve prints its URL once it listens; stderr:\n{}",
            stderr.lock().expect("stderr lock")
        )
    });

    codemode_adapters::tls::install_default_crypto_provider();
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("an rmcp client connects over HTTP");
    let call = |tool: &'static str, arguments: Value| {
        let client = &client;
        async move {
            let Value::Object(arguments) = arguments else {
                panic!("arguments must be an object")
            };
            let result: CallToolResult = client
                .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
                .await
                .unwrap_or_else(|error| panic!("{tool} answers: {error}"));
            let text = result
                .content
                .iter()
                .filter_map(|block| block.as_text().map(|text| text.text.clone()))
                .collect::<Vec<_>>()
                .join("\n");
            (result.is_error == Some(true), text)
        }
    };
    let (failed, listing) = call("list_python_definitions", json!({"namespace": "intents"})).await;
    assert!(!failed, "{listing}");
    for intent in [
        "intents.view_chart",
        "intents.view_quote",
        "intents.start_chat",
    ] {
        assert!(listing.contains(intent), "{intent} is listed: {listing}");
    }
    let (failed, answer) = call(
        "execute_python_code",
        json!({"code": "chart = intents.view_chart({'type': 'fdc3.instrument', 'name': 'Apple', 'id': {'ticker': 'AAPL'}})\n\
                       result = chart['type'] + ' ' + chart['style'] + ' ' + chart['instruments'][0]['id']['ticker']"}),
    )
    .await;
    assert!(!failed, "{answer}");
    assert!(
        answer.contains("result: fdc3.chart line AAPL"),
        "chart-app's handler result comes back: {answer}"
    );
    client.cancel().await.expect("the client closes");

    let pid = child.id().expect("codemode serve is running").to_string();
    let interrupted = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("run kill");
    assert!(interrupted.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("codemode serve stops on Ctrl-C")
        .expect("wait for codemode serve");
    let log = stderr.lock().expect("stderr lock").clone();
    assert!(status.success(), "{status}; stderr:\n{log}");
    assert!(
        log.contains("not registering the CodeMode.* bus methods"),
        "one log line says the bus methods are skipped on FDC3: {log}"
    );
    assert!(
        said_goodbye(&agent),
        "the agent never got WCP6Goodbye; stderr:\n{log}"
    );
}

#[test]
fn asking_for_bus_methods_on_fdc3_is_a_clear_error_and_still_says_goodbye() {
    let agent = ReferenceAgent::start(1000);
    let mut serve = vec!["serve".to_owned()];
    serve.extend(fdc3_bus(&agent));
    serve.extend(["--mcp".to_owned(), "none".to_owned()]);
    let serve: Vec<&str> = serve.iter().map(String::as_str).collect();
    let (ok, _, stderr) = run_with_stdin(&serve, "");
    assert!(!ok, "nothing can be served: {stderr}");
    assert!(
        stderr.contains("bus methods were asked for") && stderr.contains("not supported on FDC3"),
        "{stderr}"
    );
    assert!(
        said_goodbye(&agent),
        "the agent got no WCP6Goodbye before the error exit"
    );
}

/// Whether the agent received `WCP6Goodbye` from codemode (waiting a little for its log).
fn said_goodbye(agent: &ReferenceAgent) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if agent
            .validations()
            .iter()
            .any(|record| record["type"] == "WCP6Goodbye")
        {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Everything `stream` writes, line by line, as it arrives.
fn collect_lines(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut text = sink.lock().expect("log lock");
            text.push_str(&line);
            text.push('\n');
        }
    });
    text
}
