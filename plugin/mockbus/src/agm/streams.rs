//! The `agm` domain's streams: subscribe, accept, publish, post, unsubscribe and dropped
//! subscriptions, as another `impl Gateway` block.

use serde_json::Value;

use codemode_protocol::{
    PeerId, RequestId, SubscriptionId,
    gw3::{
        Accepted, AddInterest, Domain, DropSubscription, Envelope, Event, Gw3Message, Post,
        Publish, RemoveInterest, Subscribe, Subscribed, SubscriptionCancelled, Unsubscribe,
    },
};

use crate::gateway::{ConnId, Gateway, Subscription, error_message, success};

use super::INVALID_SUBSCRIPTION;

impl Gateway {
    pub(super) fn subscribe(&mut self, conn: ConnId, subscriber: &PeerId, subscribe: Subscribe) {
        if let Err((uri, reason)) = self.validate_call(
            subscriber,
            &subscribe.server_id,
            &subscribe.method_id,
            false,
        ) {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    subscribe.envelope.request_id,
                    Some(subscriber.clone()),
                    uri,
                    reason,
                ),
            );
            return;
        }
        let subscription_id = SubscriptionId::new(self.mint_request_id());
        self.subscriptions.insert(
            subscription_id.clone(),
            Subscription {
                subscriber: subscriber.clone(),
                request_id: subscribe.envelope.request_id,
                server: subscribe.server_id.clone(),
                method_id: subscribe.method_id.clone(),
                stream: None,
            },
        );
        self.deliver(
            &subscribe.server_id,
            Gw3Message::AddInterest(AddInterest {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    peer_id: Some(subscribe.server_id.clone()),
                    ..Envelope::default()
                },
                caller_id: Some(subscriber.clone()),
                subscription_id,
                method_id: subscribe.method_id,
                arguments_kv: subscribe.arguments_kv,
                arguments: None,
                flags: subscribe.flags,
                context: subscribe.context,
            }),
        );
    }

    pub(super) fn accepted(&mut self, conn: ConnId, server: &PeerId, accepted: Accepted) {
        let Some(stream) = accepted.stream_id else {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    Some(RequestId::new(accepted.subscription_id.as_str())),
                    Some(server.clone()),
                    INVALID_SUBSCRIPTION,
                    "Invalid or missing stream id".into(),
                ),
            );
            return;
        };
        let Some(subscription) = self
            .subscriptions
            .get_mut(&accepted.subscription_id)
            .filter(|subscription| &subscription.server == server)
        else {
            tracing::debug!(subscription = %accepted.subscription_id, "accepted for a missing interest");
            return;
        };
        subscription.stream = Some(stream);
        let subscriber = subscription.subscriber.clone();
        let request_id = subscription.request_id.clone();
        self.deliver(
            &subscriber,
            Gw3Message::Subscribed(Subscribed {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    request_id,
                    peer_id: Some(subscriber.clone()),
                    ..Envelope::default()
                },
                subscription_id: accepted.subscription_id,
            }),
        );
    }

    pub(super) fn publish(&mut self, server: &PeerId, publish: Publish) {
        let Some(stream) = publish.stream_id else {
            return;
        };
        let targets: Vec<(SubscriptionId, PeerId)> = self
            .subscriptions
            .iter()
            .filter(|(_, subscription)| {
                &subscription.server == server && subscription.stream.as_ref() == Some(&stream)
            })
            .map(|(id, subscription)| (id.clone(), subscription.subscriber.clone()))
            .collect();
        for (subscription_id, subscriber) in targets {
            self.deliver(
                &subscriber,
                event(&subscriber, subscription_id, false, publish.data.clone()),
            );
        }
    }

    pub(super) fn post(&mut self, server: &PeerId, post: Post) {
        let Some(subscriber) = self
            .subscriptions
            .get(&post.subscription_id)
            .filter(|subscription| &subscription.server == server && subscription.stream.is_some())
            .map(|subscription| subscription.subscriber.clone())
        else {
            return;
        };
        self.deliver(
            &subscriber,
            event(&subscriber, post.subscription_id, true, post.data),
        );
    }

    pub(super) fn unsubscribe(
        &mut self,
        conn: ConnId,
        subscriber: &PeerId,
        unsubscribe: Unsubscribe,
    ) {
        let owned = self
            .subscriptions
            .get(&unsubscribe.subscription_id)
            .is_some_and(|subscription| &subscription.subscriber == subscriber);
        if !owned {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    unsubscribe.envelope.request_id,
                    Some(subscriber.clone()),
                    INVALID_SUBSCRIPTION,
                    format!(
                        "Unable to find subscription with id {} on subscriber id {subscriber}",
                        unsubscribe.subscription_id
                    ),
                ),
            );
            return;
        }
        if let Some(subscription) = self.subscriptions.remove(&unsubscribe.subscription_id) {
            self.send_remove_interest(
                &unsubscribe.subscription_id,
                &subscription,
                unsubscribe.envelope.reason_uri,
                unsubscribe.envelope.reason,
            );
        }
        self.push(
            conn,
            success(Domain::Agm, unsubscribe.envelope.request_id, subscriber),
        );
    }

    pub(super) fn drop_subscription(
        &mut self,
        conn: ConnId,
        server: &PeerId,
        drop: DropSubscription,
    ) {
        let state = self
            .subscriptions
            .get(&drop.subscription_id)
            .filter(|subscription| &subscription.server == server)
            .map(|subscription| subscription.stream.is_some());
        let refusal = match state {
            Some(true) => None,
            Some(false) => Some(
                "Trying to drop a subscription that wasnt established. Did you mean to return an error instead?",
            ),
            None => Some("Trying to drop a non-existing subscription"),
        };
        if let Some(reason) = refusal {
            self.push(
                conn,
                error_message(
                    Domain::Agm,
                    Some(RequestId::new(drop.subscription_id.as_str())),
                    Some(server.clone()),
                    INVALID_SUBSCRIPTION,
                    reason.into(),
                ),
            );
            return;
        }
        if let Some(subscription) = self.subscriptions.remove(&drop.subscription_id) {
            let subscriber = subscription.subscriber;
            self.deliver(
                &subscriber.clone(),
                Gw3Message::SubscriptionCancelled(SubscriptionCancelled {
                    envelope: Envelope {
                        domain: Some(Domain::Agm),
                        peer_id: Some(subscriber),
                        reason_uri: None,
                        reason: drop.envelope.reason,
                        ..Envelope::default()
                    },
                    subscription_id: drop.subscription_id,
                }),
            );
        }
    }

    pub(super) fn send_remove_interest(
        &mut self,
        id: &SubscriptionId,
        subscription: &Subscription,
        reason_uri: Option<String>,
        reason: Option<String>,
    ) {
        self.deliver(
            &subscription.server.clone(),
            Gw3Message::RemoveInterest(RemoveInterest {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    peer_id: Some(subscription.server.clone()),
                    reason_uri,
                    reason,
                    ..Envelope::default()
                },
                subscription_id: id.clone(),
                method_id: Some(subscription.method_id.clone()),
                caller_id: Some(subscription.subscriber.clone()),
            }),
        );
    }
}

pub(super) fn subscription_cancelled(
    recipient: &PeerId,
    subscription_id: SubscriptionId,
    reason_uri: &str,
    reason: &str,
) -> Gw3Message {
    Gw3Message::SubscriptionCancelled(SubscriptionCancelled {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            peer_id: Some(recipient.clone()),
            reason_uri: Some(reason_uri.into()),
            reason: Some(reason.into()),
            ..Envelope::default()
        },
        subscription_id,
    })
}

fn event(
    recipient: &PeerId,
    subscription_id: SubscriptionId,
    oob: bool,
    data: Value,
) -> Gw3Message {
    Gw3Message::Event(Event {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            peer_id: Some(recipient.clone()),
            ..Envelope::default()
        },
        subscription_id,
        oob,
        sequence: None,
        snapshot: None,
        data,
    })
}
