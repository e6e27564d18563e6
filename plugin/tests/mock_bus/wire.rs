//! The gateway driven with raw GW3 frames: handshake, bootstrap, announcements, calls, errors,
//! visibility, tokens, streams, malformed input and slow consumers.

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use codemode::mock_bus::{MalformedFrame, MockBusConfig};
use codemode_protocol::{
    MethodFlags, MethodId, PeerId, RequestId, SubscriptionId,
    gw3::{
        Accepted, Authentication, Domain, DropSubscription, Envelope, ErrorMessage, Gw3Message,
        Join, Post, Publish, Subscribe, Unregister, Unsubscribe, Yield, reasons,
    },
};

use super::{RawClient, args, find_method, identity, method, start, start_default};

#[tokio::test]
async fn welcome_resolves_identity_and_offers_an_access_token() {
    let bus = start_default().await;
    let mut client = RawClient::connect(&bus.url()).await;
    let mut requested = identity("raw-test");
    requested.remove("instance");
    requested.insert("windowId".into(), json!("?"));
    let reply = client
        .hello_with(requested, Authentication::secret("alice", "pw"))
        .await;
    let Gw3Message::Welcome(welcome) = reply else {
        panic!("expected welcome, got {reply:?}");
    };
    assert!(welcome.peer_id.as_str().starts_with("p-"));
    assert_eq!(welcome.domain, Some(Domain::Global));
    let identity = &welcome.resolved_identity;
    assert_eq!(identity["user"], "alice");
    assert_eq!(identity["login"], "alice");
    assert_eq!(identity["machine"], "127.0.0.1");
    assert_eq!(identity["application"], "raw-test");
    assert!(
        identity["instance"]
            .as_str()
            .is_some_and(|i| i.starts_with("i-"))
    );
    assert_eq!(
        identity["windowId"],
        welcome.peer_id.as_str(),
        "`?` becomes the peer id"
    );
    let domains: Vec<&str> = welcome
        .available_domains
        .iter()
        .flatten()
        .filter_map(|domain| domain["uri"].as_str())
        .collect();
    assert!(domains.contains(&"agm") && domains.contains(&"global"));
    let token = welcome
        .options
        .as_ref()
        .and_then(|o| o["access_token"].as_str());
    assert!(token.is_some_and(|t| !t.is_empty()));
    bus.shutdown().await;
}

