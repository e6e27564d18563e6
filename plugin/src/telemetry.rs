//! OpenTelemetry traces: the `snippet` and `bus_call` spans exported over OTLP/HTTP, and the W3C
//! trace context that ties them to the caller's trace and to the apps a snippet calls.
//!
//! Export is off unless `--otlp-endpoint` (`CODEMODE_OTLP_ENDPOINT`),
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set
//! (`OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off again). The
//! `OTEL_EXPORTER_OTLP_*` headers, timeout and the `OTEL_SERVICE_NAME`/`OTEL_RESOURCE_ATTRIBUTES`
//! variables work as the OpenTelemetry specification says; the service name defaults to
//! `codemode`. Spans are batched on the SDK's own thread and posted with the process's reqwest
//! client on its tokio runtime; [`Telemetry::shutdown`] flushes what is left.
//!
//! Only spans of this crate go out (never log events), and their attributes are bounded and
//! free of bus data: no arguments, results or printed text; the snippet's code is cut to
//! [`MAX_CODE_BYTES`] and goes through the session's PII tokenizer first. `docs/telemetry.md`
//! lists every attribute.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use async_trait::async_trait;
use codemode_adapters::TraceContext;
use opentelemetry::{
    propagation::TextMapPropagator as _,
    trace::{TraceContextExt as _, TracerProvider as _},
};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{Layer as _, filter::filter_fn};

use crate::{
    Error,
    control::{RunControl, pii},
    logging::BoxedLayer,
    sandbox::Outcome,
};

/// The longest snippet code put on a `snippet` span, in bytes (cut at a character boundary).
pub const MAX_CODE_BYTES: usize = 1024;

/// The longest `error.type` of a `snippet` span (a Python exception type, which a snippet can
/// name itself).
const MAX_ERROR_TYPE_BYTES: usize = 64;

/// The service name when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` names one.
pub const DEFAULT_SERVICE_NAME: &str = "codemode";

/// The OTLP/HTTP path of traces under a collector's base URL.
const TRACES_PATH: &str = "/v1/traces";

/// How long one export may take (`OTEL_EXPORTER_OTLP_TIMEOUT`'s default).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether spans are exported in this process (set once by [`Telemetry::start`]): the code
/// attribute and outgoing contexts are only worked out when they go somewhere.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// What the command line says about telemetry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelemetryOptions {
    /// `--otlp-endpoint`: the collector's OTLP/HTTP base URL (`/v1/traces` is appended unless
    /// the URL already ends with it).
    pub otlp_endpoint: Option<String>,
}

/// Where spans go, once the options and the environment are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportTarget {
    /// This traces URL (from `--otlp-endpoint`).
    Url(String),
    /// Where `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` say (the
    /// exporter reads them as the specification says).
    Environment,
}

impl TelemetryOptions {
    /// Where spans go, or `None` when export is off; `variable` reads the environment.
    pub fn export_target(&self, variable: impl Fn(&str) -> Option<String>) -> Option<ExportTarget> {
        let set = |name: &str| variable(name).filter(|value| !value.trim().is_empty());
        if set("OTEL_SDK_DISABLED").is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
            || set("OTEL_TRACES_EXPORTER").is_some_and(|value| value.trim() == "none")
        {
            return None;
        }
        if let Some(endpoint) = self
            .otlp_endpoint
            .as_deref()
            .map(str::trim)
            .filter(|endpoint| !endpoint.is_empty())
        {
            return Some(ExportTarget::Url(traces_url(endpoint)));
        }
        (set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
            || set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some())
        .then_some(ExportTarget::Environment)
    }
}

/// `base` + `/v1/traces`, unless `base` already ends with it.
fn traces_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with(TRACES_PATH) {
        base.to_owned()
    } else {
        format!("{base}{TRACES_PATH}")
    }
}

/// A running trace exporter; [`Self::shutdown`] flushes it.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Starts exporting when `options` or the environment ask for it: the exporter and the
    /// tracing layer that turns this crate's spans into OpenTelemetry spans. Exports run on `runtime`, which must outlive
    /// [`Self::shutdown`].
    pub fn start(
        options: &TelemetryOptions,
        runtime: tokio::runtime::Handle,
    ) -> Result<Option<(Self, BoxedLayer)>, Error> {
        let Some(target) = options.export_target(|name| std::env::var(name).ok()) else {
            return Ok(None);
        };
        // reqwest takes the process's rustls provider (the build has only `ring`).
        codemode_adapters::tls::install_default_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|error| Error::Telemetry {
                reason: format!("building the HTTP client: {error}"),
            })?;
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(RuntimeClient { client, runtime })
            .with_protocol(Protocol::HttpBinary);
        if let ExportTarget::Url(url) = &target {
            builder = builder.with_endpoint(url.clone());
        }
        let exporter = builder.build().map_err(|error| Error::Telemetry {
            reason: format!("the OTLP endpoint: {error}"),
        })?;
        let provider = SdkTracerProvider::builder()
            .with_resource(resource())
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer("codemode");
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(filter_fn(|metadata| {
                metadata.is_span()
                    && (metadata.target() == "codemode"
                        || metadata.target().starts_with("codemode::"))
            }))
            .boxed();
        EXPORTING.store(true, Ordering::Relaxed);
        Ok(Some((Self { provider }, layer)))
    }

    /// Exports the spans still queued and stops the exporter. Blocks until done (at most the
    /// export timeout): call it outside the async runtime, which must still be running.
    pub fn shutdown(self) {
        EXPORTING.store(false, Ordering::Relaxed);
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(%error, "flushing the OpenTelemetry spans failed");
        }
    }
}

