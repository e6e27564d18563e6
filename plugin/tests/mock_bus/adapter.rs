//! The real io.Connect adapter (`IoConnectBus`) against the mock bus: discovery, invocation
//! with targets, errors, faults, reconnects and intents.

use std::time::Duration;

use serde_json::{Value, json};

use codemode::mock_bus::{MockBus, MockBusConfig, MockBusHandle};
use codemode_adapters::{
    Bus, BusError, BusEvent, CallOptions, IntentRequest, IntentTarget, Invoke, RaiseIntent, Target,
};

use super::{adapter_config, args, connect_adapter, start, start_default};

fn quick(timeout_ms: u64) -> CallOptions {
    CallOptions {
        timeout: Duration::from_millis(timeout_ms),
        wait_for_method: Duration::ZERO,
        trace: None,
    }
}

/// The adapter still reaches the CRM (the call goes out on the new connection).
async fn assert_calls_work_after_reconnecting(
    adapter: &codemode_adapters::ioconnect::IoConnectBus,
) {
    let result = adapter
        .invoke_one(
            "CRM.GetClient",
            args(json!({"clientId": "c-001"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("works after reconnecting");
    assert_eq!(result["client"]["name"], "Amelia Reid");
}

async fn wait_for_event(
    events: &mut tokio::sync::broadcast::Receiver<BusEvent>,
    wanted: impl Fn(&BusEvent) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) if wanted(&event) => return,
            Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(error)) => panic!("event stream ended: {error}"),
            Err(elapsed) => panic!("the event never came: {elapsed}"),
        }
    }
}

