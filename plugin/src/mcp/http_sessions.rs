//! What the streamable HTTP endpoint checks before rmcp sees a request, and what it does when
//! a client goes away:
//!
//! - a POST body that is not JSON gets 400 with a JSON-RPC parse error (-32700);
//! - a DELETE (or any request) naming a session that does not exist gets 404;
//! - a new session past [`McpHttpOptions::max_sessions`] gets 503 (idle sessions expire after
//!   [`McpHttpOptions::session_idle_timeout`], so the limit frees itself);
//! - a `tools/call` whose HTTP connection closes before its answer is cancelled, as if the
//!   client had sent `notifications/cancelled`: the snippet stops and frees its worker;
//! - a DELETE of a session first cancels that session's `tools/call`s still in flight. rmcp
//!   itself, when a session's transport closes, lets running handlers go on for up to 5 s
//!   while it drains their answers, and the closed HTTP connection of the call may be noticed
//!   only at the next write; so without this a deleted session's snippet could run on.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::Request,
    http::{Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use rmcp::{
    model::ClientJsonRpcMessage,
    transport::streamable_http_server::session::local::LocalSessionManager,
};
use serde_json::{Value, json};

use super::McpHttpOptions;

/// The header that names the MCP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// The largest request body read here (rmcp's own default cap).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The session table and its limits, shared with rmcp.
pub(super) struct Sessions {
    pub(super) manager: Arc<LocalSessionManager>,
    /// At most this many sessions at once.
    limit: usize,
    /// The `tools/call`s whose answers are still being sent, by session.
    in_flight: InFlight,
}

/// The `tools/call` request ids whose answers are still being sent, per session.
#[derive(Clone, Default)]
struct InFlight(Arc<Mutex<HashMap<String, Vec<Value>>>>);

impl InFlight {
    fn add(&self, session: &str, request_id: &Value) {
        if let Ok(mut calls) = self.0.lock() {
            calls
                .entry(session.to_owned())
                .or_default()
                .push(request_id.clone());
        }
    }

    fn remove(&self, session: &str, request_id: &Value) {
        if let Ok(mut calls) = self.0.lock()
            && let Some(ids) = calls.get_mut(session)
        {
            if let Some(at) = ids.iter().position(|id| id == request_id) {
                ids.swap_remove(at);
            }
            if ids.is_empty() {
                calls.remove(session);
            }
        }
    }

    fn take(&self, session: &str) -> Vec<Value> {
        self.0
            .lock()
            .ok()
            .and_then(|mut calls| calls.remove(session))
            .unwrap_or_default()
    }
}

impl Sessions {
    /// A session manager whose idle sessions expire after the configured time.
    pub(super) fn new(options: &McpHttpOptions) -> Self {
        let mut manager = LocalSessionManager::default();
        manager.session_config.keep_alive = Some(options.session_idle_timeout);
        Self {
            manager: Arc::new(manager),
            limit: options.max_sessions,
            in_flight: InFlight::default(),
        }
    }

    /// Checks `request` (reading its body when it is a POST) and passes it on, or answers it.
    pub(super) async fn admit(
        &self,
        request: Request,
    ) -> Result<(Request, Option<Watch>), Response> {
        let session = request
            .headers()
            .get(SESSION_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(ToOwned::to_owned);
        if let Some(id) = &session
            && !self.manager.sessions.read().await.contains_key(id.as_str())
        {
            return Err((
                StatusCode::NOT_FOUND,
                "Not Found: no such MCP session (it ended or expired); start a new one\n",
            )
                .into_response());
        }
        if request.method() == Method::DELETE
            && let Some(id) = &session
        {
            self.cancel_in_flight(id).await;
        }
        if request.method() != Method::POST {
            return Ok((request, None));
        }
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) => {
                return Err(json_rpc_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    -32600,
                    &format!("the request body could not be read: {error}"),
                ));
            }
        };
        let message: Value = match serde_json::from_slice(&bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, "MCP POST body is not JSON");
                return Err(json_rpc_error(
                    StatusCode::BAD_REQUEST,
                    -32700,
                    &format!("Parse error: the body is not JSON ({error})"),
                ));
            }
        };
        let method = message.get("method").and_then(Value::as_str);
        if session.is_none()
            && method == Some("initialize")
            && self.manager.sessions.read().await.len() >= self.limit
        {
            tracing::warn!(
                max = self.limit,
                "MCP session refused: the session limit is reached"
            );
            return Err(json_rpc_error(
                StatusCode::SERVICE_UNAVAILABLE,
                -32000,
                &format!(
                    "too many MCP sessions are open (at most {}); close one or wait for idle \
                     ones to expire",
                    self.limit
                ),
            ));
        }
        let watch = match (session, method, message.get("id")) {
            (Some(session), Some("tools/call"), Some(id)) if !id.is_null() => {
                self.in_flight.add(&session, id);
                Some(Watch {
                    manager: Arc::clone(&self.manager),
                    in_flight: self.in_flight.clone(),
                    session,
                    request_id: id.clone(),
                })
            }
            _ => None,
        };
        Ok((Request::from_parts(parts, Body::from(bytes)), watch))
    }

    /// Sends `notifications/cancelled` into `session` for each of its calls in flight.
    async fn cancel_in_flight(&self, session: &str) {
        let calls = self.in_flight.take(session);
        if calls.is_empty() {
            return;
        }
        let handle = self.manager.sessions.read().await.get(session).cloned();
        let Some(handle) = handle else {
            return;
        };
        for request_id in calls {
            tracing::info!(
                session,
                request = %request_id,
                "the MCP session is being deleted; cancelling its call in flight"
            );
            if let Some(message) = cancelled(&request_id, "the MCP session was deleted") {
                let _ = handle.push_message(message, None).await;
            }
        }
    }
}

