//! A departed function is marked by its own field, not by text in its doc: a live function whose
//! description happens to read like a departure runs, and a departed one is refused with its
//! message whatever its doc says.

use std::collections::HashSet;

use codemode_engine::{
    FunctionSet, FunctionSpec,
    preflight::{self, Context, departed_message, departed_spec},
};

fn analyse(source: &str, functions: &FunctionSet) -> Result<(), Vec<preflight::Issue>> {
    let known = HashSet::new();
    preflight::analyse(
        source,
        Context {
            functions,
            known_globals: &known,
        },
    )
    .map(|_| ())
}

#[test]
fn a_live_function_whose_doc_reads_like_a_departure_is_not_refused() {
    let mut live = FunctionSpec::keyword_only("notes.archive", &["id"]);
    live.doc = Some("[departed] notes are archived here when their author left".to_owned());
    let functions = FunctionSet::new(vec![live.clone()]);

    assert_eq!(departed_message(&live), None);
    assert!(
        analyse("notes.archive(id='n-1')", &functions).is_ok(),
        "a live function must pass pre-flight"
    );
}

#[test]
fn a_departed_function_is_refused_with_its_message_whatever_its_doc_says() {
    let mut gone = departed_spec("crm.get_clients", "CRM left the bus at 10:02");
    gone.doc = Some("Lists CRM clients".to_owned());
    let functions = FunctionSet::new(vec![gone.clone()]);

    assert_eq!(departed_message(&gone), Some("CRM left the bus at 10:02"));
    let issues = analyse("crm.get_clients(adviser='M Carter')", &functions)
        .expect_err("a departed function is refused before running");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].kind, "MethodNotFoundError");
    assert_eq!(issues[0].message, "CRM left the bus at 10:02");
}

/// Regression: pre-flight refused every snippet naming a departed function, even where the
/// snippet has a fallback or the call cannot run; the README says bus failures are exceptions
/// a snippet can catch.
#[test]
fn a_departed_function_is_refused_only_where_its_call_is_certain_to_run() {
    let functions = FunctionSet::new(vec![departed_spec(
        "crm.get_clients",
        "CRM left the bus at 10:02",
    )]);
    let fallbacks = [
        "try:\n    rows = crm.get_clients(adviser='a')\nexcept MethodNotFoundError:\n    rows = []",
        "try:\n    rows = crm.get_clients(adviser='a')\nexcept BusError as error:\n    rows = []",
        "try:\n    rows = crm.get_clients(adviser='a')\nexcept (ValueError, Exception):\n    rows = []",
        "try:\n    rows = crm.get_clients(adviser='a')\nexcept:\n    rows = []",
        "if False:\n    crm.get_clients(adviser='a')",
        "if True:\n    rows = []\nelse:\n    crm.get_clients(adviser='a')",
        "def f():\n    return []\n    crm.get_clients(adviser='a')\nresult = f()",
        "while 0:\n    crm.get_clients(adviser='a')",
    ];
    for source in fallbacks {
        assert!(
            analyse(source, &functions).is_ok(),
            "has a fallback or cannot run:\n{source}"
        );
    }
    let certain = [
        "rows = crm.get_clients(adviser='a')",
        "try:\n    rows = crm.get_clients(adviser='a')\nexcept ValueError:\n    rows = []",
        "try:\n    rows = []\nexcept MethodNotFoundError:\n    rows = crm.get_clients(adviser='a')",
        "try:\n    pass\nfinally:\n    crm.get_clients(adviser='a')",
        "if rows_wanted:\n    crm.get_clients(adviser='a')",
    ];
    for source in certain {
        let issues = analyse(source, &functions).expect_err(source);
        assert_eq!(issues[0].kind, "MethodNotFoundError", "{source}");
    }
}
