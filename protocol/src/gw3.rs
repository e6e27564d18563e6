//! Typed messages of io.Connect's gateway protocol ("GW3").
//!
//! One WebSocket text frame carries one JSON object with a `type`, a `domain` (missing means
//! `global`) and, for requests, a client-chosen `request_id`. [`decode`] turns a frame into a
//! [`Gw3Message`]; message types we do not model are kept whole as
//! [`Gw3Message::Unknown`] so a newer gateway never breaks the link. [`encode`] is the reverse.
//! Field names follow the gateway's wire format (`snake_case`); shapes are checked against
//! frames captured from the real open-source gateway (see the round-trip tests).

mod agm;
pub mod context;

pub use self::agm::{
    Accepted, AddInterest, Call, CallResult, DropSubscription, Event, Invoke, MethodDefinition,
    MethodFlags, MethodsAdded, MethodsRemoved, PeerAdded, PeerMeta, PeerRemoved, Post, Publish,
    Register, RemoveInterest, Subscribe, Subscribed, SubscriptionCancelled, Unregister,
    Unsubscribe, Yield,
};
pub use self::context::{
    ContextAdded, ContextCommand, ContextCreated, ContextDelta, ContextDestroyed, ContextUpdated,
    CreateContext, SubscribeContext, SubscribedContext, UnsubscribeContext, UpdateContext,
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    error::ProtocolError,
    ids::{PeerId, RequestId},
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
    /// Client → gateway: make a shared context.
    CreateContext(CreateContext),
    /// Gateway → client: the context asked for was made.
    ContextCreated(ContextCreated),
    /// Gateway → client: a shared context exists.
    ContextAdded(ContextAdded),
    /// Client → gateway: read a context and hear its changes.
    SubscribeContext(SubscribeContext),
    /// Gateway → client: a context's whole value, replying to `subscribe-context`.
    SubscribedContext(SubscribedContext),
    /// Client → gateway: stop hearing a context.
    UnsubscribeContext(UnsubscribeContext),
    /// Client → gateway: change a context.
    UpdateContext(UpdateContext),
    /// Gateway → client: a context changed.
    ContextUpdated(ContextUpdated),
    /// Gateway → client: a context is gone.
    ContextDestroyed(ContextDestroyed),
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
            Gw3Message::CreateContext($inner) => $body,
            Gw3Message::ContextCreated($inner) => $body,
            Gw3Message::ContextAdded($inner) => $body,
            Gw3Message::SubscribeContext($inner) => $body,
            Gw3Message::SubscribedContext($inner) => $body,
            Gw3Message::UnsubscribeContext($inner) => $body,
            Gw3Message::UpdateContext($inner) => $body,
            Gw3Message::ContextUpdated($inner) => $body,
            Gw3Message::ContextDestroyed($inner) => $body,
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
            Self::CreateContext(_) => "create-context",
            Self::ContextCreated(_) => "context-created",
            Self::ContextAdded(_) => "context-added",
            Self::SubscribeContext(_) => "subscribe-context",
            Self::SubscribedContext(_) => "subscribed-context",
            Self::UnsubscribeContext(_) => "unsubscribe-context",
            Self::UpdateContext(_) => "update-context",
            Self::ContextUpdated(_) => "context-updated",
            Self::ContextDestroyed(_) => "context-destroyed",
            Self::Unknown(object) => object.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// The message types this module decodes into typed variants (the rest are `Unknown`).
pub const KNOWN_TYPES: &[&str] = &[
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
    "create-context",
    "context-created",
    "context-added",
    "subscribe-context",
    "subscribed-context",
    "unsubscribe-context",
    "update-context",
    "context-updated",
    "context-destroyed",
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
