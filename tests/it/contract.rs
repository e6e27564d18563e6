//! The GW3 contract: one suite of wire-level behaviours that the real open-source gateway and
//! codemode's mock bus must both show. Each case logs in as a fresh user, so cases share a bus
//! without seeing each other (visibility is per user). Where the two buses differ, the mock
//! changes, not the test.

use std::time::Duration;

use codemode::mock_bus::{MockBus, MockBusConfig, MockBusHandle};
use codemode_adapters::{
    Bus, CallOptions, IntentRequest, IntentTarget, Invoke, RaiseIntent, Target,
    ioconnect::IoConnectBus,
};
use codemode_protocol::{
    MethodId, PeerId, RequestId,
    gw3::{
        Authentication, Call, CreateToken, Domain, Envelope, ErrorMessage, Gw3Message, Identity,
        Publish, Subscribe, Unregister, Yield, reasons,
    },
};
use codemode_tests::{
    GatewayOptions, RealGateway, ioconnect_fixture_dir, probe_url,
    raw::{RawPeer, method},
};
use serde_json::{Map, Value, json};

/// A bus under test: its URL, and the mock's handle to keep it alive.
struct ContractBus {
    url: String,
    _mock: Option<MockBusHandle>,
}

impl ContractBus {
    fn fresh_user() -> String {
        format!("contract-{}", uuid::Uuid::new_v4().simple())
    }
}

async fn mock_bus() -> ContractBus {
    let handle = MockBus::start(MockBusConfig::default())
        .await
        .expect("start the mock bus");
    ContractBus {
        url: handle.url(),
        _mock: Some(handle),
    }
}

fn real_gateway() -> ContractBus {
    static GATEWAY: std::sync::OnceLock<RealGateway> = std::sync::OnceLock::new();
    let gateway = GATEWAY.get_or_init(|| {
        RealGateway::start(&GatewayOptions {
            gateway_only: true,
            ..GatewayOptions::default()
        })
    });
    ContractBus {
        url: gateway.url.clone(),
        _mock: None,
    }
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod on_mock_bus {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(&super::mock_bus().await).await;
                }
            )*
        }
        mod on_real_gateway {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(&super::real_gateway()).await;
                }
            )*
        }
    };
}

contract!(
    welcome_resolves_the_identity_and_lists_domains,
    hello_without_credentials_is_an_authentication_failure,
    join_streams_every_visible_peer_before_success,
    unknown_join_destination_is_invalid_domain,
    registrations_are_announced_and_unregistrations_withdrawn,
    unregistering_an_unknown_method_fails,
    call_invoke_yield_result_round_trip,
    server_errors_reach_the_caller_unchanged,
    calling_an_unknown_method_fails_with_invocation_failure,
    a_server_leaving_mid_call_fails_the_call,
    a_disconnect_removes_methods_then_the_peer,
    other_users_cannot_see_each_others_peers,
    gateway_tokens_log_in_as_the_same_user,
    streams_deliver_published_data_to_subscribers,
    t42_dates_pass_through_untouched,
    the_adapter_discovers_and_invokes_a_raw_server,
    registering_a_method_id_again_replaces_its_definition,
    unknown_message_types_are_unhandled_in_their_own_domain,
    a_peer_id_of_another_connection_is_a_global_failure_without_a_domain,
    missing_and_unknown_peer_ids_fail_in_the_message_domain,
    a_second_hello_with_the_same_identity_is_already_seen,
    a_hello_without_an_application_is_welcomed,
    access_tokens_from_the_welcome_log_in_again_as_the_same_user,
);

/// Waits for the error answering `request_id` on `peer` and checks its reason URI and how its
/// reason starts.
async fn expect_error(
    peer: &mut RawPeer,
    request_id: &RequestId,
    reason_uri: &str,
    reason_starts: &str,
) -> ErrorMessage {
    let reply = peer
        .expect("the error reply", |m| m.request_id() == Some(request_id))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(error.reason_uri.as_deref(), Some(reason_uri), "{error:?}");
    assert!(
        error
            .reason
            .as_deref()
            .unwrap_or("")
            .starts_with(reason_starts),
        "{error:?}"
    );
    error
}

async fn peer(bus: &ContractBus, user: &str, application: &str) -> RawPeer {
    let mut peer = RawPeer::connect(&bus.url).await;
    peer.login(user, application).await;
    peer
}

async fn joined(bus: &ContractBus, user: &str, application: &str) -> RawPeer {
    let mut peer = peer(bus, user, application).await;
    peer.join_agm().await;
    peer
}

fn agm_call(
    caller: &RawPeer,
    server: &RawPeer,
    method_id: &str,
    arguments: Value,
) -> (RequestId, Gw3Message) {
    let server_id = server.peer_id.clone().expect("server logged in");
    agm_call_to(caller.peer_id.clone(), server_id, method_id, arguments)
}