/// The SDK's resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, SDK attributes), named
/// [`DEFAULT_SERVICE_NAME`] when the environment names no service.
fn resource() -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let builder = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
        "service.version",
        env!("CARGO_PKG_VERSION"),
    ));
    if named {
        builder.build()
    } else {
        builder.with_service_name(DEFAULT_SERVICE_NAME).build()
    }
}

/// The process's reqwest client, driven on its tokio runtime: the SDK exports from a thread
/// of its own, where reqwest's futures have no reactor.
#[derive(Debug)]
struct RuntimeClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.send_bytes(request).await })
            .await?
    }
}

/// The `snippet` span of one run, continuing `parent` (the caller's trace) when given.
pub(crate) fn snippet_span(
    code: &str,
    catalogue_version: u64,
    control: &RunControl,
    parent: Option<&TraceContext>,
) -> Span {
    let span = tracing::info_span!(
        "snippet",
        "codemode.code.bytes" = code.len(),
        "codemode.catalogue.version" = catalogue_version,
        "codemode.calls" = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
    );
    if !EXPORTING.load(Ordering::Relaxed) {
        return span;
    }
    if let Some(parent) = parent {
        continue_trace(&span, parent);
    }
    // OpenTelemetry-only attributes: log lines stay as short as before.
    span.set_attribute("gen_ai.operation.name", "execute_tool");
    span.set_attribute("gen_ai.tool.name", "execute_python_code");
    let pii_config = &control.policy().config.pii;
    let code = if pii::active(pii_config) {
        control.pii().tokenize_text(pii_config, code)
    } else {
        code.to_owned()
    };
    let (code, truncated) = truncate(&code, MAX_CODE_BYTES);
    span.set_attribute("codemode.code", code.to_owned());
    if truncated {
        span.set_attribute("codemode.code.truncated", true);
    }
    span
}

/// Records how the run ended on its `snippet` span (no result, printed text or message).
pub(crate) fn record_outcome(span: &Span, outcome: &Outcome) {
    span.record("codemode.calls", outcome.calls.len());
    if let Some(error) = &outcome.error {
        span.record("error.type", truncate(&error.kind, MAX_ERROR_TYPE_BYTES).0);
        span.record("otel.status_code", "ERROR");
    }
}

/// What a `bus_call` span says about one call of a snippet (sizes, never values).
#[derive(Debug)]
pub(crate) struct BusCall<'a> {
    /// The bus dialect ([`codemode_adapters::Bus::dialect`]): `rpc.system`.
    pub(crate) system: &'static str,
    /// The Python function, e.g. `crm.get_clients`.
    pub(crate) function: &'a str,
    /// The wire method or intent: `rpc.method`.
    pub(crate) wire: &'a str,
    /// [`call_kind`].
    pub(crate) kind: &'static str,
    /// The snippet's `target=`, of which only the kind is recorded.
    pub(crate) target: Option<&'a serde_json::Value>,
    /// Size of the JSON arguments.
    pub(crate) argument_bytes: usize,
}

/// The `bus_call` span of one call, a child of `run_span` (the run's `snippet` span) when
/// given, else of the current span.
pub(crate) fn bus_call_span(run_span: Option<&Span>, call: &BusCall<'_>) -> Span {
    let parent = run_span.and_then(Span::id).or_else(|| Span::current().id());
    let service = call
        .function
        .rsplit_once('.')
        .map_or(call.function, |(namespace, _)| namespace);
    let target = match call.target {
        None | Some(serde_json::Value::Null) => "best",
        Some(serde_json::Value::String(text)) if text == "best" || text == "all" => text.as_str(),
        Some(_) => "filter",
    };
    tracing::info_span!(
        parent: parent,
        "bus_call",
        "otel.kind" = "client",
        "rpc.system" = call.system,
        "rpc.service" = service,
        "rpc.method" = call.wire,
        "codemode.function" = call.function,
        "codemode.call.kind" = call.kind,
        "codemode.target" = target,
        "codemode.argument_bytes" = call.argument_bytes,
        "codemode.result_bytes" = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
    )
}