#[tokio::test]
async fn join_streams_peer_added_then_methods_added_for_every_peer_before_success() {
    let bus = start_default().await;
    let (client, bootstrap) = RawClient::joined(&bus.url(), "alice").await;
    assert!(!bootstrap.is_empty());
    let mut peers = Vec::new();
    let mut iter = bootstrap.iter().peekable();
    while let Some(message) = iter.next() {
        let Gw3Message::PeerAdded(added) = message else {
            panic!("bootstrap must alternate peer-added/methods-added, got {message:?}");
        };
        assert_eq!(
            added.envelope.peer_id.as_ref(),
            Some(&client.peer()),
            "addressed to the recipient"
        );
        assert_eq!(added.meta.as_ref().map(|meta| meta.local), Some(true));
        let application = added.identity["application"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(Gw3Message::MethodsAdded(methods)) = iter.peek() {
            assert_eq!(
                methods.server_id, added.new_peer_id,
                "methods follow their peer"
            );
            assert_eq!(methods.source_type.as_deref(), Some("local"));
            iter.next();
        }
        peers.push(application);
    }
    for app in [
        "CRM",
        "Portfolio",
        "MarketData",
        "Charts",
        "Notes",
        "Tasks",
        "io.Connect Desktop",
    ] {
        assert!(
            peers.iter().any(|p| p == app),
            "{app} missing from {peers:?}"
        );
    }
    assert!(
        !peers.iter().any(|p| p == "Dialer"),
        "Dialer is declared only"
    );
    let (_, get_clients) = find_method(&bootstrap, "CRM.GetClients").expect("CRM.GetClients");
    assert_eq!(get_clients, MethodId::new(json!("0")));
    let crm = bootstrap
        .iter()
        .find_map(|m| match m {
            Gw3Message::MethodsAdded(added)
                if added.methods.iter().any(|m| m.name == "CRM.GetClients") =>
            {
                Some(added)
            }
            _ => None,
        })
        .expect("CRM's methods");
    let intent = crm
        .methods
        .iter()
        .find(|m| m.name == "Tick42.FDC3.Intents.ViewContact")
        .expect("ViewContact handler");
    assert_eq!(
        intent.flags.metadata["intent"]["contextTypes"],
        json!(["fdc3.contact"])
    );
    let get_clients = crm
        .methods
        .iter()
        .find(|m| m.name == "CRM.GetClients")
        .expect("method");
    assert!(
        get_clients
            .input_signature
            .as_deref()
            .is_some_and(|s| s.contains("String? adviser"))
    );
    bus.shutdown().await;
}

#[tokio::test]
async fn bad_secret_and_unknown_users_fail_authentication() {
    let mut credentials = BTreeMap::new();
    credentials.insert("alice".to_owned(), "s3cret".to_owned());
    let bus = start(MockBusConfig {
        credentials: Some(credentials),
        ..MockBusConfig::default()
    })
    .await;
    let mut client = RawClient::connect(&bus.url()).await;
    for authentication in [
        Authentication::secret("alice", "wrong"),
        Authentication::secret("mallory", "s3cret"),
        Authentication::secret("", ""),
        Authentication::access_token("forged"),
        Authentication::gateway_token("forged"),
    ] {
        let reply = client
            .hello_with(identity("raw-test"), authentication)
            .await;
        let Gw3Message::Error(error) = reply else {
            panic!("expected an authentication error, got {reply:?}");
        };
        assert_eq!(
            error.reason_uri.as_deref(),
            Some(reasons::AUTHENTICATION_FAILURE)
        );
        assert_eq!(error.peer_id, None);
    }
    let reply = client
        .hello_with(
            identity("raw-test"),
            Authentication::secret("alice", "s3cret"),
        )
        .await;
    assert!(matches!(reply, Gw3Message::Welcome(_)), "{reply:?}");
    bus.shutdown().await;
}

#[tokio::test]
async fn joining_agm_twice_succeeds_and_unknown_domains_are_invalid() {
    let bus = start_default().await;
    let (mut client, _) = RawClient::joined(&bus.url(), "alice").await;
    let again = client.join_agm().await;
    assert!(again.is_empty(), "a second join replays nothing: {again:?}");
    let request_id = client.request_id();
    let peer = client.peer();
    client
        .send(&Gw3Message::Join(Join {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer),
                ..Envelope::default()
            },
            destination: "nowhere".into(),
            restrictions: None,
            options: None,
        }))
        .await;
    let (_, reply) = client.reply_to(&request_id).await;
    let Gw3Message::Error(error) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(error.reason_uri.as_deref(), Some(reasons::INVALID_DOMAIN));
    bus.shutdown().await;
}

