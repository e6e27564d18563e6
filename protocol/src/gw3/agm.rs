//! The `agm` domain's messages (interop): peers and their methods appearing and leaving,
//! registering methods, calls with their invocations and results, and streams.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Domain, Envelope, INTENT_METHOD_PREFIX, Identity};
use crate::ids::{InvocationId, MethodId, PeerId, SubscriptionId};

/// Extra facts the gateway attaches to `peer-added`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerMeta {
    /// False for peers on other gateway nodes; "best" targeting prefers local peers.
    #[serde(default = "default_true")]
    pub local: bool,
}

fn default_true() -> bool {
    true
}

/// `peer-added`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerAdded {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The peer that appeared.
    pub new_peer_id: PeerId,
    /// Its identity.
    #[serde(default)]
    pub identity: Identity,
    /// Locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<PeerMeta>,
}

/// `peer-removed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerRemoved {
    /// The domain (`agm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    /// The recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<PeerId>,
    /// The peer that left.
    pub removed_id: PeerId,
    /// Why (null on a plain disconnect).
    #[serde(default)]
    pub reason_uri: Option<String>,
    /// Why, for people.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `methods-added`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodsAdded {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// `local`, `peer`, `cluster` or `node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// The server offering them.
    pub server_id: PeerId,
    /// The methods; malformed entries are skipped with a warning, not fatal.
    #[serde(default, deserialize_with = "lenient_methods")]
    pub methods: Vec<MethodDefinition>,
}

/// `methods-removed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodsRemoved {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The server withdrawing them.
    pub server_id: PeerId,
    /// Their server-local ids.
    #[serde(default)]
    pub methods: Vec<MethodId>,
}

/// `register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Register {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// What we offer.
    #[serde(default)]
    pub methods: Vec<MethodDefinition>,
}

/// `unregister`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unregister {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Ids of the methods to withdraw.
    #[serde(default)]
    pub methods: Vec<MethodId>,
}

/// `call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The server to run it on.
    pub server_id: PeerId,
    /// The server-local method id, echoed verbatim.
    pub method_id: MethodId,
    /// Named arguments (what every current client sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments_kv: Option<Map<String, Value>>,
    /// Positional arguments (legacy; never together with `arguments_kv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<Value>>,
    /// Passed through to the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// `invoke`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoke {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Echoed in the `yield` or `error`.
    pub invocation_id: InvocationId,
    /// Who is calling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<PeerId>,
    /// Which of our methods.
    pub method_id: MethodId,
    /// Named arguments.
    #[serde(default)]
    pub arguments_kv: Option<Map<String, Value>>,
    /// Positional arguments.
    #[serde(default)]
    pub arguments: Option<Vec<Value>>,
    /// The caller's context.
    #[serde(default)]
    pub context: Option<Value>,
}

/// `yield`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Yield {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// From the `invoke`.
    pub invocation_id: InvocationId,
    /// The result; must be a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

/// `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// What the server yielded.
    #[serde(default)]
    pub result: Value,
}

/// `subscribe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The streaming server.
    pub server_id: PeerId,
    /// Its method.
    pub method_id: MethodId,
    /// Named arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments_kv: Option<Map<String, Value>>,
    /// Subscription flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Value>,
    /// Passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// `add-interest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddInterest {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<PeerId>,
    /// The new subscription.
    pub subscription_id: SubscriptionId,
    /// Which of our methods.
    pub method_id: MethodId,
    /// Named arguments.
    #[serde(default)]
    pub arguments_kv: Option<Map<String, Value>>,
    /// Positional arguments.
    #[serde(default)]
    pub arguments: Option<Vec<Value>>,
    /// Subscription flags.
    #[serde(default)]
    pub flags: Option<Value>,
    /// Passed through.
    #[serde(default)]
    pub context: Option<Value>,
}

/// `accepted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// From the `add-interest`.
    pub subscription_id: SubscriptionId,
    /// The server-chosen stream branch.
    #[serde(default)]
    pub stream_id: Option<String>,
}

/// `subscribed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The live subscription.
    pub subscription_id: SubscriptionId,
}

