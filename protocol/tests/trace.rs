//! W3C trace context parsing and io.Connect's propagation carrier
//! (`__interopIOTracePropagationInfo`, as `@interopio/core` 6.x writes and reads it).

use codemode_protocol::trace::{MAX_TRACESTATE_LEN, TRACE_PROPAGATION_KEY, TraceContext};
use serde_json::json;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_valid_traceparent_gives_its_trace_id_parent_id_and_sampled_flag() {
    let context = TraceContext::new(PARENT, Some("congo=t61rcWkgMzE")).unwrap();
    assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(context.parent_id(), "00f067aa0ba902b7");
    assert!(context.sampled());
    assert_eq!(context.traceparent(), PARENT);
    assert_eq!(context.tracestate(), Some("congo=t61rcWkgMzE"));
    let unsampled = TraceContext::new(&PARENT.replace("-01", "-00"), None).unwrap();
    assert!(!unsampled.sampled());
}

#[test]
fn invalid_traceparents_are_ignored() {
    for bad in [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01é",
    ] {
        assert_eq!(TraceContext::new(bad, None), None, "{bad:?}");
    }
}

#[test]
fn a_later_version_keeps_the_version_00_fields() {
    let context = TraceContext::new(
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
        None,
    )
    .unwrap();
    assert_eq!(context.parent_id(), "00f067aa0ba902b7");
    assert_eq!(context.traceparent().len(), 55);
}

#[test]
fn an_oversized_or_unprintable_tracestate_is_dropped_and_the_traceparent_kept() {
    let long = "a=".to_owned() + &"b".repeat(MAX_TRACESTATE_LEN);
    let context = TraceContext::new(PARENT, Some(&long)).unwrap();
    assert_eq!(context.tracestate(), None);
    let context = TraceContext::new(PARENT, Some("a=b\nc=d")).unwrap();
    assert_eq!(context.tracestate(), None);
}

#[test]
fn the_io_connect_carrier_is_taken_out_of_the_arguments() {
    let mut arguments = json!({
        "name": "x",
        TRACE_PROPAGATION_KEY: {"traceparent": PARENT, "tracestate": "k=v"},
    });
    let arguments = arguments.as_object_mut().unwrap();
    let context = TraceContext::take_from_arguments(arguments).unwrap();
    assert_eq!(context.tracestate(), Some("k=v"));
    assert_eq!(
        *arguments,
        json!({"name": "x"}).as_object().cloned().unwrap()
    );
}

#[test]
fn an_invalid_carrier_is_removed_all_the_same() {
    let mut arguments = json!({"name": "x", TRACE_PROPAGATION_KEY: {"traceparent": "nonsense"}});
    let arguments = arguments.as_object_mut().unwrap();
    assert_eq!(TraceContext::take_from_arguments(arguments), None);
    assert!(!arguments.contains_key(TRACE_PROPAGATION_KEY));
}

#[test]
fn the_carrier_written_into_arguments_reads_back_as_the_same_context() {
    let context = TraceContext::new(PARENT, Some("k=v")).unwrap();
    let mut arguments = serde_json::Map::new();
    context.insert_into_arguments(&mut arguments);
    assert_eq!(
        arguments[TRACE_PROPAGATION_KEY],
        json!({"traceparent": PARENT, "tracestate": "k=v"})
    );
    assert_eq!(
        TraceContext::take_from_arguments(&mut arguments),
        Some(context)
    );
}
