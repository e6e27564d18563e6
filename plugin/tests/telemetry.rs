//! OpenTelemetry export and W3C trace propagation, checked with an OTLP/HTTP receiver inside
//! the test (`telemetry_support`):
//! - an MCP `execute_python_code` with `_meta.traceparent` (real rmcp client, `codemode serve`
//!   on the real io.Connect gateway): the `snippet` span continues the given trace under the
//!   given parent, its `bus_call` spans are its children, the outgoing GW3 invocation carries
//!   the trace to an app on the gateway, and the real CRM app answers all the same;
//! - a real `@interopio/desktop` caller of `CodeMode.ExecutePythonCode` with
//!   `__interopIOTracePropagationInfo`: the snippet continues the caller's trace;
//! - `codemode exec` with the standard `OTEL_*` variables: every span is exported before the
//!   process exits, with the headers and service name asked for, and the code attribute cut
//!   and PII-tokenized; no result reaches a span;
//! - the adapter and the mock bus: the propagation field reaches a served method as a trace
//!   context, never as an argument.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

mod telemetry_support;

use std::{
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use codemode::mock_bus::{MockBus, MockBusConfig};
use codemode_adapters::{
    Bus as _, CallOptions, HandlerError, Identity, InvocationContext, Invoke as _, MethodHandler,
    Serve as _, ServedMethod, Target, TraceContext,
    ioconnect::{IoConnectBus, IoConnectConfig},
};
use codemode_protocol::{gw3::Authentication, trace::TRACE_PROPAGATION_KEY};
use codemode_tests::{RealGateway, probe_url, shared_gateway, shared_gateway_lock};
use rmcp::{
    ServiceExt as _,
    model::{CallToolRequestParams, RequestMetaObject},
    transport::{ConfigureCommandExt as _, TokioChildProcess},
};
use serde_json::{Map, Value, json};
use telemetry_support::{OtlpReceiver, ReceivedSpan};

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

/// The method the test app serves; snippets call it as `trace_probe.record()`.
const PROBE_METHOD: &str = "TraceProbe.Record";

/// OTLP span kinds.
const KIND_CLIENT: i32 = 3;

/// What a served method saw: its arguments and the caller's trace context.
type Seen = Arc<Mutex<Vec<(Map<String, Value>, Option<TraceContext>)>>>;

/// A served method that records what each invocation brought.
struct TraceRecorder(Seen);

#[async_trait]
impl MethodHandler for TraceRecorder {
    async fn handle(
        &self,
        arguments: Map<String, Value>,
        caller: Option<Identity>,
    ) -> Result<Value, HandlerError> {
        self.handle_invocation(arguments, caller, InvocationContext::default())
            .await
    }

    async fn handle_invocation(
        &self,
        arguments: Map<String, Value>,
        _caller: Option<Identity>,
        invocation: InvocationContext,
    ) -> Result<Value, HandlerError> {
        self.0
            .lock()
            .expect("seen")
            .push((arguments, invocation.trace));
        Ok(json!({"recorded": true}))
    }
}

/// An app on `config`'s bus serving [`PROBE_METHOD`]; returns what it sees.
async fn serve_probe(config: IoConnectConfig) -> (IoConnectBus, Seen) {
    let bus = IoConnectBus::connect(config)
        .await
        .expect("the test app connects");
    let seen = Seen::default();
    bus.serve(
        ServedMethod {
            name: PROBE_METHOD.to_owned(),
            description: Some("Records the trace context of each call.".to_owned()),
            input_signature: Some(String::new()),
            result_signature: Some("Bool recorded".to_owned()),
            ..ServedMethod::default()
        },
        Arc::new(TraceRecorder(Arc::clone(&seen))),
    )
    .await
    .expect("the test app serves its method");
    (bus, seen)
}

/// A random valid trace id and span id.
fn new_ids() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (trace_id, span_id)
}

fn spans_named<'a>(spans: &'a [ReceivedSpan], name: &str) -> Vec<&'a ReceivedSpan> {
    spans.iter().filter(|span| span.name == name).collect()
}

