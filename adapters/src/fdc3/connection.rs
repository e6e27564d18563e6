//! FDC3's side of the [link](crate::link): the Web Connection Protocol handshake and session.
//!
//! The handshake is `WCP1Hello` → `WCP3Handshake` → `WCP4ValidateAppIdentity` → `WCP5…`; after
//! a drop it presents the instance id and uuid it was given. The session correlates responses
//! by (response type, `requestUuid`) — a raise has two replies with the same uuid — and
//! acknowledges every `heartbeatEvent` at once so the agent never marks us unresponsive. Closing
//! says `WCP6Goodbye`. The link does the rest (socket, backoff, events).

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use codemode_protocol::{
    PendingTable, ProtocolError, RequestId,
    correlation::PendingOutcome,
    fdc3::{
        self, FDC3_VERSION, Fdc3Message, HeartbeatAcknowledgementRequest, Wcp1Hello, Wcp3Handshake,
        Wcp4ValidateAppIdentity, Wcp5ValidateAppIdentityResponse,
    },
};

use super::config::Fdc3Config;
use crate::{
    error::BusError,
    link::{Dialect, Wire, handshake_frame},
};

/// Who the agent says we are, and the timeouts it asked for; published at every login.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionInfo {
    pub(crate) app_id: String,
    pub(crate) instance_id: String,
    pub(crate) instance_uuid: String,
    pub(crate) message_timeout: Option<Duration>,
    pub(crate) app_launch_timeout: Option<Duration>,
}

/// One reply a request waits for.
pub(crate) struct Wait {
    pub(crate) response_type: &'static str,
    pub(crate) timeout: Duration,
    pub(crate) responder: oneshot::Sender<PendingOutcome<Fdc3Message>>,
}

/// A request from a handle: send `message` after registering `waits` (so no reply can beat
/// its waiter).
pub(crate) struct Command {
    pub(crate) message: Box<Fdc3Message>,
    pub(crate) waits: Vec<Wait>,
}

fn pending_key(response_type: &str, request_uuid: &str) -> RequestId {
    RequestId::new(format!("{response_type}/{request_uuid}"))
}

/// FDC3's dialect of the link: the validated session is published to the handles.
pub(crate) struct Agent {
    config: std::sync::Arc<Fdc3Config>,
    session: watch::Sender<Option<SessionInfo>>,
}

impl Agent {
    /// The dialect, and a reader of the session the agent validated at the last login.
    pub(crate) fn new(
        config: std::sync::Arc<Fdc3Config>,
    ) -> (Self, watch::Receiver<Option<SessionInfo>>) {
        let (session, reader) = watch::channel(None);
        (Self { config, session }, reader)
    }
}

/// One agent connection: the requests waiting for their replies.
pub(crate) struct Session {
    pending: PendingTable<Fdc3Message>,
}

/// An agent session spawns no tasks: nothing is reported back.
pub(crate) enum NoEvent {}

impl Dialect for Agent {
    type Command = Command;
    type Session = Session;
    type Local = NoEvent;

    const PEER: &'static str = "agent";
    const READY: &'static str = "handshake";

