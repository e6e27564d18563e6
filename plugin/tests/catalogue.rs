//! The Python API catalogue: shape, listing, search, stubs, call map and live updates, on the
//! sample bus (CRM, Portfolio, Charts, loose and hostile methods) and at 10,000 functions.

pub mod catalogue_common;

use std::collections::BTreeSet;

use catalogue_common::{
    handler, method, replace_app, sample, sample_with_synthetic, server, synthetic, synthetic_app,
    synthetic_app_name,
};
use codemode::catalogue::{
    CallKind, CatalogueConfig, CatalogueDelta, Detail, ListRequest, Lookup, O200k, PythonCatalogue,
    SEARCH_PAGE_BUDGET, TOP_CARDS, TokenCounter,
};
use codemode_adapters::{Catalogue, IntentInfo};

fn build(snapshot: &Catalogue) -> PythonCatalogue {
    PythonCatalogue::build(snapshot, CatalogueConfig::default())
}

fn query(text: &str) -> ListRequest {
    ListRequest {
        query: Some(text.to_owned()),
        ..ListRequest::default()
    }
}

/// Every function name on every page of a listing, following cursors.
fn walk(catalogue: &PythonCatalogue, request: &ListRequest, budget: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut request = request.clone();
    request.token_budget = Some(budget);
    for _ in 0..10_000 {
        let page = catalogue.list(&request);
        assert!(
            page.tokens <= budget,
            "page over budget: {} > {budget}\n{}",
            page.tokens,
            page.text
        );
        assert_eq!(O200k.count(&page.text), page.tokens);
        names.extend(function_names(&page.text));
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => return names,
        }
    }
    panic!("too many pages");
}

/// The function names of a listing page's lines.
fn function_names(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && line.contains('('))
        .filter_map(|line| line.split('(').next())
        .filter(|name| !name.is_empty() && !name.contains(' '))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Shape and text.

#[test]
fn listing_of_the_sample_bus() {
    let catalogue = build(&sample());
    let page = catalogue.list(&ListRequest::default());
    assert!(page.next_cursor.is_none());
    assert_eq!(page.matches, catalogue.function_count());
    insta::assert_snapshot!("listing_sample", page.text);
}

#[test]
fn stubs_of_chosen_functions() {
    let catalogue = build(&sample());
    let defs = catalogue.get(&[
        "crm.get_clients",
        "portfolio.place_orders",
        "intents.view_chart",
        "intents.start_chat",
        "trading.mystery",
        "raise_intent",
        "find_intents",
    ]);
    assert!(defs.unknown.is_empty() && defs.omitted.is_empty());
    // Every TypedDict once.
    for name in [
        "class Client(",
        "class Instrument(",
        "class Contact(",
        "class Target",
    ] {
        assert!(defs.text.matches(name).count() <= 1, "{name} twice");
    }
    insta::assert_snapshot!("stubs_sample", defs.text);
}

#[test]
fn hostile_text_is_escaped() {
    let catalogue = build(&sample());
    let defs = catalogue.get(&["hostile.describe"]);
    insta::assert_snapshot!("stubs_hostile", defs.text);
    let module = catalogue.module_source();
    assert!(!module.contains('\u{0}') && !module.contains('\u{202E}'));
}

#[test]
fn module_of_the_sample_bus() {
    let catalogue = build(&sample());
    insta::assert_snapshot!("module_sample", catalogue.module_source());
}

