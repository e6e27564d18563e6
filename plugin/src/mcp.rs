//! The MCP server: Code Mode's three tools for assistant UIs, over stdio and streamable HTTP.
//!
//! Built on rmcp, the official Rust SDK; no JSON-RPC is written by hand.
//!
//! - [`serve_stdio`]: one client on stdin/stdout until it closes stdin. Stdout carries only MCP
//!   frames, so everything else (tracing) must go to stderr.
//! - [`start_http`]: streamable HTTP at `http://<listen>/mcp`; returns an [`McpHttpServer`]
//!   with the bound address (port 0 works) and a `shutdown`. [`serve_http`] is the same thing
//!   run until a cancellation token fires.
//! - [`McpServer`]: the rmcp handler itself, for other transports (an in-process pipe in tests).
//!
//! # Tools
//! `list_python_definitions(query?, namespace?, cursor?)` → `get_python_definitions(names)` →
//! `execute_python_code(code, timeout_seconds?)`, each with a title and behaviour hints
//! (`presentation`). Answers are plain text for the model; `execute_python_code` also returns
//! the outcome as `structuredContent` (result, printed text, calls, error) under an
//! `outputSchema`. A failing snippet is a tool error (`isError: true`) quoting the snippet line;
//! a JSON-RPC error is kept for requests that cannot be routed at all.
//!
//! # The rest of the protocol
//! - logging: `logging/setLevel`; a snippet's bus calls, printed lines and failure arrive as
//!   `notifications/message` (`notify`), with progress per bus call;
//! - resources: the generated module and per-namespace stubs, `list_changed` when namespaces
//!   come and go (`resources`);
//! - prompts: worked examples (`prompts`); completions of namespace and function names
//!   (`completion`);
//! - stdio answers a line that is not JSON with `-32700` (`stdio`).
//!
//! # HTTP security
//! Binds 127.0.0.1 by default. A request with a foreign `Origin` gets 403 (a web page in the
//! user's browser must not drive the bus); no `Origin` and loopback origins are allowed, plus
//! [`McpHttpOptions::allowed_origins`]. With a bearer token every request needs
//! `Authorization: Bearer <token>` or gets 401. rmcp also checks `Host` (DNS rebinding).

mod completion;
pub mod context;
mod control;
mod http;
mod http_sessions;
mod notify;
mod presentation;
mod prompts;
mod resources;
mod stdio;
mod tools;

use std::{net::SocketAddr, sync::Arc};

use rmcp::ServiceExt as _;
use tokio_util::sync::CancellationToken;

use crate::Error;

use crate::service::CodeMode;

pub use http::McpHttpServer;
pub use tools::{INSTRUCTIONS, McpServer};

/// The path of the streamable HTTP endpoint.
pub const MCP_PATH: &str = "/mcp";

/// The default HTTP listen address (loopback only).
pub const DEFAULT_HTTP_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8765);

/// How the HTTP transport listens and whom it lets in.
#[derive(Clone, PartialEq, Eq)]
pub struct McpHttpOptions {
    /// Address to bind (default 127.0.0.1:8765; port 0 picks a free port).
    pub listen: SocketAddr,
    /// When set, every request needs `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// Browser origins allowed besides loopback ones, e.g. `https://assistant.example.com`.
    pub allowed_origins: Vec<String>,
    /// Sessions open at once (default 64); a new one past it gets 503.
    pub max_sessions: usize,
    /// A session with no request for this long is closed (default 5 minutes).
    pub session_idle_timeout: std::time::Duration,
}

impl Default for McpHttpOptions {
    fn default() -> Self {
        Self {
            listen: DEFAULT_HTTP_LISTEN,
            bearer_token: None,
            allowed_origins: Vec::new(),
            max_sessions: 64,
            session_idle_timeout: std::time::Duration::from_mins(5),
        }
    }
}

impl std::fmt::Debug for McpHttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHttpOptions")
            .field("listen", &self.listen)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("allowed_origins", &self.allowed_origins)
            .field("max_sessions", &self.max_sessions)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .finish()
    }
}

/// What the server offers: tools, resources (with `list_changed`), prompts, completions and
/// logging.
#[expect(
    deprecated,
    reason = "the logging capability is deprecated by SEP-2577 for 2026-07-28 clients, and is \
              what every 2025 client uses"
)]
fn capabilities() -> rmcp::model::ServerCapabilities {
    rmcp::model::ServerCapabilities::builder()
        .enable_tools()
        .enable_resources()
        .enable_resources_list_changed()
        .enable_prompts()
        .enable_completions()
        .enable_logging()
        .build()
}

/// Serves one MCP client on stdin/stdout until it closes stdin.
///
/// Stdout is the protocol channel: the caller must send logs to stderr and print nothing.
pub async fn serve_stdio(service: Arc<CodeMode>) -> Result<(), Error> {
    let running = McpServer::new(service)
        .serve(stdio::LineTransport::new(
            tokio::io::stdin(),
            tokio::io::stdout(),
        ))
        .await
        .map_err(|error| Error::McpStdioStart(Box::new(error)))?;
    let reason = running.waiting().await.map_err(|source| Error::McpTask {
        transport: "stdio",
        source,
    })?;
    tracing::info!(?reason, "MCP stdio session ended");
    Ok(())
}

/// Starts the streamable HTTP server at `http://<bound addr>/mcp` and returns at once.
///
/// Use [`McpHttpServer::local_addr`] to learn the port when `listen` had port 0, and
/// [`McpHttpServer::shutdown`] to stop it (open SSE streams are closed, then the task ends).
pub async fn start_http(
    service: Arc<CodeMode>,
    options: McpHttpOptions,
) -> Result<McpHttpServer, Error> {
    http::start(service, options, CancellationToken::new()).await
}

/// Serves MCP over streamable HTTP until `shutdown` is cancelled; returns the bound address.
///
/// Binding errors are returned before anything is served. For tests or callers that need the
/// address while the server runs, use [`start_http`].
pub async fn serve_http(
    service: Arc<CodeMode>,
    options: McpHttpOptions,
    shutdown: CancellationToken,
) -> Result<SocketAddr, Error> {
    let server = http::start(service, options, shutdown.child_token()).await?;
    let addr = server.local_addr();
    shutdown.cancelled().await;
    server.shutdown().await?;
    Ok(addr)
}
