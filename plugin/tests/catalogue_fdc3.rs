//! The committed FDC3 context TypedDicts (`plugin/catalogue/src/fdc3_contexts.py`) are what
//! the generator makes from the official `@finos/fdc3-context` schemas, and cover every
//! standard context type.
//!
//! Regenerating needs the fixture's npm packages: `bash tests/fixtures/fdc3-context/install.sh`.

use std::{path::Path, process::Command};

use codemode::catalogue::{CatalogueConfig, PythonCatalogue};

/// The committed file.
const COMMITTED: &str = include_str!("../catalogue/src/fdc3_contexts.py");

/// The 22 standard (non-experimental) FDC3 2.2 context types and their classes.
const STANDARD: &[(&str, &str)] = &[
    ("fdc3.action", "Action"),
    ("fdc3.chart", "Chart"),
    ("fdc3.chat.initSettings", "ChatInitSettings"),
    ("fdc3.chat.message", "ChatMessage"),
    ("fdc3.chat.room", "ChatRoom"),
    ("fdc3.chat.searchCriteria", "ChatSearchCriteria"),
    ("fdc3.contact", "Contact"),
    ("fdc3.contactList", "ContactList"),
    ("fdc3.country", "Country"),
    ("fdc3.currency", "Currency"),
    ("fdc3.email", "Email"),
    ("fdc3.instrument", "Instrument"),
    ("fdc3.instrumentList", "InstrumentList"),
    ("fdc3.interaction", "Interaction"),
    ("fdc3.message", "Message"),
    ("fdc3.nothing", "Nothing"),
    ("fdc3.organization", "Organization"),
    ("fdc3.portfolio", "Portfolio"),
    ("fdc3.position", "Position"),
    ("fdc3.timeRange", "TimeRange"),
    ("fdc3.transactionResult", "TransactionResult"),
    ("fdc3.valuation", "Valuation"),
];

#[test]
fn committed_contexts_match_the_generator() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/fdc3-context");
    assert!(
        fixture
            .join("node_modules/@finos/fdc3-context/package.json")
            .exists(),
        "{}/node_modules is missing; run `bash tests/fixtures/fdc3-context/install.sh` \
         (tests/run-all.sh does)",
        fixture.display()
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fdc3_contexts.py");
    let status = Command::new("node")
        .current_dir(&fixture)
        .arg("generate.mjs")
        .arg(&out)
        .status()
        .expect("node runs");
    assert!(status.success(), "generate.mjs failed");
    let generated = std::fs::read_to_string(&out).unwrap();
    assert!(
        generated == COMMITTED,
        "plugin/catalogue/src/fdc3_contexts.py is stale; regenerate it with\n  (cd tests/fixtures/fdc3-context && node generate.mjs ../../../plugin/catalogue/src/fdc3_contexts.py)"
    );
}

#[test]
fn every_standard_context_type_has_a_typed_dict() {
    for (context_type, class) in STANDARD {
        assert!(
            COMMITTED.contains(&format!("# @block {class} {context_type}\n")),
            "{context_type} → {class} missing"
        );
        assert!(COMMITTED.contains(&format!("    type: Literal[\"{context_type}\"]\n")));
    }
    // And they are reachable by context type or class name.
    let catalogue = PythonCatalogue::new(CatalogueConfig::default());
    let names: Vec<&str> = STANDARD.iter().map(|(t, _)| *t).collect();
    let defs = catalogue.get(&names);
    assert!(defs.unknown.is_empty(), "{:?}", defs.unknown);
    for (_, class) in STANDARD {
        assert!(defs.found.iter().any(|f| f == class), "{class}");
        assert!(
            defs.text.matches(&format!("class {class}(")).count() == 1,
            "{class} once"
        );
    }
}
