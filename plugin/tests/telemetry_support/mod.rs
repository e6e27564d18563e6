//! An OTLP/HTTP receiver for the telemetry tests: accepts `POST /v1/traces` (protobuf), keeps
//! every span with its resource and the request headers, and answers as a collector does.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header::CONTENT_TYPE},
    response::IntoResponse,
    routing::post,
};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse},
    common::v1::{AnyValue, KeyValue, any_value},
};
use prost::Message as _;
use serde_json::Value;

/// One span as the receiver got it, ids in lowercase hex.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedSpan {
    /// The span name.
    pub(crate) name: String,
    /// 32 hex digits.
    pub(crate) trace_id: String,
    /// 16 hex digits.
    pub(crate) span_id: String,
    /// 16 hex digits, empty for a root span.
    pub(crate) parent_span_id: String,
    /// OTLP `SpanKind` (1 internal, 2 server, 3 client).
    pub(crate) kind: i32,
    /// Its attributes.
    pub(crate) attributes: BTreeMap<String, Value>,
    /// Its resource's attributes.
    pub(crate) resource: BTreeMap<String, Value>,
    /// The headers of the request that carried it.
    pub(crate) headers: BTreeMap<String, String>,
}

impl ReceivedSpan {
    /// A string attribute.
    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }
}

/// What the receiver got so far.
#[derive(Debug, Clone, Default)]
struct Received(Arc<Mutex<Vec<ReceivedSpan>>>);

/// A local OTLP/HTTP receiver; stops with the test's runtime.
pub(crate) struct OtlpReceiver {
    /// `http://127.0.0.1:P` (the base URL: spans are posted to `/v1/traces` under it).
    pub(crate) base_url: String,
    received: Received,
}

impl OtlpReceiver {
    /// Listens on a free port.
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OTLP receiver");
        let address = listener.local_addr().expect("receiver address");
        let received = Received::default();
        let app = Router::new()
            .route("/v1/traces", post(accept))
            .with_state(received.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{address}"),
            received,
        }
    }

    /// Every span received so far.
    pub(crate) fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.0.lock().expect("received spans").clone()
    }

    /// Waits (up to 30 s) until `done` holds for the spans received, and returns them.
    pub(crate) async fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver never got {what}; it got: {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn accept(
    State(received): State<Received>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new()).into_response();
    };
    let headers: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|resource| attributes(&resource.attributes))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                spans.push(ReceivedSpan {
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    kind: span.kind,
                    attributes: attributes(&span.attributes),
                    resource: resource.clone(),
                    headers: headers.clone(),
                });
            }
        }
    }
    received.0.lock().expect("received spans").extend(spans);
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

fn attributes(pairs: &[KeyValue]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|pair| (pair.key.clone(), any_value(pair.value.as_ref())))
        .collect()
}

fn any_value(value: Option<&AnyValue>) -> Value {
    match value.and_then(|value| value.value.as_ref()) {
        Some(any_value::Value::StringValue(text)) => Value::String(text.clone()),
        Some(any_value::Value::BoolValue(flag)) => Value::Bool(*flag),
        Some(any_value::Value::IntValue(number)) => Value::from(*number),
        Some(any_value::Value::DoubleValue(number)) => Value::from(*number),
        Some(other) => Value::String(format!("{other:?}")),
        None => Value::Null,
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}
