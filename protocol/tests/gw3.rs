//! Round trips and tolerance of the GW3 message types, over frames captured from the real
//! open-source gateway (`data/gw3_frames.jsonl`).

use codemode_protocol::{
    MethodFlags, ProtocolError,
    dates::{format_t42_date, map_t42_dates, parse_t42_date},
    gw3::{self, DEFAULT_MAX_FRAME_BYTES, Gw3Message},
    trace::strip_trace_info,
};
use serde_json::{Value, json};

fn real_frames() -> Vec<&'static str> {
    include_str!("data/gw3_frames.jsonl")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect()
}

#[test]
fn every_captured_frame_decodes_to_a_known_type_and_round_trips_unchanged() {
    let frames = real_frames();
    assert!(frames.len() >= 30);
    for frame in frames {
        let message = gw3::decode(frame, DEFAULT_MAX_FRAME_BYTES).expect(frame);
        assert!(
            !matches!(message, Gw3Message::Unknown(_)),
            "modelled type decoded as unknown: {frame}"
        );
        let original: Value = serde_json::from_str(frame).unwrap();
        assert_eq!(message.message_type(), original["type"].as_str().unwrap());
        let reencoded: Value = serde_json::from_str(&gw3::encode(&message)).unwrap();
        assert_eq!(reencoded, original, "round trip changed the frame");
    }
}

#[test]
fn unknown_message_type_is_kept_whole_and_reencoded_verbatim() {
    let frame = r#"{"domain":"activity","type":"activity-created","peer_id":"p-1","activity_id":"c","context":{"a":1}}"#;
    let message = gw3::decode(frame, DEFAULT_MAX_FRAME_BYTES).unwrap();
    let Gw3Message::Unknown(object) = &message else {
        panic!("expected unknown, got {message:?}")
    };
    assert_eq!(object["activity_id"], "c");
    assert_eq!(message.message_type(), "activity-created");
    let back: Value = serde_json::from_str(&gw3::encode(&message)).unwrap();
    assert_eq!(back, serde_json::from_str::<Value>(frame).unwrap());
}

#[test]
fn known_type_with_wrong_shape_is_a_bad_message_error_not_a_panic() {
    let error = gw3::decode(r#"{"type":"call","domain":"agm","server_id":42}"#, 1024).unwrap_err();
    assert!(
        matches!(error, ProtocolError::BadMessage { ref message_type, .. } if message_type == "call")
    );
}

#[test]
fn garbage_frames_are_malformed_errors() {
    for frame in [
        "",
        "not json",
        "[1,2]",
        "42",
        r#"{"domain":"agm"}"#,
        r#"{"type":7}"#,
        "{\"type\":\"call\"",
    ] {
        let error = gw3::decode(frame, 1024).unwrap_err();
        assert!(
            matches!(error, ProtocolError::Malformed { .. }),
            "{frame:?} gave {error:?}"
        );
    }
}

#[test]
fn frames_over_the_cap_are_refused_before_parsing() {
    let frame = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(2000));
    let error = gw3::decode(&frame, 1000).unwrap_err();
    assert_eq!(
        error,
        ProtocolError::FrameTooLarge {
            len: frame.len(),
            max: 1000
        }
    );
}

#[test]
fn numeric_method_id_is_echoed_as_a_number_and_string_id_as_a_string() {
    let frame = r#"{"domain":"agm","type":"methods-added","server_id":"p-1","methods":[{"id":7,"name":"A"},{"id":"7","name":"B"}]}"#;
    let Gw3Message::MethodsAdded(added) = gw3::decode(frame, 4096).unwrap() else {
        panic!()
    };
    assert_eq!(added.methods[0].id.as_value(), &json!(7));
    assert_eq!(added.methods[1].id.as_value(), &json!("7"));
    assert_ne!(added.methods[0].id.key(), added.methods[1].id.key());
}

#[test]
fn nested_flags_are_read_from_metadata() {
    let frame = real_frames()
        .into_iter()
        .find(|f| f.contains("Tick42.FDC3.Intents.ViewContact"))
        .unwrap();
    let Gw3Message::Register(register) = gw3::decode(frame, 4096).unwrap() else {
        panic!()
    };
    let method = &register.methods[0];
    assert_eq!(method.intent_name(), Some("ViewContact"));
    assert_eq!(
        method.flags.metadata["intent"]["contextTypes"],
        json!(["fdc3.contact"])
    );
    assert!(!method.flags.streaming);
}