/// The `snippet` span of trace `trace_id` and its `bus_call` children, once all arrived.
async fn snippet_tree(
    receiver: &OtlpReceiver,
    trace_id: &str,
    calls: usize,
) -> (ReceivedSpan, Vec<ReceivedSpan>) {
    let spans = receiver
        .wait_for(
            &format!("a snippet span with {calls} bus calls in trace {trace_id}"),
            |spans| {
                spans
                    .iter()
                    .filter(|span| span.trace_id == trace_id)
                    .filter(|span| span.name == "bus_call")
                    .count()
                    >= calls
                    && spans
                        .iter()
                        .any(|span| span.trace_id == trace_id && span.name == "snippet")
            },
        )
        .await;
    let in_trace: Vec<ReceivedSpan> = spans
        .into_iter()
        .filter(|span| span.trace_id == trace_id)
        .collect();
    let snippet = spans_named(&in_trace, "snippet")
        .first()
        .map(|span| (*span).clone())
        .expect("the snippet span");
    let calls = spans_named(&in_trace, "bus_call")
        .into_iter()
        .cloned()
        .collect();
    (snippet, calls)
}

/// Every attribute value of every span, for "this never leaves the device" checks.
fn all_attribute_text(spans: &[ReceivedSpan]) -> String {
    spans
        .iter()
        .flat_map(|span| span.attributes.values())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_child_calls(snippet: &ReceivedSpan, calls: &[ReceivedSpan], methods: &[&str]) {
    for call in calls {
        assert_eq!(call.parent_span_id, snippet.span_id, "{call:#?}");
        assert_eq!(call.kind, KIND_CLIENT, "{call:#?}");
        assert_eq!(call.text("rpc.system"), Some("ioconnect"), "{call:#?}");
    }
    let mut called: Vec<&str> = calls
        .iter()
        .filter_map(|call| call.text("rpc.method"))
        .collect();
    called.sort_unstable();
    let mut expected = methods.to_vec();
    expected.sort_unstable();
    assert_eq!(called, expected, "{calls:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_traceparent_is_continued_by_the_snippet_and_carried_to_the_app_it_calls() {
    let _exclusive = shared_gateway_lock().await;
    let gateway = shared_gateway();
    let receiver = OtlpReceiver::start().await;
    let (probe_app, seen) = serve_probe(gateway.adapter_config()).await;
    let (trace_id, parent_id) = new_ids();

    let (transport, _stderr) =
        TokioChildProcess::builder(tokio::process::Command::new(BINARY).configure(|command| {
            command
                .args(["serve", "--mcp", "stdio", "--bus", &gateway.url])
                .args(["--user", &gateway.user, "--secret", &gateway.secret])
                .args(["--otlp-endpoint", &receiver.base_url])
                .env("OTEL_BSP_SCHEDULE_DELAY", "100")
                .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
                .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        }))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("codemode serve starts");
    let client = ().serve(transport).await.expect("MCP handshake");
    let mut request = CallToolRequestParams::new("execute_python_code").with_arguments(
        json!({"code": "found = crm.get_clients(name_contains='Amelia Reid')\n\
                        trace_probe.record()\n\
                        result = found['clients'][0]['adviser']"})
        .as_object()
        .cloned()
        .expect("arguments"),
    );
    let mut meta = RequestMetaObject::new();
    meta.set_traceparent(format!("00-{trace_id}-{parent_id}-01"));
    meta.set_tracestate("vendor=opaque");
    request.meta = Some(meta);
    let answer = client.call_tool(request).await.expect("tools/call");
    assert_ne!(answer.is_error, Some(true), "{answer:#?}");
    assert_eq!(
        answer
            .structured_content
            .as_ref()
            .map(|outcome| &outcome["result"]),
        Some(&json!("M Carter")),
        "the real CRM app answered a call that carried the trace: {answer:#?}"
    );

    let (snippet, calls) = snippet_tree(&receiver, &trace_id, 2).await;
    assert_eq!(snippet.parent_span_id, parent_id, "{snippet:#?}");
    assert_eq!(snippet.text("gen_ai.operation.name"), Some("execute_tool"));
    assert_eq!(
        snippet.text("gen_ai.tool.name"),
        Some("execute_python_code")
    );
    assert!(
        snippet
            .text("codemode.code")
            .is_some_and(|code| code.contains("trace_probe.record()")),
        "{snippet:#?}"
    );
    assert_eq!(
        snippet.resource.get("service.name"),
        Some(&json!("codemode"))
    );
    assert_child_calls(&snippet, &calls, &["CRM.GetClients", PROBE_METHOD]);
    assert!(
        !all_attribute_text(&receiver.spans()).contains("M Carter"),
        "a result reached a span"
    );

    // The app on the gateway got the trace as context (the bus_call span as parent), not as
    // an argument.
    let probe_call = calls
        .iter()
        .find(|call| call.text("rpc.method") == Some(PROBE_METHOD))
        .expect("the probe's bus_call");
    let seen = seen.lock().expect("seen").clone();
    let (arguments, trace) = seen.last().expect("the probe was called");
    assert!(
        !arguments.contains_key(TRACE_PROPAGATION_KEY),
        "{arguments:?}"
    );
    let trace = trace
        .as_ref()
        .expect("the invocation carried a trace context");
    assert_eq!(trace.trace_id(), trace_id);
    assert_eq!(trace.parent_id(), probe_call.span_id);
    assert_eq!(trace.tracestate(), Some("vendor=opaque"));

    client.cancel().await.expect("the client closes");
    probe_app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_connect_callers_propagation_info_is_continued_by_the_snippet_it_runs() {
    let gateway = RealGateway::start(&codemode_tests::GatewayOptions::default());
    let receiver = OtlpReceiver::start().await;
    let (probe_app, seen) = serve_probe(gateway.adapter_config()).await;
    let mut serve = Command::new(BINARY)
        .args(["serve", "--mcp", "none", "--bus", &gateway.url])
        .args(["--user", &gateway.user, "--secret", &gateway.secret])
        .env("CODEMODE_OTLP_ENDPOINT", &receiver.base_url)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("codemode serve starts");
    let (trace_id, parent_id) = new_ids();

    // A real @interopio/desktop client, as an io.Insights-traced app sends it.
    let arguments = json!({
        "code": "trace_probe.record()\nresult = 'traced'",
        TRACE_PROPAGATION_KEY: {"traceparent": format!("00-{trace_id}-{parent_id}-01")},
    });
    let (url, user) = (gateway.url.clone(), gateway.user.clone());
    let answer = tokio::task::spawn_blocking(move || {
        probe_url(
            &url,
            &user,
            &[
                "--wait-ms",
                "20000",
                "invoke",
                "CodeMode.ExecutePythonCode",
                &arguments.to_string(),
            ],
        )
    })
    .await
    .expect("the probe ran");
    assert_eq!(answer["ok"], json!(true), "{answer:#}");
    assert_eq!(answer["returned"]["result"], json!("traced"), "{answer:#}");

    let (snippet, calls) = snippet_tree(&receiver, &trace_id, 1).await;
    assert_eq!(snippet.parent_span_id, parent_id, "{snippet:#?}");
    assert_child_calls(&snippet, &calls, &[PROBE_METHOD]);
    let seen = seen.lock().expect("seen").clone();
    let trace = seen
        .last()
        .and_then(|(_, trace)| trace.clone())
        .expect("the probe got a trace context");
    assert_eq!(trace.trace_id(), trace_id);
    assert_eq!(trace.parent_id(), calls[0].span_id);

    let _ = serve.kill();
    let _ = serve.wait();
    probe_app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codemode_exec_exports_every_span_before_it_exits_as_the_otel_variables_say() {
    let receiver = OtlpReceiver::start().await;
    let dir = std::env::temp_dir().join(format!("codemode-otel-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let snippet = dir.join("snippet.py");
    let long_comment = format!("# {}\n", "x".repeat(2_000));
    std::fs::write(
        &snippet,
        format!(
            "contact = 'amelia.reid@example.com'\n{long_comment}\
             result = crm.get_clients(name_contains='Amelia Reid')['clients'][0]['adviser']\n"
        ),
    )
    .expect("write the snippet");
    let config = dir.join("codemode.toml");
    std::fs::write(&config, "[policy.pii]\npatterns = [\"email\"]\n").expect("write the config");

    // The default batch delay is 5 s: only the flush at exit gets the spans out in time.
    let output = Command::new(BINARY)
        .arg("exec")
        .arg(&snippet)
        .args(["--mock-bus", "--config"])
        .arg(&config)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.base_url)
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-token=t0ken")
        .env("OTEL_SERVICE_NAME", "codemode-under-test")
        .env_remove("CODEMODE_OTLP_ENDPOINT")
        .env_remove("OTEL_BSP_SCHEDULE_DELAY")
        .stdin(Stdio::null())
        .output()
        .expect("codemode exec runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("M Carter"));

    let spans = receiver.spans();
    let Some(snippet) = spans_named(&spans, "snippet")
        .first()
        .map(|span| (*span).clone())
    else {
        panic!("no snippet span when exec exited: {spans:#?}");
    };
    assert!(
        snippet.parent_span_id.is_empty(),
        "a new trace: {snippet:#?}"
    );
    let calls: Vec<ReceivedSpan> = spans_named(&spans, "bus_call")
        .into_iter()
        .cloned()
        .collect();
    assert_child_calls(&snippet, &calls, &["CRM.GetClients"]);
    assert_eq!(calls[0].text("rpc.service"), Some("crm"));
    assert_eq!(calls[0].text("codemode.function"), Some("crm.get_clients"));
    assert_eq!(
        snippet.resource.get("service.name"),
        Some(&json!("codemode-under-test"))
    );
    assert_eq!(
        snippet.headers.get("x-collector-token").map(String::as_str),
        Some("t0ken")
    );

    let code = snippet.text("codemode.code").expect("the code attribute");
    assert!(
        code.len() <= codemode::telemetry::MAX_CODE_BYTES,
        "{}",
        code.len()
    );
    assert_eq!(
        snippet.attributes.get("codemode.code.truncated"),
        Some(&json!(true))
    );
    assert!(code.starts_with("contact = '<email_1>'"), "{code}");
    let everything = all_attribute_text(&spans);
    assert!(
        !everything.contains("amelia.reid@example.com"),
        "PII reached a span"
    );
    assert!(!everything.contains("M Carter"), "a result reached a span");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_propagation_field_reaches_a_served_method_as_context_never_as_an_argument() {
    let bus = MockBus::start(MockBusConfig::default())
        .await
        .expect("mock bus starts");
    let config = |application: &str| {
        let mut config =
            IoConnectConfig::new(bus.url(), Authentication::secret("tester", "secret"));
        config.application = application.to_owned();
        config
    };
    let (server, seen) = serve_probe(config("TraceProbe")).await;
    let caller = IoConnectBus::connect(config("Caller"))
        .await
        .expect("caller connects");
    let context = TraceContext::new(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        Some("k=v"),
    )
    .expect("valid");
    let traced = CallOptions {
        trace: Some(context.clone()),
        wait_for_method: Duration::from_secs(5),
        ..CallOptions::default()
    };

    let mut arguments = Map::new();
    arguments.insert("text".into(), json!("hi"));
    caller
        .invoke_one(
            PROBE_METHOD,
            arguments.clone(),
            &Target::Best,
            traced.clone(),
        )
        .await
        .expect("the probe answers");
    let seen_now = seen.lock().expect("seen").clone();
    assert_eq!(seen_now.last(), Some(&(arguments.clone(), Some(context))));

    // The mock bus's own apps drop it as `@interopio/core` apps do: Echo answers only what it
    // was given.
    let echoed = caller
        .invoke_one("Diagnostics.Echo", arguments.clone(), &Target::Best, traced)
        .await
        .expect("echo answers");
    assert_eq!(echoed, Value::Object(arguments));

    caller.close().await;
    server.close().await;
    bus.shutdown().await;
}
