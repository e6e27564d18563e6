//! The catalogue built from a real bus: the io.Connect fixture (the real `@glue42/gateway-web`
//! gateway with real `@interopio/*` apps — CRM, Portfolio, Charts, … — plus synthetic filler
//! apps) seen through the io.Connect adapter. Listing, search and stubs must be right, pages
//! within budget, and the module must type-check with mypy.
//!
//! Needs node and the fixture's npm packages (`bash tests/fixtures/ioconnect/install.sh`, run
//! automatically) and mypy in `target/pyvenv`.

pub mod catalogue_common;

use std::path::Path;

use catalogue_common::{STUB_IMPORTS, run_mypy};
use codemode::catalogue::{
    CallKind, CatalogueConfig, ListRequest, Lookup, O200k, PythonCatalogue, TokenCounter,
};
use codemode_adapters::{Bus, ioconnect::IoConnectBus};
use codemode_tests::{GatewayOptions, RealGateway};

/// A snippet against the fixture apps that mypy must accept.
const GOOD: &str = r#"
clients = crm.get_clients(adviser="M Carter")
for client in clients["clients"]:
    print(client["id"], client["aum"])
client = crm.get_client(client_id="c-1")["client"]
holdings = portfolio.get_holdings(client_id=client["id"])
print(sum(h["quantity"] * h["price"] for h in holdings["holdings"]), holdings["asOf"].year)
result = portfolio.place_orders(
    request={
        "clientId": "c-1",
        "orders": [{"symbol": "AAPL", "side": "buy", "quantity": 5.0}],
        "budget": ["USD", 10000.0],
    },
    dry_run=True,
)
print(result["accepted"], result["spent"])
intents.view_chart({"type": "fdc3.instrument", "id": {"ticker": "AAPL"}})
intents.view_contact({"type": "fdc3.contact", "id": {"email": "jane@example.com"}}, app="CRM")
"#;

/// Wrong calls against the fixture apps, one per line.
const BAD: &[&str] = &[
    "crm.get_clients(adviser=1)",
    "portfolio.get_holdings(client=\"c-1\")",
    "intents.view_chart({\"type\": \"fdc3.contact\", \"id\": {}})",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_gateway_catalogue_is_listed_searched_and_typed() {
    let gateway = RealGateway::start(&GatewayOptions {
        filler: 100,
        ..GatewayOptions::default()
    });
    let bus = IoConnectBus::connect(gateway.adapter_config())
        .await
        .unwrap_or_else(|error| panic!("connect to the real gateway: {error}"));
    let snapshot = bus.catalogue();
    let catalogue = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
    assert_eq!(catalogue.version(), snapshot.generation);
    assert!(
        catalogue.function_count() > 100,
        "{}",
        catalogue.function_count()
    );

    // Names and the call map.
    let Lookup::Found(spec) = catalogue.lookup("crm.get_clients") else {
        panic!("crm.get_clients missing");
    };
    assert!(matches!(&spec.call, CallKind::Method { method, .. } if method == "CRM.GetClients"));
    let args: Vec<(&str, &str)> = spec
        .args
        .iter()
        .map(|a| (a.python.as_str(), a.wire.as_str()))
        .collect();
    assert_eq!(
        args,
        [("adviser", "adviser"), ("name_contains", "nameContains")]
    );
    for name in [
        "portfolio.place_orders",
        "portfolio.get_holdings",
        "intents.view_chart",
        "intents.view_contact",
        "raise_intent",
    ] {
        assert!(
            matches!(catalogue.lookup(name), Lookup::Found(_)),
            "{name} missing"
        );
    }

    // Listing and search, within budget.
    let first = catalogue.list(&ListRequest::default());
    assert!(first.tokens <= 2_000);
    assert_eq!(O200k.count(&first.text), first.tokens);
    let search = catalogue.list(&ListRequest {
        query: Some("clients by adviser".into()),
        ..ListRequest::default()
    });
    let top = search
        .text
        .lines()
        .find(|line| line.starts_with("crm."))
        .unwrap_or("");
    assert!(top.starts_with("crm.get_clients("), "{}", search.text);
    let crm = catalogue.list(&ListRequest {
        namespace: Some("CRM".into()),
        ..ListRequest::default()
    });
    assert!(
        crm.text.contains("crm.get_client(client_id"),
        "{}",
        crm.text
    );

    // Stubs: typed from the real signatures.
    let defs = catalogue.get(&[
        "crm.get_clients",
        "portfolio.place_orders",
        "intents.view_chart",
    ]);
    assert!(defs.unknown.is_empty());
    for expected in [
        "def get_clients(*, adviser: str | None = None, name_contains: str | None = None",
        "def place_orders(*, request: Request, dry_run: bool | None = None, tags: list[str] | None = None",
        "submittedAt: datetime",
        "budget: Budget | list[Any]",
        "def view_chart(context: Instrument, *, app: str | None = None, instance: str | None = None)",
    ] {
        assert!(defs.text.contains(expected), "{expected}\n{}", defs.text);
    }

    // The whole module and the stubs type-check; wrong calls are flagged.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("catalogue-gateway");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bus_api.py"), catalogue.module_source()).unwrap();
    std::fs::write(
        dir.join("good.py"),
        format!("from bus_api import *\n{GOOD}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("stubs.pyi"),
        format!("{STUB_IMPORTS}{}", defs.text),
    )
    .unwrap();
    let bad: String = BAD.iter().flat_map(|line| [*line, "\n"]).collect();
    std::fs::write(dir.join("bad.py"), format!("from bus_api import *\n{bad}")).unwrap();
    let (ok, output) = run_mypy(&dir, &["bus_api.py", "good.py", "stubs.pyi"]);
    assert!(ok, "{output}");
    let (ok, output) = run_mypy(&dir, &["bad.py"]);
    assert!(!ok);
    for line in 2..BAD.len() + 2 {
        assert!(
            output.contains(&format!("bad.py:{line}: error")),
            "line {line} not flagged:\n{output}"
        );
    }

    bus.close().await;
    gateway.stop();
}
