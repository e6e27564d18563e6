//! What a bus call looks like from the sandbox: a [`HostCall`] goes out, a JSON value or a
//! [`HostCallError`] comes back. [`HostCalls`] is the side that performs them (the adapter in
//! the plugin, a fake in tests).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One call a snippet made to a catalogue function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostCall {
    /// The dotted function path from its [`FunctionSpec`](super::FunctionSpec).
    pub function: String,
    /// Every argument the snippet passed, by parameter name (positional ones too). Dates are
    /// encoded as `"#T42_DATE#<epoch ms>"` strings, like the bus does.
    pub arguments: Map<String, Value>,
    /// The `target=` value, when the function accepts one and the snippet passed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Value>,
}

/// Performs bus calls for snippets. Calls arrive concurrently (a snippet's `gather`), so an
/// implementation must not serialise them.
#[async_trait]
pub trait HostCalls: Send + Sync + 'static {
    /// Performs one call. Values may contain `"#T42_DATE#<ms>"` dates; the sandbox turns them
    /// into `datetime` objects.
    async fn call(&self, call: HostCall) -> Result<Value, HostCallError>;
}

/// A failed bus call, as a snippet sees it: one of the `BusError` exception classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct HostCallError {
    /// Which exception class.
    pub kind: HostErrorKind,
    /// The message.
    pub message: String,
    /// The machine-readable reason: the server's (`agm.errors.client_error`) or FDC3's standard
    /// error name (`NoAppsFound`, `TargetAppUnavailable`, `IntentHandlerRejected`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_uri: Option<String>,
    /// Extra data: what the server attached, or `{"choices": [{"app", "instance"}…]}` for an
    /// ambiguous intent (each choice can be passed back as the raise's `app=`/`instance=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

impl HostCallError {
    /// An error with no reason URI or context.
    pub fn new(kind: HostErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            reason_uri: None,
            context: None,
        }
    }

    /// A timeout after `after`.
    pub fn timeout(function: &str, after: Duration) -> Self {
        Self::new(
            HostErrorKind::Timeout,
            format!("`{function}` did not answer within {after:?}"),
        )
    }
}

/// The kinds of bus failure, each a Python exception class (see [`HostErrorKind::python_class`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HostErrorKind {
    /// No server offers the method.
    MethodNotFound,
    /// Servers offer it, but none matches the target.
    NoMatchingServer,
    /// The server ran the method, or the intent's handler took it, and reported a failure.
    InvocationFailed,
    /// No handler could take the intent, or several could and none was chosen.
    IntentNotResolved,
    /// No reply in time.
    Timeout,
    /// The bus connection is down.
    Disconnected,
    /// The server (or the intent's handler) left while the call was pending.
    PeerLeft,
    /// The arguments were refused before the call.
    InvalidArguments,
    /// A person (or the approver standing in for one) did not approve the call, or nobody
    /// could be asked in time: the call never went out.
    ApprovalDenied,
    /// The device's policy refuses the call (read-only mode, a hidden function, a cap): it
    /// never went out.
    PolicyRefused,
    /// Anything else the bus reported.
    Other,
}

impl HostErrorKind {
    /// The Python exception class a snippet catches.
    pub fn python_class(self) -> &'static str {
        match self {
            Self::MethodNotFound => "MethodNotFoundError",
            Self::NoMatchingServer => "NoMatchingServerError",
            Self::InvocationFailed => "InvocationFailedError",
            Self::IntentNotResolved => "IntentNotResolvedError",
            Self::Timeout => "BusTimeoutError",
            Self::Disconnected => "DisconnectedError",
            Self::PeerLeft => "PeerLeftError",
            Self::InvalidArguments => "InvalidArgumentsError",
            Self::ApprovalDenied => "ApprovalDeniedError",
            Self::PolicyRefused => "PolicyError",
            Self::Other => "BusError",
        }
    }

    /// The wire name (`method_not_found`…), also the exception's `kind` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MethodNotFound => "method_not_found",
            Self::NoMatchingServer => "no_matching_server",
            Self::InvocationFailed => "invocation_failed",
            Self::IntentNotResolved => "intent_not_resolved",
            Self::Timeout => "timeout",
            Self::Disconnected => "disconnected",
            Self::PeerLeft => "peer_left",
            Self::InvalidArguments => "invalid_arguments",
            Self::ApprovalDenied => "approval_denied",
            Self::PolicyRefused => "policy_refused",
            Self::Other => "error",
        }
    }
}
