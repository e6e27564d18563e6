//! The catalogue against the mock bus with 1,000 synthetic apps (issue 4, "Done when"): the
//! io.Connect adapter discovers the embedded GW3 gateway, and listing, search and stubs must be
//! right, every page must fit its o200k budget, the same bus must give the same text
//! (snapshots), and the module plus every stub's example call must type-check with mypy.
//!
//! Needs mypy in a venv at `target/pyvenv` (the test runner installs it).

#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

pub mod catalogue_common;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    path::Path,
    sync::Arc,
};

use catalogue_common::{STUB_IMPORTS, run_mypy};
use codemode::{
    catalogue::{
        CallKind, CatalogueConfig, ListRequest, Lookup, O200k, PythonCatalogue, TokenCounter,
    },
    mock_bus::{MockBus, MockBusConfig},
};
use codemode_adapters::{
    Bus, Catalogue,
    ioconnect::{IoConnectBus, IoConnectConfig},
};
use codemode_protocol::gw3::Authentication;

/// Synthetic apps on the bus (plus the sample apps).
const APPS: usize = 1_000;

/// Discovers a fresh mock bus with [`APPS`] synthetic apps through the io.Connect adapter.
async fn discover() -> Arc<Catalogue> {
    let bus = MockBus::start(MockBusConfig {
        synthetic_apps: APPS,
        node_id: Some("n1".to_owned()),
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
    let snapshot = adapter.catalogue();
    adapter.close().await;
    bus.shutdown().await;
    snapshot
}

/// The function names of a listing page's lines (`crm.get_clients(adviser?) -> …`).
fn listed_names(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && line.contains('('))
        .filter_map(|line| line.split('(').next())
        .filter(|name| !name.is_empty() && !name.contains(' '))
        .map(str::to_owned)
        .collect()
}

/// The example calls of a stub text: the line after each `Example:`.
fn examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "Example:"
            && let Some(call) = lines.next()
        {
            out.push(call.trim().to_owned());
        }
    }
    out
}

