//! The one task that owns the Desktop Agent socket and the pending-request table.
//!
//! It runs the Web Connection Protocol handshake (`WCP1Hello` → `WCP3Handshake` →
//! `WCP4ValidateAppIdentity` → `WCP5…`), then correlates responses by (response type,
//! `requestUuid`) — a raise has two replies with the same uuid — and acknowledges every
//! `heartbeatEvent` at once so the agent never marks us unresponsive. On a drop it fails every
//! pending request, reconnects with backoff presenting the instance id and uuid it was given,
//! and says `WCP6Goodbye` when closed.

use std::{
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use tokio::{
    net::TcpStream,
    sync::{broadcast, mpsc, oneshot},
    time::Instant,
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, protocol::WebSocketConfig},
};

use codemode_protocol::{
    PendingTable, ProtocolError, RequestId,
    correlation::PendingOutcome,
    fdc3::{
        self, FDC3_VERSION, Fdc3Message, HeartbeatAcknowledgementRequest, Wcp1Hello, Wcp3Handshake,
        Wcp4ValidateAppIdentity, Wcp5ValidateAppIdentityResponse,
    },
};

use super::config::Fdc3Config;
use crate::{error::BusError, model::BusEvent};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Who the agent says we are, and the timeouts it asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Session {
    pub(crate) app_id: String,
    pub(crate) instance_id: String,
    pub(crate) instance_uuid: String,
    pub(crate) message_timeout: Option<Duration>,
    pub(crate) app_launch_timeout: Option<Duration>,
}

/// State shared between the socket task and the handles.
pub(crate) struct Shared {
    pub(crate) session: RwLock<Option<Session>>,
    pub(crate) events: broadcast::Sender<BusEvent>,
    pub(crate) connected: AtomicBool,
}

impl Shared {
    pub(crate) fn new() -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            session: RwLock::new(None),
            events,
            connected: AtomicBool::new(false),
        }
    }
}

/// One reply a request waits for.
pub(crate) struct Wait {
    pub(crate) response_type: &'static str,
    pub(crate) timeout: Duration,
    pub(crate) responder: oneshot::Sender<PendingOutcome<Fdc3Message>>,
}

/// A request from a handle to the socket task.
pub(crate) enum Command {
    /// Send `message` after registering `waits` (so no reply can beat its waiter).
    Request {
        message: Box<Fdc3Message>,
        waits: Vec<Wait>,
    },
    /// Say goodbye and stop.
    Close { done: oneshot::Sender<()> },
}

fn pending_key(response_type: &str, request_uuid: &str) -> RequestId {
    RequestId::new(format!("{response_type}/{request_uuid}"))
}

enum End {
    Closed(Option<oneshot::Sender<()>>),
    Dropped(String),
}

/// Runs the connection until closed; `ready` gets the outcome of the first attempt.
pub(crate) async fn run(
    config: Arc<Fdc3Config>,
    shared: Arc<Shared>,
    mut commands: mpsc::Receiver<Command>,
    ready: oneshot::Sender<Result<(), BusError>>,
) {
    let mut ready = Some(ready);
    let mut attempt: u32 = 0;
    loop {
        let previous = shared
            .session
            .read()
            .ok()
            .and_then(|session| session.clone());
        match tokio::time::timeout(
            config.connect_timeout,
            handshake(&config, previous.as_ref()),
        )
        .await
        {
            Ok(Ok((mut socket, session))) => {
                attempt = 0;
                if let Ok(mut slot) = shared.session.write() {
                    *slot = Some(session);
                }
                shared.connected.store(true, Ordering::SeqCst);
                match ready.take() {
                    Some(ready) => {
                        let _ = ready.send(Ok(()));
                    }
                    None => {
                        let _ = shared.events.send(BusEvent::Reconnected { generation: 0 });
                    }
                }
                let end = serve(&mut socket, &config, &mut commands).await;
                shared.connected.store(false, Ordering::SeqCst);
                match end {
                    End::Closed(done) => {
                        let _ = socket
                            .send(Message::text(fdc3::encode(&Fdc3Message::goodbye())))
                            .await;
                        let _ = socket.close(None).await;
                        if let Some(done) = done {
                            let _ = done.send(());
                        }
                        return;
                    }
                    End::Dropped(reason) => {
                        tracing::warn!(%reason, "desktop agent connection dropped");
                        let _ = shared.events.send(BusEvent::Disconnected { reason });
                    }
                }
            }
            Ok(Err(error)) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(error));
                    return;
                }
                tracing::warn!(%error, "reconnect attempt failed");
            }
            Err(_) => {
                let error = BusError::Connect {
                    url: config.url.clone(),
                    reason: format!("no handshake within {:?}", config.connect_timeout),
                };
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(error));
                    return;
                }
            }
        }
        if !config.reconnect {
            fail_commands_until_closed(&mut commands, None).await;
            return;
        }
        attempt = attempt.saturating_add(1);
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1).min(16))
            .unwrap_or(u32::MAX);
        let delay = config
            .reconnect_initial_delay
            .saturating_mul(factor)
            .min(config.reconnect_max_delay);
        let _ = shared
            .events
            .send(BusEvent::Reconnecting { attempt, delay });
        if fail_commands_until_closed(&mut commands, Some(delay)).await {
            return;
        }
    }
}

