//! The inputs of the fuzz targets: arbitrary text, JSON of any shape, objects shaped like each
//! wire's messages (a known `type` and known keys with values of any shape), and real frames
//! with bytes flipped, inserted or cut. Purely random text rarely gets past the first brace;
//! the shaped inputs reach the typed decoding behind it.

use codemode_protocol::signature::{Param, SigType};
use proptest::{
    collection::vec,
    prelude::{Just, any, prop_oneof},
    sample::select,
    strategy::{BoxedStrategy, Strategy},
};
use serde_json::{Map, Number, Value};

/// GW3 message types: the typed ones, one the gateway sends that the protocol crate does not
/// type, and one that no gateway sends.
pub(super) static GW3_TYPES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| {
        codemode_protocol::gw3::KNOWN_TYPES
            .iter()
            .copied()
            .chain(["destroy-context", "not-a-type"])
            .collect()
    });

/// Keys GW3 messages carry.
pub(super) const GW3_KEYS: &[&str] = &[
    "type",
    "domain",
    "request_id",
    "peer_id",
    "reason_uri",
    "reason",
    "identity",
    "authentication",
    "resolved_identity",
    "available_domains",
    "new_peer_id",
    "removed_id",
    "meta",
    "server_id",
    "methods",
    "method_id",
    "arguments",
    "arguments_kv",
    "context",
    "invocation_id",
    "caller_id",
    "result",
    "subscription_id",
    "stream_id",
    "data",
    "name",
    "context_id",
    "delta",
    "token",
    "destination",
    "local",
    "source_type",
    "id",
    "flags",
    "input_signature",
    "result_signature",
    "display_name",
    "object_types",
    "version",
];

/// Real GW3 frames (a welcome, a method announcement, a call and its result).
pub(super) const GW3_SEEDS: &[&str] = &[
    r#"{"type":"welcome","request_id":"1","peer_id":"p1","available_domains":[{"uri":"agm","version":1}],"resolved_identity":{"user":"u","application":"a"}}"#,
    r#"{"domain":"agm","type":"methods-added","server_id":"p2","source_type":"peer","methods":[{"id":1,"name":"CRM.GetClients","input_signature":"String? adviser","result_signature":"Composite: { String name }[] clients","flags":{"readOnly":true}}]}"#,
    r#"{"domain":"agm","type":"invoke","invocation_id":"i1","caller_id":"p3","method_id":1,"peer_id":"p2","arguments_kv":{"text":"hi"},"context":{}}"#,
    r#"{"domain":"agm","type":"result","request_id":"7","peer_id":"p1","result":{"clients":[{"name":"Amelia Reid","aum":1.5e6}]}}"#,
    r#"{"domain":"global","type":"peer-added","peer_id":"p1","new_peer_id":"p4","identity":{"application":"Dialer","instance":"x"},"meta":{"local":true}}"#,
    r#"{"domain":"context","type":"context-updated","context_id":"c1","delta":{"added":{"k":1}},"updater_id":"p5"}"#,
];

/// FDC3 Web Connection Protocol and DACP message types.
pub(super) const FDC3_TYPES: &[&str] = &[
    "WCP1Hello",
    "WCP2LoadUrl",
    "WCP3Handshake",
    "WCP4ValidateAppIdentity",
    "WCP5ValidateAppIdentityFailedResponse",
    "WCP5ValidateAppIdentityResponse",
    "WCP6Goodbye",
    "findIntentRequest",
    "findIntentResponse",
    "findIntentsByContextResponse",
    "raiseIntentRequest",
    "raiseIntentResponse",
    "raiseIntentResultResponse",
    "intentEvent",
    "addIntentListenerResponse",
    "getAppMetadataResponse",
    "findInstancesResponse",
    "broadcastEvent",
    "heartbeatEvent",
    "channelChangedEvent",
    "getUserChannelsResponse",
    "joinUserChannelResponse",
    "openResponse",
    "privateChannelOnDisconnectEvent",
    "unknownType",
];

/// Keys FDC3 messages carry (top level, `meta` and `payload`).
pub(super) const FDC3_KEYS: &[&str] = &[
    "type",
    "meta",
    "payload",
    "requestUuid",
    "responseUuid",
    "eventUuid",
    "timestamp",
    "source",
    "destination",
    "error",
    "intent",
    "context",
    "app",
    "appId",
    "instanceId",
    "apps",
    "appIntent",
    "appIntents",
    "intentResolution",
    "intentResult",
    "channel",
    "channels",
    "userChannels",
    "connectionAttemptUuid",
    "identityUrl",
    "actualUrl",
    "fdc3Version",
    "channelId",
    "instanceUuid",
    "implementationMetadata",
];