/// A `call` from `caller` (any peer id, or none) to the server `server_id`.
fn agm_call_to(
    caller: Option<PeerId>,
    server_id: PeerId,
    method_id: &str,
    arguments: Value,
) -> (RequestId, Gw3Message) {
    let request_id = RequestId::random();
    let call = Gw3Message::Call(Call {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            request_id: Some(request_id.clone()),
            peer_id: caller,
            ..Envelope::default()
        },
        server_id,
        method_id: MethodId::new(Value::String(method_id.to_owned())),
        arguments_kv: match arguments {
            Value::Object(object) => Some(object),
            _ => None,
        },
        arguments: None,
        context: None,
    });
    (request_id, call)
}

async fn welcome_resolves_the_identity_and_lists_domains(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut client = RawPeer::connect(&bus.url).await;
    let welcome = client.login(&user, "ContractClient").await;
    assert!(!welcome.peer_id.as_str().is_empty());
    assert_eq!(welcome.resolved_identity["user"], json!(user));
    assert_eq!(welcome.resolved_identity["application"], "ContractClient");
    let domains = welcome.available_domains.unwrap_or_default();
    assert!(
        domains.iter().any(|domain| domain["uri"] == "agm"),
        "{domains:?}"
    );
}

async fn hello_without_credentials_is_an_authentication_failure(bus: &ContractBus) {
    let mut client = RawPeer::connect(&bus.url).await;
    let mut identity = Identity::new();
    identity.insert("application".into(), json!("NoCredentials"));
    let reply = client
        .hello(
            identity,
            Authentication {
                method: Some("secret".into()),
                ..Authentication::default()
            },
        )
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::AUTHENTICATION_FAILURE)
    );
}

async fn join_streams_every_visible_peer_before_success(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractServer").await;
    server
        .register(vec![
            method("0", "Contract.A", "String x", "String y"),
            method("1", "Contract.B", "", ""),
        ])
        .await;
    let mut client = peer(bus, &user, "ContractClient").await;
    let bootstrap = client.join_agm().await;
    let server_id = server.peer_id.clone().expect("server id");
    let added = bootstrap
        .iter()
        .position(|m| matches!(m, Gw3Message::PeerAdded(added) if added.new_peer_id == server_id))
        .expect("peer-added for the server before the join's success");
    let methods = bootstrap
        .iter()
        .position(|m| matches!(m, Gw3Message::MethodsAdded(added) if added.server_id == server_id))
        .expect("methods-added for the server before the join's success");
    assert!(added < methods, "peer-added comes before methods-added");
    let Gw3Message::MethodsAdded(announced) = &bootstrap[methods] else {
        unreachable!()
    };
    let names: Vec<&str> = announced.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names.len(),
        2,
        "one methods-added with all of the server's methods: {names:?}"
    );
    assert!(names.contains(&"Contract.A") && names.contains(&"Contract.B"));
    let Gw3Message::PeerAdded(peer_added) = &bootstrap[added] else {
        unreachable!()
    };
    assert_eq!(peer_added.identity["application"], "ContractServer");
}

async fn unknown_join_destination_is_invalid_domain(bus: &ContractBus) {
    let mut client = peer(bus, &ContractBus::fresh_user(), "ContractClient").await;
    let request_id = client.send_join("no-such-domain").await;
    let reply = client
        .expect("the join reply", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(error.reason_uri.as_deref(), Some(reasons::INVALID_DOMAIN));
}

async fn registrations_are_announced_and_unregistrations_withdrawn(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut watcher = joined(bus, &user, "ContractWatcher").await;
    let mut server = joined(bus, &user, "ContractServer").await;
    let server_id = server.peer_id.clone().expect("server id");
    watcher
        .expect(
            "peer-added of the server",
            |m| matches!(m, Gw3Message::PeerAdded(a) if a.new_peer_id == server_id),
        )
        .await;
    server
        .register(vec![method("7", "Contract.Late", "Int n", "Int m")])
        .await;
    let announced = watcher
        .expect(
            "methods-added",
            |m| matches!(m, Gw3Message::MethodsAdded(a) if a.server_id == server_id),
        )
        .await;
    let Gw3Message::MethodsAdded(announced) = announced else {
        unreachable!()
    };
    assert_eq!(announced.methods[0].name, "Contract.Late");
    assert_eq!(
        announced.methods[0].id.as_value(),
        &json!("7"),
        "the id is echoed verbatim"
    );
    assert_eq!(
        announced.methods[0].input_signature.as_deref(),
        Some("Int n")
    );

    let request_id = RequestId::random();
    server
        .send(&Gw3Message::Unregister(Unregister {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: server.peer_id.clone(),
                ..Envelope::default()
            },
            methods: vec![MethodId::new(json!("7"))],
        }))
        .await;
    let reply = server
        .expect("the unregister reply", |m| {
            m.request_id() == Some(&request_id)
        })
        .await;
    assert!(matches!(reply, Gw3Message::Success(_)), "{reply:?}");
    let removed = watcher
        .expect(
            "methods-removed",
            |m| matches!(m, Gw3Message::MethodsRemoved(r) if r.server_id == server_id),
        )
        .await;
    let Gw3Message::MethodsRemoved(removed) = removed else {
        unreachable!()
    };
    assert_eq!(removed.methods, vec![MethodId::new(json!("7"))]);
}

