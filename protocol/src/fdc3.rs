//! FDC3 2.2 wire messages: the Desktop Agent Communication Protocol (DACP) and the Web
//! Connection Protocol (WCP) handshake.
//!
//! Every message is `{type, payload, meta}`. Requests carry `meta.requestUuid`, responses quote
//! it and add `meta.responseUuid`, events carry `meta.eventUuid`; WCP steps share
//! `meta.connectionAttemptUuid`. [`Fdc3Message`] is the envelope with a typed `meta` and the
//! payload kept as JSON; each request type implements [`DacpRequest`], which names its response
//! type and payload shape, so a reply is decoded where the request that caused it is known.
//! Errors travel as `payload.error` strings (see [`ResolveError`] and friends).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::error::ProtocolError;

/// The FDC3 version we speak.
pub const FDC3_VERSION: &str = "2.2";

/// One FDC3 message (DACP or WCP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fdc3Message {
    /// E.g. `raiseIntentRequest`, `heartbeatEvent`, `WCP3Handshake`.
    #[serde(rename = "type")]
    pub message_type: String,
    /// The message's arguments or result; absent in `WCP6Goodbye`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub payload: Value,
    /// Correlation ids and timestamp.
    #[serde(default)]
    pub meta: Meta,
}

/// The `meta` of every message; which fields are present depends on the message class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Requests: our id; responses: the id of the request they answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uuid: Option<String>,
    /// Responses: the agent's id of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_uuid: Option<String>,
    /// Events: the agent's id of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_uuid: Option<String>,
    /// WCP1–5: the id shared by one connection attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_attempt_uuid: Option<String>,
    /// ISO 8601 time the message was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The sending app (optional on requests; agents must not trust it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<AppIdentifier>,
}

impl Fdc3Message {
    /// A request with a fresh `requestUuid` and the current time.
    pub fn request(request: &impl DacpRequest, request_uuid: impl Into<String>) -> Self {
        Self {
            message_type: request.message_type().to_owned(),
            payload: serde_json::to_value(request).unwrap_or(Value::Null),
            meta: Meta {
                request_uuid: Some(request_uuid.into()),
                timestamp: Some(timestamp(SystemTime::now())),
                ..Meta::default()
            },
        }
    }

    /// A WCP step of connection attempt `attempt`.
    pub fn wcp(message_type: &str, payload: &impl Serialize, attempt: &str) -> Self {
        Self {
            message_type: message_type.to_owned(),
            payload: serde_json::to_value(payload).unwrap_or(Value::Null),
            meta: Meta {
                connection_attempt_uuid: Some(attempt.to_owned()),
                timestamp: Some(timestamp(SystemTime::now())),
                ..Meta::default()
            },
        }
    }

    /// `WCP6Goodbye`: meta holds only a timestamp, and there is no payload.
    pub fn goodbye() -> Self {
        Self {
            message_type: "WCP6Goodbye".to_owned(),
            payload: Value::Null,
            meta: Meta {
                timestamp: Some(timestamp(SystemTime::now())),
                ..Meta::default()
            },
        }
    }

    /// The `payload.error` string of a failed response, if any.
    pub fn error(&self) -> Option<&str> {
        self.payload.get("error").and_then(Value::as_str)
    }

    /// Decodes the payload as `T`.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, ProtocolError> {
        serde_json::from_value(self.payload.clone()).map_err(|error| ProtocolError::BadMessage {
            message_type: self.message_type.clone(),
            reason: error.to_string(),
        })
    }
}

