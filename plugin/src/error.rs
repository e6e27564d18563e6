//! The product crate's one error type.

use std::{net::SocketAddr, path::PathBuf};

/// Why a part of the product could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The audit log could not be opened.
    #[error("opening the audit log {path}: {source}")]
    AuditLog {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The `[policy]` section (or a policy flag) is invalid.
    #[error("policy: {reason}")]
    Policy {
        /// What is wrong.
        reason: String,
    },
    /// The MCP HTTP listener could not bind its address.
    #[error("binding the MCP HTTP listener to {addr}: {source}")]
    McpBind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The MCP HTTP server failed while serving.
    #[error("serving MCP over HTTP: {0}")]
    McpHttp(#[source] std::io::Error),
    /// A server task (MCP over HTTP or stdio) panicked or was aborted.
    #[error("the MCP {transport} server task ended abnormally: {source}")]
    McpTask {
        /// `HTTP` or `stdio`.
        transport: &'static str,
        /// Why.
        source: tokio::task::JoinError,
    },
    /// The stdio client never completed the MCP handshake.
    #[error("starting MCP on stdio: {0}")]
    McpStdioStart(#[source] Box<rmcp::service::ServerInitializeError>),
    /// The mock bus did not start.
    #[error("starting the mock bus: {0}")]
    MockBus(#[from] crate::mock_bus::MockBusError),
    /// The bus failed.
    #[error("bus: {0}")]
    Bus(#[from] codemode_adapters::BusError),
    /// The sandbox pool could not start a worker.
    #[error("sandbox: {0}")]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// The OpenTelemetry exporter could not start (a bad endpoint or header variable).
    #[error("OpenTelemetry: {reason}")]
    Telemetry {
        /// What is wrong.
        reason: String,
    },
    /// A scripted token-comparison scenario did not go as scripted (the bus data or the
    /// catalogue changed).
    #[error("scenario {scenario}: {what}")]
    Scenario {
        /// The scenario's label, or `setup` for the tool table.
        scenario: &'static str,
        /// What did not match.
        what: String,
    },
}
