//! Tests for the tolerant io.Connect signature parser.

use codemode_protocol::signature::{MAX_DEPTH, Param, SigType, Signature, parse_signature};

fn param(name: Option<&str>, ty: SigType, optional: bool, raw: &str) -> Param {
    Param {
        name: name.map(str::to_owned),
        ty,
        optional,
        description: None,
        raw: raw.to_owned(),
    }
}

fn req(name: &str, ty: SigType, raw: &str) -> Param {
    param(Some(name), ty, false, raw)
}

fn opt(name: &str, ty: SigType, raw: &str) -> Param {
    param(Some(name), ty, true, raw)
}

fn arr(item: SigType) -> SigType {
    SigType::Array {
        item: Box::new(item),
    }
}

fn composite(type_name: Option<&str>, fields: Option<Vec<Param>>) -> SigType {
    SigType::Composite {
        tuple: false,
        type_name: type_name.map(str::to_owned),
        fields,
    }
}

fn any(raw: &str) -> SigType {
    SigType::Any {
        raw: raw.to_owned(),
    }
}

/// Composite nesting depth of the first parameter's type chain.
fn composite_depth(sig: &Signature) -> usize {
    let mut depth = 0;
    let mut params = &sig.params;
    loop {
        let Some(first) = params.first() else {
            return depth;
        };
        let mut ty = &first.ty;
        while let SigType::Array { item } = ty {
            ty = item;
        }
        match ty {
            SigType::Composite {
                fields: Some(f), ..
            } => {
                depth += 1;
                params = f;
            }
            _ => return depth,
        }
    }
}

#[test]
fn documented_scalars_with_optional_marker() {
    let sig = parse_signature("Int a, Int b, Int? c");
    assert_eq!(
        sig.params,
        vec![
            req("a", SigType::Int, "Int a"),
            req("b", SigType::Int, "Int b"),
            opt("c", SigType::Int, "Int? c"),
        ]
    );
    assert_eq!(sig.raw, "Int a, Int b, Int? c");
    assert!(sig.is_fully_typed());
}

#[test]
fn optional_string_array_is_array_and_optional() {
    let sig = parse_signature("string name, string[]? titles");
    assert_eq!(
        sig.params,
        vec![
            req("name", SigType::String, "string name"),
            opt("titles", arr(SigType::String), "string[]? titles"),
        ]
    );
}

#[test]
fn optional_and_array_markers_accepted_in_either_order() {
    let a = parse_signature("string[]? titles");
    let b = parse_signature("string?[] titles");
    let c = parse_signature("string [ ] ? titles");
    assert_eq!(a.params[0].ty, arr(SigType::String));
    assert!(a.params[0].optional);
    assert_eq!(b.params[0].ty, a.params[0].ty);
    assert!(b.params[0].optional);
    assert_eq!(c.params[0].ty, a.params[0].ty);
    assert!(c.params[0].optional);
}

#[test]
fn tuple_with_schema_is_flagged_as_tuple() {
    let sig = parse_signature("tuple: { string name, int age } personalDetails");
    assert_eq!(
        sig.params,
        vec![req(
            "personalDetails",
            SigType::Composite {
                tuple: true,
                type_name: None,
                fields: Some(vec![
                    req("name", SigType::String, "string name"),
                    req("age", SigType::Int, "int age"),
                ]),
            },
            "tuple: { string name, int age } personalDetails",
        )]
    );
}

#[test]
fn documented_composite_with_optional_field() {
    let sig = parse_signature("composite: { string first, string? middle, string last } name");
    assert_eq!(
        sig.params,
        vec![req(
            "name",
            composite(
                None,
                Some(vec![
                    req("first", SigType::String, "string first"),
                    opt("middle", SigType::String, "string? middle"),
                    req("last", SigType::String, "string last"),
                ])
            ),
            "composite: { string first, string? middle, string last } name",
        )]
    );
    assert!(sig.is_fully_typed());
}

#[test]
fn composite_without_schema_or_colon_uses_word_as_param_name() {
    let sig = parse_signature("composite party");
    assert_eq!(
        sig.params,
        vec![req("party", composite(None, None), "composite party")]
    );
    assert!(sig.is_fully_typed());
}

#[test]
fn composite_colon_without_schema_and_array_before_missing_schema() {
    let sig = parse_signature("composite: order, composite: [] trades");
    assert_eq!(
        sig.params,
        vec![
            req("order", composite(None, None), "composite: order"),
            req("trades", arr(composite(None, None)), "composite: [] trades"),
        ]
    );
}

#[test]
fn named_composite_without_param_name_keeps_type_name() {
    let sig = parse_signature("Composite:Client{string clientId}");
    assert_eq!(
        sig.params,
        vec![param(
            None,
            composite(
                Some("Client"),
                Some(vec![req("clientId", SigType::String, "string clientId")])
            ),
            false,
            "Composite:Client{string clientId}",
        )]
    );
}

