//! How to reach and log in to an io.Connect gateway.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use codemode_protocol::gw3::{Authentication, DEFAULT_MAX_FRAME_BYTES};

use crate::{error::BusError, tls::TlsConfig};

/// io.Connect Desktop's default gateway address.
pub const DEFAULT_GATEWAY_URL: &str = "ws://127.0.0.1:8385/gw";

/// The environment variable io.Connect Desktop sets for the processes it launches.
pub const STARTING_CONTEXT_VAR: &str = "_GD_STARTING_CONTEXT_";

/// Settings of an io.Connect connection; [`IoConnectConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct IoConnectConfig {
    /// The gateway's WebSocket URL.
    pub url: String,
    /// How we log in.
    pub authentication: Authentication,
    /// Our application name (peers see it in our identity).
    pub application: String,
    /// Our instance id; a unique one is generated when `None`.
    pub instance: Option<String>,
    /// Timeout of the adapter's own platform calls (`T42.ACS.GetApplications`,
    /// `T42.ACS.StartApplication`); [`Bus::invoke`](crate::Bus::invoke) calls carry theirs in
    /// [`CallOptions`](crate::CallOptions).
    pub call_timeout: Duration,
    /// Timeout of the connect + hello + catalogue bootstrap.
    pub connect_timeout: Duration,
    /// Keep-alive interval.
    pub ping_interval: Duration,
    /// With gateway-token authentication, how often to create a fresh token for reconnects
    /// (gateway tokens expire: 10 minutes by default in io.Connect Desktop).
    pub token_refresh_interval: Duration,
    /// First reconnect delay; doubles up to `reconnect_max_delay`.
    pub reconnect_initial_delay: Duration,
    /// Cap of the reconnect delay.
    pub reconnect_max_delay: Duration,
    /// Whether to reconnect after the connection drops.
    pub reconnect: bool,
    /// Largest frame accepted.
    pub max_frame_bytes: usize,
    /// How a `wss://` gateway is verified (default: the platform's trusted roots).
    pub tls: TlsConfig,
}

impl IoConnectConfig {
    /// Defaults for `url`, logging in with `authentication`.
    pub fn new(url: impl Into<String>, authentication: Authentication) -> Self {
        Self {
            url: url.into(),
            authentication,
            application: "codemode".into(),
            instance: None,
            call_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(30),
            token_refresh_interval: Duration::from_mins(4),
            reconnect_initial_delay: Duration::from_millis(200),
            reconnect_max_delay: Duration::from_secs(2),
            reconnect: true,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            tls: TlsConfig::platform(),
        }
    }

    /// Applies `_GD_STARTING_CONTEXT_` from the environment when io.Connect Desktop launched
    /// this process; returns whether it was present.
    pub fn apply_environment(&mut self) -> Result<bool, BusError> {
        match std::env::var(STARTING_CONTEXT_VAR) {
            Ok(raw) => self.apply_starting_context(&raw).map(|()| true),
            Err(_) => Ok(false),
        }
    }

    /// Applies a starting context (JSON with `gwURL`, `gwToken`, `instanceId`,
    /// `applicationConfig.name`): the gateway URL, a gateway-token login, our instance and name.
    pub fn apply_starting_context(&mut self, raw: &str) -> Result<(), BusError> {
        let context: StartingContext =
            serde_json::from_str(raw).map_err(|error| BusError::Config {
                what: format!("{STARTING_CONTEXT_VAR} is not valid JSON"),
                reason: error.to_string(),
            })?;
        if let Some(url) = context.gw_url.filter(|url| !url.is_empty()) {
            self.url = url;
        }
        if let Some(token) = context.gw_token.filter(|token| !token.is_empty()) {
            self.authentication = Authentication::gateway_token(token);
        }
        if let Some(instance) = context.instance_id.filter(|id| !id.is_empty()) {
            self.instance = Some(instance);
        }
        if let Some(name) = context
            .application_config
            .as_ref()
            .and_then(|config| config.get("name"))
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
        {
            name.clone_into(&mut self.application);
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartingContext {
    #[serde(rename = "gwURL")]
    gw_url: Option<String>,
    gw_token: Option<String>,
    instance_id: Option<String>,
    application_config: Option<serde_json::Map<String, Value>>,
}