/// Real FDC3 frames.
pub(super) const FDC3_SEEDS: &[&str] = &[
    r#"{"type":"WCP5ValidateAppIdentityResponse","meta":{"connectionAttemptUuid":"a","timestamp":"2026-01-01T00:00:00.000Z"},"payload":{"appId":"codemode","instanceId":"i1","instanceUuid":"u1","implementationMetadata":{"fdc3Version":"2.2","provider":"ref"}}}"#,
    r#"{"type":"findIntentResponse","meta":{"requestUuid":"r1","responseUuid":"s1","timestamp":"2026-01-01T00:00:00.000Z"},"payload":{"appIntent":{"intent":{"name":"ViewChart"},"apps":[{"appId":"chart-app","instanceId":"1"}]}}}"#,
    r#"{"type":"raiseIntentResultResponse","meta":{"requestUuid":"r2","responseUuid":"s2","timestamp":"2026-01-01T00:00:00.000Z"},"payload":{"intentResult":{"context":{"type":"fdc3.chart","style":"line"}}}}"#,
    r#"{"type":"raiseIntentResponse","meta":{"requestUuid":"r3","responseUuid":"s3","timestamp":"2026-01-01T00:00:00.000Z"},"payload":{"error":"NoAppsFound"}}"#,
];

/// Worker → host and host → worker frame types.
const WORKER_TYPES: &[&str] = &[
    "ready", "call", "done", "fatal", "run", "reply", "cancel", "clock", "other",
];

/// Keys of worker frames and the outcome inside `done`.
const WORKER_KEYS: &[&str] = &[
    "type",
    "run_id",
    "ticket",
    "function",
    "arguments",
    "target",
    "outcome",
    "recycle",
    "pid",
    "startup_ms",
    "message",
    "source",
    "limits",
    "keep_state",
    "functions",
    "result",
    "paused",
    "ok",
    "printed",
    "calls",
    "error",
    "duration_ms",
    "result_truncated",
    "printed_truncated",
    "result_unset",
    "result_ref",
    "phase",
    "kind",
    "line",
    "line_text",
    "limit",
    "details",
    "ms",
];

/// Real worker frames.
const WORKER_SEEDS: &[&str] = &[
    r#"{"type":"ready","pid":42,"startup_ms":12.5}"#,
    r#"{"type":"call","run_id":1,"ticket":3,"function":"crm.get_clients","arguments":{"name_contains":"Reid"}}"#,
    r#"{"type":"done","run_id":1,"outcome":{"ok":true,"result":{"a":[1,2.5,"x"]},"printed":"hi\n","calls":[{"function":"crm.get_clients","ms":1.2,"ok":true}],"duration_ms":3.5}}"#,
    r#"{"type":"done","run_id":2,"outcome":{"ok":false,"result":null,"printed":"","calls":[],"duration_ms":1.0,"error":{"phase":"runtime","kind":"IndexError","message":"list index out of range","line":2,"line_text":"x = y[3]"}},"recycle":"hostile"}"#,
    r#"{"type":"reply","run_id":1,"ticket":3,"result":{"ok":{"clients":[]}}}"#,
    r#"{"type":"fatal","message":"start-up failed"}"#,
];

/// Any JSON value, nested a few levels deep.
pub(super) fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|float| Number::from_f64(float).map_or(Value::Null, Value::Number)),
        short_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((short_text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Text of any characters, short.
pub(super) fn short_text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..12).prop_map(String::from_iter)
}

/// An object with `type` from `types` and keys from `keys` (sometimes nested under `meta` and
/// `payload`, as FDC3 puts them).
fn shaped_object(
    types: &'static [&'static str],
    keys: &'static [&'static str],
) -> BoxedStrategy<Value> {
    let fields = vec((select(keys), json_value()), 0..8);
    (select(types), fields.clone(), fields, any::<bool>())
        .prop_map(|(message_type, top, inner, nest)| {
            let mut object: Map<String, Value> = top
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect();
            let inner: Map<String, Value> = inner
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect();
            if nest {
                object.insert("payload".into(), Value::Object(inner.clone()));
                object.insert("meta".into(), Value::Object(inner));
            } else {
                object.extend(inner);
            }
            object.insert("type".into(), Value::String(message_type.to_owned()));
            Value::Object(object)
        })
        .boxed()
}

