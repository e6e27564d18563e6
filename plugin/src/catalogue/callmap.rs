//! The call map: how the sandbox turns a Python call into a bus operation.
//!
//! `crm.get_clients(adviser="M Carter")` arrives in the sandbox as the qualified name
//! `crm.get_clients` plus Python keyword arguments. Its [`CallSpec`] gives the wire method,
//! the wire name of every argument, whether `target=` is accepted and which servers offer this
//! signature. The generated module's bodies all call `_codemode_call(<qualified name>,
//! {<python arg>: value, ...})`, so the map is the only thing the bridge needs.

use std::collections::BTreeMap;

use serde::Serialize;

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

/// What a function calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallKind {
    /// Invoke a bus method.
    Method {
        /// The wire method name, e.g. `CRM.GetClients`.
        method: String,
        /// The servers offering this signature, in discovery order.
        servers: Vec<ServerRef>,
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
}

impl Departed {
    /// A message for the snippet's exception, e.g. "crm.get_clients is no longer available:
    /// CRM left the bus (catalogue version 12)".
    pub fn message(&self) -> String {
        let who = if self.apps.is_empty() {
            "its app".to_owned()
        } else {
            self.apps.join(", ")
        };
        format!(
            "{} is no longer available: {who} left the bus (bus method {}, catalogue version {})",
            self.python_name, self.wire_name, self.since_version
        )
    }
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