#[tokio::test]
async fn register_and_unregister_are_announced_to_visible_peers_only() {
    let bus = start_default().await;
    let url = bus.url();
    let (mut server, _) = RawClient::joined(&url, "alice").await;
    let (mut watcher, bootstrap) = RawClient::joined(&url, "alice").await;
    assert!(
        bootstrap
            .iter()
            .any(|m| matches!(m, Gw3Message::PeerAdded(p) if p.new_peer_id == server.peer()))
    );
    let (mut stranger, stranger_bootstrap) = RawClient::joined(&url, "bob").await;
    assert!(
        !stranger_bootstrap
            .iter()
            .any(|m| matches!(m, Gw3Message::PeerAdded(p) if p.new_peer_id == server.peer()))
    );
    // The server learns about the watcher (same user), not about the stranger.
    let (_, added) = server
        .recv_until(|m| matches!(m, Gw3Message::PeerAdded(_)))
        .await;
    let Gw3Message::PeerAdded(added) = added else {
        unreachable!()
    };
    assert_eq!(added.new_peer_id, watcher.peer());

    let own = server
        .register(vec![method("0", "Raw.Ping"), method("1", "Raw.Pong")])
        .await;
    assert!(
        own.iter()
            .any(|m| matches!(m, Gw3Message::MethodsAdded(a) if a.server_id == server.peer())),
        "the registrant hears about its own methods: {own:?}"
    );
    let announced = watcher.recv().await;
    let Gw3Message::MethodsAdded(announced) = announced else {
        panic!("{announced:?}")
    };
    assert_eq!(announced.server_id, server.peer());
    assert_eq!(announced.methods.len(), 2);
    assert_eq!(announced.envelope.peer_id.as_ref(), Some(&watcher.peer()));

    let request_id = server.request_id();
    let peer = server.peer();
    server
        .send(&Gw3Message::Unregister(Unregister {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer.clone()),
                ..Envelope::default()
            },
            methods: vec![MethodId::new(json!("1"))],
        }))
        .await;
    let (_, reply) = server.reply_to(&request_id).await;
    assert!(matches!(reply, Gw3Message::Success(_)), "{reply:?}");
    let removed = watcher.recv().await;
    let Gw3Message::MethodsRemoved(removed) = removed else {
        panic!("{removed:?}")
    };
    assert_eq!(removed.methods, vec![MethodId::new(json!("1"))]);

    let request_id = server.request_id();
    server
        .send(&Gw3Message::Unregister(Unregister {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer),
                ..Envelope::default()
            },
            methods: vec![MethodId::new(json!("42"))],
        }))
        .await;
    let (_, reply) = server.reply_to(&request_id).await;
    let Gw3Message::Error(error) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::UNREGISTRATION_FAILURE)
    );

    // The stranger saw none of it: the first frame it gets is about a peer of its own user
    // joining after all of the above.
    let (friend, _) = RawClient::joined(&url, "bob").await;
    let first = stranger.recv().await;
    assert!(
        matches!(&first, Gw3Message::PeerAdded(p) if p.new_peer_id == friend.peer()),
        "{first:?}"
    );
    bus.shutdown().await;
}

#[tokio::test]
async fn call_is_invoked_on_the_server_and_its_yield_and_error_come_back() {
    let bus = start_default().await;
    let url = bus.url();
    let (mut server, _) = RawClient::joined(&url, "alice").await;
    let (mut caller, _) = RawClient::joined(&url, "alice").await;
    server.register(vec![method("0", "Raw.Add")]).await;
    let _ = caller
        .recv_until(|m| matches!(m, Gw3Message::MethodsAdded(_)))
        .await;

    let request_id = caller
        .call(
            &server.peer(),
            MethodId::new(json!("0")),
            args(json!({"a": 1, "b": 2})),
        )
        .await;
    let (_, invoke) = server
        .recv_until(|m| matches!(m, Gw3Message::Invoke(_)))
        .await;
    let Gw3Message::Invoke(invoke) = invoke else {
        unreachable!()
    };
    assert_eq!(invoke.caller_id.as_ref(), Some(&caller.peer()));
    assert_eq!(invoke.method_id, MethodId::new(json!("0")));
    let raw = serde_json::to_value(&invoke).expect("encode");
    assert_eq!(raw["arguments"], Value::Null);
    assert_eq!(raw["context"], Value::Null);
    assert_eq!(raw["arguments_kv"], json!({"a": 1, "b": 2}));
    let peer = server.peer();
    server
        .send(&Gw3Message::Yield(Yield {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: None,
                peer_id: Some(peer.clone()),
                ..Envelope::default()
            },
            invocation_id: invoke.invocation_id.clone(),
            result: Some(json!({"sum": 3})),
        }))
        .await;
    let (_, result) = caller.reply_to(&request_id).await;
    let Gw3Message::Result(result) = result else {
        panic!("{result:?}")
    };
    assert_eq!(result.result, json!({"sum": 3}));
    assert_eq!(result.envelope.domain, Some(Domain::Agm));

    let request_id = caller
        .call(&server.peer(), MethodId::new(json!("0")), args(json!({})))
        .await;
    let (_, invoke) = server
        .recv_until(|m| matches!(m, Gw3Message::Invoke(_)))
        .await;
    let Gw3Message::Invoke(invoke) = invoke else {
        unreachable!()
    };
    server
        .send(&Gw3Message::Error(ErrorMessage {
            domain: Some(Domain::Agm),
            request_id: Some(RequestId::new(invoke.invocation_id.as_str())),
            peer_id: Some(peer),
            reason_uri: Some(reasons::CLIENT_ERROR.into()),
            reason: Some("a and b are required".into()),
            context: Some(json!({"field": "a"})),
        }))
        .await;
    let (_, error) = caller.reply_to(&request_id).await;
    let Gw3Message::Error(error) = error else {
        panic!("{error:?}")
    };
    assert_eq!(error.reason_uri.as_deref(), Some(reasons::CLIENT_ERROR));
    assert_eq!(error.reason.as_deref(), Some("a and b are required"));
    assert_eq!(error.context, Some(json!({"field": "a"})));
    bus.shutdown().await;
}