#[test]
fn flat_flags_from_older_sdks_become_metadata_and_streaming() {
    let flags: MethodFlags =
        serde_json::from_value(json!({"intent": {"displayName": "x"}, "streaming": true})).unwrap();
    assert!(flags.streaming);
    assert_eq!(flags.metadata["intent"]["displayName"], "x");
    assert!(!flags.metadata.contains_key("streaming"));
    assert_eq!(
        serde_json::to_value(&flags).unwrap(),
        json!({"metadata": {"intent": {"displayName": "x"}}, "streaming": true})
    );
    let missing: MethodFlags = serde_json::from_value(Value::Null).unwrap();
    assert_eq!(missing, MethodFlags::default());
}

#[test]
fn a_malformed_method_entry_is_skipped_without_losing_its_siblings() {
    let frame = r#"{"domain":"agm","type":"methods-added","server_id":"p-1","methods":[{"id":"0"},{"id":"1","name":"Good"},42]}"#;
    let Gw3Message::MethodsAdded(added) = gw3::decode(frame, 4096).unwrap() else {
        panic!()
    };
    assert_eq!(added.methods.len(), 1);
    assert_eq!(added.methods[0].name, "Good");
}

#[test]
fn method_identity_ignores_case_and_includes_signatures() {
    let frame = real_frames()
        .into_iter()
        .find(|f| f.contains("\"methods-added\""))
        .unwrap();
    let Gw3Message::MethodsAdded(added) = gw3::decode(frame, 1 << 20).unwrap() else {
        panic!()
    };
    let key = added.methods[0].identity_key();
    assert!(key.starts_with("crm.getclientsstring? adviser"));
}

#[test]
fn t42_dates_decode_encode_and_map_recursively() {
    assert_eq!(
        parse_t42_date("#T42_DATE#1795294858685"),
        Some(1_795_294_858_685)
    );
    assert_eq!(parse_t42_date("#T42_DATE#-5"), Some(-5));
    assert_eq!(parse_t42_date("#T42_DATE#"), None);
    assert_eq!(parse_t42_date("#T42_DATE#12x"), None);
    assert_eq!(parse_t42_date("#T42_DATE#999999999999999999999999"), None);
    assert_eq!(parse_t42_date("2024-01-01"), None);
    assert_eq!(
        format_t42_date(1_795_294_858_685),
        "#T42_DATE#1795294858685"
    );
    let mut value = json!({"asOf": "#T42_DATE#1000", "rows": [{"t": "#T42_DATE#2000"}, "plain"]});
    map_t42_dates(&mut value, &mut |ms| json!({"ms": ms}));
    assert_eq!(
        value,
        json!({"asOf": {"ms": 1000}, "rows": [{"t": {"ms": 2000}}, "plain"]})
    );
}

#[test]
fn trace_propagation_info_is_stripped_from_arguments() {
    let mut arguments = json!({"a": 1, "__interopIOTracePropagationInfo": {"x": 1}});
    strip_trace_info(arguments.as_object_mut().unwrap());
    assert_eq!(arguments, json!({"a": 1}));
}

#[test]
fn the_envelope_fields_are_read_the_same_way_from_every_message() {
    let frames = [
        r#"{"type":"call","domain":"agm","request_id":"r-9","peer_id":"p-1","server_id":"p-2","method_id":"0","arguments_kv":{}}"#,
        r#"{"type":"unsubscribe","domain":"agm","request_id":"r-9","peer_id":"p-1","subscription_id":"s-1","reason_uri":"r.u","reason":"done"}"#,
        r#"{"type":"error","domain":"agm","request_id":"r-9","peer_id":"p-1","reason_uri":"r.u","reason":"no"}"#,
    ];
    for frame in frames {
        let message = gw3::decode(frame, DEFAULT_MAX_FRAME_BYTES).expect(frame);
        assert_eq!(
            message
                .request_id()
                .map(codemode_protocol::RequestId::as_str),
            Some("r-9"),
            "{frame}"
        );
        assert_eq!(
            message.peer_id().map(codemode_protocol::PeerId::as_str),
            Some("p-1"),
            "{frame}"
        );
        assert_eq!(message.domain(), Some(gw3::Domain::Agm), "{frame}");
    }
    let call = gw3::decode(frames[0], DEFAULT_MAX_FRAME_BYTES).unwrap();
    let envelope = call.envelope().expect("a call has an envelope");
    assert_eq!(envelope.reason, None);
    let reencoded: Value = serde_json::from_str(&gw3::encode(&call)).unwrap();
    assert!(
        reencoded.get("reason").is_none(),
        "absent reasons stay absent: {reencoded}"
    );
}
