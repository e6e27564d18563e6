//! The GW3 `context` domain: frames captured from the real gateway with real
//! `@interopio/desktop` clients (docs/channels-wire.md) decode to typed messages and encode back
//! unchanged; the channel value's FDC3 encoding reads and writes as the desktop client does;
//! deltas never panic on hostile input.

use codemode_protocol::gw3::{
    self, ContextDelta, Gw3Message,
    context::{broadcast_commands, channel_context, channel_name, fdc3_key},
};
use serde_json::{Value, json};

const CAPTURED: &[&str] = &[
    r#"{"type":"create-context","domain":"global","name":"___channel___Red","data":{"name":"Red","meta":{"color":"red"},"data":{}},"lifetime":"retained","request_id":"zsnzkQ1NWQ","peer_id":"p-N-1"}"#,
    r#"{"domain":"global","type":"context-added","peer_id":"p-N-1","creator_id":"p-N-1","context_id":"c-N-2","name":"___channel___Red"}"#,
    r#"{"domain":"global","type":"context-added","peer_id":"p-N-5","creator_id":null,"context_id":"c-N-2","name":"___channel___Red"}"#,
    r#"{"domain":"global","type":"context-created","request_id":"zsnzkQ1NWQ","peer_id":"p-N-1","context_id":"c-N-2"}"#,
    r#"{"type":"subscribe-context","domain":"global","context_id":"c-N-2","request_id":"XkM824t6Qb","peer_id":"p-N-5"}"#,
    r#"{"domain":"global","type":"subscribed-context","request_id":"XkM824t6Qb","peer_id":"p-N-5","context_id":"c-N-2","data":{"name":"Red","meta":{"color":"red"},"data":{}}}"#,
    r#"{"type":"update-context","domain":"global","context_id":"c-N-2","delta":{"commands":[{"type":"set","path":"data.fdc3_fdc3&instrument","value":{"id":{"ticker":"AAPL"},"name":"Apple"}},{"type":"set","path":"latest_fdc3_type","value":"fdc3&instrument"}]},"request_id":"pQzwrGZQH1","peer_id":"p-N-5"}"#,
    r#"{"domain":"global","type":"context-updated","peer_id":"p-N-1","updater_id":"p-N-5","context_id":"c-N-2","delta":{"commands":[{"type":"set","path":"data.fdc3_instrument","value":{"id":{"ticker":"MSFT"},"name":"Microsoft"}},{"type":"set","path":"latest_fdc3_type","value":"instrument"}]}}"#,
];

#[test]
fn captured_context_frames_decode_typed_and_encode_back_unchanged() {
    for frame in CAPTURED {
        let message = gw3::decode(frame, gw3::DEFAULT_MAX_FRAME_BYTES).expect("decodes");
        assert!(!matches!(message, Gw3Message::Unknown(_)), "typed: {frame}");
        let original: Value = serde_json::from_str(frame).expect("json");
        let encoded: Value = serde_json::from_str(&gw3::encode(&message)).expect("json");
        assert_eq!(encoded, original, "round trip of {frame}");
    }
}

#[test]
fn a_broadcast_is_written_and_read_as_the_desktop_client_does() {
    let instrument = json!({"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}});
    assert_eq!(fdc3_key("fdc3.instrument"), "fdc3_fdc3&instrument");
    let delta = ContextDelta {
        commands: broadcast_commands(&instrument),
        ..ContextDelta::default()
    };
    // The commands are exactly the captured update-context's.
    let captured: Value = serde_json::from_str(CAPTURED[6]).expect("json");
    assert_eq!(
        serde_json::to_value(&delta).expect("json"),
        captured["delta"]
    );
    let mut channel = json!({"name": "Red", "meta": {"color": "red"}, "data": {}});
    delta.apply(&mut channel);
    assert_eq!(channel_context(&channel, None), Some(instrument.clone()));
    assert_eq!(
        channel_context(&channel, Some("fdc3.instrument")),
        Some(instrument)
    );
    assert_eq!(channel_context(&channel, Some("fdc3.contact")), None);
    assert_eq!(channel_name("___channel___Red"), Some("Red"));
    assert_eq!(channel_name("___channel___"), None);
    assert_eq!(channel_name("Red"), None);
    assert_eq!(broadcast_commands(&json!({"id": {}})), None, "no type");
    assert_eq!(broadcast_commands(&json!("text")), None);
}

#[test]
fn hostile_deltas_and_values_never_panic() {
    let delta: ContextDelta = serde_json::from_value(json!({
        "commands": [
            {"type": "set", "path": "", "value": 1},
            {"type": "set", "path": "a..b", "value": 2},
            {"type": "set", "path": "data.x.y.z"},
            {"type": "remove", "path": "data.missing.deeper"},
            {"type": "explode", "path": "data"}
        ],
        "reset": {"data": 5},
        "removed": ["nothing"]
    }))
    .expect("decodes");
    for mut value in [
        json!(null),
        json!(7),
        json!([1, 2]),
        json!({"data": "text"}),
    ] {
        delta.apply(&mut value);
        assert!(value.is_object());
        let _ = channel_context(&value, None);
        let _ = channel_context(&value, Some("fdc3.instrument"));
    }
    let odd = json!({"data": {"fdc3_x": 3}, "latest_fdc3_type": "x"});
    assert_eq!(channel_context(&odd, None), Some(json!({"type": "x"})));
}
