//! Contract cases of GW3 `agm` streams beyond the first event (which
//! `streams_deliver_published_data_to_subscribers` covers): the frames `docs/streams-wire.md`
//! shows for closing, cancelling, refusing and posting, and the adapter's own subscription, on
//! the real gateway and on the mock bus.

use std::time::Duration;

use codemode_adapters::{Bus, CallOptions, CollectEnd, Target, ioconnect::IoConnectBus};
use codemode_protocol::{
    MethodId, RequestId, SubscriptionId,
    gw3::{
        Accepted, AddInterest, Authentication, Domain, DropSubscription, Envelope, ErrorMessage,
        Gw3Message, Post, Publish, Subscribe, Unsubscribe,
    },
};
use codemode_tests::raw::{RawPeer, method};
use serde_json::{Value, json};

use super::{ContractBus, joined, mock_bus, real_gateway};

contract!(
    unsubscribing_removes_the_interest_at_the_server,
    a_subscribers_disconnect_removes_its_interest,
    a_dropped_subscription_is_cancelled_for_the_subscriber,
    a_refused_subscription_is_an_error_for_the_subscribe,
    a_posted_item_reaches_its_subscriber_out_of_band,
    the_adapter_collects_a_stream_and_its_drop_unsubscribes,
);

fn agm(peer: &RawPeer) -> Envelope {
    Envelope {
        domain: Some(Domain::Agm),
        peer_id: peer.peer_id.clone(),
        ..Envelope::default()
    }
}

/// A streaming server with `Contract.Prices` as method id "0", and a joined client.
async fn streamer_and_client(bus: &ContractBus) -> (RawPeer, RawPeer) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractStreamer").await;
    let mut prices = method("0", "Contract.Prices", "String symbol", "Double price");
    prices.flags.streaming = true;
    server.register(vec![prices]).await;
    let client = joined(bus, &user, "ContractClient").await;
    (server, client)
}

/// Sends `subscribe` from `client`; its request id and the server's `add-interest`.
async fn subscribe(client: &mut RawPeer, server: &mut RawPeer) -> (RequestId, AddInterest) {
    let request_id = RequestId::random();
    client
        .send(&Gw3Message::Subscribe(Subscribe {
            envelope: Envelope {
                request_id: Some(request_id.clone()),
                ..agm(client)
            },
            server_id: server.peer_id.clone().expect("server id"),
            method_id: MethodId::new(json!("0")),
            arguments_kv: json!({"symbol": "VOD.L"}).as_object().cloned(),
            flags: None,
            context: None,
        }))
        .await;
    let Gw3Message::AddInterest(interest) = server
        .expect("add-interest", |m| matches!(m, Gw3Message::AddInterest(_)))
        .await
    else {
        unreachable!()
    };
    assert_eq!(interest.caller_id, client.peer_id, "{interest:?}");
    assert_eq!(
        interest.arguments_kv,
        json!({"symbol": "VOD.L"}).as_object().cloned()
    );
    (request_id, interest)
}

/// The server accepts on branch "0"; the client's `subscribed` names the subscription.
async fn accept(
    client: &mut RawPeer,
    server: &mut RawPeer,
    request_id: &RequestId,
    subscription_id: &SubscriptionId,
) {
    server
        .send(&Gw3Message::Accepted(Accepted {
            envelope: agm(server),
            subscription_id: subscription_id.clone(),
            stream_id: Some("0".into()),
        }))
        .await;
    let subscribed = client
        .expect("subscribed", |m| m.request_id() == Some(request_id))
        .await;
    let Gw3Message::Subscribed(subscribed) = subscribed else {
        panic!("expected subscribed, got {subscribed:?}")
    };
    assert_eq!(&subscribed.subscription_id, subscription_id);
}

async fn expect_remove_interest(server: &mut RawPeer, subscription_id: &SubscriptionId) -> Value {
    let removed = server
        .expect("remove-interest", |m| {
            matches!(m, Gw3Message::RemoveInterest(removed) if &removed.subscription_id == subscription_id)
        })
        .await;
    let Gw3Message::RemoveInterest(removed) = &removed else {
        unreachable!()
    };
    assert_eq!(removed.method_id, Some(MethodId::new(json!("0"))));
    serde_json::to_value(removed).expect("serialize")
}

async fn unsubscribing_removes_the_interest_at_the_server(bus: &ContractBus) {
    let (mut server, mut client) = streamer_and_client(bus).await;
    let (request_id, interest) = subscribe(&mut client, &mut server).await;
    accept(
        &mut client,
        &mut server,
        &request_id,
        &interest.subscription_id,
    )
    .await;
    client
        .send(&Gw3Message::Unsubscribe(Unsubscribe {
            envelope: Envelope {
                reason_uri: Some(String::new()),
                reason: Some("ClientInitiated".into()),
                ..agm(&client)
            },
            subscription_id: interest.subscription_id.clone(),
        }))
        .await;
    let removed = expect_remove_interest(&mut server, &interest.subscription_id).await;
    assert_eq!(removed["caller_id"], json!(client.peer_id), "{removed}");
    assert_eq!(removed["reason"], json!("ClientInitiated"), "{removed}");
}

