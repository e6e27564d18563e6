//! The adapters crate's one error type: every way a bus operation can fail, with enough
//! context for a snippet (or a person) to act on it.

use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use codemode_protocol::{
    ProtocolError,
    fdc3::{OpenError, ResolveError, ResultError},
};

use crate::model::IntentHandler;

/// Why a bus operation failed.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum BusError {
    /// The socket could not be opened or the handshake did not finish.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// Where we tried to connect.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The bus refused our credentials.
    #[error("authentication failed: {reason}")]
    Authentication {
        /// The bus's reason.
        reason: String,
    },
    /// No server offers the method (after waiting, if asked to wait).
    #[error("method `{method}` not found on the bus")]
    MethodNotFound {
        /// The method name.
        method: String,
    },
    /// Servers offer the method, but none matches the requested target.
    #[error("no server of `{method}` matches target {target}")]
    NoMatchingServer {
        /// The method name.
        method: String,
        /// The target, rendered for people.
        target: String,
    },
    /// The server ran the method and reported a failure.
    #[error("`{method}` failed: {reason}")]
    InvocationFailed {
        /// The method name.
        method: String,
        /// Machine-readable reason, e.g. `agm.errors.client_error`.
        reason_uri: Option<String>,
        /// Human-readable reason.
        reason: String,
        /// Extra data the server attached.
        context: Option<Value>,
    },
    /// The server left the bus while the call was pending.
    #[error("the server of `{method}` left the bus while the call was pending")]
    PeerLeft {
        /// The method name.
        method: String,
    },
    /// No reply within the call's timeout.
    #[error("`{method}` did not answer within {after:?}")]
    Timeout {
        /// The method name.
        method: String,
        /// How long we waited.
        after: Duration,
    },
    /// The connection to the bus is down (the adapter is reconnecting or closed).
    #[error("disconnected from the bus{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Disconnected {
        /// Why, when known.
        reason: Option<String>,
    },
    /// No handler could take the intent.
    #[error("intent `{intent}` not resolved: {reason}")]
    IntentNotResolved {
        /// The intent name.
        intent: String,
        /// Why.
        reason: String,
    },
    /// Several handlers could take the intent and none was chosen; re-raise with one of
    /// `choices` as the target. The message lists them, so a person or a model can pick one.
    #[error("intent `{intent}` is ambiguous: {} handlers could take it: {}; raise it again with app= (and instance=) set to one of them", choices.len(), describe_choices(choices))]
    IntentAmbiguous {
        /// The intent name.
        intent: String,
        /// The handlers to choose from: running instances, and apps that would be started.
        choices: Vec<IntentHandler>,
    },
    /// Several intents (or handlers) could take a context raised with `raise_for_context`;
    /// raise one of `choices` by name (with its app) instead.
    #[error("raising for context `{context_type}` is ambiguous: {} choices: {}; raise one of these intents by name with app= (and instance=)", choices.len(), describe_context_choices(choices))]
    ContextAmbiguous {
        /// The context type raised.
        context_type: String,
        /// Each (intent, handler) that could take it.
        choices: Vec<(String, IntentHandler)>,
    },
    /// The handler took the intent but failed to produce its result.
    #[error("intent `{intent}` was delivered but its result failed: {reason}")]
    IntentResultFailed {
        /// The intent name.
        intent: String,
        /// Why (e.g. `NoResultReturned`, `IntentHandlerRejected`).
        reason: String,
    },
    /// The handler took the intent, then left the bus before returning its result. FDC3 agents
    /// say nothing to the raiser when that happens; the adapter notices the instance is gone.
    #[error(
        "the handler of intent `{intent}` ({}) left before returning a result",
        describe_choice(handler)
    )]
    IntentHandlerLeft {
        /// The intent name.
        intent: String,
        /// The app instance the intent was delivered to.
        handler: IntentHandler,
    },
    /// The agent could not open (start) an app.
    #[error("could not open app `{app}`: {reason}")]
    OpenFailed {
        /// The app id.
        app: String,
        /// Why (e.g. `AppNotFound`, `ErrorOnLaunch`, `AppTimeout`).
        reason: String,
    },
    /// The bus dialect cannot do this.
    #[error("{operation} is not supported on {dialect}")]
    Unsupported {
        /// What was asked.
        operation: String,
        /// The dialect.
        dialect: String,
    },
    /// The bus refused a request of ours (register, join…).
    #[error("the bus refused `{request}`: {reason}")]
    Refused {
        /// What we asked for.
        request: String,
        /// The bus's reason.
        reason: String,
    },
    /// A configuration value is unusable.
    #[error("invalid configuration: {what}: {reason}")]
    Config {
        /// Which value, and where it came from.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A protocol-level failure.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

impl BusError {
    /// The standard FDC3 error name behind this error (`NoAppsFound`, `IntentHandlerRejected`,
    /// `AppNotFound`…), when the agent sent one; a snippet can match on it.
    pub fn standard_reason(&self) -> Option<&str> {
        match self {
            Self::IntentNotResolved { reason, .. }
                if ResolveError::ALL.contains(&reason.as_str()) =>
            {
                Some(reason)
            }
            Self::IntentResultFailed { reason, .. }
                if ResultError::ALL.contains(&reason.as_str()) =>
            {
                Some(reason)
            }
            Self::OpenFailed { reason, .. } if OpenError::ALL.contains(&reason.as_str()) => {
                Some(reason)
            }
            _ => None,
        }
    }
}

/// `quote-app "Quote Monitor" (instance 7f3a…), watchlist-app (new instance)`.
fn describe_choices(choices: &[IntentHandler]) -> String {
    choices
        .iter()
        .map(describe_choice)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_context_choices(choices: &[(String, IntentHandler)]) -> String {
    choices
        .iter()
        .map(|(intent, handler)| format!("{intent} by {}", describe_choice(handler)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_choice(handler: &IntentHandler) -> String {
    let title = handler
        .app_title
        .as_deref()
        .map(|title| format!(" \"{title}\""))
        .unwrap_or_default();
    match &handler.instance {
        Some(instance) => format!("{}{title} (instance {instance})", handler.application),
        None => format!("{}{title} (new instance)", handler.application),
    }
}