async fn unregistering_an_unknown_method_fails(bus: &ContractBus) {
    let mut server = joined(bus, &ContractBus::fresh_user(), "ContractServer").await;
    let request_id = RequestId::random();
    server
        .send(&Gw3Message::Unregister(Unregister {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: server.peer_id.clone(),
                ..Envelope::default()
            },
            methods: vec![MethodId::new(json!("404"))],
        }))
        .await;
    let reply = server
        .expect("the unregister reply", |m| {
            m.request_id() == Some(&request_id)
        })
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::UNREGISTRATION_FAILURE)
    );
}

async fn call_invoke_yield_result_round_trip(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractServer").await;
    server
        .register(vec![method("0", "Contract.Double", "Int n", "Int doubled")])
        .await;
    let mut client = joined(bus, &user, "ContractClient").await;
    let (request_id, call) = agm_call(&client, &server, "0", json!({"n": 21}));
    client.send(&call).await;

    let invoke = server
        .expect("invoke", |m| matches!(m, Gw3Message::Invoke(_)))
        .await;
    let Gw3Message::Invoke(invoke) = invoke else {
        unreachable!()
    };
    assert_eq!(invoke.method_id.as_value(), &json!("0"));
    assert_eq!(invoke.caller_id, client.peer_id);
    assert_eq!(
        invoke.arguments_kv.as_ref().and_then(|a| a.get("n")),
        Some(&json!(21))
    );
    server
        .send(&Gw3Message::Yield(Yield {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: None,
                peer_id: server.peer_id.clone(),
                ..Envelope::default()
            },
            invocation_id: invoke.invocation_id.clone(),
            result: Some(json!({"doubled": 42})),
        }))
        .await;
    let result = client
        .expect("result", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::Result(result) = result else {
        panic!("expected a result, got {result:?}")
    };
    assert_eq!(result.result, json!({"doubled": 42}));
}

async fn server_errors_reach_the_caller_unchanged(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractServer").await;
    server
        .register(vec![method("0", "Contract.Fail", "", "")])
        .await;
    let mut client = joined(bus, &user, "ContractClient").await;
    let (request_id, call) = agm_call(&client, &server, "0", json!({}));
    client.send(&call).await;
    let Gw3Message::Invoke(invoke) = server
        .expect("invoke", |m| matches!(m, Gw3Message::Invoke(_)))
        .await
    else {
        unreachable!()
    };
    server
        .send(&Gw3Message::Error(ErrorMessage {
            domain: Some(Domain::Agm),
            request_id: Some(RequestId::new(invoke.invocation_id.as_str())),
            peer_id: server.peer_id.clone(),
            reason_uri: Some(reasons::CLIENT_ERROR.into()),
            reason: Some("Unknown client nope".into()),
            context: Some(json!({"clientId": "nope"})),
        }))
        .await;
    let reply = client
        .expect("error", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(error.reason_uri.as_deref(), Some(reasons::CLIENT_ERROR));
    assert_eq!(error.reason.as_deref(), Some("Unknown client nope"));
    assert_eq!(error.context, Some(json!({"clientId": "nope"})));
}

async fn calling_an_unknown_method_fails_with_invocation_failure(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let server = joined(bus, &user, "ContractServer").await;
    let mut client = joined(bus, &user, "ContractClient").await;
    let (request_id, call) = agm_call(&client, &server, "999999", json!({}));
    client.send(&call).await;
    let reply = client
        .expect("error", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::INVOCATION_FAILURE)
    );
    assert!(
        error
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("Unable to find method"),
        "{error:?}"
    );
}

async fn a_server_leaving_mid_call_fails_the_call(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractServer").await;
    server
        .register(vec![method("0", "Contract.Hang", "", "")])
        .await;
    let mut client = joined(bus, &user, "ContractClient").await;
    let (request_id, call) = agm_call(&client, &server, "0", json!({}));
    client.send(&call).await;
    server
        .expect("invoke", |m| matches!(m, Gw3Message::Invoke(_)))
        .await;
    drop(server);
    let reply = client
        .expect("error", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("expected an error, got {reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::INVOCATION_FAILURE)
    );
    assert_eq!(error.reason.as_deref(), Some(reasons::PEER_LEFT_REASON));
}

async fn a_disconnect_removes_methods_then_the_peer(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractServer").await;
    server
        .register(vec![method("0", "Contract.Gone", "", "")])
        .await;
    let server_id = server.peer_id.clone().expect("server id");
    let mut client = joined(bus, &user, "ContractClient").await;
    drop(server);
    // Read frames in arrival order until the peer is gone.
    let mut methods_removed_first = false;
    loop {
        match client.expect("the server's removal", |_| true).await {
            Gw3Message::MethodsRemoved(removed) if removed.server_id == server_id => {
                assert_eq!(removed.methods, vec![MethodId::new(json!("0"))]);
                methods_removed_first = true;
            }
            Gw3Message::PeerRemoved(removed) if removed.removed_id == server_id => break,
            _ => {}
        }
    }
    assert!(
        methods_removed_first,
        "methods-removed must precede peer-removed"
    );
}

async fn other_users_cannot_see_each_others_peers(bus: &ContractBus) {
    let alice = ContractBus::fresh_user();
    let mut server = joined(bus, &alice, "AliceServer").await;
    server
        .register(vec![method("0", "Contract.Private", "", "")])
        .await;
    let server_id = server.peer_id.clone().expect("server id");
    let mut stranger = peer(bus, &ContractBus::fresh_user(), "Stranger").await;
    let bootstrap = stranger.join_agm().await;
    assert!(
        bootstrap.iter().all(|m| match m {
            Gw3Message::PeerAdded(added) => added.new_peer_id != server_id,
            Gw3Message::MethodsAdded(added) => added.server_id != server_id,
            _ => true,
        }),
        "another user's peer was announced"
    );
    let (request_id, call) = agm_call(&stranger, &server, "0", json!({}));
    stranger.send(&call).await;
    let reply = stranger
        .expect("error", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("calling an invisible server must fail: {reply:?}")
    };
    assert_eq!(error.domain, Some(Domain::Agm), "{error:?}");
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::INVOCATION_FAILURE),
        "{error:?}"
    );
    assert_eq!(
        error.reason.as_deref(),
        Some("Unable to invoke methods across different users")
    );
    // The server must not be invoked. A call from its own user, sent after the stranger's
    // was refused, is the marker: the first invoke the server sees must be that one.
    let mut friend = joined(bus, &alice, "AliceFriend").await;
    let (_, call) = agm_call(&friend, &server, "0", json!({"from": "friend"}));
    friend.send(&call).await;
    let first = server
        .expect("the friend's invoke", |m| {
            matches!(m, Gw3Message::Invoke(_))
        })
        .await;
    let Gw3Message::Invoke(first) = first else {
        unreachable!()
    };
    assert_eq!(
        first.arguments_kv.map(Value::Object),
        Some(json!({"from": "friend"})),
        "the stranger's call reached the server before the friend's"
    );
    assert_eq!(first.caller_id, friend.peer_id);
}