/// Decodes one frame, refusing frames over `max_frame_bytes`.
pub fn decode(frame: &str, max_frame_bytes: usize) -> Result<Fdc3Message, ProtocolError> {
    if frame.len() > max_frame_bytes {
        return Err(ProtocolError::FrameTooLarge {
            len: frame.len(),
            max: max_frame_bytes,
        });
    }
    let value: Value = serde_json::from_str(frame).map_err(|error| ProtocolError::Malformed {
        reason: error.to_string(),
    })?;
    if !value.get("type").is_some_and(Value::is_string) {
        return Err(ProtocolError::Malformed {
            reason: "no string `type` field".into(),
        });
    }
    serde_json::from_value(value).map_err(|error| ProtocolError::Malformed {
        reason: error.to_string(),
    })
}

/// Encodes one message as a JSON text frame.
pub fn encode(message: &Fdc3Message) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// Formats a time as ISO 8601 UTC with milliseconds, like JavaScript's `toISOString()`.
pub fn timestamp(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60,
        since_epoch.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = u32::try_from(day_of_year - (153 * month_index + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    })
    .unwrap_or(1);
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A DACP request: names its wire type and its response's.
pub trait DacpRequest: Serialize {
    /// The wire type of the request.
    const TYPE: &'static str;
    /// The wire type of its response.
    const RESPONSE: &'static str;

    /// The wire type (for use through a reference).
    fn message_type(&self) -> &'static str {
        Self::TYPE
    }
}

/// Identifies an app, or one instance of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppIdentifier {
    /// The App Directory id.
    pub app_id: String,
    /// A running instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// A bridged agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop_agent: Option<String>,
}

/// An app (or instance) with descriptive metadata; unknown fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppMetadata {
    /// The App Directory id.
    pub app_id: String,
    /// A running instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The result type the app declares for the intent asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<String>,
    /// Everything else (version, icons, the reference agent's `state`…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An intent name (with a deprecated display name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentMetadata {
    /// The intent name.
    pub name: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// An intent and the apps that can handle it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppIntent {
    /// The intent.
    pub intent: IntentMetadata,
    /// Apps (no instance: would be launched) and running instances.
    #[serde(default)]
    pub apps: Vec<AppMetadata>,
}

/// Where a raised intent was delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentResolution {
    /// The intent.
    pub intent: String,
    /// The handler's app and instance.
    pub source: AppIdentifier,
}

/// What a handler returned: a context, a channel, or nothing (void).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntentResult {
    /// A context result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// A channel result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Value>,
}

/// `WCP1Hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wcp1Hello {
    /// The URL our identity is matched on (an App Directory `details.url`).
    pub identity_url: String,
    /// The URL we actually run at.
    pub actual_url: String,
    /// `2.2`.
    pub fdc3_version: String,
    /// False: we resolve intents ourselves.
    pub intent_resolver: bool,
    /// False: we need no channel selector UI.
    pub channel_selector: bool,
}

/// `WCP3Handshake`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wcp3Handshake {
    /// The agent's FDC3 version.
    #[serde(default)]
    pub fdc3_version: String,
    /// Resolver UI URL, or false.
    #[serde(default)]
    pub intent_resolver_url: Value,
    /// Channel selector URL, or false.
    #[serde(default)]
    pub channel_selector_url: Value,
    /// Default timeout of one exchange, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_exchange_timeout: Option<u64>,
    /// Timeout of exchanges that may launch an app, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_launch_timeout: Option<u64>,
}

/// `WCP4ValidateAppIdentity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wcp4ValidateAppIdentity {
    /// As in the hello.
    pub identity_url: String,
    /// As in the hello.
    pub actual_url: String,
    /// On reconnect: the instance id we had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// On reconnect: the secret that proves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_uuid: Option<String>,
}

/// `WCP5ValidateAppIdentityResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wcp5ValidateAppIdentityResponse {
    /// Our app id.
    pub app_id: String,
    /// Our instance id.
    pub instance_id: String,
    /// The secret to present on reconnect.
    pub instance_uuid: String,
    /// About the agent.
    #[serde(default)]
    pub implementation_metadata: Value,
}