/// A seed frame with bytes changed: each edit sets, inserts or removes one byte; then maybe cut.
fn mutated(seeds: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let edit = (any::<usize>(), any::<u8>(), 0u8..3);
    (
        select(seeds),
        vec(edit, 1..6),
        proptest::option::of(any::<usize>()),
    )
        .prop_map(|(seed, edits, cut)| {
            let mut bytes = seed.as_bytes().to_vec();
            for (at, byte, how) in edits {
                let at = at % (bytes.len() + 1);
                match how {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.push(byte),
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut % (bytes.len() + 1));
            }
            bytes
        })
}

/// One frame's text for a JSON wire with these message types, keys and real frames.
pub(super) fn frame_text(
    types: &'static [&'static str],
    keys: &'static [&'static str],
    seeds: &'static [&'static str],
) -> BoxedStrategy<String> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..64).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        1 => json_value().prop_map(|value| value.to_string()),
        4 => shaped_object(types, keys).prop_map(|value| value.to_string()),
        3 => mutated(seeds).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        1 => select(seeds).prop_map(str::to_owned),
    ]
    .boxed()
}

/// Bytes on a worker pipe: one or more lines of worker-shaped frames, mutated real frames, or
/// raw bytes (not necessarily UTF-8, not necessarily ending in a newline).
pub(super) fn worker_bytes() -> BoxedStrategy<Vec<u8>> {
    let line = prop_oneof![
        1 => vec(any::<u8>(), 0..48),
        4 => shaped_object(WORKER_TYPES, WORKER_KEYS).prop_map(|value| value.to_string().into_bytes()),
        2 => done_frame().prop_map(|value| value.to_string().into_bytes()),
        3 => mutated(WORKER_SEEDS),
        1 => select(WORKER_SEEDS).prop_map(|seed| seed.as_bytes().to_vec()),
    ];
    (vec(line, 1..4), any::<bool>())
        .prop_map(|(lines, newline_at_end)| {
            let mut bytes = lines.join(&b'\n');
            if newline_at_end {
                bytes.push(b'\n');
            }
            bytes
        })
        .boxed()
}

/// A `done` frame whose outcome has the right keys with values of any shape, or the right shape.
fn done_frame() -> impl Strategy<Value = Value> {
    let error = (
        select(&["compile", "preflight", "runtime", "limit", "host", "other"][..]),
        short_text(),
        short_text(),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(phase, kind, message, line)| {
            serde_json::json!({"phase": phase, "kind": kind, "message": message, "line": line})
        });
    let call = (
        short_text(),
        any::<bool>(),
        proptest::option::of(any::<f64>()),
    )
        .prop_map(|(function, ok, ms)| {
            serde_json::json!({"function": function, "ok": ok,
                "ms": ms.and_then(Number::from_f64).map_or(Value::Null, Value::Number)})
        });
    (
        any::<bool>(),
        json_value(),
        short_text(),
        vec(call, 0..3),
        proptest::option::of(error),
        any::<u64>(),
        proptest::option::of(short_text()),
    )
        .prop_map(|(ok, result, printed, calls, error, run_id, recycle)| {
            serde_json::json!({"type": "done", "run_id": run_id, "recycle": recycle, "outcome": {
                "ok": ok, "result": result, "printed": printed, "calls": calls,
                "duration_ms": 1.5, "error": error}})
        })
}

/// Text to parse as a signature, and the parameters it must give (without their raw text) when
/// it was rendered from a generated tree.
#[derive(Debug, Clone)]
pub(super) struct SignatureCase {
    /// The text.
    pub(super) text: String,
    /// The tree it was rendered from, if any.
    pub(super) expected: Option<Vec<Param>>,
}

/// Arbitrary text, mutated real signatures, and signatures rendered from generated trees.
pub(super) fn signature_case() -> BoxedStrategy<SignatureCase> {
    const SEEDS: &[&str] = &[
        "String? adviser, Composite: { String id, Double aum }[] clients",
        "Composite:Client{String name (the name), Int? age, DateTime[] seen} client",
        "tuple{Bool a, Long b}[][]? pairs (nested, with comma)",
        "Strange type here, String ok, Composite: {{{ unclosed",
    ];
    prop_oneof![
        2 => short_text().prop_map(|text| SignatureCase { text, expected: None }),
        2 => vec(select(&['{', '}', '(', ')', '[', ']', '?', ',', ':', ' ', 'a', 'é', '$'][..]), 0..40)
            .prop_map(|chars| SignatureCase { text: String::from_iter(chars), expected: None }),
        2 => mutated(SEEDS).prop_map(|bytes| SignatureCase {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            expected: None,
        }),
        4 => vec(param(), 0..5).prop_map(|params| SignatureCase {
            text: params.iter().map(|(text, _)| text.as_str()).collect::<Vec<_>>().join(", "),
            expected: Some(params.into_iter().map(|(_, param)| param).collect()),
        }),
    ]
    .boxed()
}

