//! The live view of the gateway's peers and methods, folded from `peer-added`,
//! `methods-added`, `methods-removed` and `peer-removed`, plus the apps io.Connect declares
//! (from `T42.ACS.GetApplications`). [`PeerTable::snapshot`] turns it into the neutral
//! [`Catalogue`]: platform internals hidden, methods grouped by name + signatures, intents merged
//! from running handlers and declared apps.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use serde_json::Value;

use codemode_protocol::{MethodDefinition, MethodId, PeerId, gw3::Gw3Message};

use crate::model::{Catalogue, Identity, IntentHandler, IntentInfo, MethodInfo, ServerInfo};

/// Method name prefixes that belong to the platform and are never shown as methods.
const PLATFORM_PREFIXES: &[&str] = &["T42.", "Tick42."];

/// Peers and their methods as the gateway announced them.
#[derive(Debug, Default)]
pub(crate) struct PeerTable {
    own_peer: Option<PeerId>,
    peers: HashMap<PeerId, PeerState>,
    /// Method name → the peers offering it (each once), so routing a call does not scan every
    /// method. Most names have one server: a vector costs far less than a set per name.
    servers_by_name: HashMap<String, Vec<PeerId>>,
    next_order: u64,
    declared_apps: Vec<DeclaredApp>,
    generation: u64,
}

#[derive(Debug, Default)]
struct PeerState {
    order: u64,
    /// Shared with every [`ServerInfo`] of this peer in the snapshots.
    identity: Arc<Identity>,
    local: bool,
    /// Methods by [`MethodId::key`], sorted by key. A peer serves a handful of methods: a
    /// sorted vector holds them in a fraction of a B-tree node's room.
    methods: Vec<(String, MethodDefinition)>,
}

impl PeerState {
    fn methods(&self) -> impl Iterator<Item = &MethodDefinition> {
        self.methods.iter().map(|(_, method)| method)
    }

    fn insert_method(&mut self, method: &MethodDefinition) {
        let key = method.id.key();
        match self
            .methods
            .binary_search_by(|(existing, _)| existing.as_str().cmp(&key))
        {
            Ok(index) => self.methods[index].1 = method.clone(),
            Err(index) => self.methods.insert(index, (key, method.clone())),
        }
    }

    fn remove_method(&mut self, id: &MethodId) {
        let key = id.key();
        if let Ok(index) = self
            .methods
            .binary_search_by(|(existing, _)| existing.as_str().cmp(&key))
        {
            self.methods.remove(index);
        }
    }
}

/// An app io.Connect knows how to start, with the intents its definition declares.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DeclaredApp {
    pub(crate) name: String,
    pub(crate) title: Option<String>,
    pub(crate) intents: Vec<DeclaredIntent>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DeclaredIntent {
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) contexts: Vec<String>,
    pub(crate) result_type: Option<String>,
}

/// A server of a method, with the id to call it by.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) server: ServerInfo,
    pub(crate) method_id: MethodId,
}

