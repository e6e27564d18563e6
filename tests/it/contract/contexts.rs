//! Contract cases of the GW3 `context` domain (shared contexts and the channels io.Connect keeps
//! in them): the frames `docs/channels-wire.md` shows, on the real gateway and on the mock bus.
//! Each case creates its own uniquely named channel context, so cases share a bus safely.

use codemode_adapters::{Bus, ioconnect::IoConnectBus};
use codemode_protocol::{
    RequestId,
    gw3::{
        Authentication, ContextDelta, CreateContext, Domain, Envelope, Gw3Message,
        SubscribeContext, UpdateContext,
        context::{CHANNEL_PREFIX, broadcast_commands},
    },
};
use serde_json::{Value, json};

use super::{ContractBus, mock_bus, peer, real_gateway};
use codemode_tests::raw::RawPeer;

contract!(
    a_created_context_is_announced_subscribed_and_its_updates_reach_other_subscribers,
    subscribing_to_an_unknown_context_fails,
    the_adapter_lists_joins_reads_and_broadcasts_a_channel,
);

fn request(peer: &RawPeer) -> (RequestId, Envelope) {
    let request_id = RequestId::random();
    let envelope = Envelope {
        domain: Some(Domain::Global),
        request_id: Some(request_id.clone()),
        peer_id: peer.peer_id.clone(),
        ..Envelope::default()
    };
    (request_id, envelope)
}

