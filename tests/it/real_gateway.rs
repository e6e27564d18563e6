//! The io.Connect adapter against the real GW3 gateway (`@glue42/gateway-web`) and real
//! `@interopio/core` / `@interopio/desktop` apps. The only fake part of the fixture is the
//! platform stand-in for `T42.ACS.GetApplications` / `T42.ACS.StartApplication`.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use async_trait::async_trait;
use codemode_adapters::{
    Bus, BusError, BusEvent, CallOptions, HandlerError, Identity, IntentRequest, IntentTarget,
    Invoke, MethodHandler, RaiseIntent, Serve, ServedMethod, Target, applications,
    ioconnect::IoConnectBus,
};
use codemode_protocol::{dates::parse_t42_date, gw3::Authentication};
use codemode_tests::{
    GatewayOptions, RealGateway, init_tracing, probe, shared_gateway, shared_gateway_lock,
};
use serde_json::{Map, Value, json};

fn args(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        _ => Map::new(),
    }
}

async fn connect(gateway: &RealGateway) -> IoConnectBus {
    init_tracing();
    IoConnectBus::connect(gateway.adapter_config())
        .await
        .expect("connect to the real gateway")
}

fn user_methods(value: &Value) -> BTreeSet<(String, String, String)> {
    value
        .as_array()
        .expect("probe methods is an array")
        .iter()
        .filter(|method| {
            let name = method["name"].as_str().unwrap_or("");
            !name.starts_with("T42.") && !name.starts_with("Tick42.")
        })
        .map(|method| {
            (
                method["name"].as_str().unwrap_or("").to_owned(),
                method["accepts"].as_str().unwrap_or("").to_owned(),
                method["returns"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_matches_what_the_real_desktop_client_reports() {
    // Our catalogue and the probe's are taken at different moments: no test may register on
    // the shared gateway in between.
    let _exclusive = shared_gateway_lock().await;
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let catalogue = bus.catalogue();

    let ours: BTreeSet<(String, String, String)> = catalogue
        .methods
        .iter()
        .map(|method| {
            (
                method.name.clone(),
                method.input_signature.clone().unwrap_or_default(),
                method.result_signature.clone().unwrap_or_default(),
            )
        })
        .collect();
    let reference = user_methods(&probe(gateway, &["methods"]));
    // The probe is itself a peer and may register nothing; everything it sees we must see.
    assert_eq!(
        ours, reference,
        "methods and signatures differ from @interopio/desktop's view"
    );

    let get_clients = catalogue
        .methods_named("CRM.GetClients")
        .next()
        .expect("CRM.GetClients");
    assert_eq!(
        get_clients.input_signature.as_deref(),
        Some("String? adviser, String? nameContains")
    );
    assert!(
        get_clients
            .description
            .as_deref()
            .unwrap_or("")
            .contains("adviser")
    );
    assert_eq!(get_clients.servers[0].application(), "CRM");

    let echo = catalogue
        .methods_named("Echo.Ping")
        .next()
        .expect("Echo.Ping");
    let echo_apps: BTreeSet<&str> = echo
        .servers
        .iter()
        .map(codemode_adapters::ServerInfo::application)
        .collect();
    assert_eq!(
        echo_apps,
        BTreeSet::from(["EchoA", "EchoB"]),
        "one logical method, two servers"
    );

    assert!(
        catalogue
            .methods
            .iter()
            .all(|method| !method.name.starts_with("T42.")),
        "platform methods hidden"
    );
    assert!(
        catalogue
            .methods
            .iter()
            .all(|method| !method.name.starts_with("Tick42.")),
        "intent methods are intents"
    );
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intents_match_running_handlers_and_declared_apps() {
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let catalogue = bus.catalogue();

    let view_chart = catalogue.intent("ViewChart").expect("ViewChart");
    let running = view_chart
        .handlers
        .iter()
        .find(|handler| handler.instance.is_some())
        .expect("a running Charts");
    assert_eq!(running.application, "Charts");
    assert_eq!(running.context_types, vec!["fdc3.instrument".to_owned()]);

    let start_call = catalogue
        .intent("StartCall")
        .expect("StartCall declared by the Dialer");
    assert!(
        start_call
            .handlers
            .iter()
            .all(|handler| handler.instance.is_none()),
        "Dialer is not running"
    );
    assert_eq!(start_call.handlers[0].application, "Dialer");
    assert!(
        start_call
            .context_types()
            .contains(&"fdc3.contact".to_owned())
    );

    let reference = probe(gateway, &["intents"]);
    let reference_names: BTreeSet<String> = reference
        .as_array()
        .expect("probe intents is an array")
        .iter()
        .filter_map(|intent| intent["name"].as_str().map(str::to_owned))
        .collect();
    let ours: BTreeSet<String> = catalogue
        .intents
        .iter()
        .map(|intent| intent.name.clone())
        .collect();
    assert_eq!(
        ours, reference_names,
        "intent names differ from io.intents.all()"
    );
    for intent in reference.as_array().into_iter().flatten() {
        let name = intent["name"].as_str().unwrap_or("");
        let instances: BTreeSet<String> = intent["handlers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|handler| handler["type"] == "instance")
            .filter_map(|handler| handler["instanceId"].as_str().map(str::to_owned))
            .collect();
        let our_instances: BTreeSet<String> = catalogue
            .intent(name)
            .map(|info| {
                info.handlers
                    .iter()
                    .filter_map(|handler| handler.instance.clone())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(our_instances, instances, "running handlers of {name}");
    }
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_returns_the_same_result_as_the_real_client() {
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let ours = bus
        .invoke_one(
            "CRM.GetClients",
            args(json!({"adviser": "M Carter"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("CRM.GetClients");
    let reference = probe(
        gateway,
        &["invoke", "CRM.GetClients", r#"{"adviser":"M Carter"}"#],
    );
    assert_eq!(reference["ok"], true, "{reference}");
    assert_eq!(ours, reference["returned"]);
    let clients = ours["clients"].as_array().expect("clients");
    assert!(clients.iter().any(|client| client["name"] == "Amelia Reid"));
    assert!(clients.iter().all(|client| client["adviser"] == "M Carter"));
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_targets_best_all_and_identity_filters() {
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let ping = |target: Target| {
        let bus = &bus;
        async move {
            bus.invoke(
                "Echo.Ping",
                args(json!({"text": "hi"})),
                &target,
                CallOptions::default(),
            )
            .await
        }
    };

    let best = ping(Target::Best).await.expect("best");
    assert_eq!(best.len(), 1);

    let all = ping(Target::All).await.expect("all");
    let apps: BTreeSet<String> = all
        .iter()
        .map(|reply| {
            reply.outcome.as_ref().expect("each server answers")["app"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        apps,
        BTreeSet::from(["EchoA".to_owned(), "EchoB".to_owned()])
    );
    for reply in &all {
        assert_eq!(
            reply.outcome.as_ref().unwrap()["app"],
            reply.server.application()
        );
    }

    let filtered = ping(Target::application("echob")).await.expect("filter");
    assert_eq!(filtered.len(), 1);
    assert_eq!(
        filtered[0].outcome.as_ref().unwrap()["app"],
        "EchoB",
        "filter is case-insensitive"
    );

    let nobody = ping(Target::application("NoSuchApp")).await.unwrap_err();
    assert!(
        matches!(nobody, BusError::NoMatchingServer { .. }),
        "{nobody:?}"
    );
    let missing = bus
        .invoke(
            "No.Such.Method",
            Map::new(),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(missing, BusError::MethodNotFound { .. }),
        "{missing:?}"
    );
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_map_to_invocation_failed_with_reason_and_context() {
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let error = bus
        .invoke_one(
            "CRM.GetClient",
            args(json!({"clientId": "nope"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    let BusError::InvocationFailed {
        reason, reason_uri, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(reason, "Unknown client nope");
    assert_eq!(reason_uri.as_deref(), Some("agm.errors.client_error"));

    let always = bus
        .invoke_one(
            "CRM.FailAlways",
            Map::new(),
            &Target::Best,
            CallOptions::default(),
        )
        .await;
    assert!(
        matches!(always, Err(BusError::InvocationFailed { .. })),
        "{always:?}"
    );
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_method_times_out_and_the_late_reply_is_dropped() {
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let options = CallOptions {
        timeout: Duration::from_millis(200),
        ..CallOptions::default()
    };
    let error = bus
        .invoke_one(
            "Slow.Wait",
            args(json!({"ms": 1500})),
            &Target::Best,
            options,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, BusError::Timeout { .. }), "{error:?}");
    // The connection stays usable while the late reply arrives and is dropped.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let fast = bus
        .invoke_one(
            "Slow.Wait",
            args(json!({"ms": 10})),
            &Target::Best,
            CallOptions::default(),
        )
        .await;
    assert_eq!(fast.expect("fast call")["waited"], 10);
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_arrive_as_t42_date_values() {
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let holdings = bus
        .invoke_one(
            "Portfolio.GetHoldings",
            args(json!({"clientId": "c-001"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("holdings");
    let first = &holdings["holdings"][0];
    let as_of = first["asOf"]
        .as_str()
        .expect("asOf is a string on the wire");
    let millis = parse_t42_date(as_of).expect("asOf is #T42_DATE#<ms>");
    assert!(millis > 1_600_000_000_000, "a plausible date: {millis}");
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raise_reaches_a_running_handler() {
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let resolution = bus
        .raise_intent(IntentRequest {
            intent: "ViewChart".into(),
            context: json!({"type": "fdc3.instrument", "id": {"ticker": "AAPL"}}),
            target: IntentTarget::default(),
            timeout: Duration::from_secs(20),
        })
        .await
        .expect("raise ViewChart");
    assert!(!resolution.started);
    assert_eq!(resolution.handler.application, "Charts");
    assert_eq!(resolution.result["ticker"], "AAPL", "{}", resolution.result);
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raise_starts_a_declared_app_on_demand_and_waits_for_its_handler() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let bus = connect(&gateway).await;
    let resolution = bus
        .raise_intent(IntentRequest {
            intent: "StartCall".into(),
            context: json!({"type": "fdc3.contact", "name": "Amelia Reid", "id": {"phone": "+44 20 7946 0001"}}),
            target: IntentTarget::default(),
            timeout: Duration::from_secs(30),
        })
        .await
        .expect("raise StartCall");
    assert!(resolution.started, "the Dialer had to be started");
    assert_eq!(resolution.handler.application, "Dialer");
    assert!(resolution.handler.instance.is_some());
    assert_eq!(
        resolution.result["status"], "dialing",
        "{}",
        resolution.result
    );
    // Now the handler is running and shows up as such.
    let handlers = bus
        .catalogue()
        .intent("StartCall")
        .map(|intent| intent.handlers.clone())
        .unwrap_or_default();
    assert!(
        handlers
            .iter()
            .any(|handler| handler.instance == resolution.handler.instance)
    );

    let unknown = bus
        .raise_intent(IntentRequest {
            intent: "NoSuchIntent".into(),
            context: json!({"type": "fdc3.nothing"}),
            target: IntentTarget::default(),
            timeout: Duration::from_secs(5),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, BusError::IntentNotResolved { .. }),
        "{unknown:?}"
    );
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_quits_mid_call_fails_the_call_with_peer_left() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let bus = connect(&gateway).await;
    let mut events = bus.events();
    let error = bus
        .invoke_one(
            "Quitter.QuitMidCall",
            Map::new(),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, BusError::PeerLeft { .. }), "{error:?}");
    // The catalogue follows: the method is gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while bus
        .catalogue()
        .methods_named("Quitter.QuitMidCall")
        .next()
        .is_some()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Quitter never left the catalogue"
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
    }
    bus.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_restart_fails_pending_calls_then_reconnects_and_resyncs() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let port = gateway.port;
    let bus = Arc::new(connect(&gateway).await);
    let mut events = bus.events();
    let generation_before = bus.catalogue().generation;

    let pending = {
        let bus = Arc::clone(&bus);
        tokio::spawn(async move {
            bus.invoke_one(
                "Slow.Wait",
                args(json!({"ms": 20_000})),
                &Target::Best,
                CallOptions::default(),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    gateway.stop();

    let failed = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("failed at once")
        .unwrap();
    assert!(
        matches!(failed, Err(BusError::Disconnected { .. })),
        "{failed:?}"
    );
    let while_down = bus
        .invoke_one(
            "CRM.GetClients",
            Map::new(),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(while_down, BusError::Disconnected { .. }),
        "{while_down:?}"
    );

    let restarted = RealGateway::start(&GatewayOptions {
        port: Some(port),
        ..GatewayOptions::default()
    });
    let generation = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(BusEvent::Reconnected { generation }) = events.recv().await {
                break generation;
            }
        }
    })
    .await
    .expect("reconnected after the restart");
    assert!(generation > generation_before);
    let catalogue = bus.catalogue();
    assert!(
        catalogue.methods_named("CRM.GetClients").next().is_some(),
        "catalogue resynced"
    );
    let clients = bus
        .invoke_one(
            "CRM.GetClients",
            args(json!({"nameContains": "reid"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("works after the reconnect");
    assert_eq!(clients["clients"][0]["name"], "Amelia Reid");
    bus.close().await;
    restarted.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_apps_are_discovered() {
    let gateway = RealGateway::start(&GatewayOptions {
        filler: 300,
        ..GatewayOptions::default()
    });
    let started = std::time::Instant::now();
    let bus = connect(&gateway).await;
    let elapsed = started.elapsed();
    let apps = applications(&bus.catalogue());
    let fillers = apps
        .keys()
        .filter(|name| name.starts_with("Filler"))
        .count();
    assert_eq!(fillers, 300, "apps seen: {}", apps.len());
    let reference = user_methods(&probe(&gateway, &["methods"]));
    let ours: BTreeSet<String> = bus
        .catalogue()
        .methods
        .iter()
        .map(|method| method.name.clone())
        .collect();
    let reference_names: BTreeSet<String> =
        reference.into_iter().map(|(name, _, _)| name).collect();
    assert_eq!(ours, reference_names);
    eprintln!(
        "connect + bootstrap of {} apps took {elapsed:?}",
        apps.len()
    );
    bus.close().await;
}

struct Greeter;

#[async_trait]
impl MethodHandler for Greeter {
    async fn handle(
        &self,
        arguments: Map<String, Value>,
        caller: Option<Identity>,
    ) -> Result<Value, HandlerError> {
        let name = arguments.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() {
            return Err(HandlerError {
                reason: "name is required".into(),
                context: Some(json!({"field": "name"})),
            });
        }
        let application = caller
            .and_then(|identity| {
                identity
                    .get("application")
                    .map(std::borrow::Cow::into_owned)
            })
            .unwrap_or(Value::Null);
        Ok(json!({"greeting": format!("hello {name}"), "caller": application}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_methods_are_invoked_by_the_real_client() {
    // Registers a method on the shared gateway: discovery comparisons must not see it.
    let _exclusive = shared_gateway_lock().await;
    let gateway = shared_gateway();
    let bus = connect(gateway).await;
    let method = ServedMethod {
        name: format!("CodeModeTest.Greet{}", uuid::Uuid::new_v4().simple()),
        description: Some("Greets someone.".into()),
        input_signature: Some("String name".into()),
        result_signature: Some("String greeting".into()),
        ..ServedMethod::default()
    };
    bus.serve(method.clone(), Arc::new(Greeter))
        .await
        .expect("register");
    // The handler answers with the caller's application, as the gateway identified it.
    let ok = probe(
        gateway,
        &[
            "--app",
            "GreetCaller",
            "invoke",
            &method.name,
            r#"{"name":"Amelia"}"#,
        ],
    );
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(
        ok["returned"],
        json!({"greeting": "hello Amelia", "caller": "GreetCaller"}),
        "{ok}"
    );
    let failed = probe(gateway, &["invoke", &method.name, r#"{"name":""}"#]);
    assert_eq!(failed["ok"], false, "{failed}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap_or("")
            .contains("name is required"),
        "{failed}"
    );
    // We never list our own methods.
    assert!(bus.catalogue().methods_named(&method.name).next().is_none());
    bus.close().await;
    // Leave the shared gateway as we found it before releasing the lock.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let observer = connect(gateway).await;
        let gone = observer
            .catalogue()
            .methods_named(&method.name)
            .next()
            .is_none();
        observer.close().await;
        if gone {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} stayed registered after its server closed",
            method.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_user_sees_an_empty_bus_and_bad_auth_is_a_clear_error() {
    let gateway = shared_gateway();
    let mut config = gateway.adapter_config();
    config.authentication = Authentication::secret("someone-else", "x");
    let bus = IoConnectBus::connect(config)
        .await
        .expect("any login is accepted");
    assert!(bus.catalogue().methods.is_empty(), "visibility is per user");
    bus.close().await;

    let mut config = gateway.adapter_config();
    config.authentication = Authentication {
        method: Some("secret".into()),
        ..Authentication::default()
    };
    config.reconnect = false;
    let error = IoConnectBus::connect(config)
        .await
        .err()
        .expect("a hello without login and secret is refused");
    assert!(
        matches!(error, BusError::Authentication { .. }),
        "{error:?}"
    );
}

/// Regression: with the default backoff (doubling to 10 s) the link trailed a restarted gateway
/// by seconds. The probe of the port and the low cap bring it back within a second of the
/// gateway listening again, however long it was down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_link_is_back_within_a_second_of_the_gateway() {
    init_tracing();
    let gateway = RealGateway::start(&GatewayOptions::default());
    let port = gateway.port;
    let mut config = gateway.adapter_config();
    let defaults = codemode_adapters::ioconnect::IoConnectConfig::new(
        config.url.clone(),
        config.authentication.clone(),
    );
    config.reconnect_initial_delay = defaults.reconnect_initial_delay;
    config.reconnect_max_delay = defaults.reconnect_max_delay;
    let bus = IoConnectBus::connect(config).await.expect("connects");
    let mut events = bus.events();
    gateway.stop();
    // Down long enough for an exponential backoff to grow to seconds.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let restarted = RealGateway::start(&GatewayOptions {
        port: Some(port),
        ..GatewayOptions::default()
    });
    let up = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(BusEvent::Reconnected { .. }) = events.recv().await {
                break;
            }
        }
    })
    .await
    .expect("reconnected after the restart");
    let lag = up.elapsed();
    eprintln!("reconnected {lag:?} after the gateway was listening again");
    assert!(
        lag < Duration::from_secs(1),
        "the link trailed the gateway by {lag:?}"
    );
    bus.close().await;
    restarted.stop();
}
