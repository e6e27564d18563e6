//! The dialect-neutral view of a bus: what is offered (methods, servers, intents) and how to
//! address it (targets, call options). Adapters translate their wire formats into these types;
//! the catalogue and the sandbox only ever see these.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::BusError;

/// The identity of a peer on the bus (`application`, `instance`, `user`, `machine`…).
pub type Identity = Map<String, Value>;

/// A snapshot of everything the bus offers, taken at one moment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalogue {
    /// Increases with every change; equal generations mean equal catalogues.
    pub generation: u64,
    /// Logical methods (grouped by name + signatures), sorted by name.
    pub methods: Vec<MethodInfo>,
    /// Intents with their handlers, sorted by name.
    pub intents: Vec<IntentInfo>,
}

impl Catalogue {
    /// The logical methods named `name` (several when servers disagree on signatures).
    pub fn methods_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a MethodInfo> {
        self.methods
            .iter()
            .filter(move |method| method.name == name)
    }

    /// The intent named `name`, if any handler (running or declared) exists.
    pub fn intent(&self, name: &str) -> Option<&IntentInfo> {
        self.intents.iter().find(|intent| intent.name == name)
    }
}

/// One logical method, possibly offered by several servers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MethodInfo {
    /// The method name, e.g. `CRM.GetClients`.
    pub name: String,
    /// A display name.
    pub display_name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The raw `accepts` signature.
    pub input_signature: Option<String>,
    /// The raw `returns` signature.
    pub result_signature: Option<String>,
    /// Object types it deals with.
    pub object_types: Vec<String>,
    /// Whether it can stream.
    pub streaming: bool,
    /// User flags (`flags.metadata`).
    pub metadata: Map<String, Value>,
    /// The servers offering it, in discovery order.
    pub servers: Vec<ServerInfo>,
}

/// A server (peer) offering a method.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerInfo {
    /// The bus's id for the peer.
    pub peer_id: String,
    /// Its identity, shared by every method the peer serves (one map per peer, not per
    /// method).
    #[serde(serialize_with = "serialize_shared")]
    pub identity: Arc<Identity>,
    /// False for peers on other gateway nodes.
    pub local: bool,
}

/// Serializes a shared value as the value itself (serde's `rc` feature is not enabled).
fn serialize_shared<T: Serialize, S: Serializer>(
    value: &Arc<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    T::serialize(value, serializer)
}

impl ServerInfo {
    /// The `application` of the identity, or an empty string.
    pub fn application(&self) -> &str {
        self.identity
            .get("application")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The `instance` of the identity, if any.
    pub fn instance(&self) -> Option<&str> {
        self.identity.get("instance").and_then(Value::as_str)
    }
}

/// An intent and every handler that can take it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IntentInfo {
    /// The intent name, e.g. `ViewChart`.
    pub name: String,
    /// Running instances first, then apps that would be started.
    pub handlers: Vec<IntentHandler>,
}

impl IntentInfo {
    /// Every context type any handler accepts, deduplicated and sorted.
    pub fn context_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self
            .handlers
            .iter()
            .flat_map(|handler| handler.context_types.clone())
            .collect();
        types.sort();
        types.dedup();
        types
    }
}

/// One handler of an intent: a running instance or an app that would be started.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IntentHandler {
    /// The application name.
    pub application: String,
    /// The running instance, `None` for an app that is only declared.
    pub instance: Option<String>,
    /// A display name for the handler.
    pub display_name: Option<String>,
    /// Context types it accepts.
    pub context_types: Vec<String>,
    /// The type of result it returns, if declared.
    pub result_type: Option<String>,
    /// The app's title or description, when known.
    pub app_title: Option<String>,
}

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

/// Counts by application, used by logs and the CLI.
pub fn applications(catalogue: &Catalogue) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for method in &catalogue.methods {
        for server in &method.servers {
            *counts.entry(server.application().to_owned()).or_insert(0) += 1;
        }
    }
    counts
}
