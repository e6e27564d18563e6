//! FDC3 DACP/WCP envelopes and payloads over frames captured from the FINOS reference agent:
//! `data/fdc3_frames.jsonl` is the output of `tests/fixtures/fdc3/capture-frames.js`, the frames
//! of a codemode session with the fixture's reference Desktop Agent, unedited.

use std::time::{Duration, UNIX_EPOCH};

use codemode_protocol::{
    ProtocolError,
    fdc3::{
        self, AppIdentifier, AppIntent, DacpRequest, Fdc3Message, IntentResolution, IntentResult,
        RaiseIntentRequest, Wcp3Handshake,
    },
};
use serde_json::{Value, json};

fn frames() -> Vec<&'static str> {
    include_str!("data/fdc3_frames.jsonl")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect()
}

/// The captured frame of type `kind` whose payload has `key`.
fn frame(kind: &str, key: &str) -> Fdc3Message {
    frames()
        .into_iter()
        .map(|text| fdc3::decode(text, 1 << 20).unwrap_or_else(|error| panic!("{error}: {text}")))
        .find(|message| message.message_type == kind && message.payload.get(key).is_some())
        .unwrap_or_else(|| panic!("no {kind} frame with {key} was captured"))
}

#[test]
fn captured_frames_round_trip_unchanged() {
    for frame in frames() {
        let message = fdc3::decode(frame, 1 << 20).expect(frame);
        let back: Value = serde_json::from_str(&fdc3::encode(&message)).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<Value>(frame).unwrap(),
            "{frame}"
        );
    }
}

#[test]
fn needs_resolution_payload_keeps_the_reference_agents_extra_fields() {
    // The agent's answer to an ambiguous raise: both running handlers, then both apps.
    let message = frame("raiseIntentResponse", "appIntent");
    let app_intent: AppIntent =
        serde_json::from_value(message.payload["appIntent"].clone()).unwrap();
    let apps: Vec<(&str, bool)> = app_intent
        .apps
        .iter()
        .map(|app| (app.app_id.as_str(), app.instance_id.is_some()))
        .collect();
    assert_eq!(
        apps,
        [
            ("quote-app", true),
            ("watchlist-app", true),
            ("quote-app", false),
            ("watchlist-app", false)
        ]
    );
    assert_eq!(app_intent.apps[0].extra["state"], 1);
}

#[test]
fn resolution_and_result_payloads_decode() {
    let resolution = frame("raiseIntentResponse", "intentResolution");
    let resolution: IntentResolution =
        serde_json::from_value(resolution.payload["intentResolution"].clone()).unwrap();
    let AppIdentifier {
        app_id,
        instance_id,
        desktop_agent,
    } = resolution.source;
    assert_eq!(app_id, "chart-app");
    assert!(instance_id.is_some_and(|id| !id.is_empty()));
    assert_eq!(desktop_agent, None);
    let result = frame("raiseIntentResultResponse", "intentResult");
    let result: IntentResult =
        serde_json::from_value(result.payload["intentResult"].clone()).unwrap();
    assert_eq!(result.context.unwrap()["type"], "fdc3.chart");
    let void: IntentResult = serde_json::from_value(json!({})).unwrap();
    assert_eq!(void, IntentResult::default());
}

#[test]
fn error_payloads_are_detected() {
    let error = frame("raiseIntentResponse", "error");
    assert_eq!(error.error(), Some("TargetAppUnavailable"));
}

#[test]
fn requests_carry_type_request_uuid_and_timestamp_only() {
    let request = RaiseIntentRequest {
        intent: "ViewChart".into(),
        context: json!({"type": "fdc3.instrument"}),
        app: None,
    };
    let message = Fdc3Message::request(&request, "r-1");
    let value = serde_json::to_value(&message).unwrap();
    assert_eq!(value["type"], RaiseIntentRequest::TYPE);
    assert_eq!(
        value["payload"],
        json!({"intent": "ViewChart", "context": {"type": "fdc3.instrument"}})
    );
    let meta = value["meta"].as_object().unwrap();
    assert_eq!(
        meta.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["requestUuid", "timestamp"]
    );
}

#[test]
fn handshake_timeouts_are_read() {
    // The fixture's defaults: a 10 s message exchange timeout, and an app launch timeout of
    // max(15 s, the 20 s intent timeout, the 10 s open timeout).
    let handshake: Wcp3Handshake = frame("WCP3Handshake", "fdc3Version").payload_as().unwrap();
    assert_eq!(handshake.message_exchange_timeout, Some(10_000));
    assert_eq!(handshake.app_launch_timeout, Some(20_000));
}

#[test]
fn goodbye_has_no_payload_and_only_a_timestamp() {
    let value = serde_json::to_value(Fdc3Message::goodbye()).unwrap();
    assert_eq!(value.as_object().unwrap().len(), 2);
    assert!(value["meta"]["timestamp"].is_string());
}

#[test]
fn timestamps_match_javascript_to_iso_string() {
    // Expected values from node: new Date(ms).toISOString().
    let at = |ms: u64| fdc3::timestamp(UNIX_EPOCH + Duration::from_millis(ms));
    assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(at(1_795_294_858_685), "2026-11-21T21:00:58.685Z");
    assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(at(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
}

#[test]
fn malformed_frames_are_errors() {
    for frame in ["", "[]", "{}", r#"{"type":5}"#, "nope"] {
        assert!(
            matches!(
                fdc3::decode(frame, 1024),
                Err(ProtocolError::Malformed { .. })
            ),
            "{frame}"
        );
    }
    assert!(matches!(
        fdc3::decode(&"x".repeat(2000), 1000),
        Err(ProtocolError::FrameTooLarge { .. })
    ));
}