/// While disconnected, requests fail at once. Returns true when the bus was closed.
async fn fail_commands_until_closed(
    commands: &mut mpsc::Receiver<Command>,
    wait: Option<Duration>,
) -> bool {
    let sleep = tokio::time::sleep(wait.unwrap_or(Duration::MAX / 4));
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return false,
            command = commands.recv() => match command {
                None => return true,
                Some(Command::Close { done }) => {
                    let _ = done.send(());
                    return true;
                }
                Some(Command::Request { waits, .. }) => {
                    for wait in waits {
                        let _ = wait.responder.send(Err(ProtocolError::Closed {
                            reason: Some("not connected to the desktop agent".into()),
                        }));
                    }
                }
            },
        }
    }
}

async fn handshake(
    config: &Fdc3Config,
    previous: Option<&Session>,
) -> Result<(Socket, Session), BusError> {
    let failed = |reason: String| BusError::Connect {
        url: config.url.clone(),
        reason,
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_frame_bytes))
        .max_frame_size(Some(config.max_frame_bytes));
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(config.url.as_str(), Some(ws_config), true)
            .await
            .map_err(|error| failed(error.to_string()))?;
    let attempt = uuid::Uuid::new_v4().to_string();
    let hello = Wcp1Hello {
        identity_url: config.identity_url.clone(),
        actual_url: config.actual_url.clone(),
        fdc3_version: FDC3_VERSION.into(),
        intent_resolver: false,
        channel_selector: false,
    };
    send(
        &mut socket,
        &Fdc3Message::wcp("WCP1Hello", &hello, &attempt),
    )
    .await
    .map_err(failed)?;
    let handshake: Wcp3Handshake = next_step(&mut socket, config, &attempt, &["WCP3Handshake"])
        .await?
        .payload_as()
        .map_err(|error| failed(error.to_string()))?;
    let validate = Wcp4ValidateAppIdentity {
        identity_url: config.identity_url.clone(),
        actual_url: config.actual_url.clone(),
        instance_id: previous.map(|session| session.instance_id.clone()),
        instance_uuid: previous.map(|session| session.instance_uuid.clone()),
    };
    send(
        &mut socket,
        &Fdc3Message::wcp("WCP4ValidateAppIdentity", &validate, &attempt),
    )
    .await
    .map_err(failed)?;
    let answer = next_step(
        &mut socket,
        config,
        &attempt,
        &[
            "WCP5ValidateAppIdentityResponse",
            "WCP5ValidateAppIdentityFailedResponse",
        ],
    )
    .await?;
    if answer.message_type == "WCP5ValidateAppIdentityFailedResponse" {
        let reason = answer
            .payload
            .get("message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("identity refused");
        return Err(BusError::Authentication {
            reason: format!("{reason} (identityUrl {})", config.identity_url),
        });
    }
    let validated: Wcp5ValidateAppIdentityResponse = answer
        .payload_as()
        .map_err(|error| failed(error.to_string()))?;
    tracing::info!(app_id = %validated.app_id, instance_id = %validated.instance_id, "connected to the desktop agent");
    Ok((
        socket,
        Session {
            app_id: validated.app_id,
            instance_id: validated.instance_id,
            instance_uuid: validated.instance_uuid,
            message_timeout: handshake
                .message_exchange_timeout
                .map(Duration::from_millis),
            app_launch_timeout: handshake.app_launch_timeout.map(Duration::from_millis),
        },
    ))
}