#[test]
fn named_composite_array_without_param_name() {
    let sig = parse_signature("Composite:Symbol{String symbol, Double bid, Double ask}[]");
    assert_eq!(
        sig.params,
        vec![param(
            None,
            arr(composite(
                Some("Symbol"),
                Some(vec![
                    req("symbol", SigType::String, "String symbol"),
                    req("bid", SigType::Double, "Double bid"),
                    req("ask", SigType::Double, "Double ask"),
                ])
            )),
            false,
            "Composite:Symbol{String symbol, Double bid, Double ask}[]",
        )]
    );
    assert_eq!(sig.params[0].ty.describe(), "composite Symbol{...}[]");
}

#[test]
fn named_composite_with_type_name_and_param_name() {
    let sig = parse_signature("composite: Client{string id} client, composite: Client[] clients");
    assert_eq!(
        sig.params,
        vec![
            req(
                "client",
                composite(
                    Some("Client"),
                    Some(vec![req("id", SigType::String, "string id")])
                ),
                "composite: Client{string id} client",
            ),
            req(
                "clients",
                arr(composite(Some("Client"), None)),
                "composite: Client[] clients",
            ),
        ]
    );
}

#[test]
fn optional_strings_with_capitalised_type() {
    let sig = parse_signature("String? adviser, String? nameContains");
    assert_eq!(
        sig.params,
        vec![
            opt("adviser", SigType::String, "String? adviser"),
            opt("nameContains", SigType::String, "String? nameContains"),
        ]
    );
}

#[test]
fn anonymous_composite_array_of_clients() {
    let text = "Composite: { String id, String name, String adviser, String email, String phone, Double aum }[] clients";
    let sig = parse_signature(text);
    let fields = vec![
        req("id", SigType::String, "String id"),
        req("name", SigType::String, "String name"),
        req("adviser", SigType::String, "String adviser"),
        req("email", SigType::String, "String email"),
        req("phone", SigType::String, "String phone"),
        req("aum", SigType::Double, "Double aum"),
    ];
    assert_eq!(
        sig.params,
        vec![req("clients", arr(composite(None, Some(fields))), text)]
    );
}

#[test]
fn datetime_and_optional_composite_array_with_datetime_field() {
    let sig = parse_signature(
        "DateTime asOf, Composite: { String symbol, Double quantity, DateTime asOf }[]? holdings",
    );
    assert_eq!(sig.params.len(), 2);
    assert_eq!(
        sig.params[0],
        req("asOf", SigType::DateTime, "DateTime asOf")
    );
    let holdings = sig.param("holdings").unwrap();
    assert!(holdings.optional);
    assert_eq!(
        holdings.ty,
        arr(composite(
            None,
            Some(vec![
                req("symbol", SigType::String, "String symbol"),
                req("quantity", SigType::Double, "Double quantity"),
                req("asOf", SigType::DateTime, "DateTime asOf"),
            ])
        ))
    );
    assert!(sig.is_fully_typed());
}

#[test]
fn type_keywords_are_case_insensitive() {
    let sig = parse_signature(
        "INT a, Bool b, DOUBLE c, Long d, sTrInG e, Datetime f, DateTime g, COMPOSITE: {int x} h, Tuple: {int y} i",
    );
    let tys: Vec<_> = sig.params.iter().map(|p| p.ty.describe()).collect();
    assert_eq!(
        tys,
        [
            "int",
            "bool",
            "double",
            "long",
            "string",
            "datetime",
            "datetime",
            "composite{...}",
            "tuple{...}"
        ]
    );
    assert!(sig.is_fully_typed());
}

#[test]
fn synonyms_map_to_canonical_types() {
    let sig = parse_signature("boolean a, integer b, float c, date d");
    let tys: Vec<_> = sig.params.iter().map(|p| p.ty.clone()).collect();
    assert_eq!(
        tys,
        [
            SigType::Bool,
            SigType::Int,
            SigType::Double,
            SigType::DateTime
        ]
    );
}

#[test]
fn nested_composites_several_levels_deep() {
    let sig = parse_signature(
        "composite: { string id, composite: { composite: { int n, double[] xs } inner, string tag }[] middle } outer",
    );
    assert_eq!(
        sig.params,
        vec![req(
            "outer",
            composite(
                None,
                Some(vec![
                    req("id", SigType::String, "string id"),
                    req(
                        "middle",
                        arr(composite(
                            None,
                            Some(vec![
                                req(
                                    "inner",
                                    composite(
                                        None,
                                        Some(vec![
                                            req("n", SigType::Int, "int n"),
                                            req("xs", arr(SigType::Double), "double[] xs"),
                                        ])
                                    ),
                                    "composite: { int n, double[] xs } inner",
                                ),
                                req("tag", SigType::String, "string tag"),
                            ])
                        )),
                        "composite: { composite: { int n, double[] xs } inner, string tag }[] middle",
                    ),
                ])
            ),
            "composite: { string id, composite: { composite: { int n, double[] xs } inner, string tag }[] middle } outer",
        )]
    );
    assert!(sig.is_fully_typed());
}