#[tokio::test]
async fn calling_a_method_the_caller_cannot_see_is_an_invocation_failure() {
    let bus = start_default().await;
    let url = bus.url();
    let (mut caller, bootstrap) = RawClient::joined(&url, "alice").await;
    let (crm, _) = find_method(&bootstrap, "CRM.GetClients").expect("CRM");
    let reply = caller
        .call_and_wait(&crm, MethodId::new(json!(999_999)), args(json!({})))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::INVOCATION_FAILURE)
    );
    assert_eq!(
        error.reason.as_deref(),
        Some(
            format!(
                "Unable to find method with id 999999 on server id {crm} registered with this peer"
            )
            .as_str()
        )
    );
    // The numeric id 0 is not the registered string id "0".
    let reply = caller
        .call_and_wait(&crm, MethodId::new(json!(0)), args(json!({})))
        .await;
    assert!(matches!(reply, Gw3Message::Error(_)), "{reply:?}");
    // A peer of another user is invisible.
    let (mut other, _) = RawClient::joined(&url, "bob").await;
    other.register(vec![method("0", "Bob.Secret")]).await;
    let reply = caller
        .call_and_wait(&other.peer(), MethodId::new(json!("0")), args(json!({})))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::INVOCATION_FAILURE)
    );
    // An unknown server.
    let reply = caller
        .call_and_wait(
            &PeerId::new("p-nobody-1"),
            MethodId::new(json!("0")),
            args(json!({})),
        )
        .await;
    assert!(matches!(reply, Gw3Message::Error(_)), "{reply:?}");
    bus.shutdown().await;
}

#[tokio::test]
async fn users_see_only_their_own_peers_and_the_service_apps() {
    let bus = start_default().await;
    let url = bus.url();
    let (alice, _) = RawClient::joined(&url, "alice").await;
    let (_, bob_bootstrap) = RawClient::joined(&url, "bob").await;
    let (_, alice2_bootstrap) = RawClient::joined(&url, "alice").await;
    let sees = |bootstrap: &[Gw3Message], peer: &PeerId| {
        bootstrap
            .iter()
            .any(|m| matches!(m, Gw3Message::PeerAdded(p) if &p.new_peer_id == peer))
    };
    assert!(!sees(&bob_bootstrap, &alice.peer()));
    assert!(sees(&alice2_bootstrap, &alice.peer()));
    assert!(
        find_method(&bob_bootstrap, "CRM.GetClients").is_some(),
        "service apps are visible to all"
    );
    bus.shutdown().await;
}

