//! Typed messages of io.Connect's gateway protocol ("GW3").
//!
//! One WebSocket text frame carries one JSON object with a `type`, a `domain` (missing means
//! `global`) and, for requests, a client-chosen `request_id`. [`decode`] turns a frame into a
//! [`Gw3Message`]; message types we do not model are kept whole as
//! [`Gw3Message::Unknown`] so a newer gateway never breaks the link. [`encode`] is the reverse.
//! Field names follow the gateway's wire format (`snake_case`); shapes are checked against
//! frames captured from the real open-source gateway (see the round-trip tests).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{
    error::ProtocolError,
    ids::{InvocationId, MethodId, PeerId, RequestId, SubscriptionId},
};

/// Default cap on one frame: large enough for a platform peer's whole method list, small
/// enough that a hostile peer cannot make us allocate without bound.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// Prefix of the interop methods that implement FDC3 intents on io.Connect.
pub const INTENT_METHOD_PREFIX: &str = "Tick42.FDC3.Intents.";

/// An identity map (`application`, `instance`, `user`, …); free-form on the wire.
pub type Identity = Map<String, Value>;

/// The gateway domains. `global` is implied when a message has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// Hello, join/leave, tokens.
    Global,
    /// Interop: methods, calls, streams.
    Agm,
    /// Shared contexts.
    Context,
    /// Pub/sub bus.
    Bus,
    /// Activities.
    Activity,
    /// Metrics.
    Metrics,
    /// A domain this crate does not know.
    #[serde(other)]
    Other,
}

/// The fields any GW3 message may carry besides its body, flattened into it on the wire:
/// `domain` (absent means `global`), the client-chosen `request_id` that correlates a reply,
/// the `peer_id` (the sender's on requests, the recipient's on announcements) and, on failures
/// and departures, `reason_uri` and `reason`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The domain; `global` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    /// Correlates a request with its reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// The sender's id on requests, the recipient's on announcements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<PeerId>,
    /// A machine-readable reason (`reasons::*`), on failures and departures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_uri: Option<String>,
    /// A human-readable reason, on failures and departures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One GW3 message. Variants are named after the wire `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Gw3Message {
    /// Client → gateway: identity and authentication.
    Hello(Hello),
    /// Gateway → client: the hello was accepted.
    Welcome(Welcome),
    /// Gateway → client: a challenge for a multi-step authenticator.
    AuthenticationRequest(AuthenticationRequest),
    /// Client → gateway: join a domain.
    Join(Join),
    /// Client → gateway: leave a domain.
    Leave(Leave),
    /// Gateway → client (or server → gateway): a request succeeded.
    Success(Success),
    /// A request failed; also sent by servers for failed invocations.
    Error(ErrorMessage),
    /// Client → gateway: mint a gateway token for a child peer.
    CreateToken(CreateToken),
    /// Gateway → client: the token asked for.
    Token(Token),
    /// Client → gateway: keep-alive, no reply.
    Ping(Ping),
    /// Gateway → client: a peer became visible.
    PeerAdded(PeerAdded),
    /// Gateway → client: a peer left.
    PeerRemoved(PeerRemoved),
    /// Gateway → client: a server offers methods.
    MethodsAdded(MethodsAdded),
    /// Gateway → client: a server withdrew methods.
    MethodsRemoved(MethodsRemoved),
    /// Server → gateway: offer methods.
    Register(Register),
    /// Server → gateway: withdraw methods.
    Unregister(Unregister),
    /// Caller → gateway: invoke one method on one server.
    Call(Call),
    /// Gateway → server: run a method for a caller.
    Invoke(Invoke),
    /// Server → gateway: the invocation's result.
    Yield(Yield),
    /// Gateway → caller: the invocation's result.
    Result(CallResult),
    /// Caller → gateway: subscribe to a streaming method.
    Subscribe(Subscribe),
    /// Gateway → server: a caller wants a stream.
    AddInterest(AddInterest),
    /// Server → gateway: the subscription is accepted on a stream branch.
    Accepted(Accepted),
    /// Gateway → caller: the subscription is live.
    Subscribed(Subscribed),
    /// Server → gateway: data for every subscriber of a stream branch.
    Publish(Publish),
    /// Server → gateway: data for one subscriber.
    Post(Post),
    /// Gateway → caller: stream data.
    Event(Event),
    /// Caller → gateway: end a subscription.
    Unsubscribe(Unsubscribe),
    /// Gateway → server: a caller left a stream.
    RemoveInterest(RemoveInterest),
    /// Server → gateway: end one subscription.
    DropSubscription(DropSubscription),
    /// Gateway → caller: the server ended the subscription.
    SubscriptionCancelled(SubscriptionCancelled),
    /// Any message type not modelled above, kept whole.
    #[serde(skip)]
    Unknown(Map<String, Value>),
}

