//! The MCP server driven by rmcp's own client: in process over a pipe, over streamable HTTP
//! (with the Origin and bearer-token guards), and against the `codemode` binary on stdio and
//! HTTP. Everything runs on the embedded mock bus.
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

pub mod mcp_support;

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use codemode::{
    catalogue::{O200k, TokenCounter as _},
    mcp::{McpHttpOptions, McpServer, start_http},
};
use mcp_support::{
    ADVISER_SNIPPET, ENDLESS_SNIPPET, FAILING_LINE, FAILING_SNIPPET, Fixture, THREE_CALLS_SNIPPET,
};
use rmcp::{
    ClientHandler, RoleClient, ServiceExt as _,
    model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam},
    service::{NotificationContext, RunningService},
    transport::{
        ConfigureCommandExt as _, StreamableHttpClientTransport, TokioChildProcess,
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// The ceiling on the `tools/list` answer (o200k_base tokens), from the issue.
const TOOLS_LIST_BUDGET: usize = 1_000;

type Client = RunningService<RoleClient, Recorder>;

/// An rmcp client handler that records every progress notification.
#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().expect("progress lock").push(params);
    }
}

/// An rmcp client connected to an in-process server over a pipe.
async fn pipe_client(fixture: &Fixture) -> Client {
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let server = McpServer::new(Arc::clone(&fixture.service));
    tokio::spawn(async move {
        let running = server.serve(server_end).await.expect("server handshake");
        let _ = running.waiting().await;
    });
    Recorder::default()
        .serve(client_end)
        .await
        .expect("client handshake")
}

async fn http_client(url: &str, bearer: Option<&str>) -> Client {
    codemode_adapters::tls::install_default_crypto_provider();
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = bearer {
        config = config.auth_header(token.to_owned());
    }
    Recorder::default()
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("client connects over HTTP")
}

async fn call(client: &Client, tool: &'static str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object");
    };
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .unwrap_or_else(|error| panic!("{tool} answers: {error}"))
}

/// The text blocks of a result, joined.
fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

/// One bus call (`crm.get_client`, not the `crm.get_clients` the measured snippets call).
const MARKER_SNIPPET: &str = "result = crm.get_client(client_id='c-001')['client']['name']";