#[tokio::test]
async fn apps_owned_by_a_user_are_invisible_to_other_users() {
    let bus = start(MockBusConfig {
        user: Some("desk-user".into()),
        ..MockBusConfig::default()
    })
    .await;
    let url = bus.url();
    let (_, stranger) = RawClient::joined(&url, "someone-else").await;
    assert!(
        stranger.is_empty(),
        "another user sees an empty bus: {stranger:?}"
    );
    let (_, owner) = RawClient::joined(&url, "desk-user").await;
    assert!(find_method(&owner, "CRM.GetClients").is_some());
    bus.shutdown().await;
}

/// As on the real gateway (see the contract suite): a gateway token logs a child in as its
/// creator's user, again and again until it expires; the child's welcome has no access token.
#[tokio::test]
async fn a_gateway_token_logs_a_child_in_as_the_creators_user_until_it_expires() {
    // Two logins take milliseconds: a 2 s lifetime leaves a wide margin on a busy machine.
    let token_ttl = Duration::from_secs(2);
    let bus = start(MockBusConfig {
        token_ttl,
        ..MockBusConfig::default()
    })
    .await;
    let url = bus.url();
    let (mut parent, welcome) = RawClient::login(&url, "alice").await;
    let token = parent.create_token().await;
    for application in ["child", "child-again"] {
        let mut child = RawClient::connect(&url).await;
        let reply = child
            .hello_with(
                identity(application),
                Authentication::gateway_token(token.clone()),
            )
            .await;
        let Gw3Message::Welcome(child_welcome) = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(child_welcome.resolved_identity["user"], "alice");
        assert_eq!(
            child_welcome.options, None,
            "no access token after a gateway token"
        );
    }
    // The token was created before this sleep began, so it has expired when it ends.
    tokio::time::sleep(token_ttl + Duration::from_millis(100)).await;
    let mut late = RawClient::connect(&url).await;
    let reply = late
        .hello_with(identity("late"), Authentication::gateway_token(token))
        .await;
    assert!(
        matches!(reply, Gw3Message::Error(_)),
        "an expired gateway token is refused: {reply:?}"
    );
    let access = welcome
        .options
        .as_ref()
        .and_then(|o| o["access_token"].as_str())
        .expect("a secret login's welcome has an access token");
    let mut again = RawClient::connect(&url).await;
    let reply = again
        .hello_with(identity("again"), Authentication::access_token(access))
        .await;
    let Gw3Message::Welcome(again) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(again.resolved_identity["user"], "alice");
    bus.shutdown().await;
}

#[tokio::test]
async fn malformed_frames_get_error_replies_and_the_connection_survives() {
    let bus = start(MockBusConfig {
        max_frame_bytes: 4096,
        ..MockBusConfig::default()
    })
    .await;
    let url = bus.url();
    let (mut client, bootstrap) = RawClient::joined(&url, "alice").await;
    let (bystander, _) = RawClient::joined(&url, "alice").await;
    let peer = client.peer();
    let oversized =
        json!({"type": "call", "request_id": "big", "peer_id": peer, "blob": "x".repeat(10_000)});
    for frame in [
        "{not json".to_owned(),
        "[1,2,3]".to_owned(),
        "\"just a string\"".to_owned(),
        r#"{"domain":"agm"}"#.to_owned(),
        json!({"domain": "agm", "type": "call", "request_id": "shape", "peer_id": peer, "server_id": 7}).to_string(),
        oversized.to_string(),
    ] {
        client.send_text(&frame).await;
        let (skipped, _) = client
            .recv_until(|m| matches!(m, Gw3Message::Error(_)))
            .await;
        assert!(
            skipped.iter().all(|m| matches!(m, Gw3Message::PeerAdded(_))),
            "{frame:.40} → {skipped:?}"
        );
    }
    client
        .send_raw(Message::binary(vec![0u8, 159, 146, 150]))
        .await;
    assert!(matches!(client.recv().await, Gw3Message::Error(_)));
    let (crm, get_client) = find_method(&bootstrap, "CRM.GetClient").expect("CRM.GetClient");
    let reply = client
        .call_and_wait(&crm, get_client, args(json!({"clientId": "c-001"})))
        .await;
    let Gw3Message::Result(result) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(result.result["client"]["name"], "Amelia Reid");
    assert_eq!(
        bus.connection_count(),
        2,
        "both clients are still connected"
    );
    drop(bystander);
    assert!(bus.stats().malformed_in >= 6);
    bus.shutdown().await;
}

