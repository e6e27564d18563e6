//! What the page tells the worker about the bus, as JSON, and its translation into the
//! dialect-neutral [`Catalogue`] the catalogue builds the Python API from.
//!
//! The page's adapter (io.Connect / Glue42 `interop.methods()`, FDC3 `findIntent`, or a generic
//! method list) sends one entry per method and server set; entries with the same name and
//! signatures are merged into one logical method, as the desktop adapters do.

use std::sync::Arc;

use codemode_protocol::model::{
    Catalogue, Identity, IntentHandler, IntentInfo, MethodInfo, ServerInfo,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The bus as the page describes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BusModel {
    /// Increases with every change the page sees.
    pub generation: u64,
    /// Methods, one entry per method (and signature).
    pub methods: Vec<MethodEntry>,
    /// Intents with their handlers.
    pub intents: Vec<IntentEntry>,
}

/// One method as the page sees it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MethodEntry {
    /// The wire name, e.g. `CRM.GetClients`.
    pub name: String,
    /// A display name.
    pub display_name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The `accepts` signature.
    pub accepts: Option<String>,
    /// The `returns` signature.
    pub returns: Option<String>,
    /// Object types.
    pub object_types: Vec<String>,
    /// Whether it streams.
    pub supports_streaming: bool,
    /// User flags.
    pub flags: Map<String, Value>,
    /// The servers offering it.
    pub servers: Vec<ServerEntry>,
}

/// One server of a method.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServerEntry {
    /// The bus's id for the peer (the instance id when the platform has no peer ids).
    pub peer_id: String,
    /// Its identity (`application`, `instance`, …).
    pub identity: Map<String, Value>,
}

/// One intent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IntentEntry {
    /// The intent name, e.g. `ViewChart`.
    pub name: String,
    /// Who can take it.
    pub handlers: Vec<HandlerEntry>,
}

/// One handler of an intent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HandlerEntry {
    /// The application name.
    pub application: String,
    /// The running instance, if any.
    pub instance: Option<String>,
    /// A display name.
    pub display_name: Option<String>,
    /// Context types it accepts.
    pub context_types: Vec<String>,
    /// The type of result it returns.
    pub result_type: Option<String>,
    /// The app's title.
    pub app_title: Option<String>,
}

impl BusModel {
    /// The neutral catalogue: methods merged by name and signatures and sorted by name,
    /// intents sorted by name; servers without a peer id and unnamed entries are dropped.
    pub fn to_catalogue(&self) -> Catalogue {
        let mut methods: Vec<MethodInfo> = Vec::new();
        for entry in &self.methods {
            if entry.name.is_empty() {
                continue;
            }
            let servers = entry
                .servers
                .iter()
                .filter(|server| !server.peer_id.is_empty())
                .map(|server| ServerInfo {
                    peer_id: server.peer_id.clone(),
                    identity: Arc::new(Identity::from(server.identity.clone())),
                    local: true,
                });
            if let Some(existing) = methods.iter_mut().find(|method| {
                method.name == entry.name
                    && method.input_signature == entry.accepts
                    && method.result_signature == entry.returns
            }) {
                for server in servers {
                    if !existing.servers.iter().any(|s| s.peer_id == server.peer_id) {
                        existing.servers.push(server);
                    }
                }
                continue;
            }
            methods.push(MethodInfo {
                name: entry.name.clone(),
                display_name: entry.display_name.clone(),
                description: entry.description.clone(),
                input_signature: entry.accepts.clone(),
                result_signature: entry.returns.clone(),
                object_types: entry.object_types.clone(),
                streaming: entry.supports_streaming,
                metadata: entry.flags.clone(),
                servers: servers.collect(),
            });
        }
        methods.retain(|method| !method.servers.is_empty());
        methods.sort_by(|a, b| a.name.cmp(&b.name));
        let mut intents: Vec<IntentInfo> = self
            .intents
            .iter()
            .filter(|intent| !intent.name.is_empty() && !intent.handlers.is_empty())
            .map(|intent| IntentInfo {
                name: intent.name.clone(),
                handlers: intent
                    .handlers
                    .iter()
                    .map(|handler| IntentHandler {
                        application: handler.application.clone(),
                        instance: handler.instance.clone(),
                        display_name: handler.display_name.clone(),
                        context_types: handler.context_types.clone(),
                        result_type: handler.result_type.clone(),
                        app_title: handler.app_title.clone(),
                    })
                    .collect(),
            })
            .collect();
        intents.sort_by(|a, b| a.name.cmp(&b.name));
        Catalogue {
            generation: self.generation,
            methods,
            intents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_with_the_same_signature_merge_and_others_stay_apart() {
        let model: BusModel = serde_json::from_value(serde_json::json!({
            "generation": 3,
            "methods": [
                {"name": "CRM.GetClients", "accepts": "String adviser",
                 "servers": [{"peerId": "p1", "identity": {"application": "CRM"}}]},
                {"name": "CRM.GetClients", "accepts": "String adviser",
                 "servers": [{"peerId": "p2", "identity": {"application": "CRM2"}}]},
                {"name": "CRM.GetClients", "accepts": "Int id",
                 "servers": [{"peerId": "p3", "identity": {"application": "Old"}}]},
                {"name": "Gone", "servers": []}
            ],
            "intents": [{"name": "ViewChart", "handlers": [{"application": "Charts",
                "contextTypes": ["fdc3.instrument"]}]}]
        }))
        .expect("valid model");
        let catalogue = model.to_catalogue();
        assert_eq!(catalogue.generation, 3);
        assert_eq!(catalogue.methods.len(), 2, "{catalogue:?}");
        assert_eq!(catalogue.methods[0].servers.len(), 2);
        assert_eq!(catalogue.methods[0].servers[1].application(), "CRM2");
        assert_eq!(catalogue.intents[0].context_types(), ["fdc3.instrument"]);
    }
}
