//! Catalogue versions are immutable: a reader keeps the version it started with while the bus
//! changes, a change publishes a new version, and a refresh with nothing new publishes nothing.

use std::{sync::Arc, time::Duration};

use codemode::{
    catalogue::{ListRequest, Lookup},
    mock_bus::{MockBus, MockBusConfig},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig},
};
use codemode_adapters::ioconnect::{IoConnectBus, IoConnectConfig};
use codemode_protocol::gw3::Authentication;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_held_by_a_reader_does_not_change_when_an_app_leaves() {
    let bus = MockBus::start(MockBusConfig::default())
        .await
        .expect("mock bus starts");
    let adapter = IoConnectBus::connect(IoConnectConfig::new(
        bus.url(),
        Authentication::secret("tester", "secret"),
    ))
    .await
    .expect("adapter connects");
    let sandbox = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    let service =
        CodeMode::new(Arc::new(adapter), CodeModeConfig::new(sandbox)).expect("service starts");

    let held = service.version();
    assert!(matches!(
        held.catalogue.lookup("crm.get_clients"),
        Lookup::Found(_)
    ));
    assert!(
        Arc::ptr_eq(&held, &service.version()),
        "a refresh with nothing new publishes nothing"
    );

    assert!(bus.kill_app("CRM") > 0, "the CRM was running");
    let mut waited = Duration::ZERO;
    let fresh = loop {
        let fresh = service.version();
        if !matches!(fresh.catalogue.lookup("crm.get_clients"), Lookup::Found(_)) {
            break fresh;
        }
        assert!(waited < Duration::from_secs(5), "the CRM's methods leave");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    };

    // The new version knows the CRM left; the held one still shows it, whole.
    assert!(fresh.number > held.number);
    assert!(matches!(
        fresh.catalogue.lookup("crm.get_clients"),
        Lookup::Departed(_)
    ));
    assert!(fresh.departed.contains_key("crm.get_clients"));
    assert!(!fresh.map.functions.contains_key("crm.get_clients"));
    assert!(matches!(
        held.catalogue.lookup("crm.get_clients"),
        Lookup::Found(_)
    ));
    assert!(held.map.functions.contains_key("crm.get_clients"));
    assert!(held.departed.is_empty());
    let request = ListRequest {
        namespace: Some("crm".to_owned()),
        ..ListRequest::default()
    };
    assert!(held.catalogue.list(&request).matches > 0);
    assert_eq!(fresh.catalogue.list(&request).matches, 0);
    bus.shutdown().await;
}
