//! The call map: how the sandbox turns a Python call into a bus operation.
//!
//! `crm.get_clients(adviser="M Carter")` arrives in the sandbox as the qualified name
//! `crm.get_clients` plus Python keyword arguments. Its [`CallSpec`] gives the wire method,
//! the wire name of every argument, whether `target=` is accepted and which servers offer this
//! signature. The generated module's bodies all call `_codemode_call(<qualified name>,
//! {<python arg>: value, ...})`, so the map is the only thing the bridge needs.

use std::{collections::BTreeMap, sync::Arc};

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// How one Python function maps to the bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallSpec {
    /// The qualified Python name, e.g. `crm.get_clients` (`raise_intent` for builtins).
    pub python_name: String,
    /// What to call.
    pub call: CallKind,
    /// Keyword arguments, Python name → wire name, in signature order.
    pub args: Vec<ArgSpec>,
    /// Extra keyword arguments are accepted and sent under their own names (part of the
    /// signature could not be typed).
    pub var_kwargs: bool,
    /// Whether the function takes `target=` (`"best"`, `"all"` or an identity filter).
    pub takes_target: bool,
}

impl CallSpec {
    /// The snippet's arguments (by Python name) under their wire names; omitted and `None`
    /// optionals are not sent; with `var_kwargs`, extra ones are sent under their own names.
    pub fn wire_arguments(&self, mut arguments: Map<String, Value>) -> Map<String, Value> {
        let mut wire = Map::new();
        for arg in &self.args {
            match arguments.remove(&arg.python) {
                None | Some(Value::Null) if !arg.required => {}
                Some(value) => {
                    wire.insert(arg.wire.clone(), value);
                }
                None => {}
            }
        }
        if self.var_kwargs {
            for (name, value) in arguments {
                if !value.is_null() {
                    wire.insert(name, value);
                }
            }
        }
        wire
    }
}

/// What a function calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallKind {
    /// Invoke a bus method.
    Method {
        /// The wire method name, e.g. `CRM.GetClients`.
        method: String,
        /// The servers offering this signature, in discovery order.
        #[serde(serialize_with = "serialize_servers")]
        servers: Arc<[ServerRef]>,
        /// Other servers offer the same method name with another signature: restrict calls to
        /// `servers` (e.g. by `peer_id`) instead of targeting the name alone.
        restrict_to_servers: bool,
        /// The method streams; a plain call returns only the server's direct answer.
        streaming: bool,
    },
    /// Raise an intent; the args are `context`, `app` and `instance`.
    Intent {
        /// The intent name, e.g. `ViewChart`.
        intent: String,
    },
    /// `raise_intent(name, context, target=None)`: any intent by name.
    RaiseIntent,
    /// `find_intents(name=None, context_type=None)`: answered from the catalogue
    /// ([`PythonCatalogue::find_intents`](super::PythonCatalogue::find_intents)).
    FindIntents,
    /// The context API: `channels.*` and `intents.raise_for_context`.
    Context {
        /// Which operation.
        op: ContextOp,
    },
}

/// The functions of the context API: what the user is looking at (channels and the contexts on
/// them) and raising whatever handles a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextOp {
    /// `channels.current()`: the channel this plugin is on, or `None`.
    CurrentChannel,
    /// `channels.list()`: every user channel.
    ListChannels,
    /// `channels.get_context(channel=None, context_type=None)`.
    GetContext,
    /// `channels.broadcast(context, channel=None)`.
    Broadcast,
    /// `channels.join(channel)`.
    JoinChannel,
    /// `intents.raise_for_context(context, app=None)`.
    RaiseForContext,
}

impl ContextOp {
    /// Every operation, in listing order.
    pub const ALL: [Self; 6] = [
        Self::CurrentChannel,
        Self::ListChannels,
        Self::GetContext,
        Self::Broadcast,
        Self::JoinChannel,
        Self::RaiseForContext,
    ];

    /// True for the operations that change what other apps see or do (join, broadcast, raise):
    /// a policy asks before these, the reads need no approval.
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Self::CurrentChannel | Self::ListChannels | Self::GetContext
        )
    }

    /// The qualified Python name, e.g. `channels.get_context`.
    pub fn python_name(self) -> &'static str {
        match self {
            Self::CurrentChannel => "channels.current",
            Self::ListChannels => "channels.list",
            Self::GetContext => "channels.get_context",
            Self::Broadcast => "channels.broadcast",
            Self::JoinChannel => "channels.join",
            Self::RaiseForContext => "intents.raise_for_context",
        }
    }
}

