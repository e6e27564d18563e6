//! Serving many MCP clients: a cancel request, the end of a session, a dropped HTTP connection
//! and a shutdown each stop the snippet and free its worker at once; HTTP faults get their own
//! status; accepted sockets have TCP_NODELAY; a closed session leaves no task behind.
//! Everything runs on the embedded mock bus.
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

pub mod mcp_support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use codemode::mcp::{McpHttpOptions, McpServer, start_http};
use mcp_support::{ENDLESS_SNIPPET, Fixture};
use rmcp::{
    RoleClient, ServiceExt as _,
    model::{CallToolRequest, CallToolRequestParams, ClientRequest},
    service::{PeerRequestOptions, RunningService},
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

type Client = RunningService<RoleClient, ()>;

async fn pipe_client(fixture: &Fixture) -> Client {
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let server = McpServer::new(Arc::clone(&fixture.service));
    tokio::spawn(async move {
        let running = server.serve(server_end).await.expect("server handshake");
        let _ = running.waiting().await;
    });
    ().serve(client_end).await.expect("client handshake")
}

fn execute(code: &str, timeout_seconds: f64) -> ClientRequest {
    let Value::Object(arguments) = json!({"code": code, "timeout_seconds": timeout_seconds}) else {
        unreachable!("an object literal");
    };
    ClientRequest::CallToolRequest(CallToolRequest::new(
        CallToolRequestParams::new("execute_python_code").with_arguments(arguments),
    ))
}

fn loopback_port_0() -> McpHttpOptions {
    McpHttpOptions {
        listen: "127.0.0.1:0".parse().expect("address"),
        ..McpHttpOptions::default()
    }
}

/// Waits until the pool counted `count` cancelled runs; returns how long that took.
async fn cancelled_within(fixture: &Fixture, count: u64, limit: Duration) -> Duration {
    let started = Instant::now();
    while fixture.service.sandbox().stats().cancelled < count {
        assert!(
            started.elapsed() < limit,
            "the snippet was not cancelled within {limit:?}: {:?}",
            fixture.service.sandbox().stats()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

/// Starts the endless snippet (30 s limit) and waits until it runs.
async fn start_endless(
    fixture: &Fixture,
    client: &Client,
) -> rmcp::service::RequestHandle<RoleClient> {
    let handle = client
        .peer()
        .send_cancellable_request(
            execute(ENDLESS_SNIPPET, 30.0),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("request sent");
    let started = Instant::now();
    while fixture.service.sandbox().load().0 == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the snippet never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_cancelled_stops_the_snippet_and_frees_its_worker() {
    let fixture = Fixture::start(0).await;
    fixture.service.warm_up().await.expect("workers start");
    let client = pipe_client(&fixture).await;
    let handle = start_endless(&fixture, &client).await;
    handle
        .cancel(Some("the user pressed stop".to_owned()))
        .await
        .expect("cancel sent");
    let took = cancelled_within(&fixture, 1, Duration::from_secs(2)).await;
    eprintln!("cancelled in {took:?}");
    assert_eq!(
        fixture.service.sandbox().stats().killed,
        0,
        "stopped without a kill"
    );
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_the_service_down_stops_running_snippets() {
    let fixture = Fixture::start(0).await;
    fixture.service.warm_up().await.expect("workers start");
    let client = pipe_client(&fixture).await;
    let handle = start_endless(&fixture, &client).await;
    fixture.service.shutdown();
    cancelled_within(&fixture, 1, Duration::from_secs(2)).await;
    let answer = tokio::time::timeout(Duration::from_secs(2), handle.await_response())
        .await
        .expect("answered at once")
        .expect("a response");
    assert!(format!("{answer:?}").contains("Cancelled"), "{answer:?}");
    client.cancel().await.expect("client closes");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_http_session_stops_its_running_snippet() {
    let fixture = Fixture::start(0).await;
    fixture.service.warm_up().await.expect("workers start");
    let server = start_http(Arc::clone(&fixture.service), loopback_port_0())
        .await
        .expect("HTTP server starts");
    codemode_adapters::tls::install_default_crypto_provider();
    let client: Client =
        ().serve(StreamableHttpClientTransport::from_uri(server.url()))
            .await
            .expect("client connects");
    let _handle = start_endless(&fixture, &client).await;
    // Closing the client deletes its session (HTTP DELETE).
    client.cancel().await.expect("client closes");
    cancelled_within(&fixture, 1, Duration::from_secs(2)).await;
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_http_sessions_leave_no_catalogue_watcher_behind() {
    let fixture = Fixture::start(0).await;
    let server = start_http(Arc::clone(&fixture.service), loopback_port_0())
        .await
        .expect("HTTP server starts");
    codemode_adapters::tls::install_default_crypto_provider();
    let before = fixture.service.catalogue_watchers();
    let client: Client =
        ().serve(StreamableHttpClientTransport::from_uri(server.url()))
            .await
            .expect("client connects");
    // The session's list_changed watcher is started by `notifications/initialized`.
    let started = Instant::now();
    while fixture.service.catalogue_watchers() == before {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "an open session watches the catalogue"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    client.cancel().await.expect("client closes");
    for _ in 0..10 {
        let client: Client =
            ().serve(StreamableHttpClientTransport::from_uri(server.url()))
                .await
                .expect("client connects");
        client.cancel().await.expect("client closes");
    }
    // Nothing in the catalogue changes, so only the end of each session can stop its watcher.
    let started = Instant::now();
    while fixture.service.catalogue_watchers() > before {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "11 closed sessions still hold {} catalogue watchers",
            fixture.service.catalogue_watchers() - before
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}

/// A raw streamable HTTP session: initialize, initialized; returns the session id.
async fn raw_session(http: &reqwest::Client, url: &str) -> String {
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}});
    let response = post(http, url, None, &initialize.to_string()).await;
    assert_eq!(response.status().as_u16(), 200);
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|value| value.to_str().ok())
        .expect("a session id")
        .to_owned();
    let _ = response.text().await;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = post(http, url, Some(&session), &initialized.to_string()).await;
    assert_eq!(response.status().as_u16(), 202);
    session
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_owned());
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await.expect("the server answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_http_connection_cancels_its_tool_call() {
    let fixture = Fixture::start(0).await;
    fixture.service.warm_up().await.expect("workers start");
    let server = start_http(Arc::clone(&fixture.service), loopback_port_0())
        .await
        .expect("HTTP server starts");
    codemode_adapters::tls::install_default_crypto_provider();
    let http = reqwest::Client::new();
    let session = raw_session(&http, &server.url()).await;
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "execute_python_code",
        "arguments": {"code": ENDLESS_SNIPPET, "timeout_seconds": 30}}});
    let hung_up = tokio::time::timeout(Duration::from_millis(500), async {
        post(&http, &server.url(), Some(&session), &call.to_string())
            .await
            .text()
            .await
    })
    .await;
    assert!(
        hung_up.is_err(),
        "the endless snippet answered: {hung_up:?}"
    );
    // The client gave up 500 ms in; the snippet must not run to its 30 s limit.
    cancelled_within(&fixture, 1, Duration::from_secs(2)).await;
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_faults_get_their_own_status_and_the_session_limit_holds() {
    let fixture = Fixture::start(0).await;
    let options = McpHttpOptions {
        max_sessions: 1,
        ..loopback_port_0()
    };
    let server = start_http(Arc::clone(&fixture.service), options)
        .await
        .expect("HTTP server starts");
    let url = server.url();
    codemode_adapters::tls::install_default_crypto_provider();
    let http = reqwest::Client::new();

    let not_json = post(&http, &url, None, "this is { not json").await;
    assert_eq!(not_json.status().as_u16(), 400);
    let body: Value = not_json.json().await.expect("a JSON-RPC error body");
    assert_eq!(body["error"]["code"], -32700, "{body}");

    let unknown = http
        .delete(&url)
        .header("mcp-session-id", "no-such-session")
        .send()
        .await
        .expect("answers");
    assert_eq!(unknown.status().as_u16(), 404);

    let session = raw_session(&http, &url).await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "second", "version": "0"}}});
    let refused = post(&http, &url, None, &initialize.to_string()).await;
    assert_eq!(
        refused.status().as_u16(),
        503,
        "a second session past the limit"
    );
    let closed = http
        .delete(&url)
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("answers");
    assert!(closed.status().is_success(), "{}", closed.status());
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}

/// Without TCP_NODELAY each answer on a kept-alive connection waits for a delayed ACK
/// (about 40 ms on Linux).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_calls_on_one_connection_do_not_wait_for_delayed_acks() {
    let fixture = Fixture::start(0).await;
    let server = start_http(Arc::clone(&fixture.service), loopback_port_0())
        .await
        .expect("HTTP server starts");
    let url = server.url();
    codemode_adapters::tls::install_default_crypto_provider();
    let http = reqwest::Client::new();
    let session = raw_session(&http, &url).await;
    let mut took = Vec::new();
    for id in 0..15 {
        let list = json!({"jsonrpc": "2.0", "id": 100 + id, "method": "tools/list"});
        let started = Instant::now();
        let text = post(&http, &url, Some(&session), &list.to_string())
            .await
            .text()
            .await
            .expect("an answer");
        took.push(started.elapsed());
        assert!(text.contains("execute_python_code"), "{text}");
    }
    took.sort();
    let median = took[took.len() / 2];
    assert!(
        median < Duration::from_millis(25),
        "median {median:?}: {took:?}"
    );
    server.shutdown().await.expect("server stops");
    fixture.stop().await;
}