async fn gateway_tokens_log_in_as_the_same_user(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut parent = peer(bus, &user, "Parent").await;
    let request_id = RequestId::random();
    parent
        .send(&Gw3Message::CreateToken(CreateToken {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(request_id.clone()),
                peer_id: parent.peer_id.clone(),
                ..Envelope::default()
            },
        }))
        .await;
    let reply = parent
        .expect("token", |m| m.request_id() == Some(&request_id))
        .await;
    let Gw3Message::Token(token) = reply else {
        panic!("expected a token, got {reply:?}")
    };
    let mut child = RawPeer::connect(&bus.url).await;
    let mut identity = Identity::new();
    identity.insert("application".into(), json!("Child"));
    let welcome = child
        .hello(identity, Authentication::gateway_token(&token.token))
        .await;
    let Gw3Message::Welcome(welcome) = welcome else {
        panic!("gateway-token login failed: {welcome:?}")
    };
    assert_eq!(
        welcome.resolved_identity["user"],
        json!(user),
        "the child inherits the user"
    );
    // Unlike a secret login's, this welcome carries no access token to log in again with ...
    assert_eq!(
        welcome
            .options
            .as_ref()
            .and_then(|options| options.get("access_token")),
        None,
        "a gateway-token welcome has no access token"
    );
    // ... but the token itself logs in again (as the same user) until it expires: the
    // io.Connect adapter reconnects with a fresh one it creates while connected.
    let mut again = RawPeer::connect(&bus.url).await;
    let mut identity = Identity::new();
    identity.insert("application".into(), json!("ChildAgain"));
    let reply = again
        .hello(identity, Authentication::gateway_token(&token.token))
        .await;
    let Gw3Message::Welcome(again) = reply else {
        panic!("a gateway token logs in again before it expires: {reply:?}")
    };
    assert_eq!(again.resolved_identity["user"], json!(user));
}

async fn streams_deliver_published_data_to_subscribers(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractStreamer").await;
    let mut stream_method = method("0", "Contract.Prices", "String symbol", "Double price");
    stream_method.flags.streaming = true;
    server.register(vec![stream_method]).await;
    let mut client = joined(bus, &user, "ContractClient").await;
    let request_id = RequestId::random();
    client
        .send(&Gw3Message::Subscribe(Subscribe {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: client.peer_id.clone(),
                ..Envelope::default()
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
    server
        .send(&Gw3Message::Accepted(codemode_protocol::gw3::Accepted {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: server.peer_id.clone(),
                ..Envelope::default()
            },
            subscription_id: interest.subscription_id.clone(),
            stream_id: Some("0".into()),
        }))
        .await;
    let subscribed = client
        .expect("subscribed", |m| m.request_id() == Some(&request_id))
        .await;
    assert!(
        matches!(subscribed, Gw3Message::Subscribed(_)),
        "{subscribed:?}"
    );
    server
        .send(&Gw3Message::Publish(Publish {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: server.peer_id.clone(),
                ..Envelope::default()
            },
            stream_id: Some("0".into()),
            data: json!({"symbol": "VOD.L", "price": 97.9}),
        }))
        .await;
    let Gw3Message::Event(event) = client
        .expect("event", |m| matches!(m, Gw3Message::Event(_)))
        .await
    else {
        unreachable!()
    };
    assert_eq!(event.data, json!({"symbol": "VOD.L", "price": 97.9}));
    assert!(!event.oob);
}

async fn t42_dates_pass_through_untouched(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractServer").await;
    server
        .register(vec![method(
            "0",
            "Contract.When",
            "DateTime at",
            "DateTime at",
        )])
        .await;
    let mut client = joined(bus, &user, "ContractClient").await;
    let (request_id, call) = agm_call(
        &client,
        &server,
        "0",
        json!({"at": "#T42_DATE#1795294858685"}),
    );
    client.send(&call).await;
    let Gw3Message::Invoke(invoke) = server
        .expect("invoke", |m| matches!(m, Gw3Message::Invoke(_)))
        .await
    else {
        unreachable!()
    };
    assert_eq!(
        invoke.arguments_kv.as_ref().and_then(|a| a.get("at")),
        Some(&json!("#T42_DATE#1795294858685"))
    );
    server
        .send(&Gw3Message::Yield(Yield {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: None,
                peer_id: server.peer_id.clone(),
                ..Envelope::default()
            },
            invocation_id: invoke.invocation_id,
            result: Some(json!({"at": "#T42_DATE#1795294858685"})),
        }))
        .await;
    let Gw3Message::Result(result) = client
        .expect("result", |m| m.request_id() == Some(&request_id))
        .await
    else {
        panic!("expected a result")
    };
    assert_eq!(result.result["at"], "#T42_DATE#1795294858685");
}

