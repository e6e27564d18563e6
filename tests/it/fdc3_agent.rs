//! The FDC3 adapter against the FINOS reference Desktop Agent (`@finos/fdc3-web-impl`) with
//! handler apps written with the official `@finos/fdc3-agent-proxy`. Every frame the adapter
//! sends is validated by the fixture against the official `@finos/fdc3-schema` JSON schemas.
//! One test uses a scripted agent, for the one reply the reference agent never sends: a result
//! error.

use std::time::{Duration, Instant};

use codemode_adapters::{
    Bus, BusError, IntentRequest, IntentTarget, RaiseIntent,
    fdc3::{Fdc3Bus, Fdc3Config},
};
use codemode_protocol::fdc3::{self, AppIdentifier, Fdc3Message, Meta};
use codemode_tests::{ReferenceAgent, init_tracing};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn connect(agent: &ReferenceAgent) -> Fdc3Bus {
    init_tracing();
    let mut config = Fdc3Config::new(agent.url.clone(), agent.identity_url.clone());
    config.result_timeout = Duration::from_secs(20);
    config.app_directory = Some(agent.appd_url.clone());
    Fdc3Bus::connect(config)
        .await
        .expect("connect to the reference agent")
}

fn raise(intent: &str, context: Value) -> IntentRequest {
    IntentRequest {
        intent: intent.into(),
        context,
        target: IntentTarget::default(),
        timeout: Duration::from_secs(20),
    }
}

