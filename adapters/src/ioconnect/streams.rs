//! io.Connect stream subscriptions (GW3 `agm` streams; frames in `docs/streams-wire.md`).
//!
//! The handle sends `Command::Subscribe`; the link sends `subscribe` and keeps the request in
//! [`StreamTable`] until `subscribed` (the subscription is live: its events are forwarded) or an
//! `error` (refused). `event`s go to the subscription's receiver, `subscription-cancelled` ends
//! it. A subscription whose [`Subscription`] was dropped is closed with `unsubscribe`: the
//! handle's `Drop` sends `Command::Unsubscribe`, and an `event` or `subscribed` for a receiver
//! that is gone (the caller gave up while the server was still accepting) closes it too. A
//! dropped session drops every sender, so receivers see the connection end.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use codemode_protocol::{
    MethodId, PeerId, RequestId, SubscriptionId,
    gw3::{Domain, Envelope, ErrorMessage, Gw3Message, Subscribe, Unsubscribe},
};

use super::{IoConnectBus, connection::Command, connection::error_text};
use crate::{
    Subscribe as SubscribeCapability,
    error::BusError,
    model::{CallOptions, Target},
    streams::{StreamEvent, Subscription},
};

/// Items a subscription may hold unread before newer ones are dropped.
const QUEUE: usize = 4096;

/// The reason sent with our `unsubscribe`, as the JS clients send it.
const CLIENT_INITIATED: &str = "ClientInitiated";

/// A `subscribe` waiting for its `subscribed`.
struct Opening {
    method: String,
    events: mpsc::Sender<StreamEvent>,
    responder: oneshot::Sender<Result<SubscriptionId, BusError>>,
}

/// One session's subscriptions: those being opened, by request id, and the live ones.
#[derive(Default)]
pub(crate) struct StreamTable {
    opening: HashMap<RequestId, Opening>,
    live: HashMap<SubscriptionId, mpsc::Sender<StreamEvent>>,
}

impl StreamTable {
    /// Records a subscribe about to be sent; returns its frame.
    pub(crate) fn open(&mut self, peer_id: &PeerId, request: SubscribeRequest) -> Gw3Message {
        // Callers that gave up before their server answered leave nothing behind.
        self.opening
            .retain(|_, opening| !opening.responder.is_closed());
        let request_id = RequestId::random();
        self.opening.insert(
            request_id.clone(),
            Opening {
                method: request.method,
                events: request.events,
                responder: request.responder,
            },
        );
        Gw3Message::Subscribe(Subscribe {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id),
                peer_id: Some(peer_id.clone()),
                ..Envelope::default()
            },
            server_id: request.server_id,
            method_id: request.method_id,
            arguments_kv: Some(request.arguments),
            flags: None,
            context: None,
        })
    }

    /// Whether `request_id` is a subscribe of ours still waiting.
    pub(crate) fn is_opening(&self, request_id: &RequestId) -> bool {
        self.opening.contains_key(request_id)
    }

    /// `subscribed`: the subscription is live. Returns an `unsubscribe` to send when its caller
    /// is already gone.
    pub(crate) fn subscribed(
        &mut self,
        peer_id: &PeerId,
        request_id: &RequestId,
        subscription_id: SubscriptionId,
    ) -> Option<Gw3Message> {
        let opening = self.opening.remove(request_id)?;
        if opening.responder.send(Ok(subscription_id.clone())).is_err() {
            tracing::debug!(subscription = %subscription_id, "closing a subscription its caller gave up on");
            return Some(unsubscribe(peer_id, subscription_id));
        }
        self.live.insert(subscription_id, opening.events);
        None
    }

    /// An `error` answering one of our subscribes.
    pub(crate) fn refused(&mut self, error: &ErrorMessage) {
        let Some(opening) = error
            .request_id
            .as_ref()
            .and_then(|id| self.opening.remove(id))
        else {
            return;
        };
        let _ = opening.responder.send(Err(BusError::InvocationFailed {
            method: opening.method,
            reason_uri: error.reason_uri.clone(),
            reason: error_text(error),
            context: error.context.clone(),
        }));
    }

    /// An `event`: forwarded to its subscription. Returns an `unsubscribe` to send when its
    /// receiver is gone.
    pub(crate) fn event(
        &mut self,
        peer_id: &PeerId,
        subscription_id: &SubscriptionId,
        data: Value,
    ) -> Option<Gw3Message> {
        let sender = self.live.get(subscription_id)?;
        match sender.try_send(StreamEvent::Item(data)) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!(subscription = %subscription_id, "dropping an item nobody reads yet");
                None
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.live.remove(subscription_id);
                Some(unsubscribe(peer_id, subscription_id.clone()))
            }
        }
    }

    /// `subscription-cancelled`: the server or gateway ended it.
    pub(crate) fn cancelled(&mut self, subscription_id: &SubscriptionId, reason: String) {
        if let Some(sender) = self.live.remove(subscription_id) {
            let _ = sender.try_send(StreamEvent::Cancelled { reason });
        }
    }

    /// Our caller dropped its subscription: the `unsubscribe` to send, if it is still live in
    /// this session (one from an earlier session is gone with it).
    pub(crate) fn close(
        &mut self,
        peer_id: &PeerId,
        subscription_id: SubscriptionId,
    ) -> Option<Gw3Message> {
        self.live
            .remove(&subscription_id)
            .map(|_| unsubscribe(peer_id, subscription_id))
    }
}