macro_rules! request {
    ($(#[$doc:meta])* $name:ident, $wire:literal => $response:literal { $($(#[$field_doc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($(#[$field_doc])* pub $field: $ty,)*
        }

        impl DacpRequest for $name {
            const TYPE: &'static str = $wire;
            const RESPONSE: &'static str = $response;
        }
    };
}

request!(
    /// Which apps handle an intent.
    FindIntentRequest, "findIntentRequest" => "findIntentResponse" {
        /// The intent.
        intent: String,
        /// Only handlers of this context.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<Value>,
        /// Only handlers returning this type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result_type: Option<String>,
    }
);
request!(
    /// Which intents can take a context.
    FindIntentsByContextRequest, "findIntentsByContextRequest" => "findIntentsByContextResponse" {
        /// The context.
        context: Value,
        /// Only handlers returning this type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result_type: Option<String>,
    }
);
request!(
    /// Raise an intent.
    RaiseIntentRequest, "raiseIntentRequest" => "raiseIntentResponse" {
        /// The intent.
        intent: String,
        /// The context.
        context: Value,
        /// A specific app or instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app: Option<AppIdentifier>,
    }
);
request!(
    /// Raise whatever intent handles a context.
    RaiseIntentForContextRequest, "raiseIntentForContextRequest" => "raiseIntentForContextResponse" {
        /// The context.
        context: Value,
        /// A specific app or instance.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app: Option<AppIdentifier>,
    }
);
request!(
    /// Open an app, optionally with a context.
    OpenRequest, "openRequest" => "openResponse" {
        /// The app.
        app: AppIdentifier,
        /// A context for its listener.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<Value>,
    }
);
request!(
    /// Metadata of an app.
    GetAppMetadataRequest, "getAppMetadataRequest" => "getAppMetadataResponse" {
        /// The app.
        app: AppIdentifier,
    }
);
request!(
    /// Running instances of an app.
    FindInstancesRequest, "findInstancesRequest" => "findInstancesResponse" {
        /// The app.
        app: AppIdentifier,
    }
);
request!(
    /// About the agent.
    GetInfoRequest, "getInfoRequest" => "getInfoResponse" {}
);
request!(
    /// Answers a heartbeat (there is no response).
    HeartbeatAcknowledgementRequest, "heartbeatAcknowledgementRequest" => "" {
        /// The `eventUuid` of the heartbeat.
        heartbeat_event_uuid: String,
    }
);

request!(
    /// The user channel the app is on.
    GetCurrentChannelRequest, "getCurrentChannelRequest" => "getCurrentChannelResponse" {}
);
request!(
    /// The user channels the agent offers.
    GetUserChannelsRequest, "getUserChannelsRequest" => "getUserChannelsResponse" {}
);
request!(
    /// Join a user channel.
    JoinUserChannelRequest, "joinUserChannelRequest" => "joinUserChannelResponse" {
        /// The channel.
        channel_id: String,
    }
);
request!(
    /// The context last broadcast on a channel (both keys are required, `null` allowed).
    GetCurrentContextRequest, "getCurrentContextRequest" => "getCurrentContextResponse" {
        /// The channel.
        channel_id: Option<String>,
        /// Only this context type; `null`: the last of any type.
        context_type: Option<String>,
    }
);
request!(
    /// Broadcast a context on a channel.
    BroadcastRequest, "broadcastRequest" => "broadcastResponse" {
        /// The channel.
        channel_id: String,
        /// The context.
        context: Value,
    }
);

/// A channel as DACP describes it (`Channel` in the API schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// Its id, e.g. `fdc3.channel.1`.
    pub id: String,
    /// `user`, `app` or `private` (the reference agent has sent numbers: kept as JSON).
    #[serde(rename = "type", default)]
    pub kind: Value,
    /// Name, colour and glyph for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_metadata: Option<DisplayMetadata>,
}

/// How a channel is shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DisplayMetadata {
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Its glyph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glyph: Option<String>,
}

