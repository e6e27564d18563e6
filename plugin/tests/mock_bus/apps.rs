//! Sample apps as data and the synthetic-app generator: the files parse, the data is the
//! documented one, the generator is deterministic and a 1,000-app bus bootstraps.

use std::time::{Duration, Instant};

use serde_json::json;

use codemode::mock_bus::{
    MockBusConfig,
    apps::{embedded_samples, load_samples},
    synthetic::{DEFAULT_SEED, generate_apps},
};
use codemode_adapters::{Bus, CallOptions, Invoke, Target};
use codemode_protocol::signature::parse_signature;

use super::{RawClient, adapter_config, args, start};

fn samples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/apps")
}

#[test]
fn the_sample_files_parse_and_match_the_embedded_copies() {
    let from_disk = load_samples(&samples_dir()).expect("samples/apps parses");
    let mut embedded = embedded_samples().expect("embedded samples parse");
    embedded.sort_by_key(|app| app.name.to_lowercase());
    let mut sorted = from_disk.clone();
    sorted.sort_by_key(|app| app.name.to_lowercase());
    assert_eq!(sorted, embedded);
    let names: Vec<&str> = from_disk.iter().map(|app| app.name.as_str()).collect();
    for expected in [
        "CRM",
        "Portfolio",
        "MarketData",
        "Charts",
        "Dialer",
        "Notes",
        "Tasks",
    ] {
        assert!(names.contains(&expected), "{expected} missing");
    }
    let dialer = from_disk
        .iter()
        .find(|app| app.name == "Dialer")
        .expect("Dialer");
    assert!(!dialer.running);
    let charts = from_disk
        .iter()
        .find(|app| app.name == "Charts")
        .expect("Charts");
    assert_eq!(
        charts.intents[0].contexts,
        vec!["fdc3.instrument".to_owned()]
    );
}

#[test]
fn every_sample_signature_is_fully_typed_and_every_method_described() {
    for app in embedded_samples().expect("samples") {
        for method in &app.methods {
            assert!(
                method.description.as_deref().is_some_and(|d| d.len() > 10),
                "{}",
                method.name
            );
            for signature in [&method.accepts, &method.returns].into_iter().flatten() {
                assert!(
                    parse_signature(signature).is_fully_typed(),
                    "{}: `{signature}` does not parse fully",
                    method.name
                );
            }
        }
    }
}

#[test]
fn the_synthetic_generator_is_deterministic_and_prefix_stable() {
    let hundred = generate_apps(100, DEFAULT_SEED);
    assert_eq!(hundred, generate_apps(100, DEFAULT_SEED));
    let thousand = generate_apps(1000, DEFAULT_SEED);
    assert_eq!(thousand.len(), 1000);
    assert_eq!(&thousand[..100], hundred.as_slice());
    assert_ne!(generate_apps(100, DEFAULT_SEED + 1), hundred);
    let mut names: Vec<&str> = thousand.iter().map(|app| app.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 1000, "app names are unique");
    let signatures: Vec<&str> = thousand
        .iter()
        .flat_map(|app| &app.methods)
        .flat_map(|method| [method.accepts.as_deref(), method.returns.as_deref()])
        .flatten()
        .collect();
    for loose in [
        "composite party",
        "Composite:Client{string clientId}",
        "String?",
        "[]",
        "DateTime",
        "Tuple:",
    ] {
        assert!(
            signatures.iter().any(|s| s.contains(loose)),
            "no signature uses `{loose}`"
        );
    }
    let with_intents = thousand
        .iter()
        .filter(|app| !app.intents.is_empty())
        .count();
    let declared_only = thousand.iter().filter(|app| !app.running).count();
    assert!(
        with_intents > 50 && declared_only > 30,
        "{with_intents} {declared_only}"
    );
    let methods: usize = thousand.iter().map(|app| app.methods.len()).sum();
    assert!((3000..=7000).contains(&methods), "{methods} methods");
}

#[tokio::test]
async fn the_crm_dataset_starts_with_amelia_reid() {
    let bus = start(MockBusConfig::default()).await;
    let (mut client, bootstrap) = RawClient::joined(&bus.url(), "alice").await;
    let (crm, get_clients) = super::find_method(&bootstrap, "CRM.GetClients").expect("CRM");
    let reply = client
        .call_and_wait(&crm, get_clients, args(json!({})))
        .await;
    let codemode_protocol::gw3::Gw3Message::Result(result) = reply else {
        panic!("{reply:?}")
    };
    let clients = result.result["clients"].as_array().expect("clients");
    assert!(clients.len() >= 300, "hundreds of clients");
    assert_eq!(clients[0]["id"], "c-001");
    assert_eq!(clients[0]["name"], "Amelia Reid");
    assert_eq!(clients[0]["adviser"], "M Carter");
    for field in [
        "email",
        "phone",
        "segment",
        "aum",
        "riskProfile",
        "city",
        "country",
    ] {
        assert!(
            clients.iter().all(|c| !c[field].is_null()),
            "{field} missing somewhere"
        );
    }
    bus.shutdown().await;
}

#[tokio::test]
async fn a_bus_with_1000_synthetic_apps_bootstraps_the_adapter() {
    let started = Instant::now();
    let bus = start(MockBusConfig {
        synthetic_apps: 1000,
        ..MockBusConfig::default()
    })
    .await;
    let bus_started = started.elapsed();
    let connecting = Instant::now();
    let adapter =
        codemode_adapters::ioconnect::IoConnectBus::connect(adapter_config(&bus, "alice"))
            .await
            .expect("connect");
    let bootstrap = connecting.elapsed();
    let catalogue = adapter.catalogue();
    let expected: usize = bus
        .apps()
        .iter()
        .filter(|app| app.running)
        .map(|app| app.methods.len())
        .sum();
    let offered: usize = catalogue
        .methods
        .iter()
        .map(|method| method.servers.len())
        .sum();
    assert_eq!(
        offered, expected,
        "every running method is in the catalogue"
    );
    let declared = bus
        .apps()
        .iter()
        .filter(|app| !app.running && !app.intents.is_empty())
        .count();
    assert!(declared > 0);
    eprintln!(
        "1000 synthetic apps: bus start {bus_started:?}, adapter connect + bootstrap {bootstrap:?}, {} logical methods, {} intents",
        catalogue.methods.len(),
        catalogue.intents.len()
    );
    let synthetic = bus
        .apps()
        .into_iter()
        .find(|app| {
            app.running
                && app.name != "CRM"
                && !app.methods.is_empty()
                && app.methods[0].behaviour == codemode::mock_bus::Behaviour::Sample
        })
        .expect("a synthetic app");
    let result = adapter
        .invoke_one(
            &synthetic.methods[0].name,
            args(json!({})),
            &Target::Best,
            CallOptions {
                timeout: Duration::from_secs(5),
                wait_for_method: Duration::ZERO,
                trace: None,
            },
        )
        .await
        .expect("a synthetic method answers");
    assert!(result.is_object());
    adapter.close().await;
    bus.shutdown().await;
}