/// What `Command::Subscribe` carries.
pub(crate) struct SubscribeRequest {
    pub(crate) method: String,
    pub(crate) server_id: PeerId,
    pub(crate) method_id: MethodId,
    pub(crate) arguments: Map<String, Value>,
    pub(crate) events: mpsc::Sender<StreamEvent>,
    pub(crate) responder: oneshot::Sender<Result<SubscriptionId, BusError>>,
}

fn unsubscribe(peer_id: &PeerId, subscription_id: SubscriptionId) -> Gw3Message {
    Gw3Message::Unsubscribe(Unsubscribe {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            // As the JS clients do; the gateway's `success` for it is ignored.
            request_id: Some(RequestId::random()),
            peer_id: Some(peer_id.clone()),
            reason_uri: Some(String::new()),
            reason: Some(CLIENT_INITIATED.into()),
        },
        subscription_id,
    })
}

#[async_trait]
impl SubscribeCapability for IoConnectBus {
    async fn subscribe(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Subscription, BusError> {
        let target = match target {
            Target::All => &Target::Best,
            other => other,
        };
        let endpoint = self
            .endpoints(method, target, options.wait_for_method)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| BusError::MethodNotFound {
                method: method.to_owned(),
            })?;
        let (events, receiver) = mpsc::channel(QUEUE);
        let (responder, reply) = oneshot::channel();
        let gone = || BusError::Disconnected {
            reason: Some("the bus connection is closed".into()),
        };
        self.link
            .send(Command::Subscribe(SubscribeRequest {
                method: method.to_owned(),
                server_id: PeerId::new(endpoint.server.peer_id.clone()),
                method_id: endpoint.method_id.clone(),
                arguments,
                events,
                responder,
            }))
            .await
            .map_err(|_| gone())?;
        let subscription_id = match tokio::time::timeout(options.timeout, reply).await {
            Err(_) => {
                return Err(BusError::Timeout {
                    method: method.to_owned(),
                    after: options.timeout,
                });
            }
            Ok(reply) => reply.map_err(|_| gone())??,
        };
        let link = self.link.downgrade();
        let id = subscription_id.clone();
        Ok(Subscription::new(
            subscription_id.as_str(),
            receiver,
            move || link.send_now(Command::Unsubscribe(id)),
        ))
    }
}