/// Records how a call ended on its `bus_call` span: the result's size, or the error's kind.
pub(crate) fn record_call(
    span: &Span,
    outcome: &Result<serde_json::Value, crate::sandbox::HostCallError>,
    result_bytes: usize,
) {
    match outcome {
        Ok(_) => {
            span.record("codemode.result_bytes", result_bytes);
        }
        Err(error) => {
            span.record("error.type", error.kind.as_str());
            span.record("otel.status_code", "ERROR");
        }
    }
}

/// The kind of a call (`method`, `intent`, `raise_intent`, `find_intents`, `context`).
pub(crate) fn call_kind(call: &crate::catalogue::CallKind) -> &'static str {
    use crate::catalogue::CallKind;
    match call {
        CallKind::Method { .. } => "method",
        CallKind::Intent { .. } => "intent",
        CallKind::RaiseIntent => "raise_intent",
        CallKind::FindIntents => "find_intents",
        CallKind::Context { .. } => "context",
    }
}

/// Makes `span` a child of the caller's span in `parent`'s trace. Only before `span` is first
/// entered.
fn continue_trace(span: &Span, parent: &TraceContext) {
    let mut carrier = HashMap::new();
    carrier.insert("traceparent".to_owned(), parent.traceparent().to_owned());
    if let Some(state) = parent.tracestate() {
        carrier.insert("tracestate".to_owned(), state.to_owned());
    }
    let context = TraceContextPropagator::new().extract(&carrier);
    if let Err(error) = span.set_parent(context) {
        tracing::debug!(%error, "the span could not continue the caller's trace");
    }
}

/// The trace context to send with a call made inside `span`: `span`'s own when spans are
/// exported, else `passed_on` (the caller's, forwarded unchanged).
pub(crate) fn outgoing_context(
    span: &Span,
    passed_on: Option<&TraceContext>,
) -> Option<TraceContext> {
    if !EXPORTING.load(Ordering::Relaxed) {
        return passed_on.cloned();
    }
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return passed_on.cloned();
    }
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    TraceContext::new(
        carrier.get("traceparent")?,
        carrier.get("tracestate").map(String::as_str),
    )
}

/// `text` cut to at most `max` bytes at a character boundary, and whether it was cut.
pub(crate) fn truncate(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn export_is_off_unless_an_endpoint_is_configured() {
        let none = TelemetryOptions::default();
        assert_eq!(none.export_target(environment(&[])), None);
        assert_eq!(
            none.export_target(environment(&[("OTEL_SERVICE_NAME", "x")])),
            None
        );
        assert_eq!(
            none.export_target(environment(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])),
            None
        );
    }

    #[test]
    fn the_standard_variables_turn_export_on() {
        let none = TelemetryOptions::default();
        for variable in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ] {
            assert_eq!(
                none.export_target(environment(&[(variable, "http://collector:4318")])),
                Some(ExportTarget::Environment),
                "{variable}"
            );
        }
    }

    #[test]
    fn the_flag_is_a_base_url_like_otel_exporter_otlp_endpoint() {
        let flag = |url: &str| TelemetryOptions {
            otlp_endpoint: Some(url.to_owned()),
        };
        assert_eq!(
            flag("http://localhost:4318").export_target(environment(&[])),
            Some(ExportTarget::Url("http://localhost:4318/v1/traces".into()))
        );
        assert_eq!(
            flag("http://localhost:4318/").export_target(environment(&[])),
            Some(ExportTarget::Url("http://localhost:4318/v1/traces".into()))
        );
        assert_eq!(
            flag("http://collector/otlp/v1/traces").export_target(environment(&[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://elsewhere"
            )])),
            Some(ExportTarget::Url("http://collector/otlp/v1/traces".into()))
        );
    }

    #[test]
    fn the_sdk_switches_turn_export_off_even_with_an_endpoint() {
        let flag = TelemetryOptions {
            otlp_endpoint: Some("http://localhost:4318".into()),
        };
        assert_eq!(
            flag.export_target(environment(&[("OTEL_SDK_DISABLED", "TRUE")])),
            None
        );
        assert_eq!(
            flag.export_target(environment(&[("OTEL_TRACES_EXPORTER", "none")])),
            None
        );
        assert!(
            flag.export_target(environment(&[("OTEL_SDK_DISABLED", "false")]))
                .is_some()
        );
    }

    #[test]
    fn code_is_cut_at_a_character_boundary() {
        assert_eq!(truncate("abc", 3), ("abc", false));
        assert_eq!(truncate("abcd", 3), ("abc", true));
        // "é" is two bytes: a cut inside it backs off to before it.
        assert_eq!(truncate("aé", 2), ("a", true));
    }
}