/// The exception classes a stub text says its functions raise.
fn raised(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("Raises: "))
        .flat_map(|list| list.split(", "))
        .filter_map(|item| item.split([' ', '.']).next())
        .filter(|name| name.ends_with("Error"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_app_mock_bus_is_listed_searched_typed_and_deterministic() {
    let snapshot = discover().await;
    assert!(
        snapshot.methods.len() > 3 * APPS,
        "{} methods",
        snapshot.methods.len()
    );
    let catalogue = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
    assert_eq!(catalogue.version(), snapshot.generation);
    let map = catalogue.call_map();
    let all: BTreeSet<String> = map.functions.keys().cloned().collect();
    assert_eq!(all.len(), catalogue.function_count());

    // Every page of the whole listing fits the default budget, counted exactly; every
    // function is listed exactly once.
    let mut request = ListRequest::default();
    let mut listed = Vec::new();
    let mut pages = 0;
    loop {
        let page = catalogue.list(&request);
        pages += 1;
        assert!(page.tokens <= 2_000, "page {pages}: {} tokens", page.tokens);
        assert_eq!(O200k.count(&page.text), page.tokens);
        if pages == 1 {
            assert!(page.shown >= 20, "first page shows {}", page.shown);
            assert!(
                page.text.contains("query=") && page.text.contains("namespace="),
                "the first page says how to narrow:\n{}",
                page.text
            );
        }
        listed.extend(listed_names(&page.text));
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
        assert!(pages < 2_000, "too many pages");
    }
    assert_eq!(
        listed.len(),
        all.len(),
        "every function once ({pages} pages)"
    );
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), all);

    // Search by wire name puts that method first; a namespace lists exactly its functions.
    let methods: Vec<(&String, &str)> = map
        .functions
        .iter()
        .filter_map(|(name, spec)| match &spec.call {
            CallKind::Method { method, .. } => Some((name, method.as_str())),
            _ => None,
        })
        .collect();
    let mut per_namespace: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &all {
        if let Some((namespace, _)) = name.split_once('.') {
            *per_namespace.entry(namespace).or_default() += 1;
        }
    }
    let sample: Vec<(&String, &str)> = methods.iter().step_by(97).copied().collect();
    assert!(sample.len() >= 30);
    for (name, wire) in &sample {
        let page = catalogue.list(&ListRequest {
            query: Some((*wire).to_owned()),
            ..ListRequest::default()
        });
        assert!(page.tokens <= 2_000);
        assert_eq!(
            listed_names(&page.text).first(),
            Some(*name),
            "search {wire:?}:\n{}",
            page.text
        );
        let namespace = name.split_once('.').map_or("", |(ns, _)| ns);
        let page = catalogue.list(&ListRequest {
            namespace: Some(namespace.to_owned()),
            ..ListRequest::default()
        });
        assert_eq!(page.matches, per_namespace[namespace], "{namespace}");
        assert!(matches!(catalogue.lookup(name), Lookup::Found(_)));
    }

    // Stubs: found, within budget, every type once, examples present.
    let names: Vec<&str> = sample.iter().map(|(name, _)| name.as_str()).collect();
    let stubs = catalogue.get(&names);
    assert!(stubs.unknown.is_empty(), "{:?}", stubs.unknown);
    assert!(stubs.tokens <= 8_000, "{}", stubs.tokens);
    for name in names
        .iter()
        .filter(|name| stubs.found.iter().any(|f| f == *name))
    {
        let local = name.rsplit('.').next().unwrap_or(name);
        assert!(stubs.text.contains(&format!("def {local}(")), "{name}");
    }
    assert!(stubs.found.len() + stubs.omitted.len() >= names.len());
    for line in stubs.text.lines().filter(|line| line.starts_with("class ")) {
        assert_eq!(stubs.text.matches(line).count(), 1, "{line} twice");
    }

    // The same bus, discovered again, gives the same text.
    let again = PythonCatalogue::build(&*discover().await, CatalogueConfig::default());
    assert_eq!(again.module_source(), catalogue.module_source());
    assert_eq!(
        again.list(&ListRequest::default()),
        catalogue.list(&ListRequest::default())
    );
    let first_page = catalogue.list(&ListRequest::default()).text;
    insta::assert_snapshot!("mock_bus_1000_first_page", first_page);
    insta::assert_snapshot!("mock_bus_1000_stubs", catalogue.get(&names[..3]).text);

    // The module type-checks, and so does every example call of every function's stub; the
    // exceptions the stubs name exist and are bus errors.
    let mut good = String::from("from bus_api import *\n");
    let mut raised_names = BTreeSet::new();
    let mut example_count = 0;
    let namespaces: Vec<&str> = per_namespace.keys().copied().collect();
    // Whole namespaces at a time; what does not fit one answer's budget is asked for alone.
    let mut requests: Vec<String> = namespaces.iter().map(|ns| (*ns).to_owned()).collect();
    requests.extend(["raise_intent".to_owned(), "find_intents".to_owned()]);
    let mut covered = BTreeSet::new();
    while let Some(request) = requests.pop() {
        let defs = catalogue.get(&[request.as_str()]);
        assert!(defs.unknown.is_empty(), "{request}: {:?}", defs.unknown);
        assert!(!defs.found.is_empty(), "{request}");
        requests.extend(defs.omitted.iter().cloned());
        covered.extend(defs.found.iter().cloned());
        raised_names.extend(raised(&defs.text));
        for example in examples(&defs.text) {
            example_count += 1;
            let _ = write!(
                good,
                "\n\ndef example_{example_count}() -> None:\n    {example}\n"
            );
        }
    }
    assert!(
        all.iter().all(|name| covered.contains(name)),
        "stubs missing for {:?}",
        all.difference(&covered).take(5).collect::<Vec<_>>()
    );
    assert!(
        example_count >= all.len(),
        "{example_count} examples for {} functions",
        all.len()
    );
    assert!(raised_names.len() >= 3, "{raised_names:?}");
    let _ = writeln!(
        good,
        "\n\nRAISED: list[type[BusError]] = [{}]",
        raised_names.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("catalogue-mock-bus");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("bus_api.py"), catalogue.module_source()).expect("write module");
    std::fs::write(dir.join("good.py"), good).expect("write examples");
    std::fs::write(
        dir.join("stubs.pyi"),
        format!("{STUB_IMPORTS}{}", stubs.text),
    )
    .expect("write stubs");
    let (ok, output) = run_mypy(&dir, &["bus_api.py", "good.py", "stubs.pyi"]);
    assert!(
        ok,
        "mypy rejected the module, an example call or the stubs:\n{output}"
    );
}