    async fn handshake(
        &mut self,
        wire: &mut Wire,
        _local: mpsc::Sender<NoEvent>,
    ) -> Result<Session, BusError> {
        let config = std::sync::Arc::clone(&self.config);
        let failed = |reason: String| BusError::Connect {
            url: config.url.clone(),
            reason,
        };
        let previous = self.session.borrow().clone();
        let attempt = uuid::Uuid::new_v4().to_string();
        let hello = Wcp1Hello {
            identity_url: config.identity_url.clone(),
            actual_url: config.actual_url.clone(),
            fdc3_version: FDC3_VERSION.into(),
            intent_resolver: false,
            channel_selector: false,
        };
        wire.send(fdc3::encode(&Fdc3Message::wcp(
            "WCP1Hello",
            &hello,
            &attempt,
        )))
        .await
        .map_err(failed)?;
        let handshake: Wcp3Handshake = next_step(wire, &config, &attempt, &["WCP3Handshake"])
            .await?
            .payload_as()
            .map_err(|error| failed(error.to_string()))?;
        let validate = Wcp4ValidateAppIdentity {
            identity_url: config.identity_url.clone(),
            actual_url: config.actual_url.clone(),
            instance_id: previous.as_ref().map(|session| session.instance_id.clone()),
            instance_uuid: previous
                .as_ref()
                .map(|session| session.instance_uuid.clone()),
        };
        wire.send(fdc3::encode(&Fdc3Message::wcp(
            "WCP4ValidateAppIdentity",
            &validate,
            &attempt,
        )))
        .await
        .map_err(failed)?;
        let answer = next_step(
            wire,
            &config,
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
        self.session.send_replace(Some(SessionInfo {
            app_id: validated.app_id,
            instance_id: validated.instance_id,
            instance_uuid: validated.instance_uuid,
            message_timeout: handshake
                .message_exchange_timeout
                .map(Duration::from_millis),
            app_launch_timeout: handshake.app_launch_timeout.map(Duration::from_millis),
        }));
        Ok(Session {
            pending: PendingTable::new(),
        })
    }

    async fn on_command(
        &mut self,
        session: &mut Session,
        wire: &mut Wire,
        Command { message, waits }: Command,
    ) -> Result<(), String> {
        let request_uuid = message.meta.request_uuid.clone().unwrap_or_default();
        let now = Instant::now();
        for wait in waits {
            let key = pending_key(wait.response_type, &request_uuid);
            if let Err(error) =
                session
                    .pending
                    .insert_responder(key, now, wait.timeout, wait.responder)
            {
                tracing::error!(%error, "could not track a request");
            }
        }
        wire.send(fdc3::encode(&message)).await
    }

    async fn on_frame(
        &mut self,
        session: &mut Session,
        wire: &mut Wire,
        frame: &str,
    ) -> Result<(), String> {
        let message = match fdc3::decode(frame, self.config.max_frame_bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "dropping a malformed frame from the agent");
                return Ok(());
            }
        };
        if message.message_type == "heartbeatEvent" {
            let ack = HeartbeatAcknowledgementRequest {
                heartbeat_event_uuid: message.meta.event_uuid.clone().unwrap_or_default(),
            };
            let ack = Fdc3Message::request(&ack, uuid::Uuid::new_v4().to_string());
            wire.send(fdc3::encode(&ack)).await
        } else if let Some(request_uuid) = message.meta.request_uuid.clone() {
            let key = pending_key(&message.message_type, &request_uuid);
            session.pending.resolve(&key, message);
            Ok(())
        } else {
            tracing::debug!(message_type = %message.message_type, "ignoring an event");
            Ok(())
        }
    }

    async fn on_local(
        &mut self,
        _session: &mut Session,
        _wire: &mut Wire,
        event: NoEvent,
    ) -> Result<(), String> {
        match event {}
    }

    fn next_wake(&self, session: &Session) -> Option<Instant> {
        session.pending.next_wake()
    }

    async fn on_wake(
        &mut self,
        session: &mut Session,
        _wire: &mut Wire,
        now: Instant,
    ) -> Result<(), String> {
        session.pending.expire(now);
        Ok(())
    }

    fn end_session(&mut self, mut session: Session, reason: &str) {
        session.pending.fail_all(Some(reason));
    }

    /// While disconnected, requests fail at once.
    fn refuse(&mut self, command: Command) {
        for wait in command.waits {
            let _ = wait.responder.send(Err(ProtocolError::Closed {
                reason: Some("not connected to the desktop agent".into()),
            }));
        }
    }

    async fn goodbye(&mut self, wire: &mut Wire) {
        let _ = wire.send(fdc3::encode(&Fdc3Message::goodbye())).await;
    }
}

/// Reads frames until one of the `wanted` handshake steps of this connection `attempt`.
async fn next_step(
    wire: &mut Wire,
    config: &Fdc3Config,
    attempt: &str,
    wanted: &[&str],
) -> Result<Fdc3Message, BusError> {
    let failed = |reason: String| BusError::Connect {
        url: config.url.clone(),
        reason,
    };
    loop {
        let frame = handshake_frame(wire, "agent").await.map_err(failed)?;
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