async fn the_adapter_discovers_and_invokes_a_raw_server(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut server = joined(bus, &user, "ContractServer").await;
    server
        .register(vec![method(
            "0",
            "Contract.Echo",
            "String text",
            "String text",
        )])
        .await;
    let config = codemode_adapters::ioconnect::IoConnectConfig::new(
        bus.url.clone(),
        Authentication::secret(&user, "secret"),
    );
    let adapter = IoConnectBus::connect(config)
        .await
        .expect("adapter connects");
    let catalogue = adapter.catalogue();
    let echo = catalogue
        .methods_named("Contract.Echo")
        .next()
        .expect("the adapter sees the raw server's method");
    assert_eq!(echo.input_signature.as_deref(), Some("String text"));
    let call = {
        let adapter = &adapter;
        async move {
            adapter
                .invoke_one(
                    "Contract.Echo",
                    json!({"text": "hi"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    &Target::Best,
                    CallOptions::default(),
                )
                .await
        }
    };
    let serve = async {
        let Gw3Message::Invoke(invoke) = server
            .expect("invoke", |m| matches!(m, Gw3Message::Invoke(_)))
            .await
        else {
            unreachable!()
        };
        server
            .send(&Gw3Message::Yield(Yield {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    request_id: None,
                    peer_id: server.peer_id.clone(),
                    ..Envelope::default()
                },
                invocation_id: invoke.invocation_id,
                result: invoke.arguments_kv.map(Value::Object),
            }))
            .await;
    };
    let (result, ()) = tokio::join!(call, serve);
    assert_eq!(result.expect("the call succeeds"), json!({"text": "hi"}));
    adapter.close().await;
}

async fn registering_a_method_id_again_replaces_its_definition(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut watcher = joined(bus, &user, "ContractWatcher").await;
    let mut server = joined(bus, &user, "ContractServer").await;
    let server_id = server.peer_id.clone().expect("server id");
    let announced_by_server = |m: &Gw3Message| matches!(m, Gw3Message::MethodsAdded(added) if added.server_id == server_id);
    server
        .register(vec![method("0", "Contract.First", "String a", "String b")])
        .await;
    watcher
        .expect("the first methods-added", announced_by_server)
        .await;
    // The same id again: accepted, and announced again with the new definition.
    server
        .register(vec![method("0", "Contract.Second", "Int n", "Int m")])
        .await;
    let Gw3Message::MethodsAdded(again) = watcher
        .expect("the second methods-added", announced_by_server)
        .await
    else {
        unreachable!()
    };
    let names: Vec<&str> = again.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Contract.Second"]);
    assert_eq!(again.methods[0].id.as_value(), &json!("0"));

    // A newcomer sees only the last definition of the id.
    let mut late = peer(bus, &user, "ContractLate").await;
    let bootstrap = late.join_agm().await;
    let methods: Vec<(Value, String, Option<String>)> = bootstrap
        .iter()
        .filter_map(|m| match m {
            Gw3Message::MethodsAdded(added) if added.server_id == server_id => Some(added),
            _ => None,
        })
        .flat_map(|added| added.methods.iter())
        .map(|m| {
            (
                m.id.as_value().clone(),
                m.name.clone(),
                m.input_signature.clone(),
            )
        })
        .collect();
    assert_eq!(
        methods,
        vec![(
            json!("0"),
            "Contract.Second".to_owned(),
            Some("Int n".to_owned())
        )],
        "the second registration replaced the first"
    );

    // One unregister removes it; there is no first definition left behind.
    for expect_success in [true, false] {
        let request_id = RequestId::random();
        server
            .send(&Gw3Message::Unregister(Unregister {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    request_id: Some(request_id.clone()),
                    peer_id: server.peer_id.clone(),
                    ..Envelope::default()
                },
                methods: vec![MethodId::new(json!("0"))],
            }))
            .await;
        let reply = server
            .expect("the unregister reply", |m| {
                m.request_id() == Some(&request_id)
            })
            .await;
        if expect_success {
            assert!(matches!(reply, Gw3Message::Success(_)), "{reply:?}");
        } else {
            let Gw3Message::Error(error) = reply else {
                panic!("a second unregister must fail: {reply:?}")
            };
            assert_eq!(
                error.reason_uri.as_deref(),
                Some(reasons::UNREGISTRATION_FAILURE)
            );
        }
    }
}