#[test]
fn names_follow_the_rules() {
    let catalogue = build(&sample());
    let map = catalogue.call_map();
    let names: BTreeSet<&str> = map.functions.keys().map(String::as_str).collect();
    for expected in [
        "crm.get_clients",   // dotted prefix → namespace, snake_case
        "crm.get_clients_2", // CRM.getClients collides; the first by wire name keeps the name
        "ref.lookup",        // one name, two signatures → two functions
        "ref.lookup_2",
        "echo_service.ping", // undotted → namespace from the app
        "class_.def_",       // keywords
        "list_.print",       // a namespace never shadows a builtin
        "unicode.grusse",    // diacritics folded to ASCII
        "intents.view_chart",
        "intents.acme_do_thing",
        "raise_intent",
        "find_intents",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
    let crm = &map.functions["crm.get_clients"];
    assert!(
        matches!(&crm.call, CallKind::Method { method, servers, restrict_to_servers: false, .. }
        if method == "CRM.GetClients" && servers.len() == 2)
    );
    assert!(crm.takes_target);
    let wire: Vec<(&str, &str)> = crm
        .args
        .iter()
        .map(|a| (a.python.as_str(), a.wire.as_str()))
        .collect();
    assert_eq!(
        wire,
        [("adviser", "adviser"), ("name_contains", "nameContains")]
    );

    let mystery = &map.functions["trading.mystery"];
    let wire: Vec<(&str, &str)> = mystery
        .args
        .iter()
        .map(|a| (a.python.as_str(), a.wire.as_str()))
        .collect();
    assert_eq!(
        wire,
        [
            ("amount", "amount"),
            ("a_b", "a-b"),
            ("class_", "class"),
            ("from_", "from"),
            ("target_", "target")
        ]
    );
    assert!(mystery.var_kwargs && !mystery.takes_target);

    assert!(matches!(
        &map.functions["ref.lookup_2"].call,
        CallKind::Method {
            restrict_to_servers: true,
            ..
        }
    ));
    assert!(
        matches!(&map.functions["intents.view_chart"].call, CallKind::Intent { intent } if intent == "ViewChart")
    );
    assert!(matches!(
        map.functions["raise_intent"].call,
        CallKind::RaiseIntent
    ));
    assert_eq!(map.version, 7);
}

#[test]
fn generated_names_are_valid_ascii_identifiers() {
    let catalogue = build(&sample_with_synthetic(50, 4));
    for name in catalogue.call_map().functions.keys() {
        for part in name.split('.') {
            assert!(!part.is_empty() && part.len() <= 60, "{name}");
            assert!(
                part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(!part.starts_with(|c: char| c.is_ascii_digit()), "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Search, namespaces, pagination, budgets.

#[test]
fn search_ranks_the_relevant_function_first() {
    let catalogue = build(&sample_with_synthetic(200, 6));
    let top = |q: &str| {
        let page = catalogue.list(&query(q));
        function_names(&page.text)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    assert_eq!(top("CRM clients by adviser"), "crm.get_clients");
    assert_eq!(top("place orders budget dry run"), "portfolio.place_orders");
    assert_eq!(top("holdings"), "portfolio.get_holdings");
    assert_eq!(top("chart instrument"), "intents.view_chart");
    assert_eq!(top("fdc3.contactList"), "intents.start_chat");
    assert_eq!(top("nameContains"), "crm.get_clients");
    assert_eq!(top("raise an intent"), "raise_intent");
    insta::assert_snapshot!("search_sample", catalogue.list(&query("client")).text);
}

/// The search page answers in one step: the top hits carry the typed signature and the keys of
/// the result, the rest are names, and the page stays within the budget it states.
#[test]
fn search_page_gives_typed_top_hits_within_its_budget() {
    let catalogue = build(&sample_with_synthetic(300, 6));
    let page = catalogue.list(&query("client adviser"));
    assert!(page.tokens <= SEARCH_PAGE_BUDGET, "{}", page.text);
    assert!(
        page.text
            .contains(&format!("page ≤ {SEARCH_PAGE_BUDGET} tokens")),
        "{}",
        page.text
    );
    let cards: Vec<&str> = page
        .text
        .lines()
        .filter(|line| line.contains("(*") && line.contains(") -> "))
        .collect();
    assert_eq!(cards.len(), TOP_CARDS, "{}", page.text);
    assert!(
        page.text
            .contains("crm.get_clients(*, adviser: str | None = None"),
        "{}",
        page.text
    );
    // The result's keys, down to the record, so `found[0]['adviser']` can be written.
    assert!(
        page.text
            .contains("GetClientsResult = {clients: list[Client_2]}")
            && page
                .text
                .contains("Client_2 = {id: str, name: str, adviser: str"),
        "{}",
        page.text
    );
    assert!(page.text.contains("\nAlso: "), "{}", page.text);

    // detail=names: names only; detail=stubs: the full stubs of the top hits.
    let names = catalogue.list(&ListRequest {
        detail: Some(Detail::Names),
        ..query("client adviser")
    });
    assert!(!names.text.contains("-> "), "{}", names.text);
    assert!(names.text.contains("crm.get_clients"), "{}", names.text);
    let stubs = catalogue.list(&ListRequest {
        detail: Some(Detail::Stubs),
        token_budget: Some(3_000),
        ..query("client adviser")
    });
    assert!(
        stubs.text.contains("class Client_2(TypedDict):")
            && stubs.text.contains("def get_clients("),
        "{}",
        stubs.text
    );
    assert_eq!(Detail::parse(" Stubs "), Ok(Detail::Stubs));
    assert!(
        Detail::parse("full")
            .is_err_and(|error| error.contains("\"names\", \"signatures\" or \"stubs\""))
    );
}

/// A tiny budget still gives one whole card (never a cut signature) and states the budget.
#[test]
fn search_page_shrinks_to_its_budget_from_the_end() {
    let catalogue = build(&sample_with_synthetic(300, 6));
    let small = catalogue.list(&ListRequest {
        token_budget: Some(256),
        ..query("client adviser")
    });
    assert!(small.tokens <= 256 || small.shown == 1, "{}", small.text);
    assert!(small.shown >= 1);
    assert!(small.text.contains("page ≤ 256 tokens"), "{}", small.text);
}

#[test]
fn search_with_no_match_suggests_names() {
    let catalogue = build(&sample());
    let page = catalogue.list(&query("zzzqqq"));
    assert_eq!(page.matches, 0);
    assert!(page.text.contains("No function matches"), "{}", page.text);
    let page = catalogue.list(&query("get_clientz"));
    assert!(page.text.contains("crm.get_client"), "{}", page.text);
}

#[test]
fn namespace_filter() {
    let catalogue = build(&sample());
    for wanted in ["crm", "CRM", " crm "] {
        let page = catalogue.list(&ListRequest {
            namespace: Some(wanted.to_owned()),
            ..ListRequest::default()
        });
        assert_eq!(page.matches, 4, "{wanted}: {}", page.text);
        assert!(page.text.lines().filter(|l| l.starts_with("crm.")).count() == 4);
    }
    let page = catalogue.list(&ListRequest {
        namespace: Some("crn".into()),
        ..ListRequest::default()
    });
    assert!(
        page.text.contains("No namespace") && page.text.contains("crm"),
        "{}",
        page.text
    );
    let page = catalogue.list(&ListRequest {
        namespace: Some("intents".into()),
        query: Some("contact".into()),
        ..ListRequest::default()
    });
    assert!(
        page.text.contains("intents.view_contact") && !page.text.contains("crm."),
        "{}",
        page.text
    );
}

#[test]
fn cursor_pages_cover_everything_once() {
    let catalogue = build(&sample_with_synthetic(30, 5));
    let all: Vec<String> = catalogue.call_map().functions.into_keys().collect();
    let listed = walk(&catalogue, &ListRequest::default(), 300);
    assert_eq!(listed.len(), all.len(), "every function once");
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len());
    assert_eq!(unique, all.iter().collect());

    // A search pages through its ranked hits (cards, then names) once each.
    let page = catalogue.list(&query("order"));
    let mut request = query("order");
    let mut shown = 0;
    for _ in 0..1_000 {
        let page = catalogue.list(&request);
        assert!(page.tokens <= SEARCH_PAGE_BUDGET, "{}", page.text);
        shown += page.shown;
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(shown, page.matches);
    assert_eq!(catalogue.ranked_hits("order").len(), page.matches);

    // A cursor from an older version continues with a note.
    let first = catalogue.list(&ListRequest {
        token_budget: Some(300),
        ..ListRequest::default()
    });
    let mut newer = build(&sample_with_synthetic(30, 5));
    let mut snapshot = sample_with_synthetic(30, 5);
    snapshot.generation = 99;
    newer.update(&snapshot);
    let next = newer.list(&ListRequest {
        cursor: first.next_cursor,
        token_budget: Some(300),
        ..ListRequest::default()
    });
    assert!(next.text.contains("catalogue changed"), "{}", next.text);
    let bad = newer.list(&ListRequest {
        cursor: Some("garbage".into()),
        ..ListRequest::default()
    });
    assert!(bad.text.contains("not valid"));
}

#[test]
fn pages_fit_the_budget_at_ten_thousand_functions() {
    let catalogue = build(&synthetic(1_000, 10, 3));
    assert!(catalogue.function_count() > 10_000);
    let first = catalogue.list(&ListRequest::default());
    assert!(first.tokens <= 2_000, "{}", first.tokens);
    assert_eq!(O200k.count(&first.text), first.tokens);
    assert!(first.shown >= 20, "only {} lines", first.shown);
    assert!(
        first.text.contains("query=") && first.text.contains("namespace="),
        "{}",
        first.text
    );
    assert!(first.next_cursor.is_some());
    insta::assert_snapshot!("listing_10k_first_page", first.text);

    for q in [
        "get quotes",
        "order",
        "bond price yield",
        "fdc3.instrument",
        "a",
    ] {
        let page = catalogue.list(&query(q));
        assert!(page.tokens <= 2_000, "{q}: {}", page.tokens);
    }
    let second = catalogue.list(&ListRequest {
        cursor: first.next_cursor,
        ..ListRequest::default()
    });
    assert!(second.tokens <= 2_000);
    let ns = catalogue.list(&ListRequest {
        namespace: Some("rates_desk0000".into()),
        ..ListRequest::default()
    });
    assert_eq!(ns.matches, 10, "{}", ns.text);
    let family = catalogue.list(&ListRequest {
        namespace: Some("rates_*".into()),
        ..ListRequest::default()
    });
    assert_eq!(family.matches, 840, "{}", family.text);
    assert!(family.tokens <= 2_000 && family.text.starts_with("Namespace rates_*: 840 functions"));
    let family_search = catalogue.list(&ListRequest {
        namespace: Some("rates_*".into()),
        query: Some("bond".into()),
        ..ListRequest::default()
    });
    assert!(
        function_names(&family_search.text)
            .iter()
            .all(|n| n.starts_with("rates_desk") && n.ends_with("price_bond")),
        "{}",
        family_search.text
    );
    let defs = catalogue.get(&["rates_desk0000"]);
    assert!(defs.tokens <= 8_000, "{}", defs.tokens);
    assert!(defs.found.len() >= 10);
}

#[test]
fn budgets_hold_for_hostile_lines_and_tiny_budgets() {
    let mut snapshot = sample();
    let long = "Ω".repeat(5_000);
    snapshot.methods.push(method(
        &format!("Huge.{}", "VeryLongMethodName".repeat(30)),
        &long,
        Some(&"String a, ".repeat(200)),
        None,
        vec![server(&"App".repeat(300), "x")],
    ));
    snapshot.methods.sort_by(|a, b| a.name.cmp(&b.name));
    let catalogue = build(&snapshot);
    for budget in [1, 256, 400, 2_000] {
        let page = catalogue.list(&ListRequest {
            token_budget: Some(budget),
            ..ListRequest::default()
        });
        assert!(
            page.tokens <= budget.max(256),
            "{budget}: {}\n{}",
            page.tokens,
            page.text
        );
        assert!(page.shown >= 1);
    }
}

#[test]
fn unknown_names_get_the_closest_matches() {
    let catalogue = build(&sample());
    let defs = catalogue.get(&[
        "crm.get_clientz",
        "nothing_like_it_at_all_xyz",
        "CRM.GetClient",
        "fdc3.instrument",
        "Client",
        "portfolio",
    ]);
    let unknown: Vec<&str> = defs.unknown.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(unknown, ["crm.get_clientz", "nothing_like_it_at_all_xyz"]);
    assert_eq!(
        defs.unknown[0].suggestions.first().map(String::as_str),
        Some("crm.get_client")
    );
    assert!(
        defs.found.contains(&"crm.get_client".to_owned()),
        "wire name resolves"
    );
    assert!(
        defs.found.contains(&"Instrument".to_owned()),
        "context type resolves"
    );
    assert!(
        defs.found.contains(&"Client".to_owned()),
        "TypedDict name resolves"
    );
    assert!(
        defs.found.contains(&"portfolio.place_orders".to_owned()),
        "namespace resolves"
    );
    assert!(
        defs.text
            .contains("# Unknown name \"crm.get_clientz\"; closest: crm.get_client")
    );
}

// ---------------------------------------------------------------------------------------------
// Live updates.

#[test]
fn incremental_updates_equal_fresh_builds() {
    let per_app = 4;
    let mut snapshot = sample_with_synthetic(40, per_app);
    let mut live = build(&snapshot);
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for step in 0..25 {
        match next() % 5 {
            0 => replace_app(
                &mut snapshot,
                usize::try_from(next() % 40).unwrap(),
                per_app,
                step + 1,
            ),
            1 => {
                // An app leaves.
                let prefix = format!(
                    "{}.",
                    synthetic_app_name(usize::try_from(next() % 40).unwrap())
                );
                snapshot.methods.retain(|m| !m.name.starts_with(&prefix));
                snapshot.generation += 1;
            }
            2 => {
                // A colliding spelling appears or disappears.
                let name = "RatesDesk0000.getQuotes";
                if snapshot.methods.iter().any(|m| m.name == name) {
                    snapshot.methods.retain(|m| m.name != name);
                } else {
                    snapshot.methods.push(method(
                        name,
                        "Other spelling.",
                        Some("String x"),
                        Some("Int quotes"),
                        vec![server("Clash", "c")],
                    ));
                    snapshot.methods.sort_by(|a, b| a.name.cmp(&b.name));
                }
                snapshot.generation += 1;
            }
            3 => {
                // An intent changes.
                let handlers = vec![handler(
                    "Charts",
                    Some(&format!("c-{step}")),
                    &["fdc3.instrument"],
                    None,
                )];
                match snapshot.intents.iter_mut().find(|i| i.name == "ViewChart") {
                    Some(intent) => intent.handlers = handlers,
                    None => snapshot.intents.push(IntentInfo {
                        name: "ViewChart".into(),
                        handlers,
                    }),
                }
                snapshot.generation += 1;
            }
            _ => {
                // A second server joins (or leaves) a method.
                if let Some(m) = snapshot.methods.iter_mut().find(|m| m.name == "Ping") {
                    if m.servers.len() == 1 {
                        m.servers.push(server("Echo Service", "echo-2"));
                    } else {
                        m.servers.truncate(1);
                    }
                }
                snapshot.generation += 1;
            }
        }
        live.update(&snapshot);
        let fresh = build(&snapshot);
        assert_eq!(live.version(), fresh.version());
        assert_eq!(live.call_map(), fresh.call_map(), "step {step}");
        assert_eq!(live.module_source(), fresh.module_source(), "step {step}");
        for q in ["quotes", "client order", "chart"] {
            assert_eq!(
                live.list(&query(q)),
                fresh.list(&query(q)),
                "step {step} {q}"
            );
        }
        assert_eq!(
            live.list(&ListRequest::default()),
            fresh.list(&ListRequest::default())
        );
    }
}

#[test]
fn partial_updates_equal_full_updates() {
    let per_app = 5;
    let snapshot = synthetic(60, per_app, 1);
    let mut partial = build(&snapshot);
    let mut full = build(&snapshot);
    let mut current = snapshot;
    for (step, app) in [3usize, 17, 3, 42, 59].into_iter().enumerate() {
        let rev = u32::try_from(step).unwrap() + 1;
        let prefix = format!("{}.", synthetic_app_name(app));
        let mut names: Vec<String> = current
            .methods
            .iter()
            .filter(|m| m.name.starts_with(&prefix))
            .map(|m| m.name.clone())
            .collect();
        replace_app(&mut current, app, per_app, rev);
        // Step 2 also removes one method of the app; step 3 adds a new one.
        if step == 2 {
            current
                .methods
                .retain(|m| !m.name.starts_with(&format!("{prefix}Get")));
        }
        let mut extra = Vec::new();
        if step == 3 {
            extra.push(method(
                &format!("{prefix}Brand.New"),
                "New.",
                Some("Int n"),
                None,
                vec![server(&synthetic_app_name(app), "n")],
            ));
            current.methods.extend(extra.clone());
            current.methods.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let methods: Vec<_> = synthetic_app(app, per_app, rev)
            .into_iter()
            .filter(|m| step != 2 || !m.name.starts_with(&format!("{prefix}Get")))
            .chain(extra)
            .collect();
        names.extend(methods.iter().map(|m| m.name.clone()));
        partial.update_partial(&CatalogueDelta {
            generation: current.generation,
            method_names: &names,
            methods: &methods,
            intent_names: &[],
            intents: &[],
        });
        full.update(&current);
        assert_eq!(partial.call_map(), full.call_map(), "step {step}");
        assert_eq!(partial.module_source(), full.module_source(), "step {step}");
    }
}

#[test]
fn version_follows_the_bus_and_departed_functions_say_why() {
    let mut snapshot = sample();
    let mut catalogue = build(&snapshot);
    assert_eq!(catalogue.version(), 7);
    assert!(
        matches!(catalogue.lookup("crm.get_clients"), Lookup::Found(spec) if spec.python_name == "crm.get_clients")
    );

    snapshot.methods.retain(|m| !m.name.starts_with("CRM."));
    snapshot.generation = 8;
    let stats = catalogue.update(&snapshot);
    assert_eq!(stats.version, 8);
    assert_eq!(stats.removed, 4);
    assert_eq!(catalogue.version(), 8);
    match catalogue.lookup("crm.get_clients") {
        Lookup::Departed(departed) => {
            assert_eq!(departed.since_version, 8);
            assert_eq!(
                departed.message(),
                "crm.get_clients is no longer available: CRM left the bus (catalogue version 8, \
                 bus method CRM.GetClients). It may come back when CRM restarts; call \
                 list_python_definitions again to see what is available now."
            );
        }
        other => panic!("{other:?}"),
    }
    // The catalogue reads no clock: the caller stamps when it saw version 8's departures.
    assert!(catalogue.departed().contains_key("crm.get_clients"));
    catalogue.stamp_departed(8, 1_780_000_000_123);
    catalogue.stamp_departed(8, 1_790_000_000_000);
    match catalogue.lookup("crm.get_clients") {
        Lookup::Departed(departed) => assert!(
            departed
                .message()
                .contains("CRM left the bus at 2026-05-28 20:26:40 UTC (catalogue version 8"),
            "the first stamp stays: {}",
            departed.message()
        ),
        other => panic!("{other:?}"),
    }
    match catalogue.lookup("crm.get_clientz") {
        Lookup::Departed(_) | Lookup::Found(_) => panic!("never existed"),
        Lookup::Unknown { .. } => {}
    }
    // The app comes back: found again, and no longer departed.
    let mut back = sample();
    back.generation = 9;
    catalogue.update(&back);
    assert!(matches!(
        catalogue.lookup("crm.get_clients"),
        Lookup::Found(_)
    ));
    assert!(!catalogue.departed().contains_key("crm.get_clients"));
}

#[test]
fn same_snapshot_in_any_order_gives_the_same_api() {
    let snapshot = sample_with_synthetic(20, 4);
    let mut shuffled = snapshot.clone();
    shuffled.methods.reverse();
    shuffled.intents.reverse();
    let a = build(&snapshot);
    let b = build(&shuffled);
    assert_eq!(a.module_source(), b.module_source());
    assert_eq!(
        a.list(&ListRequest::default()),
        b.list(&ListRequest::default())
    );
}

#[test]
fn find_intents_answers_from_the_catalogue() {
    let catalogue = build(&sample());
    let all = catalogue.find_intents(None, None);
    assert_eq!(all.as_array().map(Vec::len), Some(5));
    let by_context = catalogue.find_intents(None, Some("fdc3.contact"));
    let names: Vec<&str> = by_context
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["StartChat", "ViewContact"]);
    let one = catalogue.find_intents(Some("viewchart"), None);
    assert_eq!(one[0]["handlers"][0]["instance"], "charts-1");
    assert_eq!(one[0]["context_types"][0], "fdc3.instrument");
}

#[test]
fn the_catalogue_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<PythonCatalogue>();
    shareable::<codemode::catalogue::CallMap>();
}

// ---------------------------------------------------------------------------------------------
// Hostile input.

#[test]
fn huge_requests_stay_cheap() {
    let catalogue = build(&synthetic(300, 10, 1));
    let words: String = (0..200_000)
        .map(|i| format!("w{i}x"))
        .collect::<Vec<_>>()
        .join(" ");
    let page = catalogue.list(&query(&words));
    assert!(page.tokens <= 2_000);
    let long_name = "x".repeat(100_000);
    let names: Vec<String> = (0..1_000).map(|i| format!("{long_name}{i}")).collect();
    let defs = catalogue.get(&names);
    assert!(defs.tokens <= 8_000, "{}", defs.tokens);
    assert!(matches!(
        catalogue.lookup(&long_name),
        Lookup::Unknown { .. }
    ));
}

#[test]
fn hostile_catalogues_never_panic_and_always_give_valid_python() {
    let pieces = [
        "",
        " ",
        ".",
        "..",
        "a.b.c.d",
        "class",
        "def",
        "None",
        "True",
        "list",
        "print",
        "intents",
        "raise_intent",
        "target",
        "kwargs",
        "_",
        "__init__",
        "__proto__",
        "0",
        "1abc",
        "a-b",
        "$type",
        "Ünïcødé",
        "日本語",
        "🙂",
        "\"\"\"",
        "'''",
        "\\",
        "\\\"",
        "\u{0}",
        "\u{202E}",
        "\r\n",
        "\t",
        "Composite",
        "composite:",
        "Composite:{",
        "}",
        "{{{{",
        "[]",
        "?",
        "(",
        ")",
        ",",
        "String",
        "Int? a",
        "Composite:X{String a, Composite:Y{Int b}[] c} d",
        "tuple: { int x } t",
        "String[][][][][][][][][][] deep",
        "Foo bar",
        "Double? intents",
        "String Any",
        "Composite: { String list, Int Client, String a-b, String __x } z",
        "Bool class",
    ];
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        usize::try_from(rng % u64::try_from(n).unwrap()).unwrap()
    };
    let mut methods = Vec::new();
    for i in 0..400 {
        let mut pick = |count: usize| {
            (0..count)
                .map(|_| pieces[next(pieces.len())])
                .collect::<Vec<_>>()
        };
        let name = format!(
            "{}.{}{}",
            pick(2).join(""),
            pick(2).join("."),
            if i % 3 == 0 {
                String::new()
            } else {
                i.to_string()
            }
        );
        let accepts = pick(4).join(", ");
        let returns = pick(3).join(" ");
        let description = pick(6).join(" ");
        let app = pick(1).join("");
        methods.push(method(
            &name,
            &description,
            Some(&accepts),
            Some(&returns),
            vec![server(&app, &format!("i{i}"))],
        ));
    }
    methods.sort_by(|a, b| a.name.cmp(&b.name));
    let intents = (0..30)
        .map(|i| IntentInfo {
            name: format!("{}{i}", pieces[i % pieces.len()]),
            handlers: vec![handler(
                pieces[(i * 7) % pieces.len()],
                None,
                &[pieces[(i * 3) % pieces.len()], "fdc3.instrument"],
                Some(pieces[i % 5]),
            )],
        })
        .collect::<Vec<_>>();
    let mut intents = intents;
    intents.sort_by(|a, b| a.name.cmp(&b.name));
    let snapshot = Catalogue {
        generation: 1,
        methods,
        intents,
    };
    let catalogue = build(&snapshot);

    let module = catalogue.module_source();
    let names: Vec<String> = catalogue.call_map().functions.into_keys().collect();
    let defs = catalogue.get(&names);
    let page = catalogue.list(&ListRequest::default());
    assert!(page.tokens <= 2_000);
    for q in pieces {
        let page = catalogue.list(&query(q));
        assert!(page.tokens <= 2_000);
        let _ = catalogue.lookup(q);
    }
    // Valid Python: compile the module and the stubs with CPython (the test command needs
    // python3 anyway, for its venv), then run the module: it must define everything.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("catalogue-hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let module_file = dir.join("module.py");
    let stubs_file = dir.join("stubs.pyi");
    std::fs::write(&module_file, &module).unwrap();
    std::fs::write(&stubs_file, &defs.text).unwrap();
    let check = "import ast, sys\nfor f in sys.argv[1:]:\n    ast.parse(open(f, encoding='utf-8').read(), f)\n";
    let parsed = std::process::Command::new("python3")
        .arg("-c")
        .arg(check)
        .arg(&module_file)
        .arg(&stubs_file)
        .output()
        .unwrap_or_else(|error| panic!("python3 is needed for this test: {error}"));
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    // Every qualified name of the call map resolves to a function of the executed module.
    let names_file = dir.join("names.json");
    std::fs::write(&names_file, serde_json::to_string(&names).unwrap()).unwrap();
    let define = "import json, runpy, sys\n\
        namespace = runpy.run_path(sys.argv[1])\n\
        missing = []\n\
        for name in json.load(open(sys.argv[2], encoding='utf-8')):\n\
        \x20   head, *rest = name.split('.')\n\
        \x20   value = namespace.get(head)\n\
        \x20   for part in rest:\n\
        \x20       value = getattr(value, part, None)\n\
        \x20   if not callable(value):\n\
        \x20       missing.append(name)\n\
        print(json.dumps(missing))\n";
    let ran = std::process::Command::new("python3")
        .arg("-c")
        .arg(define)
        .arg(&module_file)
        .arg(&names_file)
        .output()
        .unwrap_or_else(|error| panic!("python3 is needed for this test: {error}"));
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let missing: Vec<String> = serde_json::from_slice(&ran.stdout).unwrap_or_else(|error| {
        panic!(
            "the check prints the missing names as JSON ({error}): {}",
            String::from_utf8_lossy(&ran.stdout)
        )
    });
    assert_eq!(
        names.len(),
        400 + 30 + 2 + 6,
        "every method, intent, builtin and context function has a name"
    );
    assert_eq!(missing, Vec::<String>::new(), "undefined in the module");
}