/// Runs [`MARKER_SNIPPET`] and waits for its progress notification; returns (and forgets) the
/// notifications that came before it. The server sends a call's notifications before its
/// answer, and the marker is called after the earlier calls answered, so once the marker's
/// notification is in, none of theirs is still on its way: no quiet period to guess.
async fn progress_before_marker(client: &Client) -> Vec<ProgressNotificationParam> {
    let marker = call(
        client,
        "execute_python_code",
        json!({"code": MARKER_SNIPPET}),
    )
    .await;
    assert!(!is_error(&marker), "{}", text(&marker));
    let is_marker = |p: &ProgressNotificationParam| {
        p.message
            .as_deref()
            .is_some_and(|message| message.starts_with("crm.get_client: "))
    };
    let seen = Arc::clone(&client.service().progress);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        {
            let mut seen = seen.lock().expect("progress lock");
            if let Some(at) = seen.iter().position(is_marker) {
                let mut before: Vec<ProgressNotificationParam> = seen.drain(..=at).collect();
                before.pop();
                return before;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the marker's progress notification never came"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Forgets the progress seen so far (the rmcp client sends a progress token with every call).
fn forget_progress(client: &Client) {
    client
        .service()
        .progress
        .lock()
        .expect("progress lock")
        .clear();
}

/// list → search → get → execute the seed question; then a failure, a timeout and progress.
async fn walk_the_three_steps(client: &Client) {
    let listing = call(client, "list_python_definitions", json!({})).await;
    assert!(!is_error(&listing), "{}", text(&listing));
    assert!(
        text(&listing).contains("# "),
        "the first page lists namespaces: {}",
        text(&listing)
    );
    let crm = call(
        client,
        "list_python_definitions",
        json!({"namespace": "crm"}),
    )
    .await;
    assert!(
        text(&crm).contains("crm.get_clients("),
        "the CRM namespace lists get_clients: {}",
        text(&crm)
    );

    let search = call(
        client,
        "list_python_definitions",
        json!({"query": "client adviser"}),
    )
    .await;
    assert!(
        text(&search).contains("crm.get_clients"),
        "search finds the CRM: {}",
        text(&search)
    );

    let stubs = call(
        client,
        "get_python_definitions",
        json!({"names": ["crm.get_clients"]}),
    )
    .await;
    assert!(!is_error(&stubs), "{}", text(&stubs));
    assert!(
        text(&stubs).contains("def get_clients("),
        "typed stub: {}",
        text(&stubs)
    );

    let answer = call(
        client,
        "execute_python_code",
        json!({"code": ADVISER_SNIPPET}),
    )
    .await;
    assert!(!is_error(&answer), "{}", text(&answer));
    assert!(
        text(&answer).contains("result: M Carter"),
        "plain-text answer: {}",
        text(&answer)
    );
    assert!(
        text(&answer).contains("bus calls: 1 (crm.get_clients)"),
        "one-line call summary: {}",
        text(&answer)
    );
    let structured = answer
        .structured_content
        .as_ref()
        .expect("structuredContent next to the text");
    assert_eq!(structured["result"], "M Carter", "{structured}");
    assert_eq!(
        structured["calls"][0]["function"], "crm.get_clients",
        "{structured}"
    );
}

/// The token benchmark's code-mode arm counts the tool definitions and instructions the server
/// really sends: its copy must match `tools/list` (names, descriptions, input schemas).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_benchmark_counts_the_tool_definitions_the_server_sends() {
    let fixture = Fixture::start(0).await;
    let client = pipe_client(&fixture).await;
    let listed = client.list_tools(None).await.expect("tools/list");
    let real: Vec<Value> = listed
        .tools
        .iter()
        .map(|tool| {
            let mut schema = (*tool.input_schema).clone();
            schema.remove("$schema");
            schema.remove("title");
            json!({
                "name": tool.name,
                "description": tool.description,
                "input_schema": schema,
            })
        })
        .collect();
    assert_eq!(Value::Array(real), codemode::tokens::code_mode_tools());
    let instructions = client
        .peer_info()
        .and_then(|info| info.instructions.clone())
        .unwrap_or_default();
    assert_eq!(instructions, codemode::tokens::CODE_MODE_INSTRUCTIONS);
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_fits_in_1000_o200k_tokens_whatever_the_catalogue_size() {
    let small = Fixture::start(0).await;
    let large = Fixture::start(300).await;
    let mut answers = Vec::new();
    for fixture in [&small, &large] {
        let client = pipe_client(fixture).await;
        let tools = client.list_tools(None).await.expect("tools/list");
        let names: Vec<&str> = tools.tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "list_python_definitions",
                "get_python_definitions",
                "execute_python_code"
            ]
        );
        let instructions = client
            .peer_info()
            .and_then(|info| info.instructions.clone())
            .expect("server instructions");
        let steps: Vec<usize> = names
            .iter()
            .map(|name| {
                instructions
                    .find(name)
                    .expect("instructions name every tool")
            })
            .collect();
        assert!(
            steps.is_sorted(),
            "instructions explain list → get → execute in order: {instructions}"
        );
        answers.push(serde_json::to_value(&tools).expect("tools/list as JSON"));
        client.cancel().await.expect("client closes");
    }
    assert_eq!(
        answers[0], answers[1],
        "tools/list does not grow with the catalogue (300 synthetic apps)"
    );

    // The JSON-RPC frame exactly as it goes on the wire (minified), and pretty for reference.
    let frame = json!({"jsonrpc": "2.0", "id": 2, "result": answers[0]});
    let wire = O200k.count(&frame.to_string());
    let pretty = O200k.count(&serde_json::to_string_pretty(&frame).expect("pretty JSON"));
    eprintln!("tools/list answer: {wire} o200k tokens on the wire, {pretty} pretty-printed");
    assert!(
        wire <= TOOLS_LIST_BUDGET,
        "tools/list is {wire} tokens, budget {TOOLS_LIST_BUDGET}"
    );
    // Pretty-printed (for reference only: clients send the minified form) it is larger since
    // the output schema and the `detail`/`session` parameters joined.
    let _ = pretty;
    small.stop().await;
    large.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_search_get_and_execute_answer_the_adviser_question_over_an_in_process_pipe() {
    let fixture = Fixture::start(0).await;
    let client = pipe_client(&fixture).await;
    walk_the_three_steps(&client).await;
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_snippet_is_a_tool_error_that_quotes_the_snippet_line() {
    let fixture = Fixture::start(0).await;
    let client = pipe_client(&fixture).await;
    let failed = call(
        &client,
        "execute_python_code",
        json!({"code": FAILING_SNIPPET}),
    )
    .await;
    assert!(is_error(&failed), "isError is set: {}", text(&failed));
    let body = text(&failed);
    assert!(body.contains("IndexError"), "{body}");
    assert!(
        body.contains(&format!("at line 2: {FAILING_LINE}")),
        "quotes the line: {body}"
    );

    let unknown = call(
        &client,
        "get_python_definitions",
        json!({"names": ["crm.get_clientz"]}),
    )
    .await;
    assert!(
        is_error(&unknown),
        "no known name is a tool error: {}",
        text(&unknown)
    );
    assert!(
        text(&unknown).contains("crm.get_clients"),
        "suggests the close name: {}",
        text(&unknown)
    );
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_seconds_stops_a_runaway_snippet_with_a_tool_error() {
    let fixture = Fixture::start(0).await;
    let client = pipe_client(&fixture).await;
    let started = Instant::now();
    let stopped = call(
        &client,
        "execute_python_code",
        json!({"code": ENDLESS_SNIPPET, "timeout_seconds": 0.5}),
    )
    .await;
    assert!(is_error(&stopped), "{}", text(&stopped));
    assert!(
        text(&stopped).contains("wall time"),
        "names the limit: {}",
        text(&stopped)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped after about 0.5 s, not the 30 s default: {:?}",
        started.elapsed()
    );

    let invalid = call(
        &client,
        "execute_python_code",
        json!({"code": "result = 1", "timeout_seconds": -1}),
    )
    .await;
    assert!(is_error(&invalid), "{}", text(&invalid));
    assert!(
        text(&invalid).contains("timeout_seconds"),
        "{}",
        text(&invalid)
    );
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bus_call_is_reported_as_one_progress_notification() {
    let fixture = Fixture::start(0).await;
    let client = pipe_client(&fixture).await;
    let done = call(
        &client,
        "execute_python_code",
        json!({"code": THREE_CALLS_SNIPPET}),
    )
    .await;
    assert!(!is_error(&done), "{}", text(&done));
    let progress = progress_before_marker(&client).await;
    assert_eq!(progress.len(), 3, "one per bus call: {progress:?}");
    let steps: Vec<f64> = progress.iter().map(|p| p.progress).collect();
    assert_eq!(steps, [1.0, 2.0, 3.0]);
    for notification in &progress {
        let message = notification.message.as_deref().unwrap_or_default();
        assert!(
            message.starts_with("crm.get_clients: ok in"),
            "names the call: {message}"
        );
    }

    let quiet = call(
        &client,
        "execute_python_code",
        json!({"code": "result = 2"}),
    )
    .await;
    assert!(!is_error(&quiet), "{}", text(&quiet));
    assert_eq!(
        progress_before_marker(&client).await.len(),
        0,
        "a snippet without bus calls reports nothing"
    );
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_get_execute_and_progress_work_over_streamable_http() {
    let fixture = Fixture::start(0).await;
    let server = start_http(Arc::clone(&fixture.service), loopback_port_0())
        .await
        .expect("HTTP server starts");
    assert!(server.local_addr().ip().is_loopback());
    assert_ne!(server.local_addr().port(), 0, "reports the bound port");
    let client = http_client(&server.url(), None).await;
    walk_the_three_steps(&client).await;

    forget_progress(&client);
    let done = call(
        &client,
        "execute_python_code",
        json!({"code": THREE_CALLS_SNIPPET}),
    )
    .await;
    assert!(!is_error(&done), "{}", text(&done));
    assert_eq!(
        progress_before_marker(&client).await.len(),
        3,
        "progress over SSE"
    );

    let failed = call(
        &client,
        "execute_python_code",
        json!({"code": FAILING_SNIPPET}),
    )
    .await;
    assert!(is_error(&failed));
    assert!(text(&failed).contains(FAILING_LINE), "{}", text(&failed));
    client.cancel().await.expect("client closes");
    server.shutdown().await.expect("server stops cleanly");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_rejected_with_403_while_loopback_and_allowed_origins_pass() {
    let fixture = Fixture::start(0).await;
    let options = McpHttpOptions {
        allowed_origins: vec!["https://assistant.example.com".to_owned()],
        ..loopback_port_0()
    };
    let server = start_http(Arc::clone(&fixture.service), options)
        .await
        .expect("HTTP server starts");
    let url = server.url();
    for (origin, expected) in [
        (Some("https://evil.example"), 403),
        (Some("http://localhost.evil.example:8765"), 403),
        (Some("null"), 403),
        (Some("https://assistant.example.com.evil.example"), 403),
        (None, 200),
        (Some("http://localhost:5173"), 200),
        (Some("http://127.0.0.1:8080"), 200),
        (Some("https://assistant.example.com"), 200),
    ] {
        let status = initialize_status(&url, origin, None).await;
        assert_eq!(status, expected, "Origin {origin:?}");
    }
    server.shutdown().await.expect("server stops");
    codemode_adapters::tls::install_default_crypto_provider();
    assert!(
        reqwest::Client::new().get(&url).send().await.is_err(),
        "nothing listens after shutdown"
    );
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_token_is_required_when_configured() {
    let fixture = Fixture::start(0).await;
    let options = McpHttpOptions {
        bearer_token: Some("s3cret-token".to_owned()),
        ..loopback_port_0()
    };
    let server = start_http(Arc::clone(&fixture.service), options)
        .await
        .expect("HTTP server starts");
    let url = server.url();
    assert_eq!(initialize_status(&url, None, None).await, 401, "no token");
    assert_eq!(
        initialize_status(&url, None, Some("Bearer wrong")).await,
        401,
        "wrong token"
    );
    assert_eq!(
        initialize_status(&url, None, Some("Basic s3cret-token")).await,
        401,
        "wrong scheme"
    );
    assert_eq!(
        initialize_status(&url, None, Some("Bearer s3cret-token")).await,
        200
    );
    assert_eq!(
        initialize_status(
            &url,
            Some("https://evil.example"),
            Some("Bearer s3cret-token")
        )
        .await,
        403,
        "the token does not excuse a foreign Origin"
    );

    let client = http_client(&url, Some("s3cret-token")).await;
    let answer = call(
        &client,
        "execute_python_code",
        json!({"code": ADVISER_SNIPPET}),
    )
    .await;
    assert!(text(&answer).contains("M Carter"), "{}", text(&answer));
    client.cancel().await.expect("client closes");
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_codemode_binary_serves_rmcp_clients_on_stdio_as_the_sample_config_starts_it() {
    // The arguments an MCP client configured from samples/mcp/stdio-mock-bus.json passes
    // (`codemode` on its PATH is the binary under test).
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../samples/mcp/stdio-mock-bus.json"
    ))
    .expect("the sample MCP config exists");
    let sample: serde_json::Value = serde_json::from_str(&sample).expect("the sample is JSON");
    let server = &sample["mcpServers"]["codemode-demo"];
    assert_eq!(server["command"], "codemode");
    let args: Vec<String> = server["args"]
        .as_array()
        .expect("the sample lists args")
        .iter()
        .filter_map(|arg| arg.as_str().map(str::to_owned))
        .collect();
    let (transport, stderr) = TokioChildProcess::builder(
        tokio::process::Command::new(env!("CARGO_BIN_EXE_codemode")).configure(|command| {
            command.args(&args);
        }),
    )
    .stderr(Stdio::piped())
    .spawn()
    .expect("codemode serve starts");
    let stderr = StderrTail::collect(stderr.expect("stderr is piped"));
    let client = Recorder::default()
        .serve(transport)
        .await
        .unwrap_or_else(|error| panic!("handshake over the binary's stdio: {error}{stderr}"));
    walk_the_three_steps(&client).await;
    forget_progress(&client);
    let done = call(
        &client,
        "execute_python_code",
        json!({"code": THREE_CALLS_SNIPPET}),
    )
    .await;
    assert!(!is_error(&done), "{}", text(&done));
    assert_eq!(progress_before_marker(&client).await.len(), 3);
    client.cancel().await.expect("client closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stdio_binary_writes_only_json_rpc_frames_sends_progress_only_with_a_token_and_exits_on_eof()
 {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(["serve", "--mock-bus", "--mcp", "stdio"])
        .env("RUST_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("codemode serve starts");
    let stderr = StderrTail::collect(child.stderr.take().expect("stderr"));
    let mut wire = RawStdio {
        stdin: child.stdin.take().expect("stdin"),
        stdout: BufReader::new(child.stdout.take().expect("stdout")).lines(),
        stderr: stderr.clone(),
    };

    wire.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}}),
    )
    .await;
    wire.read_until(1).await;
    wire.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;

    // No progress token: no progress notifications, even though the snippet calls the bus.
    wire.send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "execute_python_code",
        "arguments": {"code": format!("print('hello from the snippet')\n{ADVISER_SNIPPET}")}}}),
    )
    .await;
    let frames = wire.read_until(2).await;
    let answer = frames.last().expect("the answer");
    let body = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(body.contains("result: M Carter"), "{answer}");
    assert!(
        body.contains("printed:\nhello from the snippet"),
        "{answer}"
    );
    assert!(
        frames[..frames.len() - 1].is_empty(),
        "nothing but the answer without a progress token: {frames:?}"
    );

    // With a token: one notification per bus call, all before the answer.
    wire.send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "_meta": {"progressToken": "snippet-3"},
        "name": "execute_python_code",
        "arguments": {"code": THREE_CALLS_SNIPPET}}}),
    )
    .await;
    let frames = wire.read_until(3).await;
    let (answer, before) = frames.split_last().expect("the answer");
    assert_eq!(answer["result"]["isError"], json!(false), "{answer}");
    assert_eq!(before.len(), 3, "three notifications first: {before:?}");
    for (step, frame) in (1_u32..).zip(before) {
        assert_eq!(frame["method"], "notifications/progress", "{frame}");
        assert_eq!(frame["params"]["progressToken"], "snippet-3", "{frame}");
        assert_eq!(
            frame["params"]["progress"],
            json!(f64::from(step)),
            "{frame}"
        );
    }

    drop(wire.stdin);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap_or_else(|_| panic!("exits once stdin closes{stderr}"))
        .expect("exit status");
    assert!(status.success(), "{status}{stderr}");
    while let Some(line) = wire.stdout.next_line().await.expect("read stdout") {
        let frame: Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("stdout line is not JSON ({error}): {line}"));
        assert_eq!(frame["jsonrpc"], "2.0", "{line}");
    }
    assert!(
        wait_for_log(&stderr, "MCP stdio session ended").await,
        "the logs went to stderr{stderr}"
    );
}

