//! The dialect-neutral model of what a bus offers: methods with their servers, intents with
//! their handlers, peer identities. Adapters translate their wire formats into these types; the
//! catalogue builds the Python API from them without knowing which dialect produced them. Plain
//! data: no sockets, no runtime.

use std::{collections::BTreeMap, sync::Arc};

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

pub use crate::identity::Identity;

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
        self.identity.application.as_deref().unwrap_or("")
    }

    /// The `instance` of the identity, if any.
    pub fn instance(&self) -> Option<&str> {
        self.identity.instance.as_deref()
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
