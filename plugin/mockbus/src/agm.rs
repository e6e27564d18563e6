//! The `agm` (interop) domain of the gateway: join/leave with the catalogue bootstrap,
//! register/unregister with announcements, call → invoke → yield/error → result/error, and
//! stream subscriptions. Behaviour and reason texts follow the open-source gateway
//! (gateway-modules `agm-domain`) and the frames captured from it (doc §5).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use codemode_protocol::{
    InvocationId, MethodDefinition, MethodId, PeerId, RequestId, SubscriptionId,
    gw3::{
        Call, CallResult, Domain, Envelope, ErrorMessage, Gw3Message, Invoke, MethodsAdded,
        MethodsRemoved, PeerAdded, PeerMeta, PeerRemoved, Register, Unregister, Yield, reasons,
    },
};

use super::gateway::{ConnId, Gateway, Invocation, Route, error_message, success};

const AGM_FAILURE: &str = "agm.errors.failure";
const INVALID_SUBSCRIPTION: &str = "agm.errors.subscription.invalid_subscription";
const PEER_REMOVED_URI: &str = "agm.peer-removed";
const PEER_REMOVED_REASON: &str = "Peer has been removed";
const METHOD_REMOVED_URI: &str = "agm.method-removed";
const METHOD_REMOVED_REASON: &str = "Method has been removed";

mod streams;

use self::streams::subscription_cancelled;