#[test]
fn description_with_commas_and_nested_parentheses_stays_in_one_param() {
    let sig = parse_signature(
        "String id (the client id, e.g. c-001), Int? limit (max rows (default 10), capped)",
    );
    assert_eq!(sig.params.len(), 2);
    assert_eq!(
        sig.params[0],
        Param {
            description: Some("the client id, e.g. c-001".to_owned()),
            ..req(
                "id",
                SigType::String,
                "String id (the client id, e.g. c-001)"
            )
        }
    );
    assert_eq!(
        sig.params[1].description.as_deref(),
        Some("max rows (default 10), capped")
    );
    assert!(sig.params[1].optional);
    assert_eq!(sig.params[1].ty, SigType::Int);
}

#[test]
fn description_on_composite_field_and_param_without_name() {
    let sig = parse_signature("composite: { string id (primary key) } row (one row), int (count)");
    let row = sig.param("row").unwrap();
    assert_eq!(row.description.as_deref(), Some("one row"));
    let SigType::Composite {
        fields: Some(fields),
        ..
    } = &row.ty
    else {
        panic!("expected composite with fields, got {:?}", row.ty);
    };
    assert_eq!(fields[0].description.as_deref(), Some("primary key"));
    assert_eq!(sig.params[1].name, None);
    assert_eq!(sig.params[1].ty, SigType::Int);
    assert_eq!(sig.params[1].description.as_deref(), Some("count"));
}

#[test]
fn unknown_type_words_become_any_keeping_word_and_name() {
    let sig = parse_signature("Object payload, Number n, json[] docs, MyType{string a} t");
    assert_eq!(
        sig.params,
        vec![
            req("payload", any("Object"), "Object payload"),
            req("n", any("Number"), "Number n"),
            req("docs", arr(any("json")), "json[] docs"),
            req("t", any("MyType{string a}"), "MyType{string a} t"),
        ]
    );
    assert!(!sig.is_fully_typed());
}

#[test]
fn unparseable_param_in_middle_keeps_neighbours() {
    let sig = parse_signature("string a, int b c }, ?? what, double d");
    assert_eq!(sig.params.len(), 4);
    assert_eq!(sig.params[0], req("a", SigType::String, "string a"));
    assert_eq!(sig.params[1].ty, any("int b c }"));
    assert_eq!(sig.params[1].raw, "int b c }");
    assert_eq!(sig.params[2], param(None, any("?? what"), false, "?? what"));
    assert_eq!(sig.params[3], req("d", SigType::Double, "double d"));
    assert!(!sig.is_fully_typed());
}

#[test]
fn empty_whitespace_and_absent_signatures_have_no_params() {
    for text in ["", "   \t\n ", ",,", " , , "] {
        let sig = parse_signature(text);
        assert!(sig.params.is_empty(), "{text:?}");
        assert_eq!(sig.raw, text);
        assert!(sig.is_fully_typed());
    }
    let absent: Option<&str> = None;
    let sig = absent.map(parse_signature).unwrap_or_default();
    assert!(sig.params.is_empty());
    assert_eq!(sig, Signature::default());
}

#[test]
fn garbage_inputs_do_not_panic_and_keep_raw() {
    let cases = [
        "{{{",
        "}}}",
        "string (",
        "?",
        "[]",
        "composite: {",
        "composite: { string a, int b",
        "composite:}{",
        "string a}, int b{",
        ")(",
        ":::",
        "composite: [",
        "int[",
        "\u{0}\u{feff}é, 日本 名前",
    ];
    for text in cases {
        let sig = parse_signature(text);
        assert_eq!(sig.raw, text);
        for p in &sig.params {
            assert!(!p.raw.is_empty(), "{text:?} -> {p:?}");
            let _ = p.ty.describe();
        }
    }
    assert_eq!(
        parse_signature("?").params,
        vec![param(None, any("?"), false, "?")]
    );
    assert_eq!(
        parse_signature("{{{").params,
        vec![param(None, any("{{{"), false, "{{{")]
    );
    let unclosed = parse_signature("string (");
    assert_eq!(unclosed.params[0].ty, SigType::String);
    assert_eq!(unclosed.params[0].description, None);
}

#[test]
fn unbalanced_closing_brace_does_not_swallow_next_param() {
    let sig = parse_signature("string a}, int b");
    assert_eq!(sig.params.len(), 2);
    assert_eq!(sig.params[0].ty, any("string a}"));
    assert_eq!(sig.params[1], req("b", SigType::Int, "int b"));
}

