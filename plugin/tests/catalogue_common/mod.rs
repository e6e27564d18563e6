//! Catalogue snapshots for the catalogue tests: realistic sample apps (mirroring the io.Connect
//! fixture apps: CRM, Portfolio, Charts and friends), loose and hostile signatures, and a
//! deterministic synthetic generator for scale.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

use codemode_adapters::{Catalogue, IntentHandler, IntentInfo, MethodInfo, ServerInfo};
use serde_json::{Map, Value, json};

/// A server identity.
pub fn server(application: &str, instance: &str) -> ServerInfo {
    let mut identity = Map::new();
    identity.insert("application".into(), json!(application));
    identity.insert("instance".into(), json!(instance));
    identity.insert("machine".into(), json!("desk-01"));
    identity.insert("user".into(), json!("mcarter"));
    ServerInfo {
        peer_id: format!("peer-{instance}"),
        identity: Arc::new(identity.into()),
        local: true,
    }
}

/// A method with the fields the catalogue uses.
pub fn method(
    name: &str,
    description: &str,
    accepts: Option<&str>,
    returns: Option<&str>,
    servers: Vec<ServerInfo>,
) -> MethodInfo {
    MethodInfo {
        name: name.to_owned(),
        display_name: None,
        description: (!description.is_empty()).then(|| description.to_owned()),
        input_signature: accepts.map(str::to_owned),
        result_signature: returns.map(str::to_owned),
        object_types: Vec::new(),
        streaming: false,
        metadata: Map::new(),
        servers,
    }
}

/// An intent handler.
pub fn handler(
    app: &str,
    instance: Option<&str>,
    contexts: &[&str],
    result: Option<&str>,
) -> IntentHandler {
    IntentHandler {
        application: app.to_owned(),
        instance: instance.map(str::to_owned),
        display_name: None,
        context_types: contexts.iter().map(|c| (*c).to_owned()).collect(),
        result_type: result.map(str::to_owned),
        app_title: None,
    }
}

