//! The MCP server beyond the three tool calls, as raw JSON-RPC against the `codemode` binary on
//! stdio (what Claude Desktop and VS Code start): titles, annotations and `outputSchema`;
//! `structuredContent`; `logging/setLevel` and snippet log lines as `notifications/message`;
//! resources; prompts; completions; `-32700` for a line that is not JSON. And in process:
//! `notifications/resources/list_changed` when an app leaves and its namespace goes.
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

pub mod mcp_support;

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use codemode::mcp::McpServer;
use mcp_support::Fixture;
use rmcp::{ClientHandler, RoleClient, ServiceExt as _, service::NotificationContext};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// A child `codemode serve --mock-bus --mcp stdio` spoken to line by line.
struct Wire {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stderr: Arc<Mutex<String>>,
}

impl Wire {
    async fn start() -> Self {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--mock-bus", "--mcp", "stdio"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("codemode serve starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = sink.lock().expect("stderr lock");
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut wire = Self {
            stdin: child.stdin.take().expect("stdin"),
            stdout: BufReader::new(child.stdout.take().expect("stdout")).lines(),
            child,
            stderr,
        };
        wire.send_raw(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"}}})
            .to_string(),
        )
        .await;
        wire.until(&json!(0)).await;
        wire.send_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        wire
    }

    async fn send_raw(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write a line");
    }

    /// Sends a request and returns every frame up to and including its response.
    async fn request(&mut self, id: u64, method: &str, params: Value) -> Vec<Value> {
        let frame = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(&frame.to_string()).await;
        self.until(&json!(id)).await
    }

    async fn until(&mut self, id: &Value) -> Vec<Value> {
        let mut frames = Vec::new();
        let read = async {
            while let Some(line) = self.stdout.next_line().await.expect("read stdout") {
                let frame: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|error| panic!("stdout line is not JSON ({error}): {line}"));
                let done = frame.get("id") == Some(id) && frame.get("method").is_none();
                frames.push(frame);
                if done {
                    return;
                }
            }
            panic!("stdout closed before response {id}");
        };
        tokio::time::timeout(Duration::from_mins(1), read)
            .await
            .unwrap_or_else(|_| panic!("no response {id} within a minute: {frames:?}"));
        frames
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }
}