async fn next_step(
    socket: &mut Socket,
    config: &Fdc3Config,
    attempt: &str,
    wanted: &[&str],
) -> Result<Fdc3Message, BusError> {
    let failed = |reason: String| BusError::Connect {
        url: config.url.clone(),
        reason,
    };
    loop {
        let frame = match socket.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => {
                return Err(failed(
                    "the agent closed the connection during the handshake".into(),
                ));
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(failed(error.to_string())),
        };
        match fdc3::decode(frame.as_str(), config.max_frame_bytes) {
            Ok(message)
                if wanted.contains(&message.message_type.as_str())
                    && message
                        .meta
                        .connection_attempt_uuid
                        .as_deref()
                        .is_none_or(|id| id == attempt) =>
            {
                return Ok(message);
            }
            Ok(message) => {
                tracing::debug!(message_type = %message.message_type, "ignoring a message during the handshake");
            }
            Err(error) => tracing::warn!(%error, "dropping a malformed frame during the handshake"),
        }
    }
}

async fn send(socket: &mut Socket, message: &Fdc3Message) -> Result<(), String> {
    socket
        .send(Message::text(fdc3::encode(message)))
        .await
        .map_err(|error| error.to_string())
}

async fn serve(
    socket: &mut Socket,
    config: &Fdc3Config,
    commands: &mut mpsc::Receiver<Command>,
) -> End {
    let mut pending: PendingTable<Fdc3Message> = PendingTable::new();
    let end = loop {
        let deadline = pending.next_deadline().map(Instant::from_std);
        let expiry = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            command = commands.recv() => match command {
                None => break End::Closed(None),
                Some(Command::Close { done }) => break End::Closed(Some(done)),
                Some(Command::Request { message, waits }) => {
                    let request_uuid = message.meta.request_uuid.clone().unwrap_or_default();
                    let now = std::time::Instant::now();
                    for wait in waits {
                        let key = pending_key(wait.response_type, &request_uuid);
                        if let Err(error) = pending.insert_responder(key, now, wait.timeout, wait.responder) {
                            tracing::error!(%error, "could not track a request");
                        }
                    }
                    if let Err(reason) = send(socket, &message).await {
                        break End::Dropped(reason);
                    }
                }
            },
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let message = match fdc3::decode(text.as_str(), config.max_frame_bytes) {
                        Ok(message) => message,
                        Err(error) => {
                            tracing::warn!(%error, "dropping a malformed frame from the agent");
                            continue;
                        }
                    };
                    if message.message_type == "heartbeatEvent" {
                        let ack = HeartbeatAcknowledgementRequest {
                            heartbeat_event_uuid: message.meta.event_uuid.clone().unwrap_or_default(),
                        };
                        if let Err(reason) = send(socket, &Fdc3Message::request(&ack, uuid::Uuid::new_v4().to_string())).await {
                            break End::Dropped(reason);
                        }
                    } else if let Some(request_uuid) = message.meta.request_uuid.clone() {
                        let key = pending_key(&message.message_type, &request_uuid);
                        pending.resolve(&key, message);
                    } else {
                        tracing::debug!(message_type = %message.message_type, "ignoring an event");
                    }
                }
                Some(Ok(Message::Close(_))) => break End::Dropped("the agent closed the connection".into()),
                Some(Ok(_)) => {}
                Some(Err(error)) => break End::Dropped(error.to_string()),
                None => break End::Dropped("the agent connection ended".into()),
            },
            () = expiry => {
                pending.expire(std::time::Instant::now());
            }
        }
    };
    let reason = match &end {
        End::Closed(_) => "codemode closed the connection".to_owned(),
        End::Dropped(reason) => reason.clone(),
    };
    pending.fail_all(Some(&reason));
    end
}