/// The CRM / Portfolio / Charts sample bus plus loose, colliding and hostile methods.
pub fn sample() -> Catalogue {
    let crm = || vec![server("CRM", "crm-1"), server("CRM", "crm-2")];
    let client_fields =
        "String id, String name, String adviser, String email, String phone, Double aum";
    let mut methods = vec![
        method(
            "CRM.GetClients",
            "Lists CRM clients, optionally filtered by adviser and/or a name fragment.",
            Some("String? adviser, String? nameContains"),
            Some(&format!("Composite: {{ {client_fields} }}[] clients")),
            crm(),
        ),
        method(
            "CRM.GetClient",
            "Returns one CRM client by id; fails for an unknown id.",
            Some("String clientId"),
            Some(&format!("Composite: {{ {client_fields} }} client")),
            crm(),
        ),
        method(
            "CRM.FailAlways",
            "Always fails (for error-path tests). The optional reason is echoed in the error.",
            Some("String? reason"),
            Some(""),
            crm(),
        ),
        // Collides with CRM.GetClients after snake_casing.
        method(
            "CRM.getClients",
            "Legacy spelling of GetClients.",
            Some("String? adviser"),
            Some("String[] names"),
            vec![server("LegacyCRM", "legacy-1")],
        ),
        method(
            "Portfolio.GetHoldings",
            "Returns a client's holdings with prices and valuation timestamps.",
            Some("String clientId"),
            Some(
                "Composite: { String symbol, Double quantity, Double price, DateTime asOf }[] holdings, DateTime asOf",
            ),
            vec![server("Portfolio", "pf-1")],
        ),
        method(
            "Portfolio.PlaceOrders",
            "Validates and (unless dryRun) fills a batch of orders against a budget.",
            Some(
                "Composite: { String clientId, Composite: { String symbol, String side, Double quantity, Double? limitPrice, DateTime? goodUntil }[] orders, Tuple: { String currency, Double amount } budget } request, Bool? dryRun, String[]? tags",
            ),
            Some(
                "Composite: { String orderId, String symbol, String status, Composite: { Double price, Double quantity, DateTime at }[]? fills }[] results, Int accepted, Int rejected, Tuple: { String currency, Double amount } spent, DateTime submittedAt",
            ),
            vec![server("Portfolio", "pf-1")],
        ),
        {
            let mut m = method(
                "Portfolio.PriceStream",
                "Streams simulated prices for a symbol (one branch per symbol).",
                Some("String symbol"),
                Some("String symbol, Double price, DateTime time"),
                vec![server("Portfolio", "pf-1")],
            );
            m.streaming = true;
            m.object_types = vec!["Instrument".into()];
            m
        },
        // Loose signatures seen in real apps.
        method(
            "Trading.Book",
            "Books a party.",
            Some("composite party"),
            None,
            vec![server("Trading", "tr-1")],
        ),
        method(
            "Trading.Allocate",
            "Allocates trades to an order.",
            Some("composite: order, composite: [] trades"),
            Some("Composite:Client{string clientId}"),
            vec![server("Trading", "tr-1")],
        ),
        method(
            "Trading.Quotes",
            "Quotes for symbols.",
            Some("String[] symbols"),
            Some("Composite:Symbol{String symbol, Double bid, Double ask}[] quotes"),
            vec![server("Trading", "tr-1")],
        ),
        method(
            "Trading.Mystery",
            "Takes arguments nobody documented.",
            Some(
                "Money amount, Int? a-b, String class, String from, String target, Composite:Client{string clientId}",
            ),
            Some("Frobnicator result"),
            vec![server("Trading", "tr-1")],
        ),
        // One name, two signatures, two apps.
        method(
            "Ref.Lookup",
            "Looks up reference data by code.",
            Some("String code"),
            Some("String name"),
            vec![server("RefData", "ref-1")],
        ),
        method(
            "Ref.Lookup",
            "Looks up reference data by code (v2, with a market).",
            Some("String code, String? market"),
            Some("String name, String market"),
            vec![server("RefData2", "ref2-1")],
        ),
        // Undotted: the namespace comes from the app.
        method(
            "Ping",
            "Answers pong.",
            Some(""),
            Some("String pong"),
            vec![server("Echo Service", "echo-1")],
        ),
        // Keywords, builtins and non-ASCII as names.
        method(
            "class.def",
            "Keyword names.",
            Some("Int lambda"),
            Some("Int yield"),
            vec![server("Weird", "w-1")],
        ),
        method(
            "list.print",
            "Builtin names.",
            Some("String str"),
            Some("Bool list"),
            vec![server("Weird", "w-1")],
        ),
        method(
            "Ünïcode.Grüße",
            "Non-ASCII names.",
            Some("String naïve"),
            None,
            vec![server("Weird", "w-1")],
        ),
        // Hostile text.
        method(
            "Hostile.Describe",
            "Ends the docstring \"\"\" early? Backslash \\ at the end\\\nNUL \u{0} and bidi \u{202E}reversed\u{202C} text\"",
            Some(
                "String quote (a \"\"\" quote \\), Composite: { String \"\"\"x, Int in, String Type, String list } weird",
            ),
            Some("Composite: { String a-b, Int class } out"),
            vec![server("Hostile \"\"\" App", "h-1")],
        ),
    ];
    methods.sort_by(|a, b| a.name.cmp(&b.name));

    let mut intents = vec![
        IntentInfo {
            name: "ViewChart".into(),
            handlers: vec![
                handler(
                    "Charts",
                    Some("charts-1"),
                    &["fdc3.instrument"],
                    Some("charts.view"),
                ),
                handler("Charts", None, &["fdc3.instrument"], Some("charts.view")),
            ],
        },
        IntentInfo {
            name: "ViewContact".into(),
            handlers: vec![
                handler("CRM", Some("crm-1"), &["fdc3.contact"], Some("crm.client")),
                handler("CRM", None, &["fdc3.contact"], Some("crm.client")),
            ],
        },
        IntentInfo {
            name: "StartChat".into(),
            handlers: vec![handler(
                "Chat",
                None,
                &["fdc3.contact", "fdc3.contactList", "fdc3.chat.initSettings"],
                Some("fdc3.chat.room"),
            )],
        },
        IntentInfo {
            name: "acme.DoThing".into(),
            handlers: vec![handler(
                "Acme",
                None,
                &["acme.thing", "fdc3.instrument"],
                None,
            )],
        },
        IntentInfo {
            name: "Refresh".into(),
            handlers: vec![handler("Dashboard", Some("dash-1"), &[], None)],
        },
    ];
    intents.sort_by(|a, b| a.name.cmp(&b.name));

    Catalogue {
        generation: 7,
        methods,
        intents,
    }
}