async fn unknown_message_types_are_unhandled_in_their_own_domain(bus: &ContractBus) {
    let mut client = joined(bus, &ContractBus::fresh_user(), "ContractClient").await;
    let peer_id = client.peer_id.clone().expect("peer id");
    let cases = [
        (
            Some("agm"),
            Some(Domain::Agm),
            "agm.errors.unhandled_message",
        ),
        (
            Some("global"),
            Some(Domain::Global),
            reasons::UNHANDLED_MESSAGE,
        ),
        (None, Some(Domain::Global), reasons::UNHANDLED_MESSAGE),
        (
            Some("context"),
            Some(Domain::Context),
            "context.errors.unhandled_message",
        ),
    ];
    for (domain, reply_domain, reason_uri) in cases {
        let request_id = RequestId::random();
        let mut frame = json!({"type": "teleport", "request_id": request_id, "peer_id": peer_id});
        if let Some(domain) = domain {
            frame["domain"] = json!(domain);
        }
        client.send_text(&frame.to_string()).await;
        let reply = client
            .expect("the error reply", |m| m.request_id() == Some(&request_id))
            .await;
        let Gw3Message::Error(error) = reply else {
            panic!("expected an error for {frame}, got {reply:?}")
        };
        assert_eq!(error.domain, reply_domain, "{frame}: {error:?}");
        assert_eq!(
            error.reason_uri.as_deref(),
            Some(reason_uri),
            "{frame}: {error:?}"
        );
        assert!(
            error
                .reason
                .as_deref()
                .unwrap_or("")
                .starts_with("Unhandled message"),
            "{error:?}"
        );
    }
    // A domain the gateway does not have is a global failure.
    let request_id = RequestId::random();
    client
        .send_text(
            &json!({"domain": "nowhere", "type": "teleport", "request_id": request_id, "peer_id": peer_id})
                .to_string(),
        )
        .await;
    expect_error(
        &mut client,
        &request_id,
        reasons::FAILURE,
        "Unable to find domain for message",
    )
    .await;
    // The connection is still usable.
    client
        .register(vec![method("0", "Contract.StillHere", "", "")])
        .await;
}

async fn a_peer_id_of_another_connection_is_a_global_failure_without_a_domain(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let victim = joined(bus, &user, "ContractVictim").await;
    let victim_id = victim.peer_id.clone().expect("victim id");
    let mut intruder = joined(bus, &user, "ContractIntruder").await;
    let intruder_id = intruder.peer_id.clone().expect("intruder id");
    let register_id = RequestId::random();
    let token_id = RequestId::random();
    let (call_id, call) = agm_call_to(Some(victim_id.clone()), intruder_id.clone(), "0", json!({}));
    for message in [
        Gw3Message::Register(codemode_protocol::gw3::Register {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(register_id.clone()),
                peer_id: Some(victim_id.clone()),
                ..Envelope::default()
            },
            methods: vec![method("0", "Contract.Evil", "", "")],
        }),
        Gw3Message::CreateToken(CreateToken {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(token_id.clone()),
                peer_id: Some(victim_id.clone()),
                ..Envelope::default()
            },
        }),
        call,
    ] {
        intruder.send(&message).await;
    }
    for request_id in [register_id, token_id, call_id] {
        let reply = intruder
            .expect("the error reply", |m| m.request_id() == Some(&request_id))
            .await;
        let Gw3Message::Error(error) = reply else {
            panic!("using another connection's peer id must fail: {reply:?}")
        };
        assert_eq!(error.domain, None, "{error:?}");
        assert_eq!(
            error.reason_uri.as_deref(),
            Some(reasons::FAILURE),
            "{error:?}"
        );
        assert_eq!(
            error.reason,
            Some(format!(
                "The original source of peer {victim_id} doesnt match the current source"
            ))
        );
        assert_eq!(error.peer_id.as_ref(), Some(&victim_id));
    }
    // Nothing was registered for the victim.
    let mut late = peer(bus, &user, "ContractLate").await;
    let bootstrap = late.join_agm().await;
    assert!(
        bootstrap.iter().all(|m| match m {
            Gw3Message::MethodsAdded(added) => added.server_id != victim_id,
            _ => true,
        }),
        "the forged register reached the bus: {bootstrap:?}"
    );
    assert!(
        bootstrap
            .iter()
            .any(|m| matches!(m, Gw3Message::PeerAdded(added) if added.new_peer_id == intruder_id))
    );
}