/// A `notifications/cancelled` for `request_id`.
fn cancelled(request_id: &Value, reason: &str) -> Option<ClientJsonRpcMessage> {
    serde_json::from_value(json!({
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": request_id, "reason": reason},
    }))
    .ok()
}

/// A `tools/call` in flight: if its response body is dropped before it ended (the client
/// hung up), the call is cancelled in its session.
pub(super) struct Watch {
    manager: Arc<LocalSessionManager>,
    /// The `tools/call`s whose answers are still being sent, by session.
    in_flight: InFlight,
    session: String,
    request_id: Value,
}

impl Watch {
    /// `response` with its body watched.
    pub(super) fn response(self, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        Response::from_parts(
            parts,
            Body::new(WatchedBody {
                inner: body,
                watch: Some(self),
            }),
        )
    }

    /// The call's answer was sent whole.
    fn finished(self) {
        self.in_flight.remove(&self.session, &self.request_id);
    }

    /// Cancels the call in its session. The call stays listed in flight until the cancel was
    /// pushed, so a DELETE racing with this still finds it and cancels it before the session
    /// closes.
    fn cancel(self) {
        let Some(message) = cancelled(&self.request_id, "the HTTP connection closed") else {
            self.finished();
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.finished();
            return;
        };
        runtime.spawn(async move {
            let handle = self
                .manager
                .sessions
                .read()
                .await
                .get(self.session.as_str())
                .cloned();
            if let Some(handle) = handle {
                tracing::info!(
                    session = %self.session,
                    request = %self.request_id,
                    "the HTTP connection closed before the tool answered; cancelling the call"
                );
                let _ = handle.push_message(message, None).await;
            }
            self.finished();
        });
    }
}

/// A response body that reports being dropped before its end.
struct WatchedBody {
    inner: Body,
    watch: Option<Watch>,
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None))
            && let Some(watch) = this.watch.take()
        {
            watch.finished();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        if let Some(watch) = self.watch.take() {
            watch.cancel();
        }
    }
}

/// A JSON-RPC error object (id null) with an HTTP status.
fn json_rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