/// Signature templates for synthetic apps: (verb, noun, accepts, returns, description).
const TEMPLATES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Get",
        "Quotes",
        "String[] symbols, String? venue",
        "Composite: { String symbol, Double bid, Double ask, DateTime time }[] quotes",
        "Returns live quotes for the given symbols.",
    ),
    (
        "Search",
        "Clients",
        "String query, Int? limit",
        "Composite: { String id, String name, String? email }[] clients, Int total",
        "Searches clients by name, email or id.",
    ),
    (
        "Create",
        "Order",
        "Composite: { String symbol, String side, Double quantity, Double? limitPrice } order, Bool? dryRun",
        "String orderId, String status",
        "Creates an order; dryRun only validates it.",
    ),
    (
        "Cancel",
        "Order",
        "String orderId, String? reason",
        "Bool cancelled",
        "Cancels an open order.",
    ),
    (
        "List",
        "Positions",
        "String? account",
        "Composite: { String symbol, Double quantity, Double price }[] positions",
        "Lists the positions of an account.",
    ),
    (
        "Get",
        "Risk",
        "String portfolioId, DateTime? asOf",
        "Double var, Double exposure, Composite: { String factor, Double value }[] factors",
        "Computes value-at-risk and factor exposures.",
    ),
    (
        "Send",
        "Message",
        "String to, String subject, String body",
        "String messageId",
        "Sends a message to a colleague.",
    ),
    (
        "Get",
        "News",
        "String? topic, Int? count",
        "Composite: { String headline, String url, DateTime published }[] items",
        "Fetches the latest news headlines.",
    ),
    (
        "Update",
        "Profile",
        "Composite: { String id, String? phone, String? title } profile",
        "",
        "Updates a contact profile.",
    ),
    (
        "Export",
        "Report",
        "String reportId, String format",
        "composite file",
        "Exports a report as a file.",
    ),
    ("Open", "Blotter", "", "", "Opens the trade blotter window."),
    (
        "Price",
        "Bond",
        "String isin, Double yield, DateTime settle",
        "Double price, Double accrued",
        "Prices a bond from its yield.",
    ),
];

/// Desk names for synthetic apps (combined with a number).
const DESKS: &[&str] = &[
    "Rates",
    "Credit",
    "Equities",
    "FX",
    "Commodities",
    "Wealth",
    "Treasury",
    "Research",
    "Compliance",
    "Operations",
    "Sales",
    "Risk",
];

/// Intents synthetic apps handle.
const INTENTS: &[(&str, &[&str])] = &[
    ("ViewChart", &["fdc3.instrument", "fdc3.instrumentList"]),
    ("ViewNews", &["fdc3.instrument", "fdc3.organization"]),
    ("StartCall", &["fdc3.contact"]),
    ("ViewHoldings", &["fdc3.instrument", "fdc3.portfolio"]),
    ("ViewOrders", &["fdc3.contact", "fdc3.organization"]),
];

/// The name of synthetic app `index`.
pub fn synthetic_app_name(index: usize) -> String {
    format!("{}Desk{index:04}", DESKS[index % DESKS.len()])
}

/// The methods of synthetic app `index` (version `rev` changes their descriptions).
pub fn synthetic_app(index: usize, methods_per_app: usize, rev: u32) -> Vec<MethodInfo> {
    let app = synthetic_app_name(index);
    let instances = if index.is_multiple_of(7) { 2 } else { 1 };
    let servers: Vec<ServerInfo> = (0..instances)
        .map(|i| server(&app, &format!("{app}-{i}")))
        .collect();
    (0..methods_per_app)
        .map(|m| {
            let (verb, noun, accepts, returns, description) =
                TEMPLATES[(index + m) % TEMPLATES.len()];
            let round = m / TEMPLATES.len();
            let suffix = if round == 0 {
                String::new()
            } else {
                format!("V{}", round + 1)
            };
            let mut info = method(
                &format!("{app}.{verb}{noun}{suffix}"),
                &format!(
                    "{description} ({app}{})",
                    if rev == 0 {
                        String::new()
                    } else {
                        format!(", rev {rev}")
                    }
                ),
                Some(accepts),
                Some(returns),
                servers.clone(),
            );
            info.display_name = Some(format!("{verb} {noun}"));
            info
        })
        .collect()
}