async fn missing_and_unknown_peer_ids_fail_in_the_message_domain(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut client = joined(bus, &user, "ContractClient").await;
    let unknown = PeerId::new("p-contract-unknown-1");
    let register = |request_id: &RequestId, peer_id: Option<PeerId>| {
        Gw3Message::Register(codemode_protocol::gw3::Register {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id,
                ..Envelope::default()
            },
            methods: vec![method("0", "Contract.Nobody", "", "")],
        })
    };
    let create_token = |request_id: &RequestId, peer_id: Option<PeerId>| {
        Gw3Message::CreateToken(CreateToken {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(request_id.clone()),
                peer_id,
                ..Envelope::default()
            },
        })
    };
    let unknown_reason = format!("Unable to find peer with id {unknown}");
    let cases: [(Gw3Message, RequestId, Domain, &str, &str); 4] = {
        let ids: [RequestId; 4] = std::array::from_fn(|_| RequestId::random());
        [
            (
                register(&ids[0], None),
                ids[0].clone(),
                Domain::Agm,
                reasons::AGM_FAILURE,
                "Peer id is missing",
            ),
            (
                register(&ids[1], Some(unknown.clone())),
                ids[1].clone(),
                Domain::Agm,
                reasons::AGM_FAILURE,
                &unknown_reason,
            ),
            (
                create_token(&ids[2], None),
                ids[2].clone(),
                Domain::Global,
                reasons::FAILURE,
                "Peer id is missing",
            ),
            (
                create_token(&ids[3], Some(unknown.clone())),
                ids[3].clone(),
                Domain::Global,
                reasons::FAILURE,
                &unknown_reason,
            ),
        ]
    };
    for (message, request_id, domain, reason_uri, reason) in cases {
        client.send(&message).await;
        let reply = client
            .expect("the error reply", |m| m.request_id() == Some(&request_id))
            .await;
        let Gw3Message::Error(error) = reply else {
            panic!("expected an error for {message:?}, got {reply:?}")
        };
        assert_eq!(error.domain, Some(domain), "{error:?}");
        assert_eq!(error.reason_uri.as_deref(), Some(reason_uri), "{error:?}");
        assert_eq!(error.reason.as_deref(), Some(reason), "{error:?}");
    }
    // Calling a server that does not exist.
    let (request_id, call) = agm_call_to(client.peer_id.clone(), unknown.clone(), "0", json!({}));
    client.send(&call).await;
    expect_error(
        &mut client,
        &request_id,
        reasons::AGM_FAILURE,
        &unknown_reason,
    )
    .await;
}

async fn a_second_hello_with_the_same_identity_is_already_seen(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut twin = Identity::new();
    twin.insert("application".into(), json!("ContractTwin"));
    twin.insert(
        "instance".into(),
        json!(format!("twin-{}", uuid::Uuid::new_v4().simple())),
    );
    let mut first = RawPeer::connect(&bus.url).await;
    let reply = first
        .hello(twin.clone(), Authentication::secret(&user, "secret"))
        .await;
    assert!(matches!(reply, Gw3Message::Welcome(_)), "{reply:?}");

    // The same identity again, on another connection and on the same one.
    let mut second = RawPeer::connect(&bus.url).await;
    for client in [&mut second, &mut first] {
        let reply = client
            .hello(twin.clone(), Authentication::secret(&user, "secret"))
            .await;
        let Gw3Message::Error(error) = reply else {
            panic!("expected already_seen, got {reply:?}")
        };
        assert_eq!(error.reason_uri.as_deref(), Some(reasons::ALREADY_SEEN));
        assert_eq!(error.reason.as_deref(), Some("Hello already received once"));
        assert_eq!(error.peer_id, None);
    }

    // Another user makes it another identity.
    let reply = second
        .hello(
            twin,
            Authentication::secret(ContractBus::fresh_user(), "secret"),
        )
        .await;
    assert!(
        matches!(reply, Gw3Message::Welcome(_)),
        "the user is part of the identity: {reply:?}"
    );
}

async fn a_hello_without_an_application_is_welcomed(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut client = RawPeer::connect(&bus.url).await;
    let mut identity = Identity::new();
    let instance = format!("nameless-{}", uuid::Uuid::new_v4().simple());
    identity.insert("instance".into(), json!(instance));
    let reply = client
        .hello(identity, Authentication::secret(&user, "secret"))
        .await;
    let Gw3Message::Welcome(welcome) = reply else {
        panic!("a hello without application is accepted: {reply:?}")
    };
    assert_eq!(welcome.resolved_identity.get("application"), None);
    assert_eq!(welcome.resolved_identity["instance"], json!(instance));
    assert_eq!(welcome.resolved_identity["user"], json!(user));
    client.join_agm().await;
}

