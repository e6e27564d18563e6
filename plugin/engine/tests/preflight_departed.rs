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