/// Creates the channel context `___channel___<name>`; its id.
async fn create_channel(creator: &mut RawPeer, name: &str) -> String {
    let (request_id, envelope) = request(creator);
    let context_name = format!("{CHANNEL_PREFIX}{name}");
    creator
        .send(&Gw3Message::CreateContext(CreateContext {
            envelope,
            name: context_name.clone(),
            data: json!({"name": name, "meta": {"color": "red"}, "data": {}}),
            lifetime: Some("retained".into()),
        }))
        .await;
    let created = creator
        .expect("context-created", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::ContextCreated(created) = created else {
        panic!("expected context-created, got {created:?}")
    };
    let added = creator
        .expect(
            "context-added to the creator",
            |m| matches!(m, Gw3Message::ContextAdded(added) if added.name == context_name),
        )
        .await;
    let Gw3Message::ContextAdded(added) = added else {
        unreachable!()
    };
    assert_eq!(added.context_id, created.context_id);
    assert_eq!(added.creator_id, creator.peer_id, "{added:?}");
    created.context_id
}

async fn subscribe(peer: &mut RawPeer, context_id: &str) -> Gw3Message {
    let (request_id, envelope) = request(peer);
    peer.send(&Gw3Message::SubscribeContext(SubscribeContext {
        envelope,
        context_id: context_id.to_owned(),
    }))
    .await;
    peer.expect("the subscribe reply", |m| {
        m.request_id() == Some(&request_id)
    })
    .await
}

async fn a_created_context_is_announced_subscribed_and_its_updates_reach_other_subscribers(
    bus: &ContractBus,
) {
    let user = ContractBus::fresh_user();
    let name = format!("Contract-{}", uuid::Uuid::new_v4().simple());
    let mut creator = peer(bus, &user, "ContractPlatform").await;
    let context_id = create_channel(&mut creator, &name).await;

    // A peer logging in later hears of it right after its welcome, creator unknown.
    let mut reader = peer(bus, &user, "ContractReader").await;
    let added = reader
        .expect(
            "context-added after welcome",
            |m| matches!(m, Gw3Message::ContextAdded(added) if added.context_id == context_id),
        )
        .await;
    let Gw3Message::ContextAdded(added) = added else {
        unreachable!()
    };
    assert_eq!(added.creator_id, None, "{added:?}");
    assert_eq!(added.name, format!("{CHANNEL_PREFIX}{name}"));

    let Gw3Message::SubscribedContext(subscribed) = subscribe(&mut reader, &context_id).await
    else {
        panic!("expected subscribed-context")
    };
    assert_eq!(
        subscribed.data,
        json!({"name": name, "meta": {"color": "red"}, "data": {}})
    );

    // The reader broadcasts an instrument as @interopio/desktop does; the creator hears it.
    let instrument = json!({"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}});
    let delta = ContextDelta {
        commands: broadcast_commands(&instrument),
        ..ContextDelta::default()
    };
    let (request_id, envelope) = request(&reader);
    reader
        .send(&Gw3Message::UpdateContext(UpdateContext {
            envelope,
            context_id: context_id.clone(),
            delta: delta.clone(),
        }))
        .await;
    let reply = reader
        .expect("the update reply", |m| m.request_id() == Some(&request_id))
        .await;
    assert!(matches!(reply, Gw3Message::Success(_)), "{reply:?}");
    let updated = creator
        .expect("context-updated", |m| {
            matches!(m, Gw3Message::ContextUpdated(_))
        })
        .await;
    let Gw3Message::ContextUpdated(updated) = updated else {
        unreachable!()
    };
    assert_eq!(updated.context_id, context_id);
    assert_eq!(updated.updater_id, reader.peer_id);
    assert_eq!(updated.delta, delta);

    // A new subscriber reads the updated value.
    let mut late = peer(bus, &user, "ContractLate").await;
    let Gw3Message::SubscribedContext(subscribed) = subscribe(&mut late, &context_id).await else {
        panic!("expected subscribed-context")
    };
    assert_eq!(
        subscribed.data["data"]["fdc3_fdc3&instrument"],
        json!({"name": "Apple", "id": {"ticker": "AAPL"}})
    );
    assert_eq!(
        subscribed.data["latest_fdc3_type"],
        json!("fdc3&instrument")
    );
}

async fn subscribing_to_an_unknown_context_fails(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut reader = peer(bus, &user, "ContractReader").await;
    let reply = subscribe(&mut reader, "c-no-such-context").await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(error.domain, Some(Domain::Global), "{error:?}");
    assert!(
        error
            .reason_uri
            .as_deref()
            .is_some_and(|uri| uri.starts_with("global.errors.")),
        "{error:?}"
    );
}

async fn the_adapter_lists_joins_reads_and_broadcasts_a_channel(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let name = format!("Contract-{}", uuid::Uuid::new_v4().simple());
    let mut creator = peer(bus, &user, "ContractPlatform").await;
    let context_id = create_channel(&mut creator, &name).await;

    let adapter = IoConnectBus::connect(codemode_adapters::ioconnect::IoConnectConfig::new(
        bus.url.clone(),
        Authentication::secret(&user, "secret"),
    ))
    .await
    .expect("adapter connects");
    let bus_ref: &dyn Bus = &adapter;
    let channels = bus_ref.channels().expect("io.Connect has channels");
    let listed = channels.list_channels().await.expect("list");
    assert!(
        listed
            .iter()
            .any(|c| c.id == name && c.color.as_deref() == Some("red")),
        "{listed:?}"
    );
    assert_eq!(channels.current_channel().await.expect("current"), None);
    channels.join_channel(&name).await.expect("join");
    assert_eq!(
        channels.channel_context(None, None).await.expect("read"),
        None
    );

    let instrument = json!({"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}});
    channels
        .broadcast(instrument.clone(), None)
        .await
        .expect("broadcast");
    let updated = creator
        .expect("context-updated", |m| {
            matches!(m, Gw3Message::ContextUpdated(_))
        })
        .await;
    let Gw3Message::ContextUpdated(updated) = updated else {
        unreachable!()
    };
    assert_eq!(updated.context_id, context_id);
    assert_eq!(
        updated.delta.commands,
        broadcast_commands(&instrument),
        "the adapter writes what @interopio/desktop writes"
    );
    assert_eq!(
        channels
            .channel_context(None, Some("fdc3.instrument"))
            .await
            .expect("read back"),
        Some(instrument)
    );

    // Another app's broadcast reaches the adapter's copy.
    let contact = json!({"type": "fdc3.contact", "id": {"email": "jane@example.com"}});
    let (request_id, envelope) = request(&creator);
    creator
        .send(&Gw3Message::UpdateContext(UpdateContext {
            envelope,
            context_id: context_id.clone(),
            delta: ContextDelta {
                commands: broadcast_commands(&contact),
                ..ContextDelta::default()
            },
        }))
        .await;
    creator
        .expect("the update reply", |m| m.request_id() == Some(&request_id))
        .await;
    let mut seen: Option<Value> = None;
    for _ in 0..50 {
        seen = channels.channel_context(None, None).await.expect("read");
        if seen.as_ref() == Some(&contact) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(seen, Some(contact), "the latest context is the other app's");
    adapter.close().await;
}
