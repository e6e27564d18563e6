//! Streamable HTTP: rmcp's tower service mounted at [`MCP_PATH`] on axum, behind a guard that
//! checks `Origin` and the optional bearer token, then the body and the session
//! ([`http_sessions`](super::http_sessions)), before rmcp sees the request. Accepted sockets
//! have `TCP_NODELAY`: back-to-back calls on a kept-alive connection would otherwise wait on
//! delayed ACKs (about 40 ms each).
//!
//! rmcp can check origins itself, but only against a list with explicit ports; "any loopback
//! origin, any port" (what local assistant UIs and dev servers use) is easier to state here.

use std::{net::SocketAddr, sync::Arc};

use axum::serve::ListenerExt as _;
use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::{MCP_PATH, McpHttpOptions, McpServer, http_sessions::Sessions};
use crate::error::Error;
use crate::service::CodeMode;

/// A running streamable HTTP server; stop it with [`Self::shutdown`].
///
/// Dropping it does not stop the server: the task keeps serving until the runtime ends.
#[derive(Debug)]
pub struct McpHttpServer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl McpHttpServer {
    /// The bound address (the real port when `listen` had port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:8765/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{MCP_PATH}", self.addr)
    }

    /// Closes every session and stream, stops accepting, and waits for the server task.
    pub async fn shutdown(self) -> Result<(), Error> {
        self.shutdown.cancel();
        self.task
            .await
            .map_err(|source| Error::McpTask {
                transport: "HTTP",
                source,
            })?
            .map_err(Error::McpHttp)
    }
}

/// Binds `options.listen` and serves until `shutdown` is cancelled.
pub(super) async fn start(
    service: Arc<CodeMode>,
    options: McpHttpOptions,
    shutdown: CancellationToken,
) -> Result<McpHttpServer, Error> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| Error::McpBind {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::McpBind {
        addr: options.listen,
        source,
    })?;
    let listener = listener.tap_io(|socket| {
        if let Err(error) = socket.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on an MCP connection");
        }
    });

    let mut config =
        StreamableHttpServerConfig::default().with_cancellation_token(shutdown.child_token());
    let ip = addr.ip();
    if ip.is_unspecified() {
        // Every interface: the Host header can be any of the machine's names.
        config = config.disable_allowed_hosts();
        if options.bearer_token.is_none() {
            tracing::warn!(%addr, "MCP over HTTP on every interface without a bearer token");
        }
    } else if !ip.is_loopback() {
        let mut hosts = config.allowed_hosts.clone();
        hosts.push(ip.to_string());
        config = config.with_allowed_hosts(hosts);
    }
    let sessions = Sessions::new(&options);
    let mcp = StreamableHttpService::new(
        move || Ok(McpServer::new(Arc::clone(&service))),
        Arc::clone(&sessions.manager),
        config,
    );
    let guard = Arc::new(Guard::new(&options, sessions));
    let router = Router::new()
        .nest_service(MCP_PATH, mcp)
        .layer(middleware::from_fn_with_state(guard, check_request));

    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
        tracing::info!(%addr, "MCP HTTP server stopped");
        served
    });
    tracing::info!(
        url = %format!("http://{addr}{MCP_PATH}"),
        bearer = options.bearer_token.is_some(),
        "MCP HTTP server listening"
    );
    Ok(McpHttpServer {
        addr,
        shutdown,
        task,
    })
}

/// Who may talk to the server.
struct Guard {
    bearer: Option<String>,
    allowed_origins: Vec<String>,
    sessions: Sessions,
}

impl Guard {
    fn new(options: &McpHttpOptions, sessions: Sessions) -> Self {
        Self {
            sessions,
            bearer: options.bearer_token.clone(),
            allowed_origins: options
                .allowed_origins
                .iter()
                .filter_map(|origin| {
                    let normalized = normalize_origin(origin);
                    if normalized.is_none() {
                        tracing::warn!(
                            origin,
                            "ignoring an allowed origin that is not scheme://host[:port]"
                        );
                    }
                    normalized
                })
                .collect(),
        }
    }

    /// `Err(403)` for a foreign `Origin`, `Err(401)` without the bearer token.
    fn check(&self, headers: &HeaderMap) -> Result<(), Response> {
        if let Some(origin) = headers.get(header::ORIGIN)
            && !self.origin_allowed(origin)
        {
            tracing::warn!(?origin, "rejected an MCP request from a foreign Origin");
            return Err(
                (StatusCode::FORBIDDEN, "Forbidden: Origin is not allowed\n").into_response(),
            );
        }
        if let Some(expected) = &self.bearer {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(bearer_token);
            if !presented
                .is_some_and(|token| constant_time_eq(token.as_bytes(), expected.as_bytes()))
            {
                tracing::warn!("rejected an MCP request without the bearer token");
                let mut response = (
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: bearer token required\n",
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return Err(response);
            }
        }
        Ok(())
    }

    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        let Some(normalized) = origin.to_str().ok().and_then(normalize_origin) else {
            return false;
        };
        is_loopback_origin(&normalized) || self.allowed_origins.contains(&normalized)
    }
}

async fn check_request(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if let Err(response) = guard.check(request.headers()) {
        return response;
    }
    match guard.sessions.admit(request).await {
        Ok((request, None)) => next.run(request).await,
        Ok((request, Some(watch))) => watch.response(next.run(request).await),
        Err(response) => response,
    }
}

/// `scheme://host:port` in lower case with the scheme's default port made explicit; `None`
/// for anything that is not an http(s) origin (`null`, paths, garbage).
fn normalize_origin(origin: &str) -> Option<String> {
    let uri: Uri = origin.trim().trim_end_matches('/').parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    if uri
        .path_and_query()
        .is_some_and(|path| path.as_str() != "/")
    {
        return None;
    }
    let host = uri.host()?.to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(default_port);
    Some(format!("{scheme}://{host}:{port}"))
}

/// `http(s)://localhost|127.0.0.1|[::1]` on any port.
fn is_loopback_origin(normalized: &str) -> bool {
    let Some((_, rest)) = normalized.split_once("://") else {
        return false;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(host, _)| host);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Compares without an early exit, so response timing does not reveal the token's prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_with_default_ports() {
        assert_eq!(
            normalize_origin("HTTPS://Example.com/").as_deref(),
            Some("https://example.com:443")
        );
        assert_eq!(
            normalize_origin("http://localhost:5173").as_deref(),
            Some("http://localhost:5173")
        );
        assert_eq!(normalize_origin("null"), None);
        assert_eq!(normalize_origin("file://x"), None);
        assert_eq!(normalize_origin("http://a.example/path"), None);
    }

    #[test]
    fn only_loopback_hosts_count_as_loopback_origins() {
        for origin in [
            "http://localhost:3000",
            "https://127.0.0.1",
            "http://[::1]:9",
        ] {
            let normalized = normalize_origin(origin).unwrap_or_default();
            assert!(is_loopback_origin(&normalized), "{origin}");
        }
        for origin in [
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io:80",
        ] {
            let normalized = normalize_origin(origin).unwrap_or_default();
            assert!(!is_loopback_origin(&normalized), "{origin}");
        }
    }

    #[test]
    fn bearer_tokens_are_parsed_and_compared_exactly() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
