//! How to reach and identify ourselves to an FDC3 Desktop Agent.

use std::time::Duration;

use codemode_protocol::gw3::DEFAULT_MAX_FRAME_BYTES;

use crate::tls::TlsConfig;

/// Settings of an FDC3 connection; [`Fdc3Config::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct Fdc3Config {
    /// The agent's WebSocket URL.
    pub url: String,
    /// The URL our App Directory record's `details.url` matches (our identity).
    pub identity_url: String,
    /// The URL we "run at"; the same origin as `identity_url`.
    pub actual_url: String,
    /// Timeout of one exchange when the agent's handshake does not set one (spec: 10 s).
    pub message_timeout: Duration,
    /// How long a raised intent's result may take after delivery (results can be late).
    pub result_timeout: Duration,
    /// How often the handler of a delivered intent is looked up (`findInstances`) while its
    /// result is awaited: agents tell the raiser nothing when a handler leaves. Zero: never.
    pub handler_check_interval: Duration,
    /// Consecutive lookups that must miss the handler before the raise fails with
    /// `IntentHandlerLeft` (an unresponsive app drops out of the list for a while, then returns).
    pub handler_missing_checks: u32,
    /// Timeout of the connect + handshake.
    pub connect_timeout: Duration,
    /// First reconnect delay; doubles up to `reconnect_max_delay`.
    pub reconnect_initial_delay: Duration,
    /// Cap of the reconnect delay.
    pub reconnect_max_delay: Duration,
    /// Whether to reconnect after the connection drops.
    pub reconnect: bool,
    /// An App Directory (a `/v2/apps` URL or a JSON file of AppD records): the authoritative
    /// source of each app's intents, context types and result types when the agent has one.
    pub app_directory: Option<String>,
    /// Context types probed (besides the standard ones) to discover intents.
    pub extra_context_types: Vec<String>,
    /// Intents probed (besides the standard ones) to discover handlers.
    pub extra_intents: Vec<String>,
    /// Largest frame accepted.
    pub max_frame_bytes: usize,
    /// How a `wss://` agent and an `https://` App Directory are verified (default: the
    /// platform's trusted roots).
    pub tls: TlsConfig,
}

impl Fdc3Config {
    /// Defaults for `url`, identified by `identity_url`.
    pub fn new(url: impl Into<String>, identity_url: impl Into<String>) -> Self {
        let identity_url = identity_url.into();
        Self {
            url: url.into(),
            actual_url: identity_url.clone(),
            identity_url,
            message_timeout: Duration::from_secs(10),
            result_timeout: Duration::from_mins(5),
            handler_check_interval: Duration::from_secs(5),
            handler_missing_checks: 3,
            connect_timeout: Duration::from_secs(30),
            reconnect_initial_delay: Duration::from_millis(200),
            reconnect_max_delay: Duration::from_secs(2),
            reconnect: true,
            app_directory: None,
            extra_context_types: Vec::new(),
            extra_intents: Vec::new(),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            tls: TlsConfig::platform(),
        }
    }
}
