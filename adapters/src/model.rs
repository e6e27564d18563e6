//! How to address the bus (targets, call options, intent requests) and what comes back. What the
//! bus offers (methods, servers, intents) is `codemode_protocol::model`, re-exported here.

use std::{borrow::Cow, time::Duration};

use async_trait::async_trait;
use codemode_protocol::trace::TraceContext;
use serde::Serialize;
use serde_json::{Map, Value};

pub use codemode_protocol::model::{
    Catalogue, Identity, IntentHandler, IntentInfo, MethodInfo, ServerInfo, applications,
};

use crate::error::BusError;

/// Which servers a call goes to.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Target {
    /// One server: a local one first, else the first discovered.
    #[default]
    Best,
    /// Every server; one result per server.
    All,
    /// Every server that matches the filter.
    Filter(ServerFilter),
}

impl Target {
    /// A filter on the `application` field.
    pub fn application(name: impl Into<String>) -> Self {
        Self::Filter(ServerFilter {
            application: Some(name.into()),
            ..ServerFilter::default()
        })
    }

    /// A filter on the `instance` field.
    pub fn instance(id: impl Into<String>) -> Self {
        Self::Filter(ServerFilter {
            instance: Some(id.into()),
            ..ServerFilter::default()
        })
    }

    /// Whether `server` matches this target's filter (always true for best/all).
    pub fn matches(&self, server: &ServerInfo) -> bool {
        match self {
            Self::Filter(filter) => filter.matches(server),
            Self::Best | Self::All => true,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Best => f.write_str("\"best\""),
            Self::All => f.write_str("\"all\""),
            Self::Filter(filter) => write!(f, "{}", Value::Object(filter.to_map())),
        }
    }
}

/// Which servers a [`Target::Filter`] picks: every given field must match the server's (strings
/// compare case-insensitively, other values exactly). The JSON form is the snippet's `target=`
/// dict, e.g. `{"application": "CRM"}`; `peer_id` (or `peerId`) is the bus's id of the peer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerFilter {
    /// The identity's `application`.
    pub application: Option<String>,
    /// The identity's `instance`.
    pub instance: Option<String>,
    /// The peer's id on the bus (not part of the identity).
    pub peer_id: Option<String>,
    /// Any other identity key (and a well-known key given a non-string value), compared
    /// against the identity's value under that key.
    pub extra: Map<String, Value>,
}

impl ServerFilter {
    /// The filter a snippet's `target=` dict means; string values of the well-known keys
    /// become the typed fields.
    pub fn from_map(map: Map<String, Value>) -> Self {
        let mut filter = Self::default();
        for (key, value) in map {
            let slot = match key.as_str() {
                "application" => &mut filter.application,
                "instance" => &mut filter.instance,
                "peer_id" | "peerId" if filter.peer_id.is_none() => &mut filter.peer_id,
                _ => {
                    filter.extra.insert(key, value);
                    continue;
                }
            };
            match value {
                Value::String(text) => *slot = Some(text),
                other => {
                    filter.extra.insert(key, other);
                }
            }
        }
        filter
    }

    /// The filter as the JSON object a snippet would write.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for (key, field) in [
            ("application", &self.application),
            ("instance", &self.instance),
            ("peer_id", &self.peer_id),
        ] {
            if let Some(text) = field {
                map.insert(key.to_owned(), Value::String(text.clone()));
            }
        }
        map.extend(self.extra.clone());
        map
    }

    /// Whether no field is set (such a filter matches every server).
    pub fn is_empty(&self) -> bool {
        self.application.is_none()
            && self.instance.is_none()
            && self.peer_id.is_none()
            && self.extra.is_empty()
    }

    /// Whether `server` has every field this filter gives.
    pub fn matches(&self, server: &ServerInfo) -> bool {
        let identity = &server.identity;
        text_matches(self.application.as_deref(), identity.text("application"))
            && text_matches(self.instance.as_deref(), identity.text("instance"))
            && text_matches(self.peer_id.as_deref(), Some(&server.peer_id))
            && self.extra.iter().all(|(key, wanted)| {
                let actual = match key.as_str() {
                    "peer_id" | "peerId" => Some(Cow::Owned(Value::String(server.peer_id.clone()))),
                    _ => identity.get(key),
                };
                value_matches(actual.as_deref(), wanted)
            })
    }

    /// Whether a server known only by its application, instance and peer id matches: a field
    /// beyond those three (or a non-string value) cannot be checked and does not match.
    pub fn matches_parts(&self, application: &str, instance: Option<&str>, peer_id: &str) -> bool {
        text_matches(self.application.as_deref(), Some(application))
            && text_matches(self.instance.as_deref(), instance)
            && text_matches(self.peer_id.as_deref(), Some(peer_id))
            && self.extra.iter().all(|(key, wanted)| {
                let actual = match key.as_str() {
                    "peer_id" | "peerId" => Some(peer_id),
                    _ => None,
                };
                matches!((actual, wanted), (Some(actual), Value::String(wanted)) if actual.eq_ignore_ascii_case(wanted))
            })
    }
}