fn result(frames: &[Value]) -> &Value {
    &frames.last().expect("a response")["result"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_server_offers_titles_structured_output_logging_resources_prompts_and_completions() {
    let mut wire = Wire::start().await;

    // A line that is not JSON: -32700 with id null, a log line, and the session goes on.
    wire.send_raw("this is { not json").await;
    let frames = wire.until(&Value::Null).await;
    let error = &frames.last().expect("the parse error")["error"];
    assert_eq!(error["code"], -32700, "{frames:?}");
    let ping = wire.request(1, "ping", json!({})).await;
    assert_eq!(result(&ping), &json!({}), "still serving after a bad line");
    assert!(
        wire.stderr().contains("not JSON; replied -32700"),
        "the bad line is logged: {}",
        wire.stderr()
    );

    // Titles, annotations, and the output schema of execute_python_code.
    let tools = wire.request(2, "tools/list", json!({})).await;
    let tools = result(&tools)["tools"].as_array().expect("tools").clone();
    assert_eq!(tools.len(), 3);
    for tool in &tools {
        assert!(tool["title"].is_string(), "{tool}");
        assert!(tool["annotations"]["readOnlyHint"].is_boolean(), "{tool}");
    }
    let execute = tools
        .iter()
        .find(|tool| tool["name"] == "execute_python_code")
        .expect("execute_python_code");
    assert_eq!(execute["annotations"]["readOnlyHint"], false);
    assert_eq!(execute["annotations"]["destructiveHint"], true);
    assert_eq!(execute["outputSchema"]["type"], "object", "{execute}");
    for field in ["ok", "result", "printed", "calls", "error"] {
        assert!(
            execute["outputSchema"]["properties"][field].is_object(),
            "outputSchema has {field}: {execute}"
        );
    }
    let list = tools
        .iter()
        .find(|tool| tool["name"] == "list_python_definitions")
        .expect("list_python_definitions");
    assert_eq!(list["annotations"]["readOnlyHint"], true);
    assert!(
        list.get("outputSchema").is_none(),
        "text-only tools keep no schema"
    );

    // Logging: nothing before setLevel; after it, bus calls, printed lines and the failure.
    let snippet = "print('first line')\nprint('second line')\n\
                   c = crm.get_client(client_id='c-001')\nresult = c['client']['name']";
    let quiet = wire
        .request(
            3,
            "tools/call",
            json!({"name": "execute_python_code", "arguments": {"code": snippet}}),
        )
        .await;
    assert_eq!(
        quiet.len(),
        1,
        "no notifications before logging/setLevel: {quiet:?}"
    );
    let set = wire
        .request(4, "logging/setLevel", json!({"level": "debug"}))
        .await;
    assert_eq!(result(&set), &json!({}));
    let frames = wire
        .request(
            5,
            "tools/call",
            json!({"name": "execute_python_code", "arguments": {"code": snippet}}),
        )
        .await;
    let (answer, logs) = frames.split_last().expect("answer");
    let messages: Vec<&Value> = logs
        .iter()
        .filter(|frame| frame["method"] == "notifications/message")
        .collect();
    assert_eq!(
        messages.len(),
        3,
        "one bus call and two printed lines: {logs:?}"
    );
    assert_eq!(messages[0]["params"]["level"], "debug");
    assert_eq!(messages[0]["params"]["logger"], "codemode.bus");
    assert_eq!(messages[0]["params"]["data"]["function"], "crm.get_client");
    assert_eq!(messages[1]["params"]["level"], "info");
    assert_eq!(messages[1]["params"]["data"], "first line");
    assert_eq!(messages[2]["params"]["data"], "second line");

    // structuredContent next to the text.
    let structured = &answer["result"]["structuredContent"];
    assert_eq!(structured["ok"], true, "{answer}");
    assert_eq!(structured["result"], "Amelia Reid", "{answer}");
    assert_eq!(
        structured["printed"], "first line\nsecond line\n",
        "{answer}"
    );
    assert_eq!(
        structured["calls"][0]["function"], "crm.get_client",
        "{answer}"
    );
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .expect("text");
    assert!(text.starts_with("result: Amelia Reid"), "{text}");

    // A failure: error level line, and the error in structuredContent.
    let set = wire
        .request(6, "logging/setLevel", json!({"level": "error"}))
        .await;
    assert_eq!(result(&set), &json!({}));
    let frames = wire
        .request(
            7,
            "tools/call",
            json!({"name": "execute_python_code",
            "arguments": {"code": "print('ignored at error level')\nx = {}['missing']"}}),
        )
        .await;
    let (answer, logs) = frames.split_last().expect("answer");
    assert_eq!(logs.len(), 1, "only the error passes the level: {logs:?}");
    assert_eq!(logs[0]["params"]["level"], "error");
    assert_eq!(logs[0]["params"]["data"]["type"], "KeyError");
    assert_eq!(answer["result"]["isError"], true);
    assert_eq!(
        answer["result"]["structuredContent"]["error"]["type"],
        "KeyError"
    );
    assert_eq!(answer["result"]["structuredContent"]["error"]["line"], 2);

    // Resources: the module and one stub file per namespace.
    let listed = wire.request(8, "resources/list", json!({})).await;
    let uris: Vec<&str> = result(&listed)["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|resource| resource["uri"].as_str())
        .collect();
    assert_eq!(uris[0], "codemode://python/module.py", "{uris:?}");
    assert!(uris.contains(&"codemode://python/crm.pyi"), "{uris:?}");
    let module = wire
        .request(
            9,
            "resources/read",
            json!({"uri": "codemode://python/module.py"}),
        )
        .await;
    let module = result(&module)["contents"][0]["text"]
        .as_str()
        .expect("module text");
    assert!(module.contains("class crm"), "the module has the crm class");
    let crm = wire
        .request(
            10,
            "resources/read",
            json!({"uri": "codemode://python/crm.pyi"}),
        )
        .await;
    let crm = result(&crm)["contents"][0]["text"]
        .as_str()
        .expect("stub text");
    assert!(crm.contains("def get_clients"), "{crm}");
    let missing = wire
        .request(
            11,
            "resources/read",
            json!({"uri": "codemode://python/nope.pyi"}),
        )
        .await;
    assert_eq!(missing.last().expect("error")["error"]["code"], -32002);

    // Prompts: the four worked examples and the call prompt.
    let prompts = wire.request(12, "prompts/list", json!({})).await;
    let names: Vec<&str> = result(&prompts)["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .filter_map(|prompt| prompt["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "seed_lookup",
            "rank_then_raise",
            "fan_out",
            "error_handling",
            "call"
        ]
    );
    let prompt = wire
        .request(
            13,
            "prompts/get",
            json!({"name": "fan_out", "arguments": {"namespace": "portfolio"}}),
        )
        .await;
    let body = result(&prompt)["messages"][0]["content"]["text"]
        .as_str()
        .expect("text");
    assert!(body.contains("gather("), "{body}");
    assert!(body.contains("namespace=\"portfolio\""), "{body}");

    // Completions: namespaces for the template and prompts, functions for `function`.
    let complete = wire
        .request(
            14,
            "completion/complete",
            json!({
            "ref": {"type": "ref/resource", "uri": "codemode://python/{namespace}.pyi"},
            "argument": {"name": "namespace", "value": "cr"}}),
        )
        .await;
    assert_eq!(result(&complete)["completion"]["values"], json!(["crm"]));
    let complete = wire
        .request(
            15,
            "completion/complete",
            json!({
            "ref": {"type": "ref/prompt", "name": "call"},
            "argument": {"name": "function", "value": "get_clie"}}),
        )
        .await;
    let values = result(&complete)["completion"]["values"].clone();
    assert!(
        values
            .as_array()
            .expect("values")
            .iter()
            .any(|value| value == "crm.get_clients"),
        "{values}"
    );

    drop(wire.stdin);
    let status = tokio::time::timeout(Duration::from_secs(20), wire.child.wait())
        .await
        .expect("exits once stdin closes")
        .expect("exit status");
    assert!(status.success(), "{status}");
}

/// Counts `notifications/resources/list_changed`.
#[derive(Clone, Default)]
struct ListChanged(Arc<Mutex<u32>>);

impl ClientHandler for ListChanged {
    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        *self.0.lock().expect("count lock") += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_leaving_with_its_namespace_sends_resources_list_changed() {
    let fixture = Fixture::start(0).await;
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let server = McpServer::new(Arc::clone(&fixture.service));
    tokio::spawn(async move {
        let running = server.serve(server_end).await.expect("server handshake");
        let _ = running.waiting().await;
    });
    let handler = ListChanged::default();
    let client = handler
        .clone()
        .serve(client_end)
        .await
        .expect("client handshake");
    let before = client.list_all_resources().await.expect("resources/list");
    assert!(
        before
            .iter()
            .any(|resource| resource.uri == "codemode://python/notes.pyi")
    );

    assert!(
        fixture.bus.kill_app("Notes") > 0,
        "the Notes app was running"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while *handler.0.lock().expect("count lock") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no resources/list_changed within 20 s of the Notes app leaving"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = client.list_all_resources().await.expect("resources/list");
    assert!(
        !after
            .iter()
            .any(|resource| resource.uri == "codemode://python/notes.pyi"),
        "the notes namespace is gone: {after:?}"
    );
    client.cancel().await.expect("client stops");
    fixture.stop().await;
}
