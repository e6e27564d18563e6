//! Code Mode end to end on the mock bus: the catalogue built from the live bus, snippets run in
//! worker processes, and every catalogue call performed as a real GW3 call through the
//! io.Connect adapter.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use codemode::{
    bridge::CallReport,
    catalogue::ListRequest,
    mock_bus::{MockBus, MockBusConfig, MockBusHandle},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions, render_outcome},
};
use codemode_adapters::{
    Bus,
    ioconnect::{IoConnectBus, IoConnectConfig},
};
use codemode_protocol::gw3::Authentication;
use serde_json::json;

async fn connect(bus: &MockBusHandle) -> IoConnectBus {
    IoConnectBus::connect(IoConnectConfig::new(
        bus.url(),
        Authentication::secret("tester", "secret"),
    ))
    .await
    .expect("adapter connects")
}

/// Polls `done` every 20 ms for up to 5 s.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let mut waited = Duration::ZERO;
    while !done() {
        assert!(waited < Duration::from_secs(5), "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
}

async fn start(synthetic_apps: usize) -> (MockBusHandle, CodeMode) {
    start_with(synthetic_apps, |_| {}).await
}

/// Like [`start`], with `configure` applied to the service's configuration first.
async fn start_with(
    synthetic_apps: usize,
    configure: impl FnOnce(&mut CodeModeConfig),
) -> (MockBusHandle, CodeMode) {
    let bus = MockBus::start(MockBusConfig {
        synthetic_apps,
        ..MockBusConfig::default()
    })
    .await
    .expect("mock bus starts");
    let adapter = connect(&bus).await;
    let mut sandbox = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    sandbox.workers = 1;
    let mut config = CodeModeConfig::new(sandbox);
    config.call_timeout = Duration::from_secs(5);
    configure(&mut config);
    let service = CodeMode::new(Arc::new(adapter), config).expect("service starts");
    (bus, service)
}

/// Options that record every bus call's report into `reports`.
fn recording(reports: &Arc<Mutex<Vec<CallReport>>>) -> ExecuteOptions {
    let sink = Arc::clone(reports);
    ExecuteOptions {
        observer: Some(Arc::new(move |report: &CallReport| {
            if let Ok(mut reports) = sink.lock() {
                reports.push(report.clone());
            }
        })),
        ..ExecuteOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_question_is_answered_by_one_snippet_over_the_bus() {
    let (bus, service) = start(0).await;
    let page = service.list(&ListRequest {
        query: Some("client adviser".into()),
        ..ListRequest::default()
    });
    assert!(
        page.text.contains("crm.get_clients"),
        "search finds the CRM: {}",
        page.text
    );
    let stubs = service.get(&["crm.get_clients".to_owned()]);
    assert!(stubs.text.contains("def get_clients("), "{}", stubs.text);

    let outcome = service
        .execute(
            "found = crm.get_clients(name_contains='Amelia Reid')\n\
             result = found['clients'][0]['adviser']",
            ExecuteOptions::default(),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(outcome.result, json!("M Carter"));
    assert_eq!(outcome.calls.len(), 1);
    assert_eq!(outcome.calls[0].function, "crm.get_clients");
    assert!(render_outcome(&outcome).contains("result: M Carter"));
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_raised_from_a_snippet_reaches_its_handler_and_starts_a_declared_app() {
    let (bus, service) = start(0).await;
    let outcome = service
        .execute(
            "chart = intents.view_chart({'type': 'fdc3.instrument', 'id': {'ticker': 'AAPL'}})\n\
             call = intents.start_call({'type': 'fdc3.contact', 'name': 'Amelia Reid', 'id': {'phone': '+44 20 7946 0000'}})\n\
             result = {'chart': chart, 'call': call}",
            ExecuteOptions::default(),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(outcome.result["chart"]["ticker"], json!("AAPL"));
    assert_eq!(outcome.result["call"]["status"], json!("dialing"));
    assert_eq!(
        bus.running_instances("Dialer").len(),
        1,
        "the Dialer was started on demand"
    );
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bus_failures_are_python_exceptions_the_snippet_can_catch() {
    let (bus, service) = start(0).await;
    let outcome = service
        .execute(
            "try:\n    crm.get_client(client_id='no-such-client')\n    result = 'no error'\n\
             except BusError as error:\n    result = type(error).__name__",
            ExecuteOptions::default(),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(outcome.result, json!("InvocationFailedError"));
    assert!(!outcome.calls[0].ok);

    let uncaught = service
        .execute(
            "x = 1\ncrm.get_client(client_id='no-such-client')",
            ExecuteOptions::default(),
        )
        .await;
    assert!(!uncaught.ok);
    let text = render_outcome(&uncaught);
    assert!(text.contains("InvocationFailedError"), "{text}");
    assert!(text.contains("at line 2"), "{text}");
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_argument_fails_before_any_bus_call() {
    let (bus, service) = start(0).await;
    let outcome = service
        .execute(
            "a = crm.get_clients(adviser='M Carter')\nb = crm.get_clients(advisor='M Carter')",
            ExecuteOptions::default(),
        )
        .await;
    assert!(!outcome.ok);
    assert!(
        outcome.calls.is_empty(),
        "pre-flight stops the run: {outcome:?}"
    );
    let text = render_outcome(&outcome);
    assert!(text.contains("TypeError"), "{text}");
    assert!(
        text.contains("adviser"),
        "names the expected argument: {text}"
    );
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_runs_bus_calls_concurrently_and_reports_each_call() {
    let (bus, service) = start(0).await;
    bus.set_latency("CRM.GetClient", Duration::from_millis(200));
    let reports: Arc<Mutex<Vec<CallReport>>> = Arc::default();
    let outcome = service
        .execute(
            "ids = [c['id'] for c in crm.get_clients(adviser='M Carter')['clients'][:8]]\n\
             found = gather(*[crm.get_client(client_id=i) for i in ids])\n\
             result = len(found)",
            recording(&reports),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(outcome.result, json!(8));
    assert_eq!(reports.lock().expect("reports").len(), 9);
    // Eight 200 ms calls one after another would take 1.6 s; concurrently about 0.2 s.
    assert!(
        outcome.duration_ms < 1_200.0,
        "calls ran concurrently: {} ms",
        outcome.duration_ms
    );
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_joins_later_is_listed_and_callable_on_the_next_request() {
    let (bus, service) = start(0).await;
    let before = service.function_count();
    assert!(
        service.get(&["dialer.hang_up".to_owned()]).unknown.len() == 1,
        "the Dialer is declared but not running yet"
    );
    bus.start_app("Dialer").expect("the Dialer starts");
    let mut waited = Duration::ZERO;
    while service.get(&["dialer.hang_up".to_owned()]).found.is_empty() {
        assert!(
            waited < Duration::from_secs(5),
            "the Dialer's methods appear"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert!(service.function_count() > before);
    let outcome = service
        .execute("dialer.hang_up()", ExecuteOptions::default())
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snippet_that_runs_too_long_is_stopped_with_a_clear_error() {
    let (bus, service) = start(0).await;
    let outcome = service
        .execute(
            "while True:\n    pass",
            ExecuteOptions {
                timeout: Some(Duration::from_millis(500)),
                ..ExecuteOptions::default()
            },
        )
        .await;
    assert!(!outcome.ok);
    let text = render_outcome(&outcome);
    assert!(text.contains("wall time"), "{text}");
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_function_whose_app_left_names_the_app_and_makes_no_bus_call() {
    let (bus, service) = start(0).await;
    assert!(
        !service
            .get(&["crm.get_clients".to_owned()])
            .found
            .is_empty(),
        "defined while the CRM runs"
    );
    assert!(bus.kill_app("CRM") > 0, "the CRM was running");
    wait_until("the CRM's methods leave the catalogue", || {
        service
            .get(&["crm.get_clients".to_owned()])
            .found
            .is_empty()
    })
    .await;

    // Pre-flight sees the call and refuses the run before it starts.
    let outcome = service
        .execute(
            "x = 1\nresult = crm.get_clients(adviser='M Carter')",
            ExecuteOptions::default(),
        )
        .await;
    assert!(!outcome.ok);
    assert!(outcome.calls.is_empty(), "no bus call: {outcome:?}");
    let text = render_outcome(&outcome);
    assert!(text.starts_with("MethodNotFoundError: "), "{text}");
    for part in [
        "crm.get_clients is no longer available: CRM left the bus at ",
        " UTC (catalogue version ",
        "bus method CRM.GetClients",
        "It may come back when CRM restarts; call list_python_definitions again",
        "at line 2",
    ] {
        assert!(text.contains(part), "missing {part:?}: {text}");
    }
    assert!(!text.contains("not a catalogue function"), "{text}");

    // A call pre-flight cannot see is refused by the host, still without a bus call.
    let reports: Arc<Mutex<Vec<CallReport>>> = Arc::default();
    let outcome = service
        .execute(
            "f = getattr(crm, 'get_clients')\n\
             try:\n    f(adviser='M Carter')\n    result = 'called'\n\
             except MethodNotFoundError as error:\n    result = str(error)",
            recording(&reports),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    let message = outcome.result.as_str().unwrap_or_default();
    assert!(
        message.contains("crm.get_clients is no longer available: CRM left the bus at "),
        "{message}"
    );
    assert!(
        reports.lock().expect("reports").is_empty(),
        "the host made no bus call"
    );
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_leaves_while_its_call_is_pending_is_named_in_the_error() {
    let (bus, service) = start(0).await;
    bus.set_latency("CRM.GetClients", Duration::from_millis(1_500));
    // A warm worker starts the call well before the app is killed.
    service.warm_up().await.expect("workers start");
    let (outcome, killed) = tokio::join!(
        service.execute(
            "result = crm.get_clients(adviser='M Carter')",
            ExecuteOptions::default(),
        ),
        async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            bus.kill_app("CRM")
        }
    );
    assert!(killed > 0, "the CRM was running");
    assert!(!outcome.ok);
    assert_eq!(outcome.calls.len(), 1, "the call was made: {outcome:?}");
    let text = render_outcome(&outcome);
    assert!(text.starts_with("PeerLeftError: "), "{text}");
    for part in [
        "crm.get_clients failed: CRM left the bus while the call was pending",
        "bus method CRM.GetClients",
        "It may come back when CRM restarts; call list_python_definitions again",
    ] {
        assert!(text.contains(part), "missing {part:?}: {text}");
    }
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bus_changes_are_folded_in_without_a_request() {
    let (bus, service) = start(0).await;
    let before = service.catalogue_version();
    bus.start_app("Dialer").expect("the Dialer starts");
    // Only the follower task moves the version here: nothing else asks for a refresh.
    wait_until("the follower folds the Dialer in", || {
        service.catalogue_version() != before
    })
    .await;
    assert!(
        !service.get(&["dialer.hang_up".to_owned()]).found.is_empty(),
        "the Dialer's methods are defined"
    );
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_change_that_leaves_the_functions_alone_keeps_the_sandbox_functions() {
    let (bus, service) = start(0).await;
    let before_version = service.catalogue_version();
    let before = service.sandbox_functions();
    // Another client joining is a catalogue change (a new peer) with no new function.
    let other = connect(&bus).await;
    wait_until("the new peer moves the bus generation", || {
        service.bus().catalogue().generation != before_version
    })
    .await;
    let after = service.sandbox_functions();
    assert_ne!(service.catalogue_version(), before_version);
    assert!(
        Arc::ptr_eq(&before, &after),
        "the function set was not rebuilt (so workers are not sent it again)"
    );
    other.close().await;
    bus.shutdown().await;
}

/// A caller's `timeout_seconds` may lower the wall time or raise it up to the operator's cap
/// (`--max-timeout-seconds`), never beyond.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requested_timeout_is_capped_by_the_configured_maximum() {
    let (bus, service) = start_with(0, |config| {
        config.sandbox.limits.wall_time = Duration::from_millis(500);
        config.max_timeout = Duration::from_secs(1);
    })
    .await;
    let spin = "while True:\n    pass";
    let asked_too_much = service
        .execute(
            spin,
            ExecuteOptions {
                timeout: Some(Duration::from_mins(1)),
                ..ExecuteOptions::default()
            },
        )
        .await;
    let limit = asked_too_much
        .error
        .as_ref()
        .and_then(|error| error.limit.clone())
        .expect("the wall-time limit stops the snippet");
    assert_eq!(limit.value, "1 s", "capped at the maximum, not 60 s");
    let by_default = service.execute(spin, ExecuteOptions::default()).await;
    let limit = by_default
        .error
        .as_ref()
        .and_then(|error| error.limit.clone())
        .expect("the default wall time stops the snippet");
    assert_eq!(limit.value, "500 ms", "the configured default");
    service.bus().close().await;
    bus.shutdown().await;
}