/// How a peer authenticates in `hello`. Fields are optional because each method uses a
/// different subset (`secret`: login + secret; tokens: token; providers: provider context).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Authentication {
    /// `secret`, `access-token` or `gateway-token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// User name for `secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// Password for `secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Token for `access-token` and `gateway-token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A custom authenticator's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// A custom authenticator's input.
    #[serde(
        default,
        rename = "providerContext",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider_context: Option<Value>,
}

impl Authentication {
    /// Basic authentication with a login and a secret.
    pub fn secret(login: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            method: Some("secret".into()),
            login: Some(login.into()),
            secret: Some(secret.into()),
            ..Self::default()
        }
    }

    /// A one-shot gateway token (given to apps io.Connect Desktop launches).
    pub fn gateway_token(token: impl Into<String>) -> Self {
        Self {
            method: Some("gateway-token".into()),
            token: Some(token.into()),
            ..Self::default()
        }
    }

    /// An access token from an earlier `welcome` or an auth provider.
    pub fn access_token(token: impl Into<String>) -> Self {
        Self {
            method: Some("access-token".into()),
            token: Some(token.into()),
            ..Self::default()
        }
    }
}

/// `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Who we are; `application` is required by the gateway.
    #[serde(default)]
    pub identity: Identity,
    /// How we prove it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
}

/// `welcome`. It keeps envelope fields of its own: its peer id is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// `global`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    /// The hello's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// Our peer id from now on.
    pub peer_id: PeerId,
    /// Domains this gateway offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_domains: Option<Vec<Value>>,
    /// Our identity as completed by the gateway (`user`, `machine`, `instance`…).
    #[serde(default)]
    pub resolved_identity: Identity,
    /// Extra data such as an `access_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// `authentication-request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationRequest {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The challenge.
    #[serde(default)]
    pub authentication: Value,
}

/// `join`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Join {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The domain to join, e.g. `agm`.
    pub destination: String,
    /// A visibility expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<String>,
    /// Domain-specific options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// `leave`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leave {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The domain to leave.
    pub destination: String,
}

/// `success`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Success {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// `error`: a failed request, or a server's failed invocation (then `request_id` is the
/// invocation id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// The domain that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
    /// The request that failed.
    #[serde(default)]
    pub request_id: Option<RequestId>,
    /// The recipient (null before `welcome`).
    #[serde(default)]
    pub peer_id: Option<PeerId>,
    /// Machine-readable reason, e.g. `agm.errors.client_error`.
    #[serde(default)]
    pub reason_uri: Option<String>,
    /// Human-readable reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Extra data a failing server attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// `create-token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateToken {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// `token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Domain, request id, peer id and reason.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The token, usable once with `gateway-token` authentication.
    pub token: String,
}

/// `ping` (keep-alive; no domain, no reply).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ping {}

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

/// Decodes one frame, refusing frames over `max_frame_bytes`.
///
/// Unknown message types become [`Gw3Message::Unknown`]; a known type with the wrong shape is
/// an error, so the caller can log it and carry on.
pub fn decode(frame: &str, max_frame_bytes: usize) -> Result<Gw3Message, ProtocolError> {
    if frame.len() > max_frame_bytes {
        return Err(ProtocolError::FrameTooLarge {
            len: frame.len(),
            max: max_frame_bytes,
        });
    }
    match serde_json::from_str::<Gw3Message>(frame) {
        Ok(message) => Ok(message),
        Err(typed_error) => {
            let value: Value =
                serde_json::from_str(frame).map_err(|error| ProtocolError::Malformed {
                    reason: error.to_string(),
                })?;
            let Value::Object(object) = value else {
                return Err(ProtocolError::Malformed {
                    reason: "not a JSON object".into(),
                });
            };
            let Some(message_type) = object.get("type").and_then(Value::as_str) else {
                return Err(ProtocolError::Malformed {
                    reason: "no `type` field".into(),
                });
            };
            if KNOWN_TYPES.contains(&message_type) {
                return Err(ProtocolError::BadMessage {
                    message_type: message_type.to_owned(),
                    reason: typed_error.to_string(),
                });
            }
            Ok(Gw3Message::Unknown(object))
        }
    }
}