#[tokio::test]
async fn the_bus_sends_malformed_frames_on_request() {
    let bus = start_default().await;
    let (mut client, _) = RawClient::joined(&bus.url(), "alice").await;
    assert_eq!(bus.send_malformed_frame(&MalformedFrame::UnknownType), 1);
    let frame = client.recv().await;
    assert!(matches!(&frame, Gw3Message::Unknown(object) if object["type"] == "mock-bus-surprise"));
    bus.shutdown().await;
}

#[tokio::test]
async fn a_server_leaving_mid_call_fails_the_call_and_is_announced_in_order() {
    let bus = start_default().await;
    let url = bus.url();
    let (mut server, _) = RawClient::joined(&url, "alice").await;
    let (mut caller, _) = RawClient::joined(&url, "alice").await;
    let (mut watcher, _) = RawClient::joined(&url, "alice").await;
    server.register(vec![method("0", "Raw.Slow")]).await;
    let _ = caller
        .recv_until(|m| matches!(m, Gw3Message::MethodsAdded(_)))
        .await;
    let request_id = caller
        .call(&server.peer(), MethodId::new(json!("0")), args(json!({})))
        .await;
    let _ = server
        .recv_until(|m| matches!(m, Gw3Message::Invoke(_)))
        .await;
    let server_peer = server.peer();
    drop(server);
    let (_, reply) = caller.reply_to(&request_id).await;
    let Gw3Message::Error(error) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::INVOCATION_FAILURE)
    );
    assert_eq!(error.reason.as_deref(), Some(reasons::PEER_LEFT_REASON));
    let (_, removed) = watcher
        .recv_until(|m| matches!(m, Gw3Message::MethodsRemoved(r) if r.server_id == server_peer))
        .await;
    assert!(matches!(removed, Gw3Message::MethodsRemoved(_)));
    let gone = watcher.recv().await;
    let Gw3Message::PeerRemoved(gone) = gone else {
        panic!("{gone:?}")
    };
    assert_eq!(gone.removed_id, server_peer);
    assert_eq!(gone.reason_uri, None);
    bus.shutdown().await;
}

