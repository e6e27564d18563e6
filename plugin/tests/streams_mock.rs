//! Streams from snippets on the mock bus: the sample Market Data app's `MarketData.Subscribe`
//! (a price tick every 250 ms per symbol) becomes `market_data.subscribe(symbol, max_items,
//! seconds)`, which collects within its caps and returns a list; the mock gateway's count of
//! open subscriptions shows each one closed after the collection, after a snippet that timed
//! out and after a cancelled run, while the adapter stays connected.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{sync::Arc, time::Duration};

use codemode::{
    mock_bus::{MockBus, MockBusConfig, MockBusHandle},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions, render_outcome},
};
use codemode_adapters::ioconnect::{IoConnectBus, IoConnectConfig};
use codemode_protocol::gw3::Authentication;
use serde_json::json;
use tokio_util::sync::CancellationToken;

async fn start() -> (MockBusHandle, CodeMode) {
    let bus = MockBus::start(MockBusConfig {
        stream_interval: Duration::from_millis(50),
        ..MockBusConfig::default()
    })
    .await
    .expect("mock bus starts");
    let adapter = IoConnectBus::connect(IoConnectConfig::new(
        bus.url(),
        Authentication::secret("tester", "secret"),
    ))
    .await
    .expect("adapter connects");
    let mut sandbox = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    sandbox.workers = 1;
    let mut config = CodeModeConfig::new(sandbox);
    config.call_timeout = Duration::from_secs(30);
    let service = CodeMode::new(Arc::new(adapter), config).expect("service starts");
    (bus, service)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_method_is_a_function_with_caps_that_returns_a_list() {
    let (bus, service) = start().await;
    let stubs = service.get(&["market_data.subscribe".to_owned()]);
    assert!(
        stubs.text.contains("max_items: int | None = None")
            && stubs.text.contains("seconds: float | None = None")
            && stubs.text.contains("-> list["),
        "{}",
        stubs.text
    );
    assert!(stubs.text.contains("unsubscribes"), "{}", stubs.text);
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snippet_collects_the_sample_price_stream_up_to_its_cap_and_closes_the_subscription() {
    let (bus, service) = start().await;
    let outcome = service
        .execute(
            "ticks = market_data.subscribe(symbol='AAPL', max_items=4, seconds=20)\n\
             quick = market_data.subscribe(symbol='MSFT', seconds=0.3)\n\
             result = {'n': len(ticks), 'symbols': sorted({t['symbol'] for t in ticks}),\n\
             \x20         'keys': sorted(ticks[0]), 'quick': 0 < len(quick) < 20}",
            ExecuteOptions::default(),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(
        outcome.result,
        json!({"n": 4, "symbols": ["AAPL"], "keys": ["ask", "bid", "last", "symbol", "time"],
               "quick": true})
    );
    wait_until("both subscriptions closed", || {
        bus.subscription_count() == 0
    })
    .await;
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_cap_is_a_type_error_and_a_symbol_the_app_refuses_is_an_invocation_error() {
    let (bus, service) = start().await;
    let outcome = service
        .execute(
            "try:\n    market_data.subscribe(symbol='AAPL', max_items=-1)\n    bad = None\n\
             except InvalidArgumentsError as e:\n    bad = str(e)\n\
             try:\n    market_data.subscribe(symbol='NOPE', max_items=1, seconds=5)\n    refused = None\n\
             except InvocationFailedError as e:\n    refused = str(e)\n\
             result = {'bad': bad, 'refused': refused}",
            ExecuteOptions::default(),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert!(
        outcome.result["bad"]
            .as_str()
            .is_some_and(|text| text.contains("max_items")),
        "{}",
        outcome.result
    );
    assert!(
        outcome.result["refused"]
            .as_str()
            .is_some_and(|text| text.contains("NOPE")),
        "{}",
        outcome.result
    );
    wait_until("no subscription left", || bus.subscription_count() == 0).await;
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snippet_that_times_out_while_collecting_leaves_no_subscription() {
    let (bus, service) = start().await;
    let service = Arc::new(service);
    let running = {
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            service
                .execute(
                    "result = market_data.subscribe(symbol='AAPL', max_items=1000, seconds=25)",
                    ExecuteOptions {
                        timeout: Some(Duration::from_millis(1500)),
                        ..ExecuteOptions::default()
                    },
                )
                .await
        })
    };
    wait_until("the subscription is open", || bus.subscription_count() == 1).await;
    let outcome = running.await.expect("the run finishes");
    assert!(!outcome.ok, "{}", render_outcome(&outcome));
    wait_until("the timed-out snippet's subscription closed", || {
        bus.subscription_count() == 0
    })
    .await;
    bus.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_leaves_no_subscription() {
    let (bus, service) = start().await;
    let service = Arc::new(service);
    let cancel = CancellationToken::new();
    let running = {
        let service = Arc::clone(&service);
        let cancel = cancel.clone();
        tokio::spawn(async move {
            service
                .execute(
                    "result = market_data.subscribe(symbol='AAPL', max_items=1000, seconds=25)",
                    ExecuteOptions {
                        cancel: Some(cancel),
                        ..ExecuteOptions::default()
                    },
                )
                .await
        })
    };
    wait_until("the subscription is open", || bus.subscription_count() == 1).await;
    cancel.cancel();
    let outcome = running.await.expect("the run finishes");
    assert!(!outcome.ok, "{}", render_outcome(&outcome));
    wait_until("the cancelled run's subscription closed", || {
        bus.subscription_count() == 0
    })
    .await;
    bus.shutdown().await;
}