async fn a_subscribers_disconnect_removes_its_interest(bus: &ContractBus) {
    let (mut server, mut client) = streamer_and_client(bus).await;
    let (request_id, interest) = subscribe(&mut client, &mut server).await;
    accept(
        &mut client,
        &mut server,
        &request_id,
        &interest.subscription_id,
    )
    .await;
    drop(client);
    expect_remove_interest(&mut server, &interest.subscription_id).await;
}

async fn a_dropped_subscription_is_cancelled_for_the_subscriber(bus: &ContractBus) {
    let (mut server, mut client) = streamer_and_client(bus).await;
    let (request_id, interest) = subscribe(&mut client, &mut server).await;
    accept(
        &mut client,
        &mut server,
        &request_id,
        &interest.subscription_id,
    )
    .await;
    server
        .send(&Gw3Message::DropSubscription(DropSubscription {
            envelope: Envelope {
                reason: Some("market closed".into()),
                ..agm(&server)
            },
            subscription_id: interest.subscription_id.clone(),
        }))
        .await;
    let cancelled = client
        .expect("subscription-cancelled", |m| {
            matches!(m, Gw3Message::SubscriptionCancelled(_))
        })
        .await;
    let Gw3Message::SubscriptionCancelled(cancelled) = cancelled else {
        unreachable!()
    };
    assert_eq!(cancelled.subscription_id, interest.subscription_id);
    assert_eq!(cancelled.envelope.reason.as_deref(), Some("market closed"));
}

async fn a_refused_subscription_is_an_error_for_the_subscribe(bus: &ContractBus) {
    let (mut server, mut client) = streamer_and_client(bus).await;
    let (request_id, interest) = subscribe(&mut client, &mut server).await;
    server
        .send(&Gw3Message::Error(ErrorMessage {
            domain: Some(Domain::Agm),
            request_id: Some(RequestId::new(interest.subscription_id.as_str())),
            peer_id: server.peer_id.clone(),
            reason_uri: Some("agm.errors.client_error".into()),
            reason: Some("unknown symbol".into()),
            context: None,
        }))
        .await;
    let reply = client
        .expect("the error for the subscribe", |m| {
            m.request_id() == Some(&request_id)
        })
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(error.reason.as_deref(), Some("unknown symbol"), "{error:?}");
}

async fn a_posted_item_reaches_its_subscriber_out_of_band(bus: &ContractBus) {
    let (mut server, mut client) = streamer_and_client(bus).await;
    let (request_id, interest) = subscribe(&mut client, &mut server).await;
    accept(
        &mut client,
        &mut server,
        &request_id,
        &interest.subscription_id,
    )
    .await;
    server
        .send(&Gw3Message::Post(Post {
            envelope: agm(&server),
            subscription_id: interest.subscription_id.clone(),
            data: json!({"price": 1.5}),
        }))
        .await;
    let Gw3Message::Event(event) = client
        .expect("event", |m| matches!(m, Gw3Message::Event(_)))
        .await
    else {
        unreachable!()
    };
    assert!(event.oob, "{event:?}");
    assert_eq!(event.subscription_id, interest.subscription_id);
    assert_eq!(event.data, json!({"price": 1.5}));
}

async fn the_adapter_collects_a_stream_and_its_drop_unsubscribes(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractStreamer").await;
    let mut prices = method("0", "Contract.Prices", "String symbol", "Double price");
    prices.flags.streaming = true;
    server.register(vec![prices]).await;
    let adapter = IoConnectBus::connect(codemode_adapters::ioconnect::IoConnectConfig::new(
        bus.url.clone(),
        Authentication::secret(&user, "secret"),
    ))
    .await
    .expect("adapter connects");
    let bus_handle: &dyn Bus = &adapter;
    let subscribing = bus_handle.subscribe(
        "Contract.Prices",
        json!({"symbol": "VOD.L"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        &Target::Best,
        CallOptions {
            timeout: Duration::from_secs(10),
            wait_for_method: Duration::from_secs(5),
            ..CallOptions::default()
        },
    );
    let serving = async {
        let Gw3Message::AddInterest(interest) = server
            .expect("add-interest", |m| matches!(m, Gw3Message::AddInterest(_)))
            .await
        else {
            unreachable!()
        };
        server
            .send(&Gw3Message::Accepted(Accepted {
                envelope: agm(&server),
                subscription_id: interest.subscription_id.clone(),
                stream_id: Some("VOD.L".into()),
            }))
            .await;
        interest
    };
    let (subscription, interest) = tokio::join!(subscribing, serving);
    let mut subscription = subscription.expect("the adapter subscribes");
    assert_eq!(subscription.id(), interest.subscription_id.as_str());
    // Not whole numbers: the real gateway is JavaScript and sends 1.0 back as 1.
    for price in [1.25, 2.5, 3.75] {
        server
            .send(&Gw3Message::Publish(Publish {
                envelope: agm(&server),
                stream_id: Some("VOD.L".into()),
                data: json!({"price": price}),
            }))
            .await;
    }
    let collected = subscription
        .collect(2, Duration::from_secs(10), usize::MAX)
        .await;
    assert_eq!(
        collected.items,
        vec![json!({"price": 1.25}), json!({"price": 2.5})]
    );
    assert_eq!(collected.end, CollectEnd::Count);
    drop(subscription);
    let removed = expect_remove_interest(&mut server, &interest.subscription_id).await;
    assert_eq!(removed["reason"], json!("ClientInitiated"), "{removed}");
    adapter.close().await;
}