impl PeerTable {
    /// A fresh table for a new session; `own_peer` is skipped from every view.
    pub(crate) fn new(own_peer: PeerId, declared_apps: Vec<DeclaredApp>) -> Self {
        Self {
            own_peer: Some(own_peer),
            declared_apps,
            ..Self::default()
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Continues numbering from an earlier table, so generations never repeat.
    pub(crate) fn continue_generation(&mut self, previous: u64) {
        self.generation = self.generation.max(previous) + 1;
    }

    pub(crate) fn declared_apps(&self) -> &[DeclaredApp] {
        &self.declared_apps
    }

    pub(crate) fn set_declared_apps(&mut self, apps: Vec<DeclaredApp>) {
        if apps != self.declared_apps {
            self.declared_apps = apps;
            self.generation += 1;
        }
    }

    /// Folds one announcement; returns whether the catalogue changed.
    pub(crate) fn apply(&mut self, message: &Gw3Message) -> bool {
        let touched = match message {
            Gw3Message::MethodsAdded(added) => Some(&added.server_id),
            Gw3Message::MethodsRemoved(removed) => Some(&removed.server_id),
            Gw3Message::PeerRemoved(removed) => Some(&removed.removed_id),
            _ => None,
        };
        let names_before = touched.map(|peer| (peer.clone(), self.method_names(peer)));
        let changed = match message {
            Gw3Message::PeerAdded(added) => {
                if self.is_own(&added.new_peer_id) {
                    return false;
                }
                let order = self.next_order;
                self.next_order += 1;
                let peer = self.peers.entry(added.new_peer_id.clone()).or_default();
                peer.order = order;
                peer.identity = Arc::new(Identity::from(added.identity.clone()));
                peer.local = added.meta.as_ref().is_none_or(|meta| meta.local);
                true
            }
            Gw3Message::MethodsAdded(added) => {
                if self.is_own(&added.server_id) {
                    return false;
                }
                let order = self.next_order;
                let peer = self
                    .peers
                    .entry(added.server_id.clone())
                    .or_insert_with(|| PeerState {
                        order,
                        local: true,
                        ..PeerState::default()
                    });
                peer.methods.reserve(added.methods.len());
                for method in &added.methods {
                    peer.insert_method(method);
                }
                self.next_order += 1;
                !added.methods.is_empty()
            }
            Gw3Message::MethodsRemoved(removed) => {
                let Some(peer) = self.peers.get_mut(&removed.server_id) else {
                    return false;
                };
                let before = peer.methods.len();
                for id in &removed.methods {
                    peer.remove_method(id);
                }
                // Give memory back only when most of it is unused, not on every removal.
                if peer.methods.capacity() > 2 * peer.methods.len() {
                    peer.methods.shrink_to_fit();
                }
                before != peer.methods.len()
            }
            Gw3Message::PeerRemoved(removed) => self.peers.remove(&removed.removed_id).is_some(),
            _ => false,
        };
        if changed {
            self.generation += 1;
            if let Some((peer, names)) = names_before {
                self.reindex(&peer, &names);
            }
        }
        changed
    }

    fn method_names(&self, peer: &PeerId) -> BTreeSet<String> {
        self.peers
            .get(peer)
            .map(|state| state.methods().map(|method| method.name.clone()).collect())
            .unwrap_or_default()
    }

    /// Moves `peer` in the name index from the names it had to the names it has now.
    fn reindex(&mut self, peer: &PeerId, names_before: &BTreeSet<String>) {
        let names_now = self.method_names(peer);
        for gone in names_before.difference(&names_now) {
            if let Some(servers) = self.servers_by_name.get_mut(gone) {
                servers.retain(|server| server != peer);
                if servers.is_empty() {
                    self.servers_by_name.remove(gone);
                }
            }
        }
        for name in names_now.difference(names_before) {
            let servers = self.servers_by_name.entry(name.clone()).or_default();
            if !servers.contains(peer) {
                servers.push(peer.clone());
            }
        }
    }

    /// Every server offering `name` (platform methods included), in discovery order.
    pub(crate) fn endpoints(&self, name: &str) -> Vec<Endpoint> {
        let mut endpoints: Vec<(u64, Endpoint)> = Vec::new();
        let Some(servers) = self.servers_by_name.get(name) else {
            return Vec::new();
        };
        for (peer_id, peer) in servers
            .iter()
            .filter_map(|peer_id| Some((peer_id, self.peers.get(peer_id)?)))
        {
            for method in peer.methods().filter(|method| method.name == name) {
                endpoints.push((
                    peer.order,
                    Endpoint {
                        server: server_info(peer_id, peer),
                        method_id: method.id.clone(),
                    },
                ));
            }
        }
        endpoints.sort_by_key(|(order, _)| *order);
        endpoints
            .into_iter()
            .map(|(_, endpoint)| endpoint)
            .collect()
    }

    /// The identity of a visible peer.
    pub(crate) fn identity_of(&self, peer: &PeerId) -> Option<Identity> {
        self.peers
            .get(peer)
            .map(|peer| Identity::clone(&peer.identity))
    }

    /// How many peers are visible (ourselves excluded).
    pub(crate) fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// The neutral catalogue: user methods grouped by identity, intents merged.
    pub(crate) fn snapshot(&self) -> Catalogue {
        self.build(true)
    }

    /// [`Self::snapshot`] without the methods (same intents and generation).
    pub(crate) fn intents_snapshot(&self) -> Catalogue {
        self.build(false)
    }

    fn build(&self, with_methods: bool) -> Catalogue {
        let mut peers: Vec<(&PeerId, &PeerState)> = self.peers.iter().collect();
        peers.sort_by_key(|(_, peer)| peer.order);

        let mut methods: BTreeMap<(String, String), MethodInfo> = BTreeMap::new();
        let mut running: BTreeMap<String, Vec<IntentHandler>> = BTreeMap::new();
        for (peer_id, peer) in peers {
            for method in peer.methods() {
                if let Some(intent) = method.intent_name() {
                    running
                        .entry(intent.to_owned())
                        .or_default()
                        .push(running_handler(peer, method));
                    continue;
                }
                if !with_methods || is_platform_method(&method.name) {
                    continue;
                }
                let server = server_info(peer_id, peer);
                methods
                    .entry((method.name.clone(), method.identity_key()))
                    .and_modify(|info| info.servers.push(server.clone()))
                    .or_insert_with(|| method_info(method, server));
            }
        }

        Catalogue {
            generation: self.generation,
            methods: methods.into_values().collect(),
            intents: self.merge_intents(running),
        }
    }

    fn merge_intents(&self, mut running: BTreeMap<String, Vec<IntentHandler>>) -> Vec<IntentInfo> {
        let mut declared: BTreeMap<String, Vec<IntentHandler>> = BTreeMap::new();
        for app in &self.declared_apps {
            for intent in &app.intents {
                declared
                    .entry(intent.name.clone())
                    .or_default()
                    .push(IntentHandler {
                        application: app.name.clone(),
                        instance: None,
                        display_name: intent.display_name.clone(),
                        context_types: intent.contexts.clone(),
                        result_type: intent.result_type.clone(),
                        app_title: app.title.clone(),
                    });
            }
        }
        // Running handlers without flag info inherit it from their app's definition.
        for (name, handlers) in &mut running {
            for handler in handlers.iter_mut() {
                let Some(definition) = declared.get(name).and_then(|apps| {
                    apps.iter()
                        .find(|app| app.application == handler.application)
                }) else {
                    continue;
                };
                if handler.context_types.is_empty() {
                    handler.context_types.clone_from(&definition.context_types);
                }
                if handler.result_type.is_none() {
                    handler.result_type.clone_from(&definition.result_type);
                }
                if handler.display_name.is_none() {
                    handler.display_name.clone_from(&definition.display_name);
                }
                if handler.app_title.is_none() {
                    handler.app_title.clone_from(&definition.app_title);
                }
            }
        }
        let mut names: Vec<String> = running.keys().chain(declared.keys()).cloned().collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|name| {
                let mut handlers = running.remove(&name).unwrap_or_default();
                handlers.extend(declared.remove(&name).unwrap_or_default());
                IntentInfo { name, handlers }
            })
            .collect()
    }

    fn is_own(&self, peer: &PeerId) -> bool {
        self.own_peer.as_ref() == Some(peer)
    }
}

/// Reads `T42.ACS.GetApplications {withIntentsInfo:true}`'s result.
pub(crate) fn parse_declared_apps(result: &Value) -> Vec<DeclaredApp> {
    let Some(applications) = result.get("applications").and_then(Value::as_array) else {
        return Vec::new();
    };
    applications
        .iter()
        .filter_map(|app| {
            let name = app.get("name").and_then(Value::as_str)?.to_owned();
            let title = ["title", "caption"]
                .iter()
                .find_map(|key| app.get(*key).and_then(Value::as_str))
                .map(str::to_owned);
            let intents = app
                .get("intents")
                .and_then(Value::as_array)
                .map(|intents| intents.iter().filter_map(parse_declared_intent).collect())
                .unwrap_or_default();
            Some(DeclaredApp {
                name,
                title,
                intents,
            })
        })
        .collect()
}

fn parse_declared_intent(intent: &Value) -> Option<DeclaredIntent> {
    Some(DeclaredIntent {
        name: intent.get("name").and_then(Value::as_str)?.to_owned(),
        display_name: intent
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        contexts: string_list(intent.get("contexts")),
        result_type: intent
            .get("resultType")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn is_platform_method(name: &str) -> bool {
    PLATFORM_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

fn server_info(peer_id: &PeerId, peer: &PeerState) -> ServerInfo {
    ServerInfo {
        peer_id: peer_id.to_string(),
        identity: Arc::clone(&peer.identity),
        local: peer.local,
    }
}

fn method_info(method: &MethodDefinition, server: ServerInfo) -> MethodInfo {
    MethodInfo {
        name: method.name.clone(),
        display_name: method.display_name.clone(),
        description: method.description.clone(),
        input_signature: method.input_signature.clone(),
        result_signature: method.result_signature.clone(),
        object_types: method.object_types.clone().unwrap_or_default(),
        streaming: method.flags.streaming,
        metadata: method.flags.metadata.clone(),
        servers: vec![server],
    }
}

fn running_handler(peer: &PeerState, method: &MethodDefinition) -> IntentHandler {
    let info = method
        .flags
        .metadata
        .get("intent")
        .and_then(Value::as_object);
    let text = |key: &str| info.and_then(|info| info.get(key)).and_then(Value::as_str);
    IntentHandler {
        application: peer.identity.application.clone().unwrap_or_default(),
        instance: peer.identity.instance.clone(),
        display_name: text("displayName").map(str::to_owned),
        context_types: string_list(info.and_then(|info| info.get("contextTypes"))),
        result_type: text("resultType").map(str::to_owned),
        app_title: text("description").map(str::to_owned),
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