impl Gateway {
    /// Routes one `agm` message from `peer` (already checked to belong to `conn`).
    pub(crate) fn agm_message(
        &mut self,
        conn: ConnId,
        peer: &PeerId,
        envelope: &Route,
        message: Gw3Message,
    ) {
        if self.peers.get(peer).is_none_or(|state| state.agm.is_none()) {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    envelope.request_id.clone(),
                    Some(peer.clone()),
                    AGM_FAILURE,
                    format!("Unable to find peer with id {peer} in domain agm"),
                ),
            );
            return;
        }
        match message {
            Gw3Message::Register(register) => self.register(conn, peer, register),
            Gw3Message::Unregister(unregister) => self.unregister(conn, peer, unregister),
            Gw3Message::Call(call) => self.call(conn, peer, call),
            Gw3Message::Yield(reply) => self.yield_result(peer, reply),
            Gw3Message::Error(error) => self.server_error(conn, peer, error),
            Gw3Message::Subscribe(subscribe) => self.subscribe(conn, peer, subscribe),
            Gw3Message::Accepted(accepted) => self.accepted(conn, peer, accepted),
            Gw3Message::Publish(publish) => self.publish(peer, publish),
            Gw3Message::Post(post) => self.post(peer, post),
            Gw3Message::Unsubscribe(unsubscribe) => self.unsubscribe(conn, peer, unsubscribe),
            Gw3Message::DropSubscription(drop) => self.drop_subscription(conn, peer, drop),
            other => tracing::debug!(message_type = other.message_type(), "not an agm request"),
        }
    }

    /// Joins `peer` to `agm`: for every visible member, `peer-added` both ways and one
    /// `methods-added` with all its methods to the newcomer; then the join's `success`.
    pub(crate) fn agm_join(&mut self, conn: ConnId, peer: &PeerId, request_id: Option<RequestId>) {
        if self
            .peers
            .get(peer)
            .is_some_and(|state| state.agm.is_some())
        {
            self.push(conn, success(Domain::Agm, request_id, peer));
            return;
        }
        let newcomer_listens = self.wants_announcements(peer);
        // A newcomer that listens gets the whole catalogue; otherwise only the listening
        // members need to hear about it.
        let members: Vec<PeerId> = if newcomer_listens {
            self.agm_members.values().cloned().collect()
        } else {
            self.agm_listeners.values().cloned().collect()
        };
        for member in members {
            if !self.sees(peer, &member) {
                continue;
            }
            if newcomer_listens && let Some(added) = self.peer_added(peer, &member) {
                self.push(conn, added);
            }
            if self.wants_announcements(&member)
                && let Some(added) = self.peer_added(&member, peer)
            {
                self.deliver(&member, added);
            }
            if newcomer_listens {
                let methods = self
                    .peers
                    .get(&member)
                    .map(|state| state.methods.clone())
                    .unwrap_or_default();
                if !methods.is_empty() {
                    self.push(conn, methods_added(peer, &member, methods));
                }
            }
        }
        self.next_agm_seq_mut(peer);
        self.push(conn, success(Domain::Agm, request_id, peer));
    }

    fn next_agm_seq_mut(&mut self, peer: &PeerId) {
        self.next_agm_seq += 1;
        let sequence = self.next_agm_seq;
        if let Some(state) = self.peers.get_mut(peer) {
            state.agm = Some(sequence);
            self.agm_members.insert(sequence, peer.clone());
            if self.wants_announcements(peer) {
                self.agm_listeners.insert(sequence, peer.clone());
            }
        }
    }

    /// Takes `peer` out of `agm`: its callers get "Peer has left while waiting for result",
    /// its subscribers `subscription-cancelled`, its servers `remove-interest`, and every
    /// visible member `methods-removed` (if it had methods) then `peer-removed`.
    pub(crate) fn remove_from_agm(&mut self, peer: &PeerId) {
        let Some(sequence) = self.peers.get(peer).and_then(|state| state.agm) else {
            return;
        };
        // Its own subscriptions to other servers end.
        let own: Vec<SubscriptionId> = self
            .subscriptions
            .iter()
            .filter(|(_, subscription)| &subscription.subscriber == peer)
            .map(|(id, _)| id.clone())
            .collect();
        for id in own {
            if let Some(subscription) = self.subscriptions.remove(&id)
                && &subscription.server != peer
            {
                self.send_remove_interest(
                    &id,
                    &subscription,
                    Some(PEER_REMOVED_URI.into()),
                    Some(PEER_REMOVED_REASON.into()),
                );
            }
        }
        // Calls it made are forgotten: a late yield is dropped.
        self.invocations
            .retain(|_, invocation| &invocation.caller != peer);
        // Calls it was serving fail.
        let failed: Vec<InvocationId> = self
            .invocations
            .iter()
            .filter(|(_, invocation)| &invocation.server == peer)
            .map(|(id, _)| id.clone())
            .collect();
        for id in failed {
            if let Some(invocation) = self.invocations.remove(&id) {
                self.deliver(
                    &invocation.caller.clone(),
                    error_message(
                        Domain::Agm,
                        invocation.caller_request,
                        Some(invocation.caller),
                        reasons::INVOCATION_FAILURE,
                        reasons::PEER_LEFT_REASON.into(),
                    ),
                );
            }
        }
        // Streams it was serving are cancelled.
        let served: Vec<SubscriptionId> = self
            .subscriptions
            .iter()
            .filter(|(_, subscription)| &subscription.server == peer)
            .map(|(id, _)| id.clone())
            .collect();
        for id in served {
            if let Some(subscription) = self.subscriptions.remove(&id) {
                self.deliver(
                    &subscription.subscriber.clone(),
                    subscription_cancelled(
                        &subscription.subscriber,
                        id,
                        PEER_REMOVED_URI,
                        PEER_REMOVED_REASON,
                    ),
                );
            }
        }
        self.agm_members.remove(&sequence);
        self.agm_listeners.remove(&sequence);
        let method_ids: Vec<MethodId> = self
            .peers
            .get_mut(peer)
            .map(|state| {
                state.agm = None;
                std::mem::take(&mut state.methods)
                    .into_iter()
                    .map(|method| method.id)
                    .collect()
            })
            .unwrap_or_default();
        let members: Vec<PeerId> = self.agm_listeners.values().cloned().collect();
        for member in members {
            if !self.sees(peer, &member) {
                continue;
            }
            if !method_ids.is_empty() {
                self.deliver(&member, methods_removed(&member, peer, method_ids.clone()));
            }
            self.deliver(
                &member,
                Gw3Message::PeerRemoved(PeerRemoved {
                    domain: Some(Domain::Agm),
                    peer_id: Some(member.clone()),
                    reason_uri: None,
                    reason: None,
                    removed_id: peer.clone(),
                }),
            );
        }
    }

    /// Adds `register.methods` to `peer`'s methods. Like the real gateway, a method id that is
    /// already registered (earlier or in the same message) is **replaced** by the new
    /// definition, and every definition is announced as sent.
    fn register(&mut self, conn: ConnId, peer: &PeerId, register: Register) {
        if let Some(method) = register
            .methods
            .iter()
            .find(|method| method.name.trim().is_empty())
        {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    register.envelope.request_id.clone(),
                    Some(peer.clone()),
                    reasons::REGISTRATION_FAILURE,
                    format!("Method with id {} has no name", method.id),
                ),
            );
            return;
        }
        if let Some(state) = self.peers.get_mut(peer) {
            let mut position: HashMap<String, usize> = state
                .methods
                .iter()
                .enumerate()
                .map(|(index, method)| (method.id.key(), index))
                .collect();
            for method in &register.methods {
                if let Some(existing) = position
                    .get(&method.id.key())
                    .and_then(|index| state.methods.get_mut(*index))
                {
                    *existing = method.clone();
                } else {
                    position.insert(method.id.key(), state.methods.len());
                    state.methods.push(method.clone());
                }
            }
        }
        if !register.methods.is_empty() {
            let members: Vec<PeerId> = self.agm_listeners.values().cloned().collect();
            for member in members {
                if &member == peer || !self.sees(peer, &member) {
                    continue;
                }
                self.deliver(
                    &member,
                    methods_added(&member, peer, register.methods.clone()),
                );
            }
            if self.wants_announcements(peer) {
                self.push(conn, methods_added(peer, peer, register.methods));
            }
        }
        self.push(
            conn,
            success(Domain::Agm, register.envelope.request_id, peer),
        );
    }

    fn unregister(&mut self, conn: ConnId, peer: &PeerId, unregister: Unregister) {
        let registered: BTreeSet<String> = self
            .peers
            .get(peer)
            .map(|state| state.methods.iter().map(|method| method.id.key()).collect())
            .unwrap_or_default();
        if let Some(missing) = unregister
            .methods
            .iter()
            .find(|id| !registered.contains(&id.key()))
        {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    unregister.envelope.request_id,
                    Some(peer.clone()),
                    reasons::UNREGISTRATION_FAILURE,
                    format!("Unable to unregister missing method {missing}"),
                ),
            );
            return;
        }
        let removed: BTreeSet<String> = unregister.methods.iter().map(MethodId::key).collect();
        if let Some(state) = self.peers.get_mut(peer) {
            state
                .methods
                .retain(|method| !removed.contains(&method.id.key()));
        }
        let cancelled: Vec<SubscriptionId> = self
            .subscriptions
            .iter()
            .filter(|(_, subscription)| {
                &subscription.server == peer && removed.contains(&subscription.method_id.key())
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in cancelled {
            if let Some(subscription) = self.subscriptions.remove(&id) {
                self.send_remove_interest(
                    &id,
                    &subscription,
                    Some(METHOD_REMOVED_URI.into()),
                    Some(METHOD_REMOVED_REASON.into()),
                );
                self.deliver(
                    &subscription.subscriber.clone(),
                    subscription_cancelled(
                        &subscription.subscriber,
                        id,
                        METHOD_REMOVED_URI,
                        METHOD_REMOVED_REASON,
                    ),
                );
            }
        }
        if !unregister.methods.is_empty() {
            let members: Vec<PeerId> = self.agm_listeners.values().cloned().collect();
            for member in members {
                if &member == peer || !self.sees(peer, &member) {
                    continue;
                }
                self.deliver(
                    &member,
                    methods_removed(&member, peer, unregister.methods.clone()),
                );
            }
            if self.wants_announcements(peer) {
                self.push(conn, methods_removed(peer, peer, unregister.methods));
            }
        }
        self.push(
            conn,
            success(Domain::Agm, unregister.envelope.request_id, peer),
        );
    }

    /// Checks that `caller` may call `method_id` on `server`; the error reason otherwise.
    fn validate_call(
        &self,
        caller: &PeerId,
        server: &PeerId,
        method_id: &MethodId,
        positional_and_named: bool,
    ) -> Result<(), (&'static str, String)> {
        let Some(server_state) = self.peers.get(server).filter(|state| state.agm.is_some()) else {
            return Err((
                AGM_FAILURE,
                format!("Unable to find peer with id {server} in domain agm"),
            ));
        };
        if caller != server && !self.sees(caller, server) {
            return Err((
                reasons::INVOCATION_FAILURE,
                "Unable to invoke methods across different users".into(),
            ));
        }
        if !server_state
            .methods
            .iter()
            .any(|method| &method.id == method_id)
        {
            return Err((
                reasons::INVOCATION_FAILURE,
                format!(
                    "Unable to find method with id {method_id} on server id {server} registered with this peer"
                ),
            ));
        }
        if positional_and_named {
            return Err((
                reasons::INVOCATION_FAILURE,
                "Cant use positional and by-name arguments at the same time".into(),
            ));
        }
        Ok(())
    }

    fn call(&mut self, conn: ConnId, caller: &PeerId, call: Call) {
        let both = call.arguments.as_ref().is_some_and(|args| !args.is_empty())
            && call
                .arguments_kv
                .as_ref()
                .is_some_and(|args| !args.is_empty());
        if let Err((uri, reason)) =
            self.validate_call(caller, &call.server_id, &call.method_id, both)
        {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    call.envelope.request_id,
                    Some(caller.clone()),
                    uri,
                    reason,
                ),
            );
            return;
        }
        let invocation_id = InvocationId::new(self.mint_request_id());
        self.invocations.insert(
            invocation_id.clone(),
            Invocation {
                caller: caller.clone(),
                caller_request: call.envelope.request_id,
                server: call.server_id.clone(),
            },
        );
        self.deliver(
            &call.server_id,
            Gw3Message::Invoke(Invoke {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    peer_id: Some(call.server_id.clone()),
                    ..Envelope::default()
                },
                invocation_id,
                caller_id: Some(caller.clone()),
                method_id: call.method_id,
                arguments_kv: call.arguments_kv,
                arguments: call.arguments,
                context: call.context,
            }),
        );
    }

    fn yield_result(&mut self, server: &PeerId, reply: Yield) {
        let known = self
            .invocations
            .get(&reply.invocation_id)
            .is_some_and(|invocation| &invocation.server == server);
        if !known {
            tracing::debug!(invocation = %reply.invocation_id, "yield for an unknown invocation dropped");
            return;
        }
        if let Some(invocation) = self.invocations.remove(&reply.invocation_id) {
            let result = reply.result.unwrap_or_else(|| Value::Object(Map::new()));
            self.deliver(
                &invocation.caller.clone(),
                Gw3Message::Result(CallResult {
                    envelope: Envelope {
                        domain: Some(Domain::Agm),
                        request_id: invocation.caller_request,
                        peer_id: Some(invocation.caller),
                        ..Envelope::default()
                    },
                    result,
                }),
            );
        }
    }

    /// An `error` from a server: a failed invocation (`request_id` = invocation id) or a
    /// rejected subscription (`request_id` = subscription id).
    fn server_error(&mut self, conn: ConnId, server: &PeerId, error: ErrorMessage) {
        let Some(id) = error.request_id.clone() else {
            tracing::debug!("error message without request_id from a peer dropped");
            return;
        };
        let invocation_id = InvocationId::new(id.as_str());
        if self
            .invocations
            .get(&invocation_id)
            .is_some_and(|invocation| &invocation.server == server)
        {
            if let Some(invocation) = self.invocations.remove(&invocation_id) {
                self.deliver(
                    &invocation.caller.clone(),
                    Gw3Message::Error(ErrorMessage {
                        domain: Some(Domain::Agm),
                        request_id: invocation.caller_request,
                        peer_id: Some(invocation.caller),
                        reason_uri: error.reason_uri,
                        reason: error.reason,
                        context: error.context,
                    }),
                );
            }
            return;
        }
        let subscription_id = SubscriptionId::new(id.as_str());
        if self
            .subscriptions
            .get(&subscription_id)
            .is_some_and(|subscription| &subscription.server == server)
        {
            if let Some(subscription) = self.subscriptions.remove(&subscription_id) {
                self.deliver(
                    &subscription.subscriber.clone(),
                    Gw3Message::Error(ErrorMessage {
                        domain: Some(Domain::Agm),
                        request_id: subscription.request_id,
                        peer_id: Some(subscription.subscriber),
                        reason_uri: error.reason_uri,
                        reason: error.reason,
                        context: error.context,
                    }),
                );
            }
            return;
        }
        self.push(
            conn,
            error_message(
                Domain::Agm,
                Some(id),
                Some(server.clone()),
                INVALID_SUBSCRIPTION,
                "Trying to drop a non-existing subscription".into(),
            ),
        );
    }

    /// Doc §6: peers see each other iff their users are equal (both none counts) or either is
    /// a service peer. Join/method `restrictions` are not evaluated.
    pub(crate) fn sees(&self, a: &PeerId, b: &PeerId) -> bool {
        match (self.peers.get(a), self.peers.get(b)) {
            (Some(a), Some(b)) => {
                a.principal.service || b.principal.service || a.principal.user == b.principal.user
            }
            _ => false,
        }
    }

    /// `peer-added` telling `recipient` about `added`.
    fn peer_added(&self, recipient: &PeerId, added: &PeerId) -> Option<Gw3Message> {
        let identity = self.peers.get(added)?.identity.clone();
        Some(Gw3Message::PeerAdded(PeerAdded {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: Some(recipient.clone()),
                ..Envelope::default()
            },
            new_peer_id: added.clone(),
            identity,
            meta: Some(PeerMeta { local: true }),
        }))
    }
}

fn methods_added(
    recipient: &PeerId,
    server: &PeerId,
    methods: Vec<MethodDefinition>,
) -> Gw3Message {
    Gw3Message::MethodsAdded(MethodsAdded {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            peer_id: Some(recipient.clone()),
            ..Envelope::default()
        },
        source_type: Some("local".into()),
        server_id: server.clone(),
        methods,
    })
}

fn methods_removed(recipient: &PeerId, server: &PeerId, methods: Vec<MethodId>) -> Gw3Message {
    Gw3Message::MethodsRemoved(MethodsRemoved {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            peer_id: Some(recipient.clone()),
            ..Envelope::default()
        },
        server_id: server.clone(),
        methods,
    })
}
