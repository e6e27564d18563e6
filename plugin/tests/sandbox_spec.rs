//! The neutral function contract (`sandbox::spec`): signatures as Python prints them, binding a
//! call's shape, and the `TypeError` text that names the function and its expected arguments.

use codemode::sandbox::{
    FunctionSet, FunctionSpec, ParamSpec,
    spec::{BindError, closest},
};

fn spec(
    name: &str,
    params: Vec<ParamSpec>,
    accepts_target: bool,
    var_keywords: bool,
) -> FunctionSpec {
    FunctionSpec {
        name: name.to_owned(),
        params,
        accepts_target,
        var_keywords,
        doc: None,
        departed: None,
    }
}

#[test]
fn signatures_read_like_python() {
    let cases = [
        (spec("ping", vec![], false, false), "ping()"),
        (
            spec(
                "crm.get_clients",
                vec![
                    ParamSpec::keyword("adviser", false),
                    ParamSpec::keyword("region", false),
                ],
                true,
                false,
            ),
            "crm.get_clients(*, adviser=None, region=None, target=None)",
        ),
        (
            spec(
                "crm.get_client",
                vec![ParamSpec::keyword("id", true)],
                false,
                false,
            ),
            "crm.get_client(*, id)",
        ),
        (
            spec(
                "intents.view_chart",
                vec![
                    ParamSpec::positional("context", true),
                    ParamSpec::keyword("app", false),
                ],
                false,
                false,
            ),
            "intents.view_chart(context, *, app=None)",
        ),
        (
            spec("crm.list", vec![], true, false),
            "crm.list(*, target=None)",
        ),
    ];
    for (spec, expected) in cases {
        assert_eq!(spec.signature(), expected);
    }
}

#[test]
fn var_keywords_print_as_double_star_kwargs() {
    let cases = [
        // Only `**kwargs`: no bare `*` (`f(*, **kwargs)` is a SyntaxError in Python).
        (
            spec("trading.mystery", vec![], false, true),
            "trading.mystery(**kwargs)",
        ),
        (
            spec(
                "trading.mystery",
                vec![
                    ParamSpec::keyword("amount", true),
                    ParamSpec::keyword("class_", false),
                ],
                false,
                true,
            ),
            "trading.mystery(*, amount, class_=None, **kwargs)",
        ),
        (
            spec(
                "trading.mystery",
                vec![ParamSpec::keyword("amount", true)],
                true,
                true,
            ),
            "trading.mystery(*, amount, target=None, **kwargs)",
        ),
        (
            spec(
                "raise_it",
                vec![ParamSpec::positional("name", true)],
                false,
                true,
            ),
            "raise_it(name, **kwargs)",
        ),
        (
            spec("only_target", vec![], true, true),
            "only_target(*, target=None, **kwargs)",
        ),
    ];
    for (spec, expected) in cases {
        assert_eq!(spec.signature(), expected);
    }
}

#[test]
fn var_keywords_accept_any_keyword_but_still_require_the_required_ones() {
    let mystery = spec(
        "trading.mystery",
        vec![ParamSpec::keyword("amount", true)],
        false,
        true,
    );
    assert_eq!(
        mystery.bind(0, &["amount", "anything", "else"], false),
        Ok(Vec::new())
    );
    let missing = mystery.bind(0, &["anything"], false).unwrap_err();
    assert_eq!(
        missing,
        BindError::Missing {
            names: vec!["amount".to_owned()]
        }
    );
    assert_eq!(
        mystery.bind_error_message(&missing),
        "trading.mystery() missing required argument: 'amount'; expected trading.mystery(*, amount, **kwargs)"
    );
    let positional = mystery.bind(1, &[], false).unwrap_err();
    assert_eq!(
        mystery.bind_error_message(&positional),
        "trading.mystery() takes 0 positional arguments but 1 was given; expected trading.mystery(*, amount, **kwargs)"
    );
}

#[test]
fn bind_errors_name_the_function_the_signature_and_the_closest_keyword() {
    let get_clients = spec(
        "crm.get_clients",
        vec![
            ParamSpec::keyword("adviser", false),
            ParamSpec::keyword("region", false),
        ],
        true,
        false,
    );
    let unknown = get_clients.bind(0, &["advisor"], false).unwrap_err();
    assert_eq!(
        get_clients.bind_error_message(&unknown),
        "crm.get_clients() got an unexpected keyword argument 'advisor' (did you mean 'adviser'?); expected crm.get_clients(*, adviser=None, region=None, target=None)"
    );
    let view_chart = spec(
        "intents.view_chart",
        vec![
            ParamSpec::positional("context", true),
            ParamSpec::keyword("app", false),
        ],
        false,
        false,
    );
    assert_eq!(
        view_chart.bind(1, &["app"], false),
        Ok(vec!["context".to_owned()])
    );
    assert_eq!(
        view_chart.bind(1, &["context"], false),
        Err(BindError::Duplicate {
            keyword: "context".to_owned()
        })
    );
    // `**kwargs` at the call site: missing parameters cannot be judged before the run.
    assert_eq!(view_chart.bind(0, &[], true), Ok(Vec::new()));
}

#[test]
fn function_sets_drop_malformed_and_clashing_names_and_suggest_close_ones() {
    let set = FunctionSet::new(vec![
        FunctionSpec::keyword_only("crm.get_clients", &["adviser"]),
        FunctionSpec::keyword_only("crm.get_client", &["id"]),
        FunctionSpec::keyword_only("crm.get_clients", &["duplicate"]),
        FunctionSpec::keyword_only("crm", &[]),
        FunctionSpec::keyword_only("bad name", &[]),
        FunctionSpec::keyword_only("class.x", &[]),
        FunctionSpec::keyword_only("crm.get_client.deeper", &[]),
    ]);
    let names: Vec<&str> = set.specs().iter().map(|spec| spec.name.as_str()).collect();
    assert_eq!(names, ["crm.get_clients", "crm.get_client"]);
    assert_eq!(
        set.get("crm.get_clients")
            .map(|spec| spec.params[0].name.as_str()),
        Some("adviser")
    );
    assert!(set.is_namespace("crm"));
    assert_eq!(set.top_level().collect::<Vec<_>>(), ["crm"]);
    assert_eq!(
        set.suggest("crm.get_clientss", 2),
        ["crm.get_clients", "crm.get_client"]
    );
    assert_eq!(closest("adviser", ["advisor", "region"], 1), ["advisor"]);
    let same = FunctionSet::new(vec![
        FunctionSpec::keyword_only("crm.get_clients", &["adviser"]),
        FunctionSpec::keyword_only("crm.get_client", &["id"]),
    ]);
    assert_eq!(set.fingerprint(), same.fingerprint());
    let mut flexible = FunctionSpec::keyword_only("crm.get_client", &["id"]);
    flexible.var_keywords = true;
    let changed = FunctionSet::new(vec![
        FunctionSpec::keyword_only("crm.get_clients", &["adviser"]),
        flexible,
    ]);
    assert_ne!(
        set.fingerprint(),
        changed.fingerprint(),
        "var_keywords is part of the content"
    );
}
