//! W3C Trace Context as it crosses a bus or an MCP request: the `traceparent` and `tracestate`
//! pair, validated and bounded, and io.Connect's carrier for it.
//!
//! io.Connect clients (`@interopio/core`) with io.Insights tracing on put
//! `{"traceparent": "00-…", "tracestate": "…"}` under [`TRACE_PROPAGATION_KEY`] in an
//! invocation's `arguments_kv`, and take it out again before the method handler sees the
//! arguments. Codemode does the same in both directions: it reads the caller's context when it
//! serves a method, and writes its own when a snippet calls one.
//!
//! Only the shape is checked here (no clocks, no randomness, no OpenTelemetry): a value that is
//! not a valid `traceparent` is ignored rather than passed on, as the W3C recommendation says.

use serde_json::{Map, Value, json};

/// The key io.Insights tracing adds to `arguments_kv`; never shown to snippets or handlers.
pub const TRACE_PROPAGATION_KEY: &str = "__interopIOTracePropagationInfo";

/// The longest `tracestate` kept (the W3C limit for what a vendor must propagate); a longer one
/// is dropped and the `traceparent` kept.
pub const MAX_TRACESTATE_LEN: usize = 512;

/// The length of a version-00 `traceparent`: `00-<32 hex>-<16 hex>-<2 hex>`.
const TRACEPARENT_LEN: usize = 55;

/// A validated W3C trace context: where a caller's trace continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    traceparent: String,
    tracestate: Option<String>,
}

impl TraceContext {
    /// The context of `traceparent` (and `tracestate`), or `None` when `traceparent` is not a
    /// valid W3C `traceparent`. A `tracestate` that is too long or not printable ASCII is left
    /// out.
    pub fn new(traceparent: &str, tracestate: Option<&str>) -> Option<Self> {
        let traceparent = traceparent.trim();
        if !is_valid_traceparent(traceparent) {
            return None;
        }
        let tracestate = tracestate
            .map(str::trim)
            .filter(|state| {
                !state.is_empty()
                    && state.len() <= MAX_TRACESTATE_LEN
                    && state.bytes().all(|byte| (0x20..=0x7e).contains(&byte))
            })
            .map(ToOwned::to_owned);
        Some(Self {
            // Version 00 is exactly 55 characters; later versions may append fields, which a
            // version-00 reader ignores.
            traceparent: traceparent[..TRACEPARENT_LEN].to_ascii_lowercase(),
            tracestate,
        })
    }

    /// The context in an io.Connect carrier object `{traceparent, tracestate?}`.
    pub fn from_carrier(carrier: &Value) -> Option<Self> {
        let traceparent = carrier.get("traceparent")?.as_str()?;
        Self::new(
            traceparent,
            carrier.get("tracestate").and_then(Value::as_str),
        )
    }

    /// Removes io.Connect's propagation info from a named-arguments object and returns the
    /// context it held, if it was valid.
    pub fn take_from_arguments(arguments: &mut Map<String, Value>) -> Option<Self> {
        arguments
            .remove(TRACE_PROPAGATION_KEY)
            .and_then(|carrier| Self::from_carrier(&carrier))
    }

    /// Writes this context as io.Connect's propagation info into a named-arguments object.
    pub fn insert_into_arguments(&self, arguments: &mut Map<String, Value>) {
        arguments.insert(TRACE_PROPAGATION_KEY.to_owned(), self.to_carrier());
    }

    /// The io.Connect carrier object: `{"traceparent": …, "tracestate": …}`.
    pub fn to_carrier(&self) -> Value {
        match &self.tracestate {
            Some(state) => json!({"traceparent": self.traceparent, "tracestate": state}),
            None => json!({"traceparent": self.traceparent}),
        }
    }

    /// The `traceparent` header value (version 00, lowercase).
    pub fn traceparent(&self) -> &str {
        &self.traceparent
    }

    /// The `tracestate` header value, if any.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The trace id: 32 lowercase hex digits.
    pub fn trace_id(&self) -> &str {
        &self.traceparent[3..35]
    }

    /// The caller's span id: 16 lowercase hex digits.
    pub fn parent_id(&self) -> &str {
        &self.traceparent[36..52]
    }

    /// Whether the caller sampled (recorded) its span.
    pub fn sampled(&self) -> bool {
        u8::from_str_radix(&self.traceparent[53..55], 16).is_ok_and(|flags| flags & 1 == 1)
    }
}

/// Removes io.Insights trace propagation info from a named-arguments object (what an
/// `@interopio/core` client does before its handler sees the arguments).
pub fn strip_trace_info(arguments: &mut Map<String, Value>) {
    arguments.remove(TRACE_PROPAGATION_KEY);
}

/// `version-traceid-parentid-flags`: version 00 exactly, later versions (not `ff`) with at least
/// the version-00 fields; ids not all zero.
fn is_valid_traceparent(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < TRACEPARENT_LEN || !text.is_ascii() {
        return false;
    }
    let version = &text[0..2];
    if !is_hex(version) || version.eq_ignore_ascii_case("ff") {
        return false;
    }
    if version == "00" && bytes.len() != TRACEPARENT_LEN {
        return false;
    }
    if bytes.len() > TRACEPARENT_LEN && bytes[TRACEPARENT_LEN] != b'-' {
        return false;
    }
    let (trace_id, parent_id, flags) = (&text[3..35], &text[36..52], &text[53..55]);
    bytes[2] == b'-'
        && bytes[35] == b'-'
        && bytes[52] == b'-'
        && is_hex(trace_id)
        && is_hex(parent_id)
        && is_hex(flags)
        && trace_id.bytes().any(|byte| byte != b'0')
        && parent_id.bytes().any(|byte| byte != b'0')
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_hexdigit())
}