/// `apps` synthetic apps with `methods_per_app` methods each, plus intents for every 5th app.
pub fn synthetic(apps: usize, methods_per_app: usize, generation: u64) -> Catalogue {
    let mut methods: Vec<MethodInfo> = (0..apps)
        .flat_map(|i| synthetic_app(i, methods_per_app, 0))
        .collect();
    methods.sort_by(|a, b| a.name.cmp(&b.name));
    let mut intents: Vec<IntentInfo> = INTENTS
        .iter()
        .map(|(name, contexts)| IntentInfo {
            name: (*name).to_owned(),
            handlers: (0..apps)
                .filter(|i| {
                    i.is_multiple_of(5)
                        && (i / 5) % INTENTS.len()
                            == INTENTS.iter().position(|(n, _)| n == name).unwrap_or(0)
                })
                .map(|i| {
                    handler(
                        &synthetic_app_name(i),
                        i.is_multiple_of(2).then_some("run-1"),
                        contexts,
                        None,
                    )
                })
                .collect(),
        })
        .filter(|intent| !intent.handlers.is_empty())
        .collect();
    intents.sort_by(|a, b| a.name.cmp(&b.name));
    Catalogue {
        generation,
        methods,
        intents,
    }
}

/// The sample bus plus `apps` synthetic apps.
pub fn sample_with_synthetic(apps: usize, methods_per_app: usize) -> Catalogue {
    let mut catalogue = synthetic(apps, methods_per_app, 7);
    let sample = sample();
    catalogue.methods.extend(sample.methods);
    catalogue.methods.sort_by(|a, b| a.name.cmp(&b.name));
    let mut by_name: std::collections::BTreeMap<String, IntentInfo> = catalogue
        .intents
        .into_iter()
        .map(|i| (i.name.clone(), i))
        .collect();
    for intent in sample.intents {
        by_name
            .entry(intent.name.clone())
            .and_modify(|existing| existing.handlers.extend(intent.handlers.clone()))
            .or_insert(intent);
    }
    catalogue.intents = by_name.into_values().collect();
    catalogue
}

/// Replaces synthetic app `index` in `catalogue` with revision `rev` of it.
pub fn replace_app(catalogue: &mut Catalogue, index: usize, methods_per_app: usize, rev: u32) {
    let prefix = format!("{}.", synthetic_app_name(index));
    catalogue.methods.retain(|m| !m.name.starts_with(&prefix));
    catalogue
        .methods
        .extend(synthetic_app(index, methods_per_app, rev));
    catalogue.methods.sort_by(|a, b| a.name.cmp(&b.name));
    catalogue.generation += 1;
}

/// A JSON view for debugging.
pub fn describe(catalogue: &Catalogue) -> Value {
    json!({"methods": catalogue.methods.len(), "intents": catalogue.intents.len()})
}

/// `target/pyvenv/bin/mypy`, or a failure that says how to install it.
pub fn mypy() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mypy = target.join("pyvenv/bin/mypy");
    assert!(
        mypy.exists(),
        "mypy not found at {}; install it with:\n  python3 -m venv target/pyvenv && target/pyvenv/bin/pip install --quiet mypy",
        mypy.display()
    );
    mypy
}

/// Runs mypy on `files` in `dir`; returns (success, output).
pub fn run_mypy(dir: &Path, files: &[&str]) -> (bool, String) {
    let output = Command::new(mypy())
        .current_dir(dir)
        .args([
            "--python-version",
            "3.11",
            "--no-color-output",
            "--show-error-codes",
        ])
        .arg("--cache-dir")
        .arg(dir.join(".mypy_cache"))
        .args(files)
        .output()
        .unwrap_or_else(|error| panic!("mypy does not run: {error}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The imports a stub text from `get_python_definitions` assumes.
pub const STUB_IMPORTS: &str = "from datetime import datetime\nfrom typing import Any, Literal, Mapping, NotRequired, TypedDict, overload\n";