async fn access_tokens_from_the_welcome_log_in_again_as_the_same_user(bus: &ContractBus) {
    let user = ContractBus::fresh_user();
    let mut first = RawPeer::connect(&bus.url).await;
    let welcome = first.login(&user, "ContractFirst").await;
    let access_token = welcome
        .options
        .as_ref()
        .and_then(|options| options["access_token"].as_str())
        .expect("the welcome carries an access token")
        .to_owned();
    // The token is not one-shot: two more logins with it.
    for application in ["ContractAgain", "ContractThird"] {
        let mut client = RawPeer::connect(&bus.url).await;
        let mut identity = Identity::new();
        identity.insert("application".into(), json!(application));
        let reply = client
            .hello(identity, Authentication::access_token(&access_token))
            .await;
        let Gw3Message::Welcome(again) = reply else {
            panic!("access-token login failed: {reply:?}")
        };
        assert_eq!(again.resolved_identity["user"], json!(user));
        assert_eq!(again.resolved_identity["application"], json!(application));
    }
    let mut forger = RawPeer::connect(&bus.url).await;
    let mut identity = Identity::new();
    identity.insert("application".into(), json!("ContractForger"));
    let reply = forger
        .hello(identity, Authentication::access_token("forged"))
        .await;
    let Gw3Message::Error(error) = reply else {
        panic!("a forged access token must fail: {reply:?}")
    };
    assert_eq!(
        error.reason_uri.as_deref(),
        Some(reasons::AUTHENTICATION_FAILURE)
    );
    assert_eq!(error.peer_id, None);
}

// Real client libraries against the mock bus.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_interopio_core_app_registers_on_the_mock_bus_and_the_adapter_invokes_it() {
    codemode_tests::ensure_node_packages();
    let bus = MockBus::start(MockBusConfig::default())
        .await
        .expect("start the mock bus");
    let user = ContractBus::fresh_user();
    let mut app = std::process::Command::new("node")
        .current_dir(ioconnect_fixture_dir())
        .args(["serve-one.js", "--url", &bus.url(), "--user", &user])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start serve-one.js");
    let stdout = app.stdout.take().expect("stdout");
    let ready = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .next()
            .and_then(Result::ok)
            .unwrap_or_default()
    })
    .await
    .expect("read the ready line");
    assert!(
        ready.contains("\"ready\":true"),
        "serve-one.js did not get ready: {ready}"
    );

    let config = codemode_adapters::ioconnect::IoConnectConfig::new(
        bus.url(),
        Authentication::secret(&user, "secret"),
    );
    let adapter = IoConnectBus::connect(config)
        .await
        .expect("adapter connects");
    let greeting = adapter
        .invoke_one(
            "Contract.Greet",
            json!({"name": "Amelia"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("invoke the real app's method");
    assert_eq!(
        greeting,
        json!({"greeting": "hello Amelia", "app": "ContractApp"})
    );
    let failed = adapter
        .invoke_one(
            "Contract.Greet",
            Map::new(),
            &Target::Best,
            CallOptions::default(),
        )
        .await;
    assert!(
        matches!(&failed, Err(codemode_adapters::BusError::InvocationFailed { reason, .. }) if reason.contains("name is required")),
        "{failed:?}"
    );
    adapter.close().await;
    let _ = app.kill();
    let _ = app.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_interopio_desktop_client_discovers_invokes_and_raises_on_the_mock_bus() {
    let bus = MockBus::start(MockBusConfig::default())
        .await
        .expect("start the mock bus");
    let url = bus.url();
    let user = ContractBus::fresh_user();
    let (methods, clients, raised) = tokio::task::spawn_blocking(move || {
        let methods = probe_url(&url, &user, &["methods"]);
        let clients = probe_url(&url, &user, &["invoke", "CRM.GetClients", r#"{"nameContains":"Amelia Reid"}"#]);
        let raised = probe_url(&url, &user, &["raise", "ViewChart", r#"{"type":"fdc3.instrument","data":{"type":"fdc3.instrument","id":{"ticker":"AAPL"}}}"#]);
        (methods, clients, raised)
    })
    .await
    .expect("run the probe");
    let names: Vec<&str> = methods
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.contains(&"CRM.GetClients"), "{names:?}");
    assert_eq!(clients["ok"], true, "{clients}");
    assert_eq!(
        clients["returned"]["clients"][0]["adviser"], "M Carter",
        "{clients}"
    );
    assert_eq!(raised["ok"], true, "io.intents.raise failed: {raised}");
    assert_eq!(raised["handler"]["applicationName"], "Charts", "{raised}");
    assert_eq!(raised["handler"]["type"], "instance", "{raised}");
    assert_eq!(
        raised["handler"]["instanceId"].as_str(),
        bus.running_instances("Charts").first().map(String::as_str),
        "the running Charts instance answered: {raised}"
    );
    assert_eq!(
        raised["result"],
        json!({"shown": true, "ticker": "AAPL"}),
        "{raised}"
    );
    bus.shutdown().await;

    // The same request through codemode's adapter on a fresh bus, for symmetry.
    let bus = MockBus::start(MockBusConfig::default())
        .await
        .expect("start the mock bus");
    let adapter = IoConnectBus::connect(codemode_adapters::ioconnect::IoConnectConfig::new(
        bus.url(),
        Authentication::secret("anyone", "secret"),
    ))
    .await
    .expect("adapter connects");
    let resolution = adapter
        .raise_intent(IntentRequest {
            intent: "ViewChart".into(),
            context: json!({"type": "fdc3.instrument", "id": {"ticker": "AAPL"}}),
            target: IntentTarget::default(),
            timeout: Duration::from_secs(10),
        })
        .await
        .expect("raise ViewChart on the mock bus");
    assert_eq!(resolution.handler.application, "Charts");
    adapter.close().await;
}

mod contexts;
mod streams;