#[tokio::test]
async fn market_data_streams_prices_to_subscribers() {
    let bus = start(MockBusConfig {
        stream_interval: Duration::from_millis(20),
        ..MockBusConfig::default()
    })
    .await;
    let (mut client, bootstrap) = RawClient::joined(&bus.url(), "alice").await;
    let (server, method_id) = find_method(&bootstrap, "MarketData.Subscribe").expect("stream");
    let streaming = bootstrap.iter().any(|m| matches!(m, Gw3Message::MethodsAdded(a) if a.methods.iter().any(|d| d.name == "MarketData.Subscribe" && d.flags.streaming)));
    assert!(streaming, "the method is flagged streaming");
    let subscribe = |client: &mut RawClient, symbol: &str| {
        let request_id = client.request_id();
        let message = Gw3Message::Subscribe(Subscribe {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: Some(client.peer()),
                ..Envelope::default()
            },
            server_id: server.clone(),
            method_id: method_id.clone(),
            arguments_kv: Some(args(json!({"symbol": symbol}))),
            flags: None,
            context: None,
        });
        (request_id, message)
    };
    let (request_id, message) = subscribe(&mut client, "VOD.L");
    client.send(&message).await;
    let (_, reply) = client.reply_to(&request_id).await;
    let Gw3Message::Subscribed(subscribed) = reply else {
        panic!("{reply:?}")
    };
    let (_, event) = client
        .recv_until(|m| matches!(m, Gw3Message::Event(_)))
        .await;
    let Gw3Message::Event(event) = event else {
        unreachable!()
    };
    assert_eq!(event.subscription_id, subscribed.subscription_id);
    assert_eq!(event.data["symbol"], "VOD.L");
    assert!(
        event.data["time"]
            .as_str()
            .is_some_and(|t| t.starts_with("#T42_DATE#"))
    );

    let request_id = client.request_id();
    let peer = client.peer();
    client
        .send(&Gw3Message::Unsubscribe(Unsubscribe {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer),
                reason_uri: None,
                reason: Some("done".into()),
            },
            subscription_id: subscribed.subscription_id.clone(),
        }))
        .await;
    let (_, reply) = client.reply_to(&request_id).await;
    assert!(matches!(reply, Gw3Message::Success(_)), "{reply:?}");

    let (request_id, message) = subscribe(&mut client, "NOPE");
    client.send(&message).await;
    let (_, reply) = client.reply_to(&request_id).await;
    let Gw3Message::Error(error) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(error.reason.as_deref(), Some("Unknown symbol NOPE"));
    bus.shutdown().await;
}

#[tokio::test]
async fn socket_servers_stream_with_publish_post_and_drop() {
    let bus = start_default().await;
    let url = bus.url();
    let (mut server, _) = RawClient::joined(&url, "alice").await;
    let (mut subscriber, _) = RawClient::joined(&url, "alice").await;
    let mut ticks = method("0", "Raw.Ticks");
    ticks.flags = MethodFlags {
        metadata: serde_json::Map::new(),
        streaming: true,
    };
    server.register(vec![ticks]).await;
    let _ = subscriber
        .recv_until(|m| matches!(m, Gw3Message::MethodsAdded(_)))
        .await;
    let request_id = subscriber.request_id();
    let peer = subscriber.peer();
    subscriber
        .send(&Gw3Message::Subscribe(Subscribe {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer.clone()),
                ..Envelope::default()
            },
            server_id: server.peer(),
            method_id: MethodId::new(json!("0")),
            arguments_kv: Some(args(json!({"topic": "t"}))),
            flags: None,
            context: None,
        }))
        .await;
    let (_, interest) = server
        .recv_until(|m| matches!(m, Gw3Message::AddInterest(_)))
        .await;
    let Gw3Message::AddInterest(interest) = interest else {
        unreachable!()
    };
    assert_eq!(interest.caller_id.as_ref(), Some(&peer));
    let server_peer = server.peer();
    server
        .send(&Gw3Message::Accepted(Accepted {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: Some(server_peer.clone()),
                ..Envelope::default()
            },
            subscription_id: interest.subscription_id.clone(),
            stream_id: Some("branch".into()),
        }))
        .await;
    let (_, subscribed) = subscriber.reply_to(&request_id).await;
    assert!(
        matches!(subscribed, Gw3Message::Subscribed(_)),
        "{subscribed:?}"
    );
    server
        .send(&Gw3Message::Publish(Publish {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: Some(server_peer.clone()),
                ..Envelope::default()
            },
            stream_id: Some("branch".into()),
            data: json!({"n": 1}),
        }))
        .await;
    let event = subscriber.recv().await;
    assert!(
        matches!(&event, Gw3Message::Event(e) if !e.oob && e.data == json!({"n": 1})),
        "{event:?}"
    );
    server
        .send(&Gw3Message::Post(Post {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: Some(server_peer.clone()),
                ..Envelope::default()
            },
            subscription_id: interest.subscription_id.clone(),
            data: json!({"n": 2}),
        }))
        .await;
    let event = subscriber.recv().await;
    assert!(matches!(&event, Gw3Message::Event(e) if e.oob), "{event:?}");
    server
        .send(&Gw3Message::DropSubscription(DropSubscription {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: Some(server_peer),
                reason: Some("closing".into()),
                ..Envelope::default()
            },
            subscription_id: interest.subscription_id.clone(),
        }))
        .await;
    let cancelled = subscriber.recv().await;
    let Gw3Message::SubscriptionCancelled(cancelled) = cancelled else {
        panic!("{cancelled:?}")
    };
    assert_eq!(cancelled.subscription_id, interest.subscription_id);
    assert_eq!(cancelled.envelope.reason.as_deref(), Some("closing"));
    // Unsubscribing from a dropped subscription is an error, not a crash.
    subscriber
        .send(&Gw3Message::Unsubscribe(Unsubscribe {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(RequestId::new("late")),
                peer_id: Some(peer),
                reason_uri: None,
                reason: None,
            },
            subscription_id: SubscriptionId::new("r-none-1"),
        }))
        .await;
    let (_, reply) = subscriber.reply_to(&RequestId::new("late")).await;
    assert!(matches!(reply, Gw3Message::Error(_)));
    bus.shutdown().await;
}

