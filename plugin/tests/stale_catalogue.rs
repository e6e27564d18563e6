//! While the bus is down the catalogue keeps serving its last version, marked stale (issue 17,
//! item 4), against the real gateway (tests/fixtures/ioconnect) stopped and restarted on the
//! same port:
//! - listing, search and stubs still answer, each starting with a `# STALE` line that says
//!   since when; calls fail with `DisconnectedError`;
//! - once the gateway is back, the mark goes away, and the time codemode was disconnected is at
//!   most the gateway's downtime plus one second.

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use codemode::{
    catalogue::ListRequest,
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions},
};
use codemode_adapters::ioconnect::{IoConnectBus, IoConnectConfig};
use codemode_tests::{GatewayOptions, RealGateway};

fn search(service: &CodeMode, query: &str) -> String {
    service
        .list(&ListRequest {
            query: Some(query.to_owned()),
            ..ListRequest::default()
        })
        .text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_gateway_is_down_the_last_catalogue_is_served_marked_stale() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let port = gateway.port;
    let mut config = gateway.adapter_config();
    // The product's own backoff, not the fixture's fast one.
    let defaults = IoConnectConfig::new(config.url.clone(), config.authentication.clone());
    config.reconnect_initial_delay = defaults.reconnect_initial_delay;
    config.reconnect_max_delay = defaults.reconnect_max_delay;
    let bus = IoConnectBus::connect(config).await.expect("connects");
    let mut sandbox = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    sandbox.workers = 1;
    let service = Arc::new(
        CodeMode::new(Arc::new(bus), CodeModeConfig::new(sandbox)).expect("service starts"),
    );
    let fresh = search(&service, "client adviser");
    assert!(!fresh.contains("STALE"), "connected: {fresh}");
    assert!(fresh.contains("crm.get_clients"), "{fresh}");

    let stopped = Instant::now();
    gateway.stop();
    let waited = Instant::now();
    while service.disconnected_since().is_none() {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the service never saw the link drop"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let stale = search(&service, "client adviser");
    assert!(
        stale.starts_with("# STALE: disconnected from the bus since "),
        "{stale}"
    );
    assert!(
        stale.contains("crm.get_clients"),
        "the last version is still served: {stale}"
    );
    let listing = service.list(&ListRequest::default()).text;
    assert!(listing.starts_with("# STALE"), "{listing}");
    let stubs = service.get(&["crm.get_clients".to_owned()]).text;
    assert!(stubs.starts_with("# STALE"), "{stubs}");
    assert!(stubs.contains("def get_clients"), "{stubs}");
    let outcome = service
        .execute(
            "result = crm.get_clients(name_contains='Reid')",
            ExecuteOptions::default(),
        )
        .await;
    let error = outcome.error.expect("the call fails while disconnected");
    assert_eq!(error.kind, "DisconnectedError", "{error:?}");

    // Down for a while, long enough for a doubling backoff to grow to seconds.
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Read before the restart: the link may be back before `start` returns.
    let disconnected_at = service
        .disconnected_since()
        .expect("still disconnected while the gateway is down");
    let restarted = RealGateway::start(&GatewayOptions {
        port: Some(port),
        ..GatewayOptions::default()
    });
    let downtime = stopped.elapsed();
    let waited = Instant::now();
    while service.disconnected_since().is_some() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "never reconnected after the restart"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let disconnected_for = SystemTime::now()
        .duration_since(disconnected_at)
        .unwrap_or_default();
    eprintln!("gateway down {downtime:?}; codemode disconnected {disconnected_for:?}");
    assert!(
        disconnected_for <= downtime + Duration::from_secs(1),
        "disconnected {disconnected_for:?}, more than the gateway's downtime {downtime:?} + 1 s"
    );
    let waited = Instant::now();
    loop {
        let listing = search(&service, "client adviser");
        if !listing.contains("STALE") && listing.contains("crm.get_clients") {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the fresh catalogue is served again: {listing}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    service.shutdown();
    service.bus().close().await;
    restarted.stop();
}