/// A parameter's rendered text and its tree.
fn param() -> BoxedStrategy<(String, Param)> {
    param_at(3)
}

fn param_at(depth: u32) -> BoxedStrategy<(String, Param)> {
    let scalar = select(vec![
        ("String", SigType::String),
        ("string", SigType::String),
        ("Int", SigType::Int),
        ("integer", SigType::Int),
        ("Long", SigType::Long),
        ("Double", SigType::Double),
        ("float", SigType::Double),
        ("Bool", SigType::Bool),
        ("boolean", SigType::Bool),
        ("DateTime", SigType::DateTime),
        ("date", SigType::DateTime),
    ])
    .prop_map(|(word, ty)| (word.to_owned(), ty));
    let base: BoxedStrategy<(String, SigType)> = if depth == 0 {
        scalar.boxed()
    } else {
        let composite = (
            any::<bool>(),
            proptest::option::of(identifier()),
            proptest::option::of(vec(param_at(depth - 1), 0..4)),
        )
            .prop_map(|(tuple, type_name, fields)| {
                let mut text = String::from(if tuple { "Tuple" } else { "Composite" });
                if let Some(name) = &type_name {
                    text.push(':');
                    text.push_str(name);
                }
                if let Some(fields) = &fields {
                    // `Composite:Name{…}`, or `Composite: {…}` without a name.
                    text.push_str(if type_name.is_some() { "{" } else { ": {" });
                    text.push_str(
                        &fields
                            .iter()
                            .map(|(text, _)| text.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                    text.push('}');
                }
                let ty = SigType::Composite {
                    tuple,
                    // A type name is only read as one before a schema or a parameter name.
                    type_name,
                    fields: fields
                        .map(|fields| fields.into_iter().map(|(_, param)| param).collect()),
                };
                (text, ty)
            });
        prop_oneof![3 => scalar, 1 => composite].boxed()
    };
    (
        base,
        0usize..3,
        any::<bool>(),
        identifier(),
        proptest::option::of(description()),
    )
        .prop_map(|((type_text, ty), dims, optional, name, description)| {
            let mut text = type_text;
            text.push_str(&"[]".repeat(dims));
            if optional {
                text.push('?');
            }
            text.push(' ');
            text.push_str(&name);
            if let Some(description) = &description {
                text.push_str(" (");
                text.push_str(description);
                text.push(')');
            }
            let ty = (0..dims).fold(ty, |item, _| SigType::Array {
                item: Box::new(item),
            });
            let param = Param {
                name: Some(name),
                ty,
                optional,
                description,
                raw: String::new(),
            };
            (text, param)
        })
        .boxed()
}

/// A parameter or type name.
fn identifier() -> impl Strategy<Value = String> {
    (
        select(&['a', 'b', 'z', 'A', 'Z', '_', '$', 'é'][..]),
        vec(
            select(&['a', 'q', 'Z', '0', '9', '_', '-', '$', 'ü'][..]),
            0..8,
        ),
    )
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect())
}

/// A description: words without brackets, trimmed, not empty.
fn description() -> impl Strategy<Value = String> {
    vec(
        select(&["the", "name", "a,b", "x:y", "ünï", "[1]", "?"][..]),
        1..4,
    )
    .prop_map(|words| words.join(" "))
}

/// `param` with every `raw` emptied (the generated trees do not predict raw text).
pub(super) fn without_raw(mut param: Param) -> Param {
    param.raw.clear();
    param.ty = type_without_raw(param.ty);
    param
}

fn type_without_raw(ty: SigType) -> SigType {
    match ty {
        SigType::Array { item } => SigType::Array {
            item: Box::new(type_without_raw(*item)),
        },
        SigType::Composite {
            tuple,
            type_name,
            fields,
        } => SigType::Composite {
            tuple,
            type_name,
            fields: fields.map(|fields| fields.into_iter().map(without_raw).collect()),
        },
        other => other,
    }
}