/// Encodes one message as a JSON text frame.
pub fn encode(message: &Gw3Message) -> String {
    let encoded = match message {
        Gw3Message::Unknown(object) => serde_json::to_string(object),
        other => serde_json::to_string(other),
    };
    // Serialising these types cannot fail: every map key is a string.
    encoded.unwrap_or_default()
}

/// Applies `$body` to the struct inside every typed variant of a [`Gw3Message`].
macro_rules! each_variant {
    ($message:expr, $inner:ident => $body:expr, unknown($object:ident) => $unknown:expr) => {
        match $message {
            Gw3Message::Hello($inner) => $body,
            Gw3Message::Welcome(_) => None,
            Gw3Message::AuthenticationRequest($inner) => $body,
            Gw3Message::Join($inner) => $body,
            Gw3Message::Leave($inner) => $body,
            Gw3Message::Success($inner) => $body,
            Gw3Message::Error(_) => None,
            Gw3Message::CreateToken($inner) => $body,
            Gw3Message::Token($inner) => $body,
            Gw3Message::PeerAdded($inner) => $body,
            Gw3Message::PeerRemoved(_) => None,
            Gw3Message::MethodsAdded($inner) => $body,
            Gw3Message::MethodsRemoved($inner) => $body,
            Gw3Message::Register($inner) => $body,
            Gw3Message::Unregister($inner) => $body,
            Gw3Message::Call($inner) => $body,
            Gw3Message::Invoke($inner) => $body,
            Gw3Message::Yield($inner) => $body,
            Gw3Message::Result($inner) => $body,
            Gw3Message::Subscribe($inner) => $body,
            Gw3Message::AddInterest($inner) => $body,
            Gw3Message::Accepted($inner) => $body,
            Gw3Message::Subscribed($inner) => $body,
            Gw3Message::Publish($inner) => $body,
            Gw3Message::Post($inner) => $body,
            Gw3Message::Event($inner) => $body,
            Gw3Message::Unsubscribe($inner) => $body,
            Gw3Message::RemoveInterest($inner) => $body,
            Gw3Message::DropSubscription($inner) => $body,
            Gw3Message::SubscriptionCancelled($inner) => $body,
            Gw3Message::Ping(_) => None,
            Gw3Message::Unknown($object) => $unknown,
        }
    };
}

impl Gw3Message {
    /// The `request_id` that correlates this message with a request, if it carries one.
    /// (Unknown messages keep theirs in the raw object.)
    pub fn request_id(&self) -> Option<&RequestId> {
        match self {
            Self::Welcome(welcome) => welcome.request_id.as_ref(),
            Self::Error(error) => error.request_id.as_ref(),
            other => other.envelope()?.request_id.as_ref(),
        }
    }

    /// The envelope of this message. `None` for the three messages that keep envelope fields of
    /// their own — `welcome` (its peer id is required), `error` and `peer-removed` (the gateway
    /// writes their ids and reasons as `null` when absent, and so do we) — for `ping` and for
    /// unknown messages; [`Gw3Message::request_id`], [`Gw3Message::peer_id`] and
    /// [`Gw3Message::domain`] read every message.
    pub fn envelope(&self) -> Option<&Envelope> {
        each_variant!(self, inner => Some(&inner.envelope), unknown(_object) => None)
    }

    /// The `peer_id` field: the sender's id on requests, the recipient's on announcements.
    pub fn peer_id(&self) -> Option<&PeerId> {
        match self {
            Self::Welcome(welcome) => Some(&welcome.peer_id),
            Self::Error(error) => error.peer_id.as_ref(),
            Self::PeerRemoved(removed) => removed.peer_id.as_ref(),
            other => other.envelope()?.peer_id.as_ref(),
        }
    }

    /// The `domain` field, if present (`global` is implied when absent).
    pub fn domain(&self) -> Option<Domain> {
        match self {
            Self::Welcome(welcome) => welcome.domain,
            Self::Error(error) => error.domain,
            Self::PeerRemoved(removed) => removed.domain,
            Self::Unknown(object) => object
                .get("domain")
                .cloned()
                .and_then(|domain| serde_json::from_value(domain).ok()),
            other => other.envelope()?.domain,
        }
    }

