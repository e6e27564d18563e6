//! Reading the launch context io.Connect Desktop gives the processes it starts.

use codemode_adapters::{
    BusError,
    ioconnect::{DEFAULT_GATEWAY_URL, IoConnectConfig},
};
use codemode_protocol::gw3::Authentication;

#[test]
fn starting_context_sets_url_gateway_token_instance_and_name() {
    let mut config = IoConnectConfig::new(DEFAULT_GATEWAY_URL, Authentication::secret("me", "pw"));
    let raw = r#"{"gwURL":"ws://127.0.0.1:8390/gw","gwToken":"one-shot","instanceId":"i-42",
        "applicationConfig":{"name":"codemode-desktop","type":"exe"},"env":{"env":"DEV"},"region":"EMEA"}"#;
    config.apply_starting_context(raw).unwrap();
    assert_eq!(config.url, "ws://127.0.0.1:8390/gw");
    assert_eq!(
        config.authentication,
        Authentication::gateway_token("one-shot")
    );
    assert_eq!(config.instance.as_deref(), Some("i-42"));
    assert_eq!(config.application, "codemode-desktop");
}

#[test]
fn a_partial_starting_context_keeps_the_other_settings() {
    let mut config = IoConnectConfig::new(DEFAULT_GATEWAY_URL, Authentication::secret("me", "pw"));
    config
        .apply_starting_context(r#"{"gwURL":"","instanceId":null}"#)
        .unwrap();
    assert_eq!(config.url, DEFAULT_GATEWAY_URL);
    assert_eq!(config.authentication, Authentication::secret("me", "pw"));
    assert_eq!(config.application, "codemode");
    assert!(config.instance.is_none());
}

#[test]
fn a_malformed_starting_context_is_a_config_error() {
    let mut config = IoConnectConfig::new(DEFAULT_GATEWAY_URL, Authentication::secret("me", "pw"));
    let error = config.apply_starting_context("{not json").unwrap_err();
    assert!(
        matches!(error, BusError::Config { ref what, .. } if what.contains("_GD_STARTING_CONTEXT_")),
        "{error}"
    );
}