/// `publish`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publish {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The branch to publish on.
    #[serde(default)]
    pub stream_id: Option<String>,
    /// The data.
    #[serde(default)]
    pub data: Value,
}

/// `post`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The one subscriber.
    pub subscription_id: SubscriptionId,
    /// The data.
    #[serde(default)]
    pub data: Value,
}

/// `event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Which subscription.
    pub subscription_id: SubscriptionId,
    /// True when sent by `post` to this subscriber only.
    #[serde(default)]
    pub oob: bool,
    /// Sequence number, if any.
    #[serde(default)]
    pub sequence: Option<Value>,
    /// Snapshot flag, if any.
    #[serde(default)]
    pub snapshot: Option<Value>,
    /// The data.
    #[serde(default)]
    pub data: Value,
}

/// `unsubscribe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unsubscribe {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Which subscription.
    pub subscription_id: SubscriptionId,
}

/// `remove-interest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoveInterest {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Which subscription.
    pub subscription_id: SubscriptionId,
    /// Which of our methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_id: Option<MethodId>,
    /// The subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<PeerId>,
}

/// `drop-subscription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropSubscription {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Which subscription.
    pub subscription_id: SubscriptionId,
}

/// `subscription-cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionCancelled {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Which subscription.
    pub subscription_id: SubscriptionId,
}

/// A method a server offers, as registered and announced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodDefinition {
    /// Server-local id, echoed verbatim in calls.
    pub id: MethodId,
    /// The method name, e.g. `CRM.GetClients`.
    pub name: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// What it does, for people (and models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A version number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Value>,
    /// Object types it deals with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_types: Option<Vec<String>>,
    /// The `accepts` signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_signature: Option<String>,
    /// The `returns` signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_signature: Option<String>,
    /// User flags and the streaming bit.
    #[serde(default)]
    pub flags: MethodFlags,
    /// A visibility expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<String>,
}

impl MethodDefinition {
    /// A method with just an id and a name.
    pub fn new(id: MethodId, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            display_name: None,
            description: None,
            version: None,
            object_types: None,
            input_signature: None,
            result_signature: None,
            flags: MethodFlags::default(),
            restrictions: None,
        }
    }

    /// The client-side identity of the logical method: lowercase name + signatures. Servers
    /// offering the same identity offer "the same method".
    pub fn identity_key(&self) -> String {
        format!(
            "{}{}{}",
            self.name,
            self.input_signature.as_deref().unwrap_or(""),
            self.result_signature.as_deref().unwrap_or("")
        )
        .to_lowercase()
    }

    /// The intent name when this method is an FDC3 intent handler.
    pub fn intent_name(&self) -> Option<&str> {
        self.name
            .strip_prefix(INTENT_METHOD_PREFIX)
            .filter(|name| !name.is_empty())
    }
}

/// Method flags: user metadata plus the streaming bit.
///
/// Current clients nest user flags under `flags.metadata`; older SDKs send them flat. Reading
/// accepts both (flat flags minus `streaming` become the metadata); writing always nests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MethodFlags {
    /// User flags, e.g. `intent` for intent handlers.
    pub metadata: Map<String, Value>,
    /// Whether the method supports streaming subscriptions.
    pub streaming: bool,
}

impl Serialize for MethodFlags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut flags = Map::new();
        flags.insert("metadata".into(), Value::Object(self.metadata.clone()));
        flags.insert("streaming".into(), Value::Bool(self.streaming));
        Value::Object(flags).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MethodFlags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Value::Object(mut flags) = Value::deserialize(deserializer)? else {
            return Ok(Self::default());
        };
        let streaming = matches!(flags.remove("streaming"), Some(Value::Bool(true)));
        let metadata = match flags.remove("metadata") {
            Some(Value::Object(metadata)) => metadata,
            Some(_) | None => flags,
        };
        Ok(Self {
            metadata,
            streaming,
        })
    }
}

fn lenient_methods<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<MethodDefinition>, D::Error> {
    let raw = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .filter_map(
            |value| match serde_json::from_value::<MethodDefinition>(value) {
                Ok(method) => Some(method),
                Err(error) => {
                    tracing::warn!(%error, "skipping a malformed method definition");
                    None
                }
            },
        )
        .collect())
}
