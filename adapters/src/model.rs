//! How to address the bus (targets, call options, intent requests) and what comes back. What the
//! bus offers (methods, servers, intents) is `codemode_protocol::model`, re-exported here.

use std::time::Duration;

use async_trait::async_trait;
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
    /// Every server whose identity matches all given fields (strings compare
    /// case-insensitively).
    Filter(Map<String, Value>),
}

impl Target {
    /// A filter on the `application` field.
    pub fn application(name: impl Into<String>) -> Self {
        let mut filter = Map::new();
        filter.insert("application".into(), Value::String(name.into()));
        Self::Filter(filter)
    }

    /// A filter on the `instance` field.
    pub fn instance(id: impl Into<String>) -> Self {
        let mut filter = Map::new();
        filter.insert("instance".into(), Value::String(id.into()));
        Self::Filter(filter)
    }

    /// Whether `server` matches this target's filter (always true for best/all).
    pub fn matches(&self, server: &ServerInfo) -> bool {
        let Self::Filter(filter) = self else {
            return true;
        };
        filter.iter().all(|(key, wanted)| {
            let actual = match key.as_str() {
                "peer_id" | "peerId" => Some(Value::String(server.peer_id.clone())),
                _ => server.identity.get(key).cloned(),
            };
            match (actual, wanted) {
                (Some(Value::String(actual)), Value::String(wanted)) => {
                    actual.eq_ignore_ascii_case(wanted)
                }
                (Some(actual), wanted) => &actual == wanted,
                (None, _) => false,
            }
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Best => f.write_str("\"best\""),
            Self::All => f.write_str("\"all\""),
            Self::Filter(filter) => write!(f, "{}", Value::Object(filter.clone())),
        }
    }
}

/// Per-call options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallOptions {
    /// How long to wait for the reply.
    pub timeout: Duration,
    /// How long to wait for a server of the method to appear (zero: fail at once).
    pub wait_for_method: Duration,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            wait_for_method: Duration::ZERO,
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