/// Serializes the shared server list as a plain list (serde's `rc` feature is not enabled).
fn serialize_servers<S: Serializer>(
    servers: &Arc<[ServerRef]>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    <[ServerRef]>::serialize(servers, serializer)
}

/// One server of a method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerRef {
    /// `identity.application`.
    pub application: String,
    /// `identity.instance`, if any.
    pub instance: Option<String>,
    /// The bus's id for the peer.
    pub peer_id: String,
    /// False for servers on other gateway nodes.
    pub local: bool,
}

/// One keyword argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgSpec {
    /// The Python name.
    pub python: String,
    /// The name on the wire (the key in `arguments_kv`).
    pub wire: String,
    /// False when the argument may be omitted; an omitted (or `None`) optional argument is
    /// not sent.
    pub required: bool,
}

/// Every function of one catalogue version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallMap {
    /// The catalogue version (the bus generation) the map belongs to.
    pub version: u64,
    /// Qualified Python name → spec, sorted.
    pub functions: BTreeMap<String, CallSpec>,
}

/// A function that existed in an earlier version and is gone now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Departed {
    /// The qualified Python name it had.
    pub python_name: String,
    /// The wire method or intent name.
    pub wire_name: String,
    /// The apps that served it.
    pub apps: Vec<String>,
    /// The catalogue version in which it disappeared.
    pub since_version: u64,
    /// When the departure was observed (Unix ms). The catalogue reads no clock: it stays `None`
    /// until the caller stamps it ([`PythonCatalogue::stamp_departed`](super::PythonCatalogue::stamp_departed)).
    pub left_at_unix_ms: Option<u64>,
}

impl Departed {
    /// A message for the snippet's exception: who left, when, and what to do, e.g.
    /// "crm.get_clients is no longer available: CRM left the bus at 2025-06-01 10:42:05 UTC
    /// (catalogue version 12, bus method CRM.GetClients). It may come back; …".
    pub fn message(&self) -> String {
        let when = self
            .left_at_unix_ms
            .map(|ms| format!(" at {}", utc_text(ms)))
            .unwrap_or_default();
        format!(
            "{} is no longer available: {} left the bus{when} (catalogue version {}, bus method {}). {}",
            self.python_name,
            self.who(),
            self.since_version,
            self.wire_name,
            self.advice()
        )
    }

    /// The message for a call that was pending when the app left, e.g. "crm.get_clients
    /// failed: CRM left the bus while the call was pending, at … UTC (bus method …). It may
    /// come back; …".
    pub fn message_during_call(&self) -> String {
        let when = self
            .left_at_unix_ms
            .map(|ms| format!(", at {}", utc_text(ms)))
            .unwrap_or_default();
        format!(
            "{} failed: {} left the bus while the call was pending{when} (bus method {}). {}",
            self.python_name,
            self.who(),
            self.wire_name,
            self.advice()
        )
    }

    /// "CRM" or "CRM, Billing"; "its app" when no app is known.
    fn who(&self) -> String {
        if self.apps.is_empty() {
            "its app".to_owned()
        } else {
            self.apps.join(", ")
        }
    }

    /// What the model can do about it.
    fn advice(&self) -> String {
        let app = if self.apps.len() == 1 {
            self.apps.join("")
        } else {
            "the app".to_owned()
        };
        format!(
            "It may come back when {app} restarts; call list_python_definitions again to see what is available now."
        )
    }
}

/// `2025-06-01 10:42:05 UTC` for a Unix time in milliseconds (proleptic Gregorian calendar).
pub(super) fn utc_text(unix_ms: u64) -> String {
    let seconds = unix_ms / 1_000;
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days.saturating_add(719_468);
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// What a qualified Python name refers to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A current function.
    Found(CallSpec),
    /// A function that disappeared (its app left); say so instead of "unknown".
    Departed(Departed),
    /// Never seen (within memory); the closest current names.
    Unknown {
        /// Up to five qualified names.
        suggestions: Vec<String>,
    },
}
