//! The typed `Identity`: well-known fields typed, the rest kept, the same JSON object back.

use codemode_protocol::model::Identity;
use serde_json::{Map, Value, json};

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn a_gateway_identity_round_trips_to_the_same_json_object() {
    let wire = json!({
        "machine": "desk-01",
        "application": "CRM",
        "applicationName": "CRM app",
        "instance": "crm-1",
        "process": 4242,
        "region": "EU",
        "windowId": {"x": 1},
        "user": "mcarter",
    });
    let identity: Identity = serde_json::from_value(wire.clone()).expect("identity");
    assert_eq!(identity.application.as_deref(), Some("CRM"));
    assert_eq!(identity.instance.as_deref(), Some("crm-1"));
    assert_eq!(identity.user.as_deref(), Some("mcarter"));
    assert_eq!(identity.machine.as_deref(), Some("desk-01"));
    assert_eq!(identity.process, Some(4242));
    assert_eq!(identity.extra.len(), 2);
    assert_eq!(identity.len(), 8);
    assert_eq!(serde_json::to_value(&identity).expect("json"), wire);
    assert_eq!(Value::Object(identity.to_map()), wire);
}

#[test]
fn well_known_keys_with_other_types_stay_as_they_were() {
    let wire = json!({"application": 7, "instance": null, "process": -1, "user": "u"});
    let identity = Identity::from(map(wire.clone()));
    assert_eq!(identity.application, None);
    assert_eq!(identity.process, None);
    assert_eq!(identity.user.as_deref(), Some("u"));
    assert_eq!(identity.get("application").as_deref(), Some(&json!(7)));
    assert_eq!(identity.text("application"), None);
    assert_eq!(serde_json::to_value(&identity).expect("json"), wire);
}

#[test]
fn lookups_by_wire_key_cover_typed_and_extra_fields() {
    let identity = Identity::from(map(json!({"application": "CRM", "region": "EU"})));
    assert_eq!(identity.text("application"), Some("CRM"));
    assert_eq!(identity.text("region"), Some("EU"));
    assert_eq!(identity.get("missing"), None);
    assert_eq!(
        Identity::application("CRM").text("application"),
        Some("CRM")
    );
    assert!(Identity::default().is_empty());
}
