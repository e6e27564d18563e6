//! The FDC3 adapter against the FINOS reference Desktop Agent (`@finos/fdc3-web-impl`) with
//! handler apps written with the official `@finos/fdc3-agent-proxy`. Every frame the adapter
//! sends is validated by the fixture against the official `@finos/fdc3-schema` JSON schemas.

use std::time::Duration;

use codemode_adapters::{
    Bus, BusError, IntentRequest, IntentTarget,
    fdc3::{Fdc3Bus, Fdc3Config},
};
use codemode_protocol::fdc3::AppIdentifier;
use codemode_tests::{ReferenceAgent, init_tracing};
use serde_json::{Value, json};

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
    let resolution = bus
        .raise_intent(raise("ViewResearch", slow))
        .await
        .expect("slow result");
    assert!(!resolution.result.is_null(), "the delayed result arrived");
    let void = bus
        .raise_intent(raise("StartCall", contact()))
        .await
        .expect("void result");
    assert!(void.result.is_null(), "{}", void.result);
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_disconnects_fails_the_raise_instead_of_hanging() {
    let agent = ReferenceAgent::start(1000);
    let init = Fdc3Config::new(agent.url.clone(), agent.identity_url.clone());
    let mut config = init;
    config.result_timeout = Duration::from_secs(3);
    let bus = Fdc3Bus::connect(config).await.expect("connect");
    let mut request = raise("ViewNews", instrument());
    request.timeout = Duration::from_secs(3);
    let error = tokio::time::timeout(Duration::from_secs(20), bus.raise_intent(request))
        .await
        .expect("the raise ends")
        .unwrap_err();
    assert!(
        matches!(
            error,
            BusError::Timeout { .. }
                | BusError::IntentResultFailed { .. }
                | BusError::IntentNotResolved { .. }
        ),
        "{error:?}"
    );
    bus.close().await;
    assert_every_sent_frame_is_schema_valid(&agent);
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
    let error = bus
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
    let error = bus
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
