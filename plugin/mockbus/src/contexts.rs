//! The gateway's shared contexts (the GW3 `context` domain) and the user channels io.Connect
//! Desktop keeps in them, as frames the real gateway sends (`docs/channels-wire.md`):
//! every peer hears `context-added` for each context right after its `welcome`;
//! `subscribe-context` answers `subscribed-context` with the whole value; `update-context`
//! answers `success` and sends `context-updated` to every other subscriber; `create-context`
//! answers `context-created` and announces `context-added` to every peer.
//!
//! The mock bus starts with Desktop's three user channels, `___channel___Red`, `Green` and
//! `Blue`; Red already holds the instrument the demo user is looking at (as if the Portfolio
//! app had broadcast it).

use serde_json::{Value, json};

use codemode_protocol::{
    PeerId,
    gw3::{
        ContextAdded, ContextCreated, ContextUpdated, Domain, Envelope, Gw3Message,
        SubscribedContext, context::CHANNEL_PREFIX,
    },
};

use super::gateway::{ConnId, Gateway, Route, success};

/// What the real gateway answers for an unknown context id (checked by the contract).
const UNKNOWN_CONTEXT: &str = codemode_protocol::gw3::reasons::FAILURE;

/// One shared context.
#[derive(Debug, Clone)]
pub(crate) struct SharedContext {
    id: String,
    name: String,
    value: Value,
    subscribers: Vec<PeerId>,
}

/// Every shared context, in creation order.
#[derive(Debug, Default)]
pub(crate) struct Contexts {
    items: Vec<SharedContext>,
}

impl Contexts {
    /// Desktop's user channels, Red holding the demo user's instrument.
    pub(crate) fn with_channels(node: &str) -> Self {
        let mut contexts = Self::default();
        for (index, (name, color)) in [("Red", "red"), ("Green", "green"), ("Blue", "#66ABFF")]
            .into_iter()
            .enumerate()
        {
            let mut value = json!({"name": name, "meta": {"color": color}, "data": {}});
            if name == "Red" {
                value = json!({
                    "name": name,
                    "meta": {"color": color},
                    "data": {"fdc3_fdc3&instrument": {"name": "Apple Inc.", "id": {"ticker": "AAPL", "ISIN": "US0378331005"}}},
                    "latest_fdc3_type": "fdc3&instrument",
                });
            }
            contexts.items.push(SharedContext {
                id: format!("c-{node}-channel-{index}"),
                name: format!("{CHANNEL_PREFIX}{name}"),
                value,
                subscribers: Vec::new(),
            });
        }
        contexts
    }

    fn find(&mut self, id: &str) -> Option<&mut SharedContext> {
        self.items.iter_mut().find(|context| context.id == id)
    }

    /// Forgets a peer that left.
    pub(crate) fn remove_peer(&mut self, peer: &PeerId) {
        for context in &mut self.items {
            context.subscribers.retain(|subscriber| subscriber != peer);
        }
    }
}

fn envelope(peer: &PeerId, request: Option<&Route>) -> Envelope {
    Envelope {
        domain: Some(Domain::Global),
        request_id: request.and_then(|route| route.request_id.clone()),
        peer_id: Some(peer.clone()),
        ..Envelope::default()
    }
}

impl Gateway {
    /// The `context-added` announcements a new peer gets after its `welcome`.
    pub(crate) fn announce_contexts(&mut self, conn: ConnId, peer: &PeerId) {
        let added: Vec<Gw3Message> = self
            .contexts
            .items
            .iter()
            .map(|context| {
                Gw3Message::ContextAdded(ContextAdded {
                    envelope: envelope(peer, None),
                    creator_id: None,
                    context_id: context.id.clone(),
                    name: context.name.clone(),
                })
            })
            .collect();
        for message in added {
            self.push(conn, message);
        }
    }

    /// A `context`-domain request from `peer`.
    pub(crate) fn context_message(
        &mut self,
        conn: ConnId,
        peer: &PeerId,
        route: &Route,
        message: Gw3Message,
    ) {
        match message {
            Gw3Message::SubscribeContext(subscribe) => {
                let Some(context) = self.contexts.find(&subscribe.context_id) else {
                    return self.unknown_context(conn, peer, route, &subscribe.context_id);
                };
                if !context.subscribers.contains(peer) {
                    context.subscribers.push(peer.clone());
                }
                let reply = Gw3Message::SubscribedContext(SubscribedContext {
                    envelope: envelope(peer, Some(route)),
                    context_id: context.id.clone(),
                    data: context.value.clone(),
                });
                self.push(conn, reply);
            }
            Gw3Message::UnsubscribeContext(unsubscribe) => {
                let Some(context) = self.contexts.find(&unsubscribe.context_id) else {
                    return self.unknown_context(conn, peer, route, &unsubscribe.context_id);
                };
                context.subscribers.retain(|subscriber| subscriber != peer);
                self.push(
                    conn,
                    success(Domain::Global, route.request_id.clone(), peer),
                );
            }
            Gw3Message::UpdateContext(update) => {
                let Some(context) = self.contexts.find(&update.context_id) else {
                    return self.unknown_context(conn, peer, route, &update.context_id);
                };
                update.delta.apply(&mut context.value);
                let others: Vec<PeerId> = context
                    .subscribers
                    .iter()
                    .filter(|subscriber| *subscriber != peer)
                    .cloned()
                    .collect();
                let context_id = context.id.clone();
                self.push(
                    conn,
                    success(Domain::Global, route.request_id.clone(), peer),
                );
                for other in others {
                    let updated = Gw3Message::ContextUpdated(ContextUpdated {
                        envelope: envelope(&other, None),
                        updater_id: Some(peer.clone()),
                        context_id: context_id.clone(),
                        delta: update.delta.clone(),
                    });
                    self.deliver(&other, updated);
                }
            }
            Gw3Message::CreateContext(create) => {
                let id = format!("c-{}", self.mint_request_id());
                self.contexts.items.push(SharedContext {
                    id: id.clone(),
                    name: create.name.clone(),
                    value: create.data,
                    subscribers: vec![peer.clone()],
                });
                let everyone: Vec<PeerId> = self.peers.keys().cloned().collect();
                for other in everyone {
                    let added = Gw3Message::ContextAdded(ContextAdded {
                        envelope: envelope(&other, None),
                        creator_id: Some(peer.clone()),
                        context_id: id.clone(),
                        name: create.name.clone(),
                    });
                    self.deliver(&other, added);
                }
                let created = Gw3Message::ContextCreated(ContextCreated {
                    envelope: envelope(peer, Some(route)),
                    context_id: id,
                });
                self.push(conn, created);
            }
            other => self.unhandled_context(conn, peer, route, &other),
        }
    }

    fn unknown_context(&mut self, conn: ConnId, peer: &PeerId, route: &Route, id: &str) {
        self.reply_error(
            conn,
            route,
            Some(peer.clone()),
            UNKNOWN_CONTEXT,
            format!("Unable to find context with id {id}"),
        );
    }

    fn unhandled_context(
        &mut self,
        conn: ConnId,
        peer: &PeerId,
        route: &Route,
        message: &Gw3Message,
    ) {
        self.reply_error(
            conn,
            route,
            Some(peer.clone()),
            codemode_protocol::gw3::reasons::UNHANDLED_MESSAGE,
            format!("Unhandled message type {}", message.message_type()),
        );
    }
}
