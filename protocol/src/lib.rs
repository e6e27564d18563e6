//! Wire types, signature grammar and request correlation for codemode. No sockets: everything
//! here works on strings and values so it can be tested exhaustively and reused by the mock bus.
//!
//! # Layout
//! - [`gw3`]: typed messages of io.Connect's gateway protocol, with [`gw3::decode`] and
//!   [`gw3::encode`] and a frame-size cap.
//! - [`signature`]: the tolerant parser for `accepts`/`returns` signature strings.
//! - [`correlation`]: the pending-request table (deadlines, late replies, fail-all on close).
//! - [`fdc3`]: FDC3 2.2 DACP and WCP messages.
//! - [`dates`]: `#T42_DATE#<ms>` values.
//! - [`trace`]: W3C trace context (`traceparent`, `tracestate`) and io.Connect's carrier for it.
//! - [`ids`]: newtype identifiers.
//! - [`model`]: the dialect-neutral model of what a bus offers (methods, servers, intents),
//!   with the typed peer [`model::Identity`] (from `identity`).
//!
//! # Features
//! `runtime` (default) adds what only a live connection needs: the [`correlation`] table (on
//! tokio's channels) and random request ids. Without it the crate is plain data and parsing, which
//! is how the catalogue and the snippet engine use it, so they build for wasm32 without tokio.

#[cfg(feature = "runtime")]
pub mod correlation;
pub mod dates;
mod error;
pub mod fdc3;
pub mod gw3;
mod identity;
pub mod ids;
pub mod model;
pub mod signature;
pub mod trace;

#[cfg(feature = "runtime")]
pub use crate::correlation::{CorrelationStats, PendingTable, Resolution};
pub use crate::{
    error::ProtocolError,
    gw3::{Gw3Message, MethodDefinition, MethodFlags},
    ids::{InvocationId, MethodId, PeerId, RequestId, SubscriptionId},
};