    /// The wire `type` of this message.
    pub fn message_type(&self) -> &str {
        match self {
            Self::Hello(_) => "hello",
            Self::Welcome(_) => "welcome",
            Self::AuthenticationRequest(_) => "authentication-request",
            Self::Join(_) => "join",
            Self::Leave(_) => "leave",
            Self::Success(_) => "success",
            Self::Error(_) => "error",
            Self::CreateToken(_) => "create-token",
            Self::Token(_) => "token",
            Self::Ping(_) => "ping",
            Self::PeerAdded(_) => "peer-added",
            Self::PeerRemoved(_) => "peer-removed",
            Self::MethodsAdded(_) => "methods-added",
            Self::MethodsRemoved(_) => "methods-removed",
            Self::Register(_) => "register",
            Self::Unregister(_) => "unregister",
            Self::Call(_) => "call",
            Self::Invoke(_) => "invoke",
            Self::Yield(_) => "yield",
            Self::Result(_) => "result",
            Self::Subscribe(_) => "subscribe",
            Self::AddInterest(_) => "add-interest",
            Self::Accepted(_) => "accepted",
            Self::Subscribed(_) => "subscribed",
            Self::Publish(_) => "publish",
            Self::Post(_) => "post",
            Self::Event(_) => "event",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::RemoveInterest(_) => "remove-interest",
            Self::DropSubscription(_) => "drop-subscription",
            Self::SubscriptionCancelled(_) => "subscription-cancelled",
            Self::Unknown(object) => object.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

const KNOWN_TYPES: &[&str] = &[
    "hello",
    "welcome",
    "authentication-request",
    "join",
    "leave",
    "success",
    "error",
    "create-token",
    "token",
    "ping",
    "peer-added",
    "peer-removed",
    "methods-added",
    "methods-removed",
    "register",
    "unregister",
    "call",
    "invoke",
    "yield",
    "result",
    "subscribe",
    "add-interest",
    "accepted",
    "subscribed",
    "publish",
    "post",
    "event",
    "unsubscribe",
    "remove-interest",
    "drop-subscription",
    "subscription-cancelled",
];

/// Well-known `reason_uri` values produced by the gateway.
pub mod reasons {
    /// A handler threw; set by client libraries, forwarded by the gateway.
    pub const CLIENT_ERROR: &str = "agm.errors.client_error";
    /// The call could not be made or the server left.
    pub const INVOCATION_FAILURE: &str = "agm.errors.invocation.failure";
    /// Registering a method failed.
    pub const REGISTRATION_FAILURE: &str = "agm.errors.registration.failure";
    /// Unregistering a method failed.
    pub const UNREGISTRATION_FAILURE: &str = "agm.errors.unregistration.failure";
    /// A subscription failed.
    pub const SUBSCRIPTION_FAILURE: &str = "agm.errors.subscription.failure";
    /// An interop message the gateway does not handle.
    pub const AGM_UNHANDLED_MESSAGE: &str = "agm.errors.unhandled_message";
    /// A global message the gateway does not handle.
    pub const UNHANDLED_MESSAGE: &str = "global.errors.unhandled_message";
    /// Authentication failed.
    pub const AUTHENTICATION_FAILURE: &str = "global.errors.authentication.failure";
    /// A second hello on the same peer, or a duplicate identity.
    pub const ALREADY_SEEN: &str = "global.errors.already_seen";
    /// An unknown domain in `join`.
    pub const INVALID_DOMAIN: &str = "global.errors.invalid_domain";
    /// A `peer_id` that does not belong to the connection.
    pub const BAD_SOURCE: &str = "global.errors.bad_source";
    /// A peer id the gateway does not know.
    pub const INVALID_PEER: &str = "global.errors.invalid_peer";
    /// Generic failure.
    pub const FAILURE: &str = "global.errors.failure";
    /// Generic interop failure (e.g. an unknown server).
    pub const AGM_FAILURE: &str = "agm.errors.failure";
    /// A subscription id the gateway does not know.
    pub const INVALID_SUBSCRIPTION: &str = "agm.errors.subscription.invalid_subscription";
    /// Why a peer was removed.
    pub const PEER_REMOVED: &str = "agm.peer-removed";
    /// Why a method was removed.
    pub const METHOD_REMOVED: &str = "agm.method-removed";
    /// An identity the gateway rejects.
    pub const BAD_IDENTITY: &str = "global.errors.bad_identity";
    /// The reason text the gateway uses when a server leaves mid-call.
    pub const PEER_LEFT_REASON: &str = "Peer has left while waiting for result";
}