#[tokio::test]
async fn the_adapter_discovers_sample_methods_and_intents() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    let catalogue = adapter.catalogue();
    for name in [
        "CRM.GetClients",
        "CRM.GetClient",
        "CRM.GetAdvisers",
        "Portfolio.GetHoldings",
        "MarketData.GetQuote",
        "MarketData.Subscribe",
        "Notes.AddNote",
        "Tasks.CreateTask",
    ] {
        assert!(
            catalogue.methods_named(name).next().is_some(),
            "{name} missing"
        );
    }
    assert!(
        catalogue
            .methods
            .iter()
            .all(|m| !m.name.starts_with("T42.")),
        "platform methods are hidden"
    );
    let view_chart = catalogue.intent("ViewChart").expect("ViewChart");
    assert!(
        view_chart
            .handlers
            .iter()
            .any(|h| h.application == "Charts" && h.instance.is_some())
    );
    let start_call = catalogue.intent("StartCall").expect("StartCall (declared)");
    assert!(
        start_call
            .handlers
            .iter()
            .all(|h| h.application == "Dialer" && h.instance.is_none())
    );
    assert_eq!(start_call.context_types(), vec!["fdc3.contact".to_owned()]);
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn get_clients_filters_by_adviser_and_name() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    let result = adapter
        .invoke_one(
            "CRM.GetClients",
            args(json!({"adviser": "M Carter"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("GetClients");
    let clients = result["clients"].as_array().expect("clients");
    assert!(clients.len() > 5);
    assert!(clients.iter().all(|c| c["adviser"] == "M Carter"));
    let amelia = clients.iter().find(|c| c["id"] == "c-001").expect("c-001");
    assert_eq!(amelia["name"], "Amelia Reid");
    assert!(
        amelia["clientSince"]
            .as_str()
            .is_some_and(|d| d.starts_with("#T42_DATE#"))
    );
    let result = adapter
        .invoke_one(
            "CRM.GetClients",
            args(json!({"nameContains": "REID", "minAum": 1000})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("GetClients by name");
    assert!(
        result["clients"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["id"] == "c-001"))
    );
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn targets_best_all_and_instance_filter_reach_the_right_servers() {
    let bus = start_default().await;
    let second = bus.start_app("CRM").expect("second CRM instance");
    let adapter = connect_adapter(&bus, "alice").await;
    let arguments = args(json!({"clientId": "c-002"}));
    let all = adapter
        .invoke(
            "CRM.GetClient",
            arguments.clone(),
            &Target::All,
            CallOptions::default(),
        )
        .await
        .expect("all");
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|reply| {
        reply
            .outcome
            .as_ref()
            .is_ok_and(|r| r["client"]["name"] == "Oliver Grant")
    }));
    let best = adapter
        .invoke(
            "CRM.GetClient",
            arguments.clone(),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("best");
    assert_eq!(best.len(), 1);
    let filtered = adapter
        .invoke(
            "CRM.GetClient",
            arguments,
            &Target::instance(second.clone()),
            CallOptions::default(),
        )
        .await
        .expect("filter");
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].server.instance(), Some(second.as_str()));
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn a_failing_method_reports_its_reason_to_the_caller() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    let error = adapter
        .invoke_one(
            "CRM.GetClient",
            args(json!({"clientId": "nope"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("unknown client");
    let BusError::InvocationFailed {
        reason, reason_uri, ..
    } = error
    else {
        panic!("{error:?}");
    };
    assert_eq!(reason, "Unknown client nope");
    assert_eq!(reason_uri.as_deref(), Some("agm.errors.client_error"));
    let error = adapter
        .invoke_one(
            "Diagnostics.Fail",
            args(json!({"reason": "boom"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("fail");
    let BusError::InvocationFailed {
        reason, context, ..
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!(reason, "Diagnostics.Fail: boom");
    assert_eq!(context, Some(json!({"retryable": false})));
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn a_server_leaving_mid_call_is_peer_left() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    let error = adapter
        .invoke_one(
            "Diagnostics.Crash",
            args(json!({})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("crash");
    assert!(matches!(error, BusError::PeerLeft { .. }), "{error:?}");
    bus.kill_peer_on_call("Portfolio.GetHoldings");
    let error = adapter
        .invoke_one(
            "Portfolio.GetHoldings",
            args(json!({"clientId": "c-001"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("killed");
    assert!(matches!(error, BusError::PeerLeft { .. }), "{error:?}");
    assert!(bus.running_instances("Portfolio").is_empty());
    bus.clear_faults();
    bus.start_app("Portfolio").expect("restart Portfolio");
    let options = CallOptions {
        timeout: Duration::from_secs(5),
        wait_for_method: Duration::from_secs(5),
        trace: None,
    };
    let result = adapter
        .invoke_one(
            "Portfolio.GetHoldings",
            args(json!({"clientId": "c-001"})),
            &Target::Best,
            options,
        )
        .await
        .expect("Portfolio is back");
    assert!(result["holdings"].as_array().is_some_and(|h| !h.is_empty()));
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn latency_and_never_reply_faults_delay_and_time_out_calls() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    bus.set_never_reply("CRM.GetAdvisers");
    let error = adapter
        .invoke_one(
            "CRM.GetAdvisers",
            args(json!({})),
            &Target::Best,
            quick(200),
        )
        .await
        .expect_err("never replies");
    assert!(matches!(error, BusError::Timeout { .. }), "{error:?}");
    bus.set_fault("CRM.GetAdvisers", None);
    let latency = Duration::from_millis(300);
    bus.set_latency("CRM.GetAdvisers", latency);
    let called = tokio::time::Instant::now();
    let result = adapter
        .invoke_one(
            "CRM.GetAdvisers",
            args(json!({})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("slow but answers");
    let took = called.elapsed();
    assert!(
        took >= latency,
        "answered after {took:?}, before the latency"
    );
    assert_eq!(result["advisers"][0]["name"], "M Carter");
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn holdings_carry_t42_dates_and_notes_are_appended() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    let holdings = adapter
        .invoke_one(
            "Portfolio.GetHoldings",
            args(json!({"clientId": "c-001"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("holdings");
    assert_eq!(holdings["asOf"], "#T42_DATE#1738341000000");
    let first = &holdings["holdings"][0];
    assert!(
        first["asOf"]
            .as_str()
            .is_some_and(|d| d.starts_with("#T42_DATE#"))
    );
    assert!(first["marketValue"].as_f64().is_some());
    let error = adapter
        .invoke_one(
            "Portfolio.GetHoldings",
            args(json!({"clientId": "c-999999"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("unknown client");
    assert!(
        error.to_string().contains("Unknown client c-999999"),
        "{error}"
    );

    let note = adapter
        .invoke_one(
            "Notes.AddNote",
            args(json!({"clientId": "c-001", "text": "Call back on Friday"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("add note");
    let id = note["note"]["id"].as_str().expect("note id").to_owned();
    let notes = adapter
        .invoke_one(
            "Notes.GetNotes",
            args(json!({"clientId": "c-001"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("notes");
    assert!(
        notes["notes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["id"] == id.as_str()))
    );
    let error = adapter
        .invoke_one(
            "Tasks.CreateTask",
            args(json!({"clientId": "c-001"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("title is required");
    assert!(error.to_string().contains("title is required"), "{error}");
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn the_adapter_reconnects_after_drop_all_connections() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    let mut events = adapter.events();
    assert_eq!(bus.drop_all_connections(), 1);
    wait_for_event(&mut events, |e| matches!(e, BusEvent::Reconnected { .. })).await;
    assert_calls_work_after_reconnecting(&adapter).await;
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn the_adapter_reconnects_to_a_bus_restarted_on_the_same_port() {
    let bus = start_default().await;
    let address = bus.local_addr();
    let adapter = connect_adapter(&bus, "alice").await;
    let mut events = adapter.events();
    bus.shutdown().await;
    wait_for_event(&mut events, |e| matches!(e, BusEvent::Disconnected { .. })).await;
    let bus = MockBus::start(MockBusConfig {
        listen: Some(address),
        ..MockBusConfig::default()
    })
    .await
    .expect("restart on the same port");
    wait_for_event(&mut events, |e| matches!(e, BusEvent::Reconnected { .. })).await;
    let result = adapter
        .invoke_one(
            "MarketData.GetQuote",
            args(json!({"symbol": "AAPL"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("quote after restart");
    assert_eq!(result["quote"]["symbol"], "AAPL");
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn malformed_frames_from_the_bus_do_not_break_the_adapter() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    for frame in [
        codemode::mock_bus::MalformedFrame::NotJson,
        codemode::mock_bus::MalformedFrame::NotAnObject,
        codemode::mock_bus::MalformedFrame::MissingType,
        codemode::mock_bus::MalformedFrame::WrongShape,
        codemode::mock_bus::MalformedFrame::UnknownType,
        codemode::mock_bus::MalformedFrame::Binary,
    ] {
        assert_eq!(bus.send_malformed_frame(&frame), 1);
    }
    let result = adapter
        .invoke_one(
            "Diagnostics.Echo",
            args(json!({"text": "still here"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("echo");
    assert_eq!(result["text"], "still here");
    assert!(adapter.is_connected());
    adapter.close().await;
    bus.shutdown().await;
}

fn intent(name: &str, context: Value, app: Option<&str>) -> IntentRequest {
    IntentRequest {
        intent: name.into(),
        context,
        target: IntentTarget {
            app: app.map(str::to_owned),
            instance: None,
        },
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn raising_view_chart_reaches_the_running_charts_app() {
    let bus = start_default().await;
    let adapter = connect_adapter(&bus, "alice").await;
    let resolution = adapter
        .raise_intent(intent(
            "ViewChart",
            json!({"type": "fdc3.instrument", "id": {"ticker": "AAPL"}, "name": "Apple"}),
            None,
        ))
        .await
        .expect("ViewChart");
    assert!(!resolution.started);
    assert_eq!(resolution.handler.application, "Charts");
    assert_eq!(resolution.result, json!({"shown": true, "ticker": "AAPL"}));
    let contact = adapter
        .raise_intent(intent(
            "ViewContact",
            json!({"type": "fdc3.contact", "name": "Amelia Reid", "id": {"email": "amelia.reid@example.com"}}),
            Some("CRM"),
        ))
        .await
        .expect("ViewContact");
    assert_eq!(contact.result["id"], "c-001");
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn raising_start_call_starts_the_dialer_on_demand() {
    let bus = start_default().await;
    assert!(bus.running_instances("Dialer").is_empty());
    let adapter = connect_adapter(&bus, "alice").await;
    let resolution = adapter
        .raise_intent(intent(
            "StartCall",
            json!({"type": "fdc3.contact", "name": "Amelia Reid", "id": {"phone": "+44 20 7946 0001"}}),
            None,
        ))
        .await
        .expect("StartCall");
    assert!(resolution.started);
    assert_eq!(resolution.handler.application, "Dialer");
    assert_eq!(
        resolution.result,
        json!({"calling": "+44 20 7946 0001", "status": "dialing"})
    );
    let instances = bus.running_instances("Dialer");
    assert_eq!(instances.len(), 1);
    assert_eq!(
        resolution.handler.instance.as_deref(),
        instances.first().map(String::as_str)
    );
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn an_app_started_after_a_delay_is_awaited_by_the_intent() {
    let bus = start(MockBusConfig {
        app_start_delay: Duration::from_millis(150),
        ..MockBusConfig::default()
    })
    .await;
    let adapter = connect_adapter(&bus, "alice").await;
    let resolution = adapter
        .raise_intent(intent(
            "StartCall",
            json!({"type": "fdc3.contact", "name": "Isla Morgan"}),
            Some("Dialer"),
        ))
        .await
        .expect("StartCall after a delayed start");
    assert!(resolution.started);
    assert_eq!(resolution.result["calling"], "Isla Morgan");
    adapter.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn apps_owned_by_another_user_are_invisible_to_the_adapter() {
    let bus = start(MockBusConfig {
        user: Some("desk-user".into()),
        ..MockBusConfig::default()
    })
    .await;
    let stranger = connect_adapter(&bus, "someone-else").await;
    assert!(stranger.catalogue().methods.is_empty());
    let error = stranger
        .invoke_one(
            "CRM.GetClients",
            args(json!({})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("invisible");
    assert!(
        matches!(error, BusError::MethodNotFound { .. }),
        "{error:?}"
    );
    let owner = connect_adapter(&bus, "desk-user").await;
    assert!(
        owner
            .catalogue()
            .methods_named("CRM.GetClients")
            .next()
            .is_some()
    );
    stranger.close().await;
    owner.close().await;
    bus.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_is_an_authentication_error_for_the_adapter() {
    let mut credentials = std::collections::BTreeMap::new();
    credentials.insert("alice".to_owned(), "right".to_owned());
    let bus: MockBusHandle = start(MockBusConfig {
        credentials: Some(credentials),
        ..MockBusConfig::default()
    })
    .await;
    let mut config = adapter_config(&bus, "alice");
    config.reconnect = false;
    let error = codemode_adapters::ioconnect::IoConnectBus::connect(config)
        .await
        .err()
        .expect("wrong secret");
    assert!(
        matches!(error, BusError::Authentication { .. }),
        "{error:?}"
    );
    bus.shutdown().await;
}

#[tokio::test]
async fn platform_methods_list_every_app_and_refuse_unknown_names() {
    let bus = start(MockBusConfig {
        synthetic_apps: 10,
        ..MockBusConfig::default()
    })
    .await;
    let adapter = connect_adapter(&bus, "alice").await;
    let listed = adapter
        .invoke_one(
            "T42.ACS.GetApplications",
            args(json!({"withIntentsInfo": true})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("GetApplications");
    let applications = listed["applications"].as_array().expect("applications");
    assert_eq!(applications.len(), bus.apps().len());
    let dialer = applications
        .iter()
        .find(|a| a["name"] == "Dialer")
        .expect("Dialer is listed");
    assert_eq!(dialer["intents"][0]["name"], "StartCall");
    assert_eq!(dialer["intents"][0]["contexts"], json!(["fdc3.contact"]));
    assert!(dialer["caption"].as_str().is_some_and(|c| !c.is_empty()));
    let error = adapter
        .invoke_one(
            "T42.ACS.StartApplication",
            args(json!({"Name": "NoSuchApp"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect_err("unknown app");
    assert!(error.to_string().contains("NoSuchApp"), "{error}");
    let started = adapter
        .invoke_one(
            "T42.ACS.StartApplication",
            args(json!({"Name": "charts"})),
            &Target::Best,
            CallOptions::default(),
        )
        .await
        .expect("Charts is single-instance");
    assert_eq!(started["Name"], "Charts");
    assert_eq!(
        bus.running_instances("Charts"),
        vec![started["Id"].as_str().unwrap_or_default().to_owned()]
    );
    adapter.close().await;
    bus.shutdown().await;
}

/// Regression: the task that re-reads declared apps after a reconnect held a strong command
/// sender, so dropping every handle of the adapter (without `close`) left its connection open
/// forever.
#[tokio::test]
async fn dropping_the_adapter_without_close_ends_its_connection() {
    let bus = start_default().await;
    let before = bus.connection_count();
    let adapter = connect_adapter(&bus, "dropper").await;
    assert_eq!(
        bus.connection_count(),
        before + 1,
        "the adapter is connected"
    );
    drop(adapter);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while bus.connection_count() > before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the connection is still open 5 s after the adapter was dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bus.shutdown().await;
}

/// An app io.Connect Desktop launches logs in with a gateway token, which expires minutes later;
/// the adapter keeps a fresh one (`create-token`) so that a reconnect after the expiry still
/// logs in, as the same user.
#[tokio::test]
async fn a_gateway_token_login_reconnects_after_the_token_expired() {
    use codemode_protocol::gw3::Authentication;

    // The adapter refreshes its token ten times per lifetime: a busy machine can delay a
    // refresh several-fold and the newest token is still valid.
    let token_ttl = Duration::from_secs(2);
    let bus = start(MockBusConfig {
        token_ttl,
        ..MockBusConfig::default()
    })
    .await;
    let (mut parent, _) = super::RawClient::login(&bus.url(), "desktop-user").await;
    let token = parent.create_token().await;
    let mut config = adapter_config(&bus, "ignored");
    config.authentication = Authentication::gateway_token(token);
    config.token_refresh_interval = token_ttl / 10;
    let adapter = codemode_adapters::ioconnect::IoConnectBus::connect(config)
        .await
        .expect("the gateway token logs in");
    assert_eq!(adapter.identity()["user"], "desktop-user");
    // Past the handed-over token's expiry (it was created before this sleep began).
    tokio::time::sleep(token_ttl + Duration::from_millis(100)).await;
    let mut events = adapter.events();
    assert!(bus.drop_all_connections() >= 1);
    wait_for_event(&mut events, |e| matches!(e, BusEvent::Reconnected { .. })).await;
    assert_eq!(
        adapter.identity()["user"],
        "desktop-user",
        "the same user after reconnecting"
    );
    assert_calls_work_after_reconnecting(&adapter).await;
    adapter.close().await;
    bus.shutdown().await;
}