fn instrument() -> Value {
    json!({"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}})
}

fn contact() -> Value {
    json!({"type": "fdc3.contact", "name": "Amelia Reid", "id": {"email": "amelia.reid@example.com"}})
}

fn assert_every_sent_frame_is_schema_valid(agent: &ReferenceAgent) {
    let validations = agent.validations();
    assert!(!validations.is_empty(), "the fixture validated nothing");
    let invalid: Vec<&Value> = validations
        .iter()
        .filter(|record| record["valid"] != true)
        .collect();
    assert!(
        invalid.is_empty(),
        "frames that break the official schemas: {invalid:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_lists_intents_with_handlers_context_and_result_types() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    let catalogue = bus.catalogue();
    assert!(catalogue.methods.is_empty(), "FDC3 has no methods");

    let view_chart = catalogue.intent("ViewChart").expect("ViewChart");
    let running = view_chart
        .handlers
        .iter()
        .find(|handler| handler.instance.is_some())
        .expect("a running chart app");
    assert_eq!(running.application, "chart-app");
    assert!(
        running
            .context_types
            .contains(&"fdc3.instrument".to_owned()),
        "{running:?}"
    );
    assert_eq!(running.result_type.as_deref(), Some("fdc3.chart"));

    let start_chat = catalogue
        .intent("StartChat")
        .expect("StartChat declared by the dialer");
    assert!(
        start_chat
            .handlers
            .iter()
            .all(|handler| handler.instance.is_none()),
        "not running yet"
    );

    let found = bus
        .find_intent("ViewChart", Some(instrument()))
        .await
        .expect("findIntent");
    assert!(found.apps.iter().any(|app| app.app_id == "chart-app"));
    let info = bus.info().await.expect("getInfo");
    assert_eq!(info["fdc3Version"], "2.2");
    let metadata = bus
        .app_metadata(AppIdentifier {
            app_id: "chart-app".into(),
            ..AppIdentifier::default()
        })
        .await;
    assert_eq!(metadata.expect("getAppMetadata").app_id, "chart-app");
    let instances = bus
        .find_instances(AppIdentifier {
            app_id: "chart-app".into(),
            ..AppIdentifier::default()
        })
        .await;
    assert!(!instances.expect("findInstances").is_empty());
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_to_a_running_app_returns_its_context_result() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    let resolution = bus
        .raise_intent(raise("ViewChart", instrument()))
        .await
        .expect("raise ViewChart");
    assert_eq!(resolution.handler.application, "chart-app");
    assert!(!resolution.started);
    assert_eq!(
        resolution.result["type"], "fdc3.chart",
        "{}",
        resolution.result
    );
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_to_a_declared_app_launches_it() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    let resolution = bus
        .raise_intent(raise("StartChat", contact()))
        .await
        .expect("raise StartChat");
    assert_eq!(resolution.handler.application, "dialer-app");
    assert!(resolution.started, "the dialer had to be launched");
    assert_eq!(
        resolution.result["type"], "fdc3.chat.room",
        "{}",
        resolution.result
    );
    let refreshed = bus.catalogue();
    let handlers = &refreshed.intent("StartChat").expect("StartChat").handlers;
    assert!(
        handlers
            .iter()
            .any(|handler| handler.instance == resolution.handler.instance),
        "{handlers:?}"
    );
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_raise_surfaces_the_choices_and_a_target_resolves_it() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    let error = bus
        .raise_intent(raise("ViewInstrument", instrument()))
        .await
        .unwrap_err();
    let BusError::IntentAmbiguous { choices, .. } = &error else {
        panic!("{error:?}")
    };
    let message = error.to_string();
    for app in ["quote-app", "watchlist-app"] {
        assert!(
            choices
                .iter()
                .any(|choice| choice.application == app && choice.instance.is_some()),
            "the running {app} is a choice: {choices:?}"
        );
        assert!(message.contains(app), "the message names {app}: {message}");
    }
    let running = choices
        .iter()
        .find(|choice| choice.instance.is_some())
        .expect("a running choice");
    let mut targeted = raise("ViewInstrument", instrument());
    targeted.target = IntentTarget {
        app: Some(running.application.clone()),
        instance: running.instance.clone(),
    };
    let resolution = bus.raise_intent(targeted).await.expect("targeted raise");
    assert_eq!(resolution.handler.application, running.application);
    assert_eq!(resolution.handler.instance, running.instance);
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_intent_is_not_resolved_with_no_apps_found() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    let error = bus
        .raise_intent(raise("NoSuchIntent", instrument()))
        .await
        .unwrap_err();
    let BusError::IntentNotResolved { reason, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(reason, "NoAppsFound");
    let error = bus.find_intent("NoSuchIntent", None).await.unwrap_err();
    assert!(
        matches!(error, BusError::IntentNotResolved { .. }),
        "{error:?}"
    );
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_result_arrives_and_a_void_result_is_none() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    let mut slow = instrument();
    slow["delayMs"] = json!(3000);
    let raised = Instant::now();
    let resolution = bus
        .raise_intent(raise("ViewResearch", slow))
        .await
        .expect("slow result");
    // slow-app answers 3 s after the intent reached it: the raise waited for the result
    // instead of settling for the resolution that came first.
    let waited = raised.elapsed();
    assert!(
        waited >= Duration::from_secs(3),
        "the raise returned after {waited:?}, before the handler answered"
    );
    assert_eq!(
        resolution.result,
        json!({
            "type": "fdc3.instrument",
            "id": {"ticker": "AAPL"},
            "name": "Apple research (after 3000 ms)",
        }),
        "the delayed result arrived"
    );
    let void = bus
        .raise_intent(raise("StartCall", contact()))
        .await
        .expect("void result");
    assert!(void.result.is_null(), "{}", void.result);
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_disconnects_fails_the_raise_with_handler_left_not_a_timeout() {
    // flaky-app closes its socket on ViewNews without a result. The reference agent then tells
    // the raiser nothing (its cleanup only forgets the raises *made by* the instance that
    // left), so the adapter's only signal is the instance vanishing from `findInstances`. The
    // result timeout is a minute, far beyond the bound below: only that signal can end the raise.
    let agent = ReferenceAgent::start(1000);
    let mut config = Fdc3Config::new(agent.url.clone(), agent.identity_url.clone());
    config.result_timeout = Duration::from_mins(1);
    config.handler_check_interval = Duration::from_millis(200);
    let bus = Fdc3Bus::connect(config).await.expect("connect");
    let error = tokio::time::timeout(
        Duration::from_secs(10),
        bus.raise_intent(raise("ViewNews", instrument())),
    )
    .await
    .expect("the raise ends within 10 s, long before the result timeout")
    .unwrap_err();
    let BusError::IntentHandlerLeft { intent, handler } = &error else {
        panic!("expected IntentHandlerLeft, got {error:?}")
    };
    assert_eq!(intent, "ViewNews");
    assert_eq!(handler.application, "flaky-app");
    assert!(handler.instance.is_some(), "{handler:?}");
    let seen = codemode::bridge::host_call_error(error.clone());
    assert_eq!(seen.kind.python_class(), "PeerLeftError", "{seen:?}");
    assert!(error.to_string().contains("flaky-app"), "{error}");
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_errors_map_to_the_error_of_their_request_kind() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    let app = |app_id: &str| AppIdentifier {
        app_id: app_id.into(),
        ..AppIdentifier::default()
    };

    let mut unknown_app = raise("ViewChart", instrument());
    unknown_app.target.app = Some("no-such-app".into());
    let error = bus.raise_intent(unknown_app).await.unwrap_err();
    let BusError::IntentNotResolved { intent, reason } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (intent.as_str(), reason.as_str()),
        ("ViewChart", "TargetAppUnavailable")
    );
    let seen = codemode::bridge::host_call_error(error.clone());
    assert_eq!(seen.kind.python_class(), "IntentNotResolvedError");
    assert_eq!(seen.reason_uri.as_deref(), Some("TargetAppUnavailable"));

    let mut gone_instance = raise("ViewChart", instrument());
    gone_instance.target = IntentTarget {
        app: Some("chart-app".into()),
        instance: Some("no-such-instance".into()),
    };
    let error = bus.raise_intent(gone_instance).await.unwrap_err();
    assert_eq!(
        error.standard_reason(),
        Some("TargetInstanceUnavailable"),
        "{error:?}"
    );

    let error = bus.open(app("no-such-app"), None).await.unwrap_err();
    let BusError::OpenFailed {
        app: opened,
        reason,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        (opened.as_str(), reason.as_str()),
        ("no-such-app", "AppNotFound")
    );
    // codemode's own App Directory record has no launch manifest in the fixture.
    let error = bus.open(app("codemode"), None).await.unwrap_err();
    assert_eq!(error.standard_reason(), Some("ErrorOnLaunch"), "{error:?}");

    let error = bus.app_metadata(app("no-such-app")).await.unwrap_err();
    let BusError::Refused { request, reason } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (request.as_str(), reason.as_str()),
        ("getAppMetadataRequest", "TargetAppUnavailable")
    );
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_error_is_intent_result_failed_and_invocation_failed_in_python() {
    // The reference agent never sends a `raiseIntentResultResponse` error (its proxy sends
    // nothing when a handler throws), so a scripted agent sends the spec's
    // `{"error": "IntentHandlerRejected"}` after a normal resolution.
    init_tracing();
    let agent = ScriptedAgent::start().await;
    let mut config = Fdc3Config::new(agent.url.clone(), "http://localhost/scripted/codemode");
    config.reconnect = false;
    let bus = Fdc3Bus::connect(config).await.expect("connect");
    let error = bus
        .raise_intent(raise("ViewChart", instrument()))
        .await
        .unwrap_err();
    let BusError::IntentResultFailed { intent, reason } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (intent.as_str(), reason.as_str()),
        ("ViewChart", "IntentHandlerRejected")
    );
    let seen = codemode::bridge::host_call_error(error.clone());
    assert_eq!(
        seen.kind.python_class(),
        "InvocationFailedError",
        "{seen:?}"
    );
    assert_eq!(seen.reason_uri.as_deref(), Some("IntentHandlerRejected"));
    bus.close().await;
}

/// A Desktop Agent that answers the handshake, finds nothing during discovery, resolves every
/// raise to `chart-app` and then fails its result with `IntentHandlerRejected`.
struct ScriptedAgent {
    url: String,
}

impl ScriptedAgent {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("ws://{}/", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            while let Some(Ok(Message::Text(text))) = socket.next().await {
                let Ok(message) = fdc3::decode(text.as_str(), 1 << 20) else {
                    continue;
                };
                for reply in Self::answer(&message) {
                    if socket
                        .send(Message::text(fdc3::encode(&reply)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        });
        Self { url }
    }

    fn answer(message: &Fdc3Message) -> Vec<Fdc3Message> {
        let attempt = message.meta.connection_attempt_uuid.clone();
        let request = message.meta.request_uuid.clone();
        let reply = |message_type: &str, payload: Value| Fdc3Message {
            message_type: message_type.to_owned(),
            payload,
            meta: Meta {
                connection_attempt_uuid: attempt.clone(),
                request_uuid: request.clone(),
                response_uuid: request.as_ref().map(|_| uuid::Uuid::new_v4().to_string()),
                timestamp: Some(fdc3::timestamp(std::time::SystemTime::now())),
                ..Meta::default()
            },
        };
        let chart = json!({"appId": "chart-app", "instanceId": "i-chart"});
        match message.message_type.as_str() {
            "WCP1Hello" => vec![reply(
                "WCP3Handshake",
                json!({"fdc3Version": "2.2", "intentResolverUrl": false, "channelSelectorUrl": false}),
            )],
            "WCP4ValidateAppIdentity" => vec![reply(
                "WCP5ValidateAppIdentityResponse",
                json!({"appId": "codemode", "instanceId": "i-codemode", "instanceUuid": "i-codemode", "implementationMetadata": {}}),
            )],
            "findIntentsByContextRequest" => {
                vec![reply(
                    "findIntentsByContextResponse",
                    json!({"appIntents": []}),
                )]
            }
            "findIntentRequest" => vec![reply(
                "findIntentResponse",
                json!({"appIntent": {"intent": {"name": message.payload["intent"]}, "apps": []}}),
            )],
            "findInstancesRequest" => vec![reply(
                "findInstancesResponse",
                json!({"appIdentifiers": [chart]}),
            )],
            "raiseIntentRequest" => vec![
                reply(
                    "raiseIntentResponse",
                    json!({"intentResolution": {"intent": message.payload["intent"], "source": chart}}),
                ),
                reply(
                    "raiseIntentResultResponse",
                    json!({"error": "IntentHandlerRejected"}),
                ),
            ],
            _ => Vec::new(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged_over_a_long_idle_period() {
    // The agent drops an instance that misses acknowledgements for an open timeout; with a
    // 300 ms heartbeat, eight seconds idle are dozens of heartbeats.
    let agent = ReferenceAgent::start(300);
    let bus = connect(&agent).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let acknowledgements = agent
        .validations()
        .iter()
        .filter(|record| record["type"] == "heartbeatAcknowledgementRequest")
        .count();
    assert!(
        acknowledgements >= 5,
        "only {acknowledgements} heartbeats acknowledged"
    );
    let resolution = bus
        .raise_intent(raise("ViewChart", instrument()))
        .await
        .expect("still connected and usable");
    assert_eq!(resolution.handler.application, "chart-app");
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_and_serving_are_clear_errors_on_fdc3() {
    let agent = ReferenceAgent::start(1000);
    let bus = connect(&agent).await;
    assert!(bus.invoker().is_none() && bus.method_server().is_none());
    assert!(bus.intent_raiser().is_some());
    // Through any bus, the missing capabilities are the errors FDC3 callers always saw.
    let any: &dyn Bus = &bus;
    let error = any
        .invoke_one(
            "CRM.GetClients",
            serde_json::Map::new(),
            &codemode_adapters::Target::Best,
            codemode_adapters::CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, BusError::MethodNotFound { .. }),
        "{error:?}"
    );
    let error = any
        .serve(
            codemode_adapters::ServedMethod {
                name: "X".into(),
                ..Default::default()
            },
            std::sync::Arc::new(Nobody),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, BusError::Unsupported { .. }), "{error:?}");
    bus.close().await;
}

struct Nobody;

#[async_trait::async_trait]
impl codemode_adapters::MethodHandler for Nobody {
    async fn handle(
        &self,
        _arguments: serde_json::Map<String, Value>,
        _caller: Option<codemode_adapters::Identity>,
    ) -> Result<Value, codemode_adapters::HandlerError> {
        Ok(Value::Null)
    }
}
