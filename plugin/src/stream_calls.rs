//! A snippet's call to a streaming method: subscribe, collect for a bounded count, time and
//! size, unsubscribe, answer the list.
//!
//! The subscription lives only inside [`collect`]'s future. It is closed when the collection
//! ends, and also when the future is dropped: the snippet failed, timed out, was killed or its
//! client cancelled the run (dropping the [`Subscription`](codemode_adapters::Subscription)
//! unsubscribes on the bus). The items come back into the sandbox as one list, so they count
//! against the snippet's memory limit there and against its output caps if printed or returned;
//! here they are also capped at [`MAX_STREAM_BYTES`] of JSON.

use std::time::Duration;

use codemode_adapters::{Bus, CallOptions, CollectEnd, Target};
use serde_json::{Map, Value};

use crate::{
    bridge::host_call_error,
    catalogue::{
        STREAM_DEFAULT_ITEMS, STREAM_DEFAULT_SECONDS, STREAM_ITEMS_ARG, STREAM_MAX_ITEMS,
        STREAM_SECONDS_ARG,
    },
    sandbox::{HostCallError, HostErrorKind},
};

/// The most JSON one collection keeps (items beyond it are not collected); well under the
/// sandbox's frame limit.
pub const MAX_STREAM_BYTES: usize = 16 * 1024 * 1024;

/// How much to collect, from the snippet's `max_items=` and `seconds=`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamCaps {
    /// Items to collect at most.
    pub max_items: usize,
    /// How long to collect at most.
    pub window: Duration,
}

impl StreamCaps {
    /// Takes `max_items` and `seconds` out of `arguments` (so they are not sent to the server)
    /// and checks them; `longest` bounds the window (the call timeout).
    pub fn take(
        arguments: &mut Map<String, Value>,
        function: &str,
        longest: Duration,
    ) -> Result<Self, HostCallError> {
        let invalid =
            |message: String| HostCallError::new(HostErrorKind::InvalidArguments, message);
        let max_items = match arguments.remove(STREAM_ITEMS_ARG) {
            None | Some(Value::Null) => STREAM_DEFAULT_ITEMS,
            Some(Value::Number(number)) => number.as_u64().ok_or_else(|| {
                invalid(format!(
                    "{function}(): {STREAM_ITEMS_ARG} must be a whole number ≥ 0, not {number}"
                ))
            })?,
            Some(other) => {
                return Err(invalid(format!(
                    "{function}(): {STREAM_ITEMS_ARG} must be an int, not {other}"
                )));
            }
        };
        let seconds = match arguments.remove(STREAM_SECONDS_ARG) {
            None | Some(Value::Null) => f64::from(STREAM_DEFAULT_SECONDS),
            Some(Value::Number(number)) => match number.as_f64() {
                Some(seconds) if seconds.is_finite() && seconds >= 0.0 => seconds,
                _ => {
                    return Err(invalid(format!(
                        "{function}(): {STREAM_SECONDS_ARG} must be a number ≥ 0, not {number}"
                    )));
                }
            },
            Some(other) => {
                return Err(invalid(format!(
                    "{function}(): {STREAM_SECONDS_ARG} must be a number of seconds, not {other}"
                )));
            }
        };
        let window = Duration::try_from_secs_f64(seconds)
            .unwrap_or(longest)
            .min(longest);
        Ok(Self {
            max_items: usize::try_from(max_items.min(STREAM_MAX_ITEMS)).unwrap_or(usize::MAX),
            window,
        })
    }
}

/// Subscribes to `method` on the server `target` picks, collects within `caps`, closes the
/// subscription and returns the items as a list.
pub(crate) async fn collect(
    bus: &dyn Bus,
    method: &str,
    arguments: Map<String, Value>,
    target: &Target,
    caps: StreamCaps,
    options: CallOptions,
) -> Result<Value, HostCallError> {
    let mut subscription = bus
        .subscribe(method, arguments, target, options)
        .await
        .map_err(host_call_error)?;
    let collected = subscription
        .collect(caps.max_items, caps.window, MAX_STREAM_BYTES)
        .await;
    drop(subscription);
    tracing::debug!(
        method,
        items = collected.items.len(),
        bytes = collected.bytes,
        end = ?collected.end,
        "stream collected"
    );
    if collected.end == CollectEnd::Disconnected && collected.items.is_empty() {
        return Err(HostCallError::new(
            HostErrorKind::Disconnected,
            format!("{method}: the bus connection dropped while collecting the stream"),
        ));
    }
    Ok(Value::Array(collected.items))
}