/// A wanted string against the actual one: no wish matches anything, a wish needs a value.
fn text_matches(wanted: Option<&str>, actual: Option<&str>) -> bool {
    match (wanted, actual) {
        (None, _) => true,
        (Some(wanted), Some(actual)) => actual.eq_ignore_ascii_case(wanted),
        (Some(_), None) => false,
    }
}

fn value_matches(actual: Option<&Value>, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Some(Value::String(actual)), Value::String(wanted)) => actual.eq_ignore_ascii_case(wanted),
        (Some(actual), wanted) => actual == wanted,
        (None, _) => false,
    }
}

/// Per-call options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOptions {
    /// How long to wait for the reply.
    pub timeout: Duration,
    /// How long to wait for a server of the method to appear (zero: fail at once).
    pub wait_for_method: Duration,
    /// The trace this call belongs to, sent along where the dialect carries one (io.Connect:
    /// `__interopIOTracePropagationInfo` in the arguments).
    pub trace: Option<TraceContext>,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            wait_for_method: Duration::ZERO,
            trace: None,
        }
    }
}

/// The outcome of a call on one server.
#[derive(Debug, Clone)]
pub struct ServerReply {
    /// Which server answered.
    pub server: ServerInfo,
    /// Its result (a JSON object, or the unwrapped `_value` of a non-object result) or error.
    pub outcome: Result<Value, BusError>,
    /// How long the call took.
    pub elapsed: Duration,
}

/// Which handler an intent should go to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntentTarget {
    /// Only handlers of this application.
    pub app: Option<String>,
    /// Only this running instance.
    pub instance: Option<String>,
}

/// A request to raise an intent.
#[derive(Debug, Clone)]
pub struct IntentRequest {
    /// The intent name.
    pub intent: String,
    /// The FDC3 context (an object with a `type`).
    pub context: Value,
    /// Which handler, if not the default choice.
    pub target: IntentTarget,
    /// How long the handler (and a start on demand) may take.
    pub timeout: Duration,
}

/// The outcome of a raised intent.
#[derive(Debug, Clone, Serialize)]
pub struct IntentResolution {
    /// The intent raised.
    pub intent: String,
    /// The handler that took it (with its instance, even if it was started for this).
    pub handler: IntentHandler,
    /// Whether the handler's app was started for this intent.
    pub started: bool,
    /// What the handler returned (FDC3 wrappers unwrapped).
    pub result: Value,
}

/// A method we offer on the bus ourselves (e.g. Code Mode's own operations).
#[derive(Debug, Clone, Default)]
pub struct ServedMethod {
    /// The method name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// A display name.
    pub display_name: Option<String>,
    /// The `accepts` signature.
    pub input_signature: Option<String>,
    /// The `returns` signature.
    pub result_signature: Option<String>,
    /// User flags.
    pub metadata: Map<String, Value>,
}

/// A failure a served method reports to its caller.
#[derive(Debug, Clone)]
pub struct HandlerError {
    /// Human-readable reason.
    pub reason: String,
    /// Extra data for the caller.
    pub context: Option<Value>,
}

/// Runs invocations of a [`ServedMethod`].
#[async_trait]
pub trait MethodHandler: Send + Sync + 'static {
    /// Handles one invocation; the `Ok` value must be a JSON object (others are wrapped as
    /// `{"_value": …}`, as the JavaScript clients do).
    async fn handle(
        &self,
        arguments: Map<String, Value>,
        caller: Option<Identity>,
    ) -> Result<Value, HandlerError>;

    /// Handles one invocation with what the adapter knows about it besides its arguments: the
    /// caller's trace context, and a token cancelled when the caller leaves the bus (or the
    /// connection ends) before the answer, as no one is left to take it. Handlers that continue
    /// traces or stop long work override this; the default ignores both.
    async fn handle_invocation(
        &self,
        arguments: Map<String, Value>,
        caller: Option<Identity>,
        invocation: InvocationContext,
    ) -> Result<Value, HandlerError> {
        let _ = invocation;
        self.handle(arguments, caller).await
    }
}

/// What an adapter knows about one invocation of a served method besides its arguments.
#[derive(Debug, Clone, Default)]
pub struct InvocationContext {
    /// The caller's trace context (io.Connect's `__interopIOTracePropagationInfo`, already
    /// taken out of the arguments).
    pub trace: Option<TraceContext>,
    /// Cancelled when the caller leaves the bus, or the connection ends, before the answer.
    pub caller_left: tokio_util::sync::CancellationToken,
}

/// Something that happened to the connection or the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub enum BusEvent {
    /// The catalogue changed (methods or peers added or removed).
    CatalogueChanged {
        /// The new generation.
        generation: u64,
    },
    /// The connection dropped; pending calls failed.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A reconnect attempt is scheduled.
    Reconnecting {
        /// Attempt number, from 1.
        attempt: u32,
        /// Delay before it.
        delay: Duration,
    },
    /// Reconnected and the catalogue was fully resynchronised.
    Reconnected {
        /// The generation of the rebuilt catalogue.
        generation: u64,
    },
}
