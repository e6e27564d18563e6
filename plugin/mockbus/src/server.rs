//! The network side of the mock bus: the TCP accept loop and one task per WebSocket connection.
//!
//! A connection task reads frames and hands each to the gateway (under its lock, without
//! awaiting), and writes what the gateway queued for it from a bounded queue. The reader and
//! the writer stop together: when the client goes away, when the gateway closes the connection
//! (queue overflow, `drop_all_connections`) or when the bus shuts down. Only `/gw` (and `/`,
//! the JavaScript clients' fallback) accept WebSocket upgrades; other paths get a 404.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Semaphore, mpsc},
};
use tokio_tungstenite::tungstenite::{
    Message,
    handshake::server::{ErrorResponse, Request, Response},
    http::StatusCode,
    protocol::{CloseFrame, WebSocketConfig, frame::coding::CloseCode},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    gateway::{Gateway, Outbound, Sink},
    runtime::lock,
};

/// How long a client may take to finish the WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a close frame may take to go out before the socket is just dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings of the network side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerLimits {
    /// Batches queued per connection before it counts as a slow consumer.
    pub(crate) outbound_queue: usize,
    /// Largest WebSocket message accepted at all (the gateway applies its own, lower cap).
    pub(crate) max_message_bytes: usize,
    /// Simultaneous connections; more wait in the accept backlog.
    pub(crate) max_connections: usize,
}

/// Accepts connections until `shutdown` is cancelled.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    gateway: Arc<Mutex<Gateway>>,
    limits: ServerLimits,
    tracker: TaskTracker,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        match accepted {
            Ok((stream, address)) => {
                let gateway = Arc::clone(&gateway);
                let token = shutdown.child_token();
                tracker.spawn(async move {
                    serve_connection(stream, address, gateway, limits, token).await;
                    drop(permit);
                });
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::debug!("accept loop stopped");
}

async fn serve_connection(
    stream: TcpStream,
    address: SocketAddr,
    gateway: Arc<Mutex<Gateway>>,
    limits: ServerLimits,
    token: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let config = WebSocketConfig::default()
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes));
    let handshake =
        tokio_tungstenite::accept_hdr_async_with_config(stream, check_path, Some(config));
    let socket = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(socket)) => socket,
        Ok(Err(error)) => {
            tracing::debug!(%address, %error, "WebSocket handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%address, "WebSocket handshake timed out");
            return;
        }
    };
    let (mut writer, mut reader) = socket.split();
    let (queue, mut outbound) = mpsc::channel::<Outbound>(limits.outbound_queue.max(1));
    let conn = lock(&gateway).open_connection(
        Sink::Socket {
            queue,
            closed: token.clone(),
        },
        address.ip().to_string(),
    );
    tracing::debug!(conn, %address, "client connected");

    let write = async {
        let mut clean = true;
        loop {
            let item = tokio::select! {
                item = outbound.recv() => item,
                () = token.cancelled() => break,
            };
            let Some(item) = item else { break };
            // A stuck socket must not keep the task alive once the connection is closed.
            let result = tokio::select! {
                result = write_item(&mut writer, item) => result,
                () = token.cancelled() => {
                    clean = false;
                    break;
                }
            };
            if let Err(error) = result {
                tracing::debug!(conn, %error, "write failed");
                clean = false;
                break;
            }
        }
        token.cancel();
        if clean {
            let close = Message::Close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "the mock bus closed the connection".into(),
            }));
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, writer.send(close)).await;
        }
    };
    let read = async {
        loop {
            let frame = tokio::select! {
                frame = reader.next() => frame,
                () = token.cancelled() => break,
            };
            match frame {
                Some(Ok(Message::Text(text))) => lock(&gateway).on_frame(conn, text.as_str()),
                Some(Ok(Message::Binary(_))) => lock(&gateway).on_binary(conn),
                Some(Ok(Message::Close(_))) | None => break,
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::debug!(conn, %error, "read failed");
                    break;
                }
            }
        }
        token.cancel();
    };
    tokio::join!(write, read);
    lock(&gateway).close_connection(conn);
    tracing::debug!(conn, %address, "client disconnected");
}

/// Writes one queued item, flushing once per batch.
async fn write_item<S>(writer: &mut S, item: Outbound) -> Result<(), S::Error>
where
    S: futures_util::Sink<Message> + Unpin,
{
    match item {
        Outbound::Frames(frames) => {
            for frame in frames {
                writer.feed(Message::text(frame)).await?;
            }
            writer.flush().await
        }
        Outbound::Raw(message) => writer.send(message).await,
    }
}

/// Accepts the upgrade on `/gw` (and `/`); anything else is a 404.
fn check_path(request: &Request, response: Response) -> Result<Response, ErrorResponse> {
    match request.uri().path() {
        "/gw" | "/gw/" | "/" => Ok(response),
        other => {
            let mut refusal =
                ErrorResponse::new(Some(format!("no WebSocket endpoint at {other}; use /gw")));
            *refusal.status_mut() = StatusCode::NOT_FOUND;
            Err(refusal)
        }
    }
}