#[test]
fn unclosed_schema_is_closed_at_end_of_text() {
    let sig = parse_signature("composite: { string a, int b");
    assert_eq!(
        sig.params,
        vec![param(
            None,
            composite(
                None,
                Some(vec![
                    req("a", SigType::String, "string a"),
                    req("b", SigType::Int, "int b"),
                ])
            ),
            false,
            "composite: { string a, int b",
        )]
    );
}

#[test]
fn ten_kilobytes_of_braces_do_not_overflow_the_stack() {
    let text = "{".repeat(10_000);
    let sig = parse_signature(&text);
    assert_eq!(sig.params.len(), 1);
    assert_eq!(sig.params[0].ty, any(&text));

    let balanced = format!("{}{}", "{".repeat(5_000), "}".repeat(5_000));
    assert_eq!(parse_signature(&balanced).params.len(), 1);
}

#[test]
fn deeply_nested_composites_are_capped_and_degrade_to_any() {
    let levels = 2_000;
    let text = format!(
        "{}int x{}",
        "composite: { ".repeat(levels),
        " } c".repeat(levels)
    );
    assert!(text.len() > 10_000);
    let sig = parse_signature(&text);
    assert_eq!(sig.raw, text);
    assert_eq!(composite_depth(&sig), MAX_DEPTH);
    assert!(!sig.is_fully_typed());

    // Walk to the deepest parsed level: a single Any field keeps the rest.
    let mut params = &sig.params;
    for _ in 0..MAX_DEPTH {
        let SigType::Composite {
            fields: Some(f), ..
        } = &params[0].ty
        else {
            panic!("expected composite");
        };
        params = f;
    }
    assert_eq!(params.len(), 1);
    let SigType::Any { raw } = &params[0].ty else {
        panic!("expected Any at depth cap, got {:?}", params[0].ty);
    };
    assert!(raw.starts_with("composite: {"));
    assert!(raw.ends_with("} c"));
}

#[test]
fn shallow_nesting_below_cap_is_fully_typed() {
    let levels = MAX_DEPTH - 1;
    let text = format!(
        "{}int x{}",
        "composite: { ".repeat(levels),
        " } c".repeat(levels)
    );
    let sig = parse_signature(&text);
    assert_eq!(composite_depth(&sig), levels);
    assert!(sig.is_fully_typed());
}

#[test]
fn is_fully_typed_detects_any_nested_inside_composite_and_array() {
    assert!(parse_signature("composite: { int a, string[] b }[] xs, composite c").is_fully_typed());
    assert!(!parse_signature("composite: { int a, Object[] b }[] xs").is_fully_typed());
    assert!(!parse_signature("int a, Whatever b").is_fully_typed());
}

#[test]
fn param_lookup_is_exact_and_ignores_unnamed() {
    let sig = parse_signature("Composite:Client{string id}, string name, int Name");
    assert_eq!(sig.param("name").unwrap().ty, SigType::String);
    assert_eq!(sig.param("Name").unwrap().ty, SigType::Int);
    assert!(sig.param("NAME").is_none());
    assert!(sig.param("Client").is_none());
}

#[test]
fn describe_renders_compact_canonical_forms() {
    let sig = parse_signature(
        "string a, int[][] b, composite: { int x } c, tuple: Pair{} d, composite e, Composite:Client{string id}[] f, Object g",
    );
    let got: Vec<_> = sig.params.iter().map(|p| p.ty.describe()).collect();
    assert_eq!(
        got,
        [
            "string",
            "int[][]",
            "composite{...}",
            "tuple Pair{}",
            "composite",
            "composite Client{...}[]",
            "any(Object)"
        ]
    );
    let long = parse_signature(&format!("{} x", "A".repeat(100)));
    assert!(long.params[0].ty.describe().chars().count() < 50);
}

#[test]
fn from_str_matches_parse_signature() {
    let text = "Composite:Symbol{String symbol}[] , Int? n";
    let parsed: Signature = text.parse().unwrap();
    assert_eq!(parsed, parse_signature(text));
}

#[test]
fn serializes_with_kind_tag() {
    let sig = parse_signature("Composite:Client{string id}[] c");
    let json = serde_json::to_value(&sig).unwrap();
    assert_eq!(json["params"][0]["name"], "c");
    assert_eq!(json["params"][0]["ty"]["kind"], "array");
    assert_eq!(json["params"][0]["ty"]["item"]["kind"], "composite");
    assert_eq!(json["params"][0]["ty"]["item"]["type_name"], "Client");
    assert_eq!(
        json["params"][0]["ty"]["item"]["fields"][0]["ty"]["kind"],
        "string"
    );
}