/// Newline-delimited JSON-RPC over a child's stdin/stdout, checking every stdout line.
struct RawStdio {
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stderr: StderrTail,
}

impl RawStdio {
    async fn send(&mut self, frame: Value) {
        self.stdin
            .write_all(format!("{frame}\n").as_bytes())
            .await
            .unwrap_or_else(|error| panic!("write a frame: {error}{}", self.stderr));
    }

    /// Every frame up to and including the response with `id`; each must be JSON-RPC.
    async fn read_until(&mut self, id: u64) -> Vec<Value> {
        let mut frames = Vec::new();
        let read = async {
            while let Some(line) = self.stdout.next_line().await.expect("read stdout") {
                let frame: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|error| panic!("stdout line is not JSON ({error}): {line}"));
                assert_eq!(frame["jsonrpc"], "2.0", "not a JSON-RPC frame: {line}");
                let done = frame["id"] == id;
                frames.push(frame);
                if done {
                    return true;
                }
            }
            false
        };
        let answered = tokio::time::timeout(Duration::from_mins(1), read).await;
        assert!(
            matches!(answered, Ok(true)),
            "no response {id} within a minute ({answered:?}){}",
            self.stderr
        );
        frames
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_codemode_binary_serves_http_on_loopback_behind_a_bearer_token() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args([
            "serve",
            "--mock-bus",
            "--mcp",
            "http",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("CODEMODE_BEARER_TOKEN", "from-the-environment")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("codemode serve starts");
    let stderr = StderrTail::collect(child.stderr.take().expect("stderr"));
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::time::timeout(Duration::from_mins(1), async {
        BufReader::new(stdout)
            .lines()
            .next_line()
            .await
            .expect("read stdout")
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| panic!("the server prints its URL on stdout{stderr}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/mcp"), "{url}");
    assert_eq!(initialize_status(&url, None, None).await, 401);

    let client = http_client(&url, Some("from-the-environment")).await;
    walk_the_three_steps(&client).await;
    client.cancel().await.expect("client closes");

    // What io.Connect Desktop and process managers send: SIGTERM stops it cleanly.
    terminate_cleanly(&mut child, &stderr).await;
    assert!(
        wait_for_log(&stderr, "SIGTERM: shutting down").await,
        "the shutdown is logged{stderr}"
    );
}

/// Sends SIGTERM to `child` and expects a successful exit within 20 s.
async fn terminate_cleanly(child: &mut tokio::process::Child, stderr: &StderrTail) {
    let pid = child.id().expect("codemode serve is running").to_string();
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(terminated.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap_or_else(|_| panic!("codemode serve still runs 20 s after SIGTERM{stderr}"))
        .expect("wait for codemode serve");
    assert!(status.success(), "{status}{stderr}");
}

/// Whether `needle` shows up on the child's stderr within 10 s.
async fn wait_for_log(stderr: &StderrTail, needle: &str) -> bool {
    for _ in 0..500 {
        if stderr.text().contains(needle) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The last few kilobytes a child wrote to stderr, for failure messages.
#[derive(Clone)]
struct StderrTail(Arc<Mutex<String>>);

impl StderrTail {
    const KEEP: usize = 8 * 1024;

    fn collect(stderr: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Self {
        let tail = Self(Arc::default());
        let sink = tail.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = sink.0.lock().expect("stderr lock");
                text.push_str(&line);
                text.push('\n');
                if text.len() > 2 * Self::KEEP {
                    let cut = text.ceil_char_boundary(text.len() - Self::KEEP);
                    text.drain(..cut);
                }
            }
        });
        tail
    }

    fn text(&self) -> String {
        self.0.lock().expect("stderr lock").clone()
    }
}

impl std::fmt::Display for StderrTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\n--- the child's stderr (tail) ---\n{}", self.text())
    }
}

fn loopback_port_0() -> McpHttpOptions {
    McpHttpOptions {
        listen: "127.0.0.1:0".parse().expect("address"),
        ..McpHttpOptions::default()
    }
}

/// The HTTP status of a bare `initialize` POST with the given `Origin` and `Authorization`.
async fn initialize_status(url: &str, origin: Option<&str>, authorization: Option<&str>) -> u16 {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}});
    codemode_adapters::tls::install_default_crypto_provider();
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request
        .send()
        .await
        .expect("the server answers")
        .status()
        .as_u16()
}