/// The second reply to a raise: the handler's result.
pub const RAISE_INTENT_RESULT_RESPONSE: &str = "raiseIntentResultResponse";

macro_rules! error_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$variant_doc:meta])* $variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$variant_doc])* $variant,)*
            /// A string outside the enum: agents send some (the reference agent sends exception
            /// messages and `"Non-Existent Listener"`), so any `payload.error` is a failure.
            Other(String),
        }

        impl $name {
            /// Every standard value, as sent on the wire.
            pub const ALL: &'static [&'static str] = &[$($wire),*];

            /// Reads a `payload.error` string.
            pub fn from_wire(error: &str) -> Self {
                match error {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(other) => other,
                }
            }

            /// Whether the standard defines this value.
            pub fn is_standard(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

error_enum!(
    /// Why an intent could not be resolved: the `payload.error` of `findIntent*Response` and
    /// `raiseIntent*Response` (2.2 `ResolveError`, with 2.2.1's `InvalidArguments`).
    ResolveError {
        /// No app handles the intent or context.
        NoAppsFound = "NoAppsFound",
        /// The agent's resolver UI is unavailable.
        ResolverUnavailable = "ResolverUnavailable",
        /// The user closed the resolver (TS key `UserCancelled`).
        UserCancelledResolution = "UserCancelledResolution",
        /// The resolver timed out.
        ResolverTimeout = "ResolverTimeout",
        /// The target app is unknown.
        TargetAppUnavailable = "TargetAppUnavailable",
        /// The target instance is not connected.
        TargetInstanceUnavailable = "TargetInstanceUnavailable",
        /// The app did not add its listener in time.
        IntentDeliveryFailed = "IntentDeliveryFailed",
        /// The context is invalid.
        MalformedContext = "MalformedContext",
        /// A bridged agent is unknown.
        DesktopAgentNotFound = "DesktopAgentNotFound",
        /// The agent took too long.
        ApiTimeout = "ApiTimeout",
        /// The arguments are invalid.
        InvalidArguments = "InvalidArguments",
    }
);

error_enum!(
    /// Why a delivered intent produced no result: the `payload.error` of
    /// `raiseIntentResultResponse` (2.2 `ResultError`).
    ResultError {
        /// The handler returned nothing where a result was expected.
        NoResultReturned = "NoResultReturned",
        /// The handler threw or rejected.
        IntentHandlerRejected = "IntentHandlerRejected",
        /// The agent took too long.
        ApiTimeout = "ApiTimeout",
    }
);

error_enum!(
    /// Why an app could not be opened: the `payload.error` of `openResponse` (2.2 `OpenError`,
    /// with 2.2.1's `InvalidArguments`).
    OpenError {
        /// The app is not in the App Directory.
        AppNotFound = "AppNotFound",
        /// Launching failed.
        ErrorOnLaunch = "ErrorOnLaunch",
        /// The app did not add a context listener in time.
        AppTimeout = "AppTimeout",
        /// The agent's resolver UI is unavailable.
        ResolverUnavailable = "ResolverUnavailable",
        /// The context is invalid.
        MalformedContext = "MalformedContext",
        /// A bridged agent is unknown.
        DesktopAgentNotFound = "DesktopAgentNotFound",
        /// The agent took too long.
        ApiTimeout = "ApiTimeout",
        /// The arguments are invalid.
        InvalidArguments = "InvalidArguments",
    }
);

/// The standard 2.2 context types, probed to discover intents.
pub const STANDARD_CONTEXT_TYPES: &[&str] = &[
    "fdc3.action",
    "fdc3.chart",
    "fdc3.chat.initSettings",
    "fdc3.chat.message",
    "fdc3.chat.room",
    "fdc3.chat.searchCriteria",
    "fdc3.contact",
    "fdc3.contactList",
    "fdc3.country",
    "fdc3.currency",
    "fdc3.email",
    "fdc3.instrument",
    "fdc3.instrumentList",
    "fdc3.interaction",
    "fdc3.message",
    "fdc3.nothing",
    "fdc3.organization",
    "fdc3.portfolio",
    "fdc3.position",
    "fdc3.timeRange",
    "fdc3.transactionResult",
    "fdc3.valuation",
    "fdc3.order",
    "fdc3.orderList",
    "fdc3.product",
    "fdc3.trade",
    "fdc3.tradeList",
];

/// The standard 2.2 intents.
pub const STANDARD_INTENTS: &[&str] = &[
    "CreateInteraction",
    "CreateOrUpdateProfile",
    "SendChatMessage",
    "StartCall",
    "StartChat",
    "StartEmail",
    "ViewAnalysis",
    "ViewChart",
    "ViewChat",
    "ViewContact",
    "ViewHoldings",
    "ViewInstrument",
    "ViewInteractions",
    "ViewMessages",
    "ViewNews",
    "ViewOrders",
    "ViewProfile",
    "ViewQuote",
    "ViewResearch",
];

/// The smallest context of `context_type` that its official schema accepts, used to ask the
/// agent which intents take that type. Unknown types get `{type}` only.
pub fn probe_context(context_type: &str) -> Value {
    let instrument = serde_json::json!({"type": "fdc3.instrument", "id": {}});
    let contact = serde_json::json!({"type": "fdc3.contact", "id": {}});
    let mut context = match context_type {
        "fdc3.action" => {
            serde_json::json!({"title": "codemode", "context": {"type": "fdc3.nothing"}})
        }
        "fdc3.chart" | "fdc3.instrumentList" => serde_json::json!({"instruments": [instrument]}),
        "fdc3.chat.message" => serde_json::json!({
            "chatRoom": {"type": "fdc3.chat.room", "providerName": "codemode", "id": {}},
            "message": {"type": "fdc3.message"}
        }),
        "fdc3.chat.room" => serde_json::json!({"providerName": "codemode", "id": {}}),
        "fdc3.chat.searchCriteria" => serde_json::json!({"criteria": ["codemode"]}),
        "fdc3.contactList" => serde_json::json!({"contacts": [contact]}),
        "fdc3.email" => serde_json::json!({"recipients": contact}),
        "fdc3.interaction" => serde_json::json!({
            "participants": {"type": "fdc3.contactList", "contacts": [contact]},
            "timeRange": {"type": "fdc3.timeRange", "startTime": "2026-01-01T00:00:00.000Z"},
            // A free string: the enum values also match the schema's plain-string branch, which
            // breaks its `oneOf`.
            "interactionType": "codemode discovery",
            "description": "codemode"
        }),
        "fdc3.portfolio" => serde_json::json!({"positions": []}),
        "fdc3.position" => serde_json::json!({"instrument": instrument, "holding": 0}),
        "fdc3.timeRange" => serde_json::json!({"startTime": "2026-01-01T00:00:00.000Z"}),
        "fdc3.transactionResult" => serde_json::json!({"status": "Created"}),
        "fdc3.valuation" => serde_json::json!({"value": 0, "CURRENCY_ISOCODE": "USD"}),
        "fdc3.orderList" => serde_json::json!({"orders": []}),
        "fdc3.trade" => {
            serde_json::json!({"id": {}, "product": {"type": "fdc3.product", "id": {}}})
        }
        "fdc3.tradeList" => serde_json::json!({"trades": []}),
        "fdc3.organization" => serde_json::json!({"id": {"PERMID": "codemode"}}),
        "fdc3.contact" | "fdc3.country" | "fdc3.currency" | "fdc3.instrument" | "fdc3.order"
        | "fdc3.product" => serde_json::json!({"id": {}}),
        _ => serde_json::json!({}),
    };
    if let Value::Object(object) = &mut context {
        object.insert("type".into(), Value::String(context_type.to_owned()));
    }
    context
}