#[tokio::test]
async fn a_slow_consumer_is_disconnected_without_stalling_others() {
    let bus = start(MockBusConfig {
        outbound_queue: 4,
        ..MockBusConfig::default()
    })
    .await;
    let url = bus.url();
    // Never reads after joining.
    let (slow, _) = RawClient::joined(&url, "alice").await;
    let slow_peer = slow.peer();
    let (mut fast, _) = RawClient::joined(&url, "alice").await;
    let (mut producer, _) = RawClient::joined(&url, "alice").await;
    let description = "d".repeat(2_000);
    let mut slow_gone = false;
    for batch in 0..200 {
        let methods = (0..50)
            .map(|index| {
                let mut definition = method(
                    &format!("{batch}-{index}"),
                    &format!("Flood.M{batch}x{index}"),
                );
                definition.description = Some(description.clone());
                definition
            })
            .collect();
        producer.register(methods).await;
        // The fast client keeps up.
        let _ = fast
            .recv_until(|m| matches!(m, Gw3Message::MethodsAdded(_)))
            .await;
        if bus.stats().overflowed > 0 {
            slow_gone = true;
            break;
        }
    }
    assert!(slow_gone, "the slow consumer was never disconnected");
    let (_, removed) = fast
        .recv_until(|m| matches!(m, Gw3Message::PeerRemoved(r) if r.removed_id == slow_peer))
        .await;
    assert!(matches!(removed, Gw3Message::PeerRemoved(_)));
    drop(slow);
    let (_, bootstrap) = RawClient::joined(&url, "alice").await;
    assert!(
        find_method(&bootstrap, "CRM.GetClients").is_some(),
        "the bus still serves"
    );
    bus.shutdown().await;
}

#[tokio::test]
async fn messages_before_hello_or_without_peer_id_are_refused() {
    let bus = start_default().await;
    let mut client = RawClient::connect(&bus.url()).await;
    client
        .send_text(r#"{"type":"join","destination":"agm","request_id":"early"}"#)
        .await;
    let (_, reply) = client.reply_to(&RequestId::new("early")).await;
    assert!(matches!(reply, Gw3Message::Error(_)), "{reply:?}");
    client.send_text(r#"{"type":"ping"}"#).await;
    let welcome = client.hello("alice").await;
    assert!(welcome.peer_id.as_str().starts_with("p-"));
    client
        .send_text(r#"{"type":"create-token","domain":"global","request_id":"anon"}"#)
        .await;
    let (_, reply) = client.reply_to(&RequestId::new("anon")).await;
    assert!(
        matches!(reply, Gw3Message::Error(_)),
        "no peer_id: {reply:?}"
    );
    bus.shutdown().await;
}