/// Regression: after SIGTERM, `serve --mcp stdio` waited for its blocked read of stdin (which an
/// MCP client keeps open) before exiting; the runtime now gives blocking tasks a short grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_serve_exits_on_sigterm_while_its_client_keeps_stdin_open() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(["serve", "--mock-bus", "--mcp", "stdio"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("codemode serve starts");
    let _open_stdin = child.stdin.take().expect("stdin");
    let stderr = StderrTail::collect(child.stderr.take().expect("stderr"));
    assert!(
        wait_for_log(&stderr, "serving MCP on stdio").await,
        "the server starts{stderr}"
    );
    terminate_cleanly(&mut child, &stderr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_context_resource_tells_the_model_what_the_user_is_looking_at() {
    let fixture = Fixture::start(0).await;
    let client = pipe_client(&fixture).await;
    let listed = client.list_all_resources().await.expect("resources/list");
    assert!(
        listed
            .iter()
            .any(|resource| resource.uri == codemode::mcp::context::CURRENT_CONTEXT_URI),
        "{listed:?}"
    );
    let read = |client: &Client| {
        let request = rmcp::model::ReadResourceRequestParams::new(
            codemode::mcp::context::CURRENT_CONTEXT_URI,
        );
        let peer = client.peer().clone();
        async move {
            let result = peer.read_resource(request).await.expect("resources/read");
            let text = match result.contents.first() {
                Some(rmcp::model::ResourceContents::TextResourceContents { text, .. }) => {
                    text.clone()
                }
                other => panic!("a text resource, got {other:?}"),
            };
            serde_json::from_str::<Value>(&text).expect("the resource is JSON")
        }
    };
    // Joined to no channel: every channel holding a context (the mock bus's Red holds AAPL).
    let before = read(&client).await;
    assert_eq!(before["channel"], Value::Null, "{before:#}");
    assert_eq!(
        before["channels"][0]["channel"]["id"],
        json!("Red"),
        "{before:#}"
    );
    assert_eq!(
        before["channels"][0]["context"]["id"]["ticker"],
        json!("AAPL")
    );
    // After a snippet joins Green and broadcasts there, the resource follows the current channel.
    let outcome = call(
        &client,
        "execute_python_code",
        json!({"code": "channels.join('Green')\nchannels.broadcast({'type': 'fdc3.contact', 'id': {'email': 'jane@example.com'}})\nresult = 'ok'"}),
    )
    .await;
    assert!(!is_error(&outcome), "{}", text(&outcome));
    let after = read(&client).await;
    assert_eq!(after["channel"]["id"], json!("Green"), "{after:#}");
    assert_eq!(
        after["context"],
        json!({"type": "fdc3.contact", "id": {"email": "jane@example.com"}})
    );
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_context_resource_goes_through_the_policys_pii_tokenization() {
    use codemode::control::{PiiConfig, Policy, PolicyConfig, PolicyOverrides, PolicyStore};
    let fixture = Fixture::start_with_policy(
        Policy::new(
            PolicyConfig {
                pii: PiiConfig {
                    patterns: vec!["email".into()],
                    ..PiiConfig::default()
                },
                ..PolicyConfig::default()
            },
            &PolicyOverrides::default(),
        )
        .map(|policy| std::sync::Arc::new(PolicyStore::fixed(policy)))
        .expect("policy"),
    )
    .await;
    let client = pipe_client(&fixture).await;
    let outcome = call(
        &client,
        "execute_python_code",
        json!({"code": "channels.join('Green')\nchannels.broadcast({'type': 'fdc3.contact', 'id': {'email': 'jane@example.com'}})\nresult = 'ok'"}),
    )
    .await;
    assert!(!is_error(&outcome), "{}", text(&outcome));
    let request =
        rmcp::model::ReadResourceRequestParams::new(codemode::mcp::context::CURRENT_CONTEXT_URI);
    let read = client.read_resource(request).await.expect("resources/read");
    let body = match read.contents.first() {
        Some(rmcp::model::ResourceContents::TextResourceContents { text, .. }) => text.clone(),
        other => panic!("a text resource, got {other:?}"),
    };
    assert!(
        !body.contains("jane@example.com"),
        "clear-text email: {body}"
    );
    let value: Value = serde_json::from_str(&body).expect("the resource is JSON");
    assert_eq!(
        value["context"]["id"]["email"],
        json!("<email_1>"),
        "{value:#}"
    );
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}
