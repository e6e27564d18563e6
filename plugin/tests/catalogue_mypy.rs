//! The generated Python type-checks with mypy, and mypy flags snippets that call it wrongly.
//!
//! Needs mypy in a venv at `target/pyvenv` (the test runner installs it):
//! `python3 -m venv target/pyvenv && target/pyvenv/bin/pip install --quiet mypy`

pub mod catalogue_common;

use std::{collections::BTreeSet, path::Path};

use catalogue_common::{run_mypy, sample_with_synthetic};
use codemode::catalogue::{CatalogueConfig, PythonCatalogue};

/// A snippet that uses the API correctly.
const GOOD: &str = r#"
clients = crm.get_clients(adviser="M Carter")
for client in clients["clients"]:
    print(client["name"], client["aum"] * 2)
for reply in crm.get_clients(target="all"):
    print(reply["server"], reply.get("error"))
one = crm.get_clients(name_contains="Ltd", target={"application": "CRM"})
holdings = portfolio.get_holdings(client_id="c-1")
total = sum(h["quantity"] * h["price"] for h in holdings["holdings"])
print(total, holdings["asOf"].isoformat())
placed = portfolio.place_orders(
    request={
        "clientId": "c-1",
        "orders": [{"symbol": "AAPL", "side": "buy", "quantity": 10.0, "limitPrice": 190.5}],
        "budget": {"currency": "USD", "amount": 1e6},
    },
    dry_run=True,
)
print(placed["accepted"], placed["submittedAt"].year, placed["spent"])
intents.view_chart({"type": "fdc3.instrument", "id": {"ticker": "AAPL"}})
intents.view_chart({"type": "fdc3.instrument", "id": {"ticker": "AAPL"}, "name": "Apple"}, app="Charts")
intents.start_chat({"type": "fdc3.contact", "id": {"email": "jane@example.com"}})
intents.acme_do_thing({"type": "acme.thing", "anything": [1, 2, 3]})
raise_intent("ViewChart", {"type": "fdc3.instrument", "id": {"ticker": "MSFT"}}, target={"app": "Charts"})
for intent in find_intents(context_type="fdc3.instrument"):
    print(intent["name"], [h["app"] for h in intent["handlers"] if h["instance"] is None])
trading.mystery(amount=5, class_="x", from_="y", target_="z", extra=1)
quotes = rates_desk0000.get_quotes(symbols=["AAPL", "MSFT"])
print(max(q["bid"] for q in quotes["quotes"]))
risk = wealth_desk0005.get_risk(portfolio_id="p-1", as_of=datetime(2025, 1, 31))
print(risk["var"] + risk["exposure"])
print(ref.lookup_2(code="X", market="XNAS")["market"], ref.lookup(code="X")["name"])
try:
    crm.fail_always(reason="test")
except MethodNotFoundError as error:
    print("gone", error)
except BusError as error:
    print("failed", error)
"#;

/// Lines each of which mypy must flag (one mistake per line).
const BAD: &[&str] = &[
    "crm.get_clients(adviser=42)",
    "crm.get_client()",
    "crm.get_client(client_id=\"c-1\", bogus=1)",
    "portfolio.get_holdings(\"c-1\")",
    "portfolio.place_orders(request={\"clientId\": \"c-1\"})",
    "intents.view_chart({\"type\": \"fdc3.contact\", \"id\": {\"email\": \"x\"}})",
    "portfolio.get_holdings(client_id=\"c-1\")[\"holdings\"][0][\"nope\"]",
    "crm.get_clients(target=\"everything\")",
    "name: int = crm.get_client(client_id=\"c-1\")[\"client\"][\"name\"]",
    "wealth_desk0005.get_risk(portfolio_id=\"p\", as_of=\"2025-01-31\")",
    "portfolio.get_holdings(client_id=\"c-1\", target=\"all\")",
    "crm.no_such_function()",
];

#[test]
fn module_and_stubs_type_check_and_wrong_calls_are_flagged() {
    let snapshot = sample_with_synthetic(1_000, 5);
    let catalogue = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
    assert!(catalogue.function_count() > 5_000);

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("catalogue-mypy");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bus_api.py"), catalogue.module_source()).unwrap();
    std::fs::write(
        dir.join("good.py"),
        format!("from bus_api import *\n{GOOD}"),
    )
    .unwrap();
    let bad: String = BAD.iter().flat_map(|line| [*line, "\n"]).collect();
    std::fs::write(dir.join("bad.py"), format!("from bus_api import *\n{bad}")).unwrap();
    let stubs = catalogue.get(&[
        "crm.get_clients",
        "portfolio.place_orders",
        "portfolio.get_holdings",
        "intents.view_chart",
        "intents.start_chat",
        "intents.acme_do_thing",
        "trading.mystery",
        "hostile.describe",
        "raise_intent",
        "find_intents",
        "rates_desk0000",
    ]);
    assert!(stubs.unknown.is_empty(), "{:?}", stubs.unknown);
    std::fs::write(
        dir.join("stubs.pyi"),
        format!("from datetime import datetime\nfrom typing import Any, Literal, Mapping, NotRequired, TypedDict, overload\n{}", stubs.text),
    )
    .unwrap();

    let (ok, output) = run_mypy(&dir, &["bus_api.py", "good.py", "stubs.pyi"]);
    assert!(
        ok,
        "mypy rejected the module, the good snippet or the stubs:\n{output}"
    );

    let (ok, output) = run_mypy(&dir, &["bad.py"]);
    assert!(!ok, "mypy accepted the bad snippet:\n{output}");
    let flagged: BTreeSet<usize> = output
        .lines()
        .filter(|line| line.starts_with("bad.py:") && line.contains(": error:"))
        .filter_map(|line| line.split(':').nth(1)?.parse().ok())
        .collect();
    // Line 1 is the import; BAD[i] is on line i + 2.
    let expected: BTreeSet<usize> = (0..BAD.len()).map(|i| i + 2).collect();
    assert_eq!(
        flagged, expected,
        "every wrong call flagged, nothing else:\n{output}"
    );
    assert!(output.contains("[arg-type]"), "{output}");
    assert!(output.contains("[typeddict-item]"), "{output}");
}
