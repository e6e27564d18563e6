//! Bus adapters for codemode: one module per bus dialect behind the [`Bus`] trait. This crate
//! owns the sockets; everything above it sees only the dialect-neutral model.
//!
//! # Layout
//! - [`Bus`]: the core trait (catalogue, events, close) and the capabilities a dialect may have:
//!   [`Invoke`] (methods with a target), [`RaiseIntent`], [`Serve`].
//! - `streams`: stream subscriptions ([`Subscription`], closed when dropped) for [`Subscribe`].
//! - `channels`: user channels and their contexts ([`Channels`]) and raising for a context.
//! - `link`: the one reconnecting link task both dialects run on (socket, pending requests,
//!   backoff), with a per-dialect [`Dialect`](link) for handshake, frames and commands.
//! - `model`: the neutral types ([`Catalogue`], [`MethodInfo`], [`Target`], …).
//! - [`ioconnect`]: io.Connect Desktop's gateway (GW3) over WebSocket.
//! - [`fdc3`]: an FDC3 2.2 Desktop Agent (DACP over the Web Connection Protocol).
//! - [`tls`]: rustls for `wss://` and `https://`: the platform's roots plus `--ca-file`'s.
//! - [`BusError`]: the one error type.

mod bus;
mod channels;
mod error;
pub mod fdc3;
pub mod ioconnect;
mod link;
mod model;
mod streams;
pub mod tls;

pub use crate::{
    bus::{Bus, Invoke, RaiseIntent, Serve, Subscribe},
    channels::{ChannelInfo, ChannelOp, Channels, ContextRaise},
    error::BusError,
    link::Backoff,
    model::{
        BusEvent, CallOptions, Catalogue, HandlerError, Identity, IntentHandler, IntentInfo,
        IntentRequest, IntentResolution, IntentTarget, InvocationContext, MethodHandler,
        MethodInfo, ServedMethod, ServerFilter, ServerInfo, ServerReply, Target, applications,
    },
    streams::{CollectEnd, Collected, StreamEvent, Subscription},
    tls::TlsConfig,
};
/// The W3C trace context a call carries ([`CallOptions::trace`]) or a served method receives
/// ([`InvocationContext::trace`]).
pub use codemode_protocol::trace::TraceContext;
