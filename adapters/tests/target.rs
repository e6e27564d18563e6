//! Typed `Target` filters match servers as the JSON filters did: every given key must match,
//! strings case-insensitively, other values exactly; `peer_id`/`peerId` is the peer's id.

use std::sync::Arc;

use codemode_adapters::{Identity, ServerFilter, ServerInfo, Target};
use serde_json::{Map, Value, json};

fn filter(value: Value) -> Target {
    match value {
        Value::Object(map) => Target::Filter(ServerFilter::from_map(map)),
        other => panic!("not an object: {other}"),
    }
}

fn server() -> ServerInfo {
    let mut identity = Map::new();
    identity.insert("application".into(), json!("CRM"));
    identity.insert("instance".into(), json!("crm-1"));
    identity.insert("region".into(), json!("EU"));
    identity.insert("tier".into(), json!(2));
    ServerInfo {
        peer_id: "Peer-7".into(),
        identity: Arc::new(Identity::from(identity)),
        local: true,
    }
}

#[test]
fn filters_match_like_the_json_filters() {
    let server = server();
    for (wanted, matches) in [
        (json!({"application": "crm"}), true),
        (json!({"application": "CRM", "instance": "CRM-1"}), true),
        (json!({"application": "Portfolio"}), false),
        (json!({"peer_id": "peer-7"}), true),
        (json!({"peerId": "PEER-7"}), true),
        (json!({"peer_id": "peer-7", "peerId": "peer-8"}), false),
        (json!({"region": "eu"}), true),
        (json!({"tier": 2}), true),
        (json!({"tier": "2"}), false),
        (json!({"user": "anyone"}), false),
        (json!({"application": 5}), false),
    ] {
        assert_eq!(filter(wanted.clone()).matches(&server), matches, "{wanted}");
    }
    assert!(Target::Best.matches(&server));
    assert!(Target::All.matches(&server));
    assert!(Target::application("crm").matches(&server));
    assert!(!Target::instance("crm-2").matches(&server));
}

#[test]
fn a_filter_renders_as_the_snippets_dict() {
    let target = filter(json!({"application": "CRM", "region": "EU"}));
    assert_eq!(target.to_string(), r#"{"application":"CRM","region":"EU"}"#);
    let Target::Filter(typed) = &target else {
        panic!("a filter");
    };
    assert_eq!(typed.application.as_deref(), Some("CRM"));
    assert_eq!(typed.extra.get("region"), Some(&json!("EU")));
}

#[test]
fn restricted_calls_check_only_what_the_call_map_knows() {
    let Target::Filter(by_app) = filter(json!({"application": "crm", "peerId": "p1"})) else {
        panic!("a filter");
    };
    assert!(by_app.matches_parts("CRM", None, "P1"));
    assert!(!by_app.matches_parts("CRM", None, "p2"));
    let Target::Filter(by_region) = filter(json!({"region": "EU"})) else {
        panic!("a filter");
    };
    assert!(!by_region.matches_parts("CRM", Some("crm-1"), "p1"));
}
