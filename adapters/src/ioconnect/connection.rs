//! io.Connect's side of the [link](crate::link): the GW3 handshake and session.
//!
//! The handshake says `hello`, joins `agm` and folds the catalogue bootstrap until the join's
//! `success` (the "catalogue ready" barrier), then re-registers the methods we serve. The session
//! sends calls and registrations, folds announcements into the peer table, runs served methods,
//! keeps the connection alive with pings and, when logged in with a gateway token, keeps a fresh
//! one for the next reconnect. The link does the rest (socket, backoff, events).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock, Weak},
    time::{Duration, Instant},
};

use serde_json::{Map, Value};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use codemode_protocol::{
    InvocationId, MethodDefinition, MethodFlags, MethodId, PeerId, PendingTable, ProtocolError,
    RequestId, SubscriptionId,
    correlation::{PendingOutcome, saturating_deadline},
    gw3::{
        self, Authentication, Call, CreateToken, Domain, Envelope, ErrorMessage, Gw3Message, Hello,
        Identity, Join, Ping, Register, Yield,
    },
    trace::TraceContext,
};

use super::{
    channels::ContextStore,
    config::IoConnectConfig,
    invocations::RunningInvocations,
    state::PeerTable,
    streams::{StreamTable, SubscribeRequest},
};
use crate::{
    error::BusError,
    link::{Dialect, Wire, handshake_frame},
    model::{BusEvent, Catalogue, HandlerError, MethodHandler, ServedMethod},
};

/// The peer table and the catalogue views of it, shared between the link task (which folds
/// announcements) and the handles (which route calls). It stays behind a lock: routing a call
/// reads one name's servers, and copying a table of thousands of methods per change would cost
/// more than the lock.
pub(crate) struct Shared {
    pub(crate) table: RwLock<PeerTable>,
    pub(crate) generation: watch::Sender<u64>,
    pub(crate) events: broadcast::Sender<BusEvent>,
    /// The last snapshot while anyone still holds it: the table already has everything, so a
    /// snapshot nobody uses is not kept (it would double the catalogue's memory).
    pub(crate) snapshot: Mutex<Weak<Catalogue>>,
    /// The shared contexts (channels) the gateway announced.
    pub(crate) contexts: RwLock<ContextStore>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        let (generation, _) = watch::channel(0);
        let (events, _) = broadcast::channel(256);
        Self {
            table: RwLock::new(PeerTable::default()),
            generation,
            events,
            snapshot: Mutex::new(Weak::new()),
            contexts: RwLock::new(ContextStore::default()),
        }
    }

    /// Applies `change` to the table and publishes the new generation if it moved.
    pub(crate) fn update_table<R>(&self, change: impl FnOnce(&mut PeerTable) -> R) -> R {
        let (result, generation) = {
            let mut table = self
                .table
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let result = change(&mut table);
            (result, table.generation())
        };
        self.generation.send_if_modified(|current| {
            let moved = *current != generation;
            *current = generation;
            moved
        });
        result
    }

    /// The catalogue: the last snapshot if the generation did not move since and someone
    /// still holds it, else a new one.
    pub(crate) fn catalogue(&self) -> Arc<Catalogue> {
        let generation = *self.generation.borrow();
        let mut cached = self
            .snapshot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(snapshot) = cached.upgrade()
            && snapshot.generation == generation
            && generation != 0
        {
            return snapshot;
        }
        let snapshot = Arc::new(
            self.table
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .snapshot(),
        );
        *cached = Arc::downgrade(&snapshot);
        snapshot
    }

    /// A catalogue with the current intents only (no methods), for choosing intent handlers.
    pub(crate) fn intents(&self) -> Catalogue {
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .intents_snapshot()
    }

    fn emit(&self, event: BusEvent) {
        // No receiver is fine: nobody is listening yet.
        let _ = self.events.send(event);
    }
}

/// A request from a handle to the link task.
pub(crate) enum Command {
    /// Call one method on one server.
    Call {
        server_id: PeerId,
        method_id: MethodId,
        arguments: Map<String, Value>,
        timeout: Duration,
        responder: oneshot::Sender<PendingOutcome<Gw3Message>>,
    },
    /// Send a request built with our request and peer ids; its reply (or `error`) answers.
    Request {
        build: Box<dyn FnOnce(RequestId, PeerId) -> Gw3Message + Send>,
        timeout: Duration,
        responder: oneshot::Sender<PendingOutcome<Gw3Message>>,
    },
    /// Subscribe to a streaming method on one server.
    Subscribe(SubscribeRequest),
    /// Close a subscription of this session (its holder dropped it).
    Unsubscribe(SubscriptionId),
    /// Offer a method (now and after every reconnect).
    Serve {
        method: ServedMethod,
        handler: Arc<dyn MethodHandler>,
        responder: oneshot::Sender<Result<(), BusError>>,
    },
}

struct Served {
    id: MethodId,
    method: ServedMethod,
    handler: Arc<dyn MethodHandler>,
}

/// A served method's outcome, reported by its task to the session that received the call.
pub(crate) type ServedResult = (InvocationId, Result<Value, HandlerError>);

/// io.Connect's dialect of the link: what outlives a session (the methods we serve, the token
/// for the next login) lives here, in the link task; our resolved identity is published.
pub(crate) struct Gateway {
    config: Arc<IoConnectConfig>,
    shared: Arc<Shared>,
    identity: watch::Sender<Identity>,
    served: Vec<Served>,
    /// How to log in again after a drop when the configured authentication is a gateway token
    /// (which expires minutes after io.Connect Desktop handed it over): the freshest token the
    /// session created with `create-token`.
    reconnect_authentication: Option<Authentication>,
}

impl Gateway {
    /// The dialect, and a reader of our identity as the gateway resolves it at each login.
    pub(crate) fn new(
        config: Arc<IoConnectConfig>,
        shared: Arc<Shared>,
    ) -> (Self, watch::Receiver<Identity>) {
        let (identity, reader) = watch::channel(Identity::new());
        let gateway = Self {
            config,
            shared,
            identity,
            served: Vec::new(),
            reconnect_authentication: None,
        };
        (gateway, reader)
    }

    /// The authentication of the next `hello`: the configured one, unless it is a gateway token
    /// and a session created a fresher one.
    fn login_authentication(&self) -> Authentication {
        self.reconnect_authentication
            .clone()
            .unwrap_or_else(|| self.config.authentication.clone())
    }

    fn next_served_id(&self) -> MethodId {
        MethodId::new(Value::String(self.served.len().to_string()))
    }
}

/// One gateway connection.
pub(crate) struct Session {
    peer_id: PeerId,
    pending: PendingTable<Gw3Message>,
    /// Where the tasks running served methods report their outcome.
    served_results: mpsc::Sender<ServedResult>,
    /// Served-method invocations still running, cancelled when their caller leaves.
    invocations: RunningInvocations,
    /// Register requests whose `success` we wait for, with their responders.
    registering: HashMap<RequestId, oneshot::Sender<Result<(), BusError>>>,
    /// The `create-token` in flight that refreshes the reconnect token.
    token_request: Option<RequestId>,
    next_ping: Instant,
    /// When to create the next reconnect token; `None` unless logged in with a gateway token.
    next_token_refresh: Option<Instant>,
    /// Stream subscriptions being opened and live.
    streams: StreamTable,
}

impl Dialect for Gateway {
    type Command = Command;
    type Session = Session;
    type Local = ServedResult;

    const PEER: &'static str = "gateway";
    const READY: &'static str = "catalogue";

    /// Logs in, bootstraps the catalogue and re-registers served methods; the new table
    /// replaces the shared one.
    async fn handshake(
        &mut self,
        wire: &mut Wire,
        served_results: mpsc::Sender<ServedResult>,
    ) -> Result<Session, BusError> {
        let config = Arc::clone(&self.config);
        let connect_error = |reason: String| BusError::Connect {
            url: config.url.clone(),
            reason,
        };
        if let Ok(mut contexts) = self.shared.contexts.write() {
            contexts.clear();
        }
        let hello_id = RequestId::random();
        let hello = Gw3Message::Hello(Hello {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(hello_id.clone()),
                ..Envelope::default()
            },
            identity: our_identity(&config),
            authentication: Some(self.login_authentication()),
        });
        let welcome = match exchange(wire, &hello, &hello_id, &config, None, &self.shared).await? {
            Gw3Message::Welcome(welcome) => welcome,
            Gw3Message::Error(error) => {
                return Err(BusError::Authentication {
                    reason: error_text(&error),
                });
            }
            Gw3Message::AuthenticationRequest(_) => {
                return Err(BusError::Authentication {
                    reason: "the gateway asked for a multi-step authentication, which codemode does not support".into(),
                });
            }
            other => {
                return Err(connect_error(format!(
                    "unexpected `{}` reply to hello",
                    other.message_type()
                )));
            }
        };
        let peer_id = welcome.peer_id.clone();
        self.identity.send_replace(welcome.resolved_identity);

        let declared = self
            .shared
            .table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .declared_apps()
            .to_vec();
        let mut table = PeerTable::new(peer_id.clone(), declared);
        let join_id = RequestId::random();
        let join = Gw3Message::Join(Join {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(join_id.clone()),
                peer_id: Some(peer_id.clone()),
                ..Envelope::default()
            },
            destination: "agm".into(),
            restrictions: None,
            options: None,
        });
        match exchange(
            wire,
            &join,
            &join_id,
            &config,
            Some(&mut table),
            &self.shared,
        )
        .await?
        {
            Gw3Message::Success(_) => {}
            Gw3Message::Error(error) => {
                return Err(BusError::Refused {
                    request: "join agm".into(),
                    reason: error_text(&error),
                });
            }
            other => {
                return Err(connect_error(format!(
                    "unexpected `{}` reply to join",
                    other.message_type()
                )));
            }
        }
        tracing::info!(peers = table.peer_count(), %peer_id, "catalogue bootstrap complete");

        if !self.served.is_empty() {
            let register_id = RequestId::random();
            let register = register_message(&peer_id, &register_id, &self.served);
            match exchange(
                wire,
                &register,
                &register_id,
                &config,
                Some(&mut table),
                &self.shared,
            )
            .await?
            {
                Gw3Message::Success(_) => {}
                other => tracing::warn!(
                    reply = other.message_type(),
                    "re-registering served methods failed"
                ),
            }
        }

        let previous = self
            .shared
            .table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .generation();
        table.continue_generation(previous);
        self.shared.update_table(|current| *current = table);
        let now = Instant::now();
        // Logged in with a gateway token: keep a fresh one for the next reconnect, the first
        // right away (the token Desktop handed over expires after a few minutes).
        let refresh_tokens = config.authentication.method.as_deref() == Some("gateway-token");
        Ok(Session {
            peer_id,
            pending: PendingTable::new(),
            served_results,
            invocations: RunningInvocations::default(),
            registering: HashMap::new(),
            token_request: None,
            next_ping: saturating_deadline(now, config.ping_interval),
            next_token_refresh: refresh_tokens.then_some(now),
            streams: StreamTable::default(),
        })
    }

    fn generation(&self) -> u64 {
        *self.shared.generation.borrow()
    }

    async fn on_command(
        &mut self,
        session: &mut Session,
        wire: &mut Wire,
        command: Command,
    ) -> Result<(), String> {
        match command {
            Command::Call {
                server_id,
                method_id,
                arguments,
                timeout,
                responder,
            } => {
                let request_id = RequestId::random();
                if let Err(error) = session.pending.insert_responder(
                    request_id.clone(),
                    Instant::now(),
                    timeout,
                    responder,
                ) {
                    tracing::error!(%error, "could not track a call");
                    return Ok(());
                }
                let call = Gw3Message::Call(Call {
                    envelope: Envelope {
                        domain: Some(Domain::Agm),
                        request_id: Some(request_id),
                        peer_id: Some(session.peer_id.clone()),
                        ..Envelope::default()
                    },
                    server_id,
                    method_id,
                    arguments_kv: Some(arguments),
                    arguments: None,
                    context: None,
                });
                wire.send(gw3::encode(&call)).await
            }
            Command::Request {
                build,
                timeout,
                responder,
            } => {
                let request_id = RequestId::random();
                if let Err(error) = session.pending.insert_responder(
                    request_id.clone(),
                    Instant::now(),
                    timeout,
                    responder,
                ) {
                    tracing::error!(%error, "could not track a request");
                    return Ok(());
                }
                let request = build(request_id, session.peer_id.clone());
                wire.send(gw3::encode(&request)).await
            }
            Command::Subscribe(request) => {
                let subscribe = session.streams.open(&session.peer_id, request);
                wire.send(gw3::encode(&subscribe)).await
            }
            Command::Unsubscribe(subscription_id) => {
                match session.streams.close(&session.peer_id, subscription_id) {
                    Some(unsubscribe) => wire.send(gw3::encode(&unsubscribe)).await,
                    None => Ok(()),
                }
            }
            Command::Serve {
                method,
                handler,
                responder,
            } => {
                let new_method = Served {
                    id: self.next_served_id(),
                    method,
                    handler,
                };
                let request_id = RequestId::random();
                let register = register_message(
                    &session.peer_id,
                    &request_id,
                    std::slice::from_ref(&new_method),
                );
                self.served.push(new_method);
                session.registering.insert(request_id, responder);
                wire.send(gw3::encode(&register)).await
            }
        }
    }

    async fn on_frame(
        &mut self,
        session: &mut Session,
        wire: &mut Wire,
        frame: &str,
    ) -> Result<(), String> {
        let message = match gw3::decode(frame, self.config.max_frame_bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "dropping a malformed frame from the gateway");
                return Ok(());
            }
        };
        if let Gw3Message::PeerRemoved(removed) = &message {
            let stopped = session.invocations.caller_left(&removed.removed_id);
            if stopped > 0 {
                tracing::debug!(peer = %removed.removed_id, stopped, "a caller left: its invocations stop");
            }
        }
        match message {
            Gw3Message::PeerAdded(_)
            | Gw3Message::PeerRemoved(_)
            | Gw3Message::MethodsAdded(_)
            | Gw3Message::MethodsRemoved(_) => {
                if self.shared.update_table(|table| table.apply(&message)) {
                    self.shared.emit(BusEvent::CatalogueChanged {
                        generation: *self.shared.generation.borrow(),
                    });
                }
            }
            Gw3Message::Invoke(invoke) => {
                let Some(target) = self
                    .served
                    .iter()
                    .find(|served| served.id == invoke.method_id)
                else {
                    let error = Gw3Message::Error(ErrorMessage {
                        domain: Some(Domain::Agm),
                        request_id: Some(RequestId::new(invoke.invocation_id.as_str())),
                        peer_id: Some(session.peer_id.clone()),
                        reason_uri: Some(gw3::reasons::CLIENT_ERROR.into()),
                        reason: Some(format!(
                            "no method with id {} is served here",
                            invoke.method_id
                        )),
                        context: None,
                    });
                    return wire.send(gw3::encode(&error)).await;
                };
                let handler = Arc::clone(&target.handler);
                let results = session.served_results.clone();
                let caller = invoke.caller_id.as_ref().and_then(|caller| {
                    self.shared
                        .table
                        .read()
                        .ok()
                        .and_then(|table| table.identity_of(caller))
                });
                let mut arguments = invoke.arguments_kv.unwrap_or_default();
                // The caller's trace goes to the handler, never into the arguments.
                let trace = TraceContext::take_from_arguments(&mut arguments);
                let invocation_id = invoke.invocation_id;
                let caller_left = session
                    .invocations
                    .start(invocation_id.clone(), invoke.caller_id);
                tokio::spawn(async move {
                    let outcome = handler
                        .handle_invocation(
                            arguments,
                            caller,
                            crate::InvocationContext { trace, caller_left },
                        )
                        .await;
                    let _ = results.send((invocation_id, outcome)).await;
                });
            }
            Gw3Message::Success(success) => {
                if let Some(id) = success.envelope.request_id.as_ref() {
                    if let Some(responder) = session.registering.remove(id) {
                        let _ = responder.send(Ok(()));
                    } else {
                        session
                            .pending
                            .resolve(id, Gw3Message::Success(success.clone()));
                    }
                }
            }
            Gw3Message::Error(error) => {
                let Some(id) = error.request_id.clone() else {
                    tracing::warn!(reason = %error_text(&error), "error from the gateway");
                    return Ok(());
                };
                if session.token_request.as_ref() == Some(&id) {
                    session.token_request = None;
                    tracing::warn!(
                        reason = %error_text(&error),
                        "the gateway refused a token for reconnects; a reconnect will reuse the last one"
                    );
                    return Ok(());
                }
                if session.streams.is_opening(&id) {
                    session.streams.refused(&error);
                } else if let Some(responder) = session.registering.remove(&id) {
                    let _ = responder.send(Err(BusError::Refused {
                        request: "register".into(),
                        reason: error_text(&error),
                    }));
                } else {
                    session.pending.resolve(&id, Gw3Message::Error(error));
                }
            }
            Gw3Message::Result(ref result) => {
                if let Some(id) = result.envelope.request_id.clone() {
                    session.pending.resolve(&id, message);
                }
            }
            Gw3Message::ContextAdded(_)
            | Gw3Message::ContextUpdated(_)
            | Gw3Message::ContextDestroyed(_) => {
                if let Ok(mut contexts) = self.shared.contexts.write() {
                    contexts.observe(&message);
                }
            }
            Gw3Message::SubscribedContext(_) | Gw3Message::ContextCreated(_) => {
                if let Ok(mut contexts) = self.shared.contexts.write() {
                    contexts.observe(&message);
                }
                if let Some(id) = message.request_id().cloned() {
                    session.pending.resolve(&id, message);
                }
            }
            Gw3Message::Subscribed(subscribed) => {
                let Some(request_id) = subscribed.envelope.request_id else {
                    return Ok(());
                };
                if let Some(unsubscribe) = session.streams.subscribed(
                    &session.peer_id,
                    &request_id,
                    subscribed.subscription_id,
                ) {
                    return wire.send(gw3::encode(&unsubscribe)).await;
                }
            }
            Gw3Message::Event(event) => {
                if let Some(unsubscribe) =
                    session
                        .streams
                        .event(&session.peer_id, &event.subscription_id, event.data)
                {
                    return wire.send(gw3::encode(&unsubscribe)).await;
                }
            }
            Gw3Message::SubscriptionCancelled(cancelled) => {
                let reason = cancelled
                    .envelope
                    .reason
                    .or(cancelled.envelope.reason_uri)
                    .unwrap_or_else(|| "the server ended the subscription".into());
                session
                    .streams
                    .cancelled(&cancelled.subscription_id, reason);
            }
            Gw3Message::Token(ref token) => {
                if token.envelope.request_id.is_some()
                    && token.envelope.request_id == session.token_request
                {
                    session.token_request = None;
                    self.reconnect_authentication =
                        Some(Authentication::gateway_token(token.token.as_str()));
                    tracing::debug!("refreshed the gateway token for reconnects");
                } else if let Some(id) = token.envelope.request_id.clone() {
                    session.pending.resolve(&id, message);
                }
            }
            Gw3Message::Unknown(ref object) => {
                tracing::debug!(
                    message_type = message.message_type(),
                    keys = object.len(),
                    "ignoring an unknown message"
                );
            }
            other => tracing::trace!(message_type = other.message_type(), "ignoring a message"),
        }
        Ok(())
    }

    async fn on_local(
        &mut self,
        session: &mut Session,
        wire: &mut Wire,
        (invocation_id, outcome): ServedResult,
    ) -> Result<(), String> {
        session.invocations.finished(&invocation_id);
        let reply = served_reply(&session.peer_id, invocation_id, outcome);
        wire.send(gw3::encode(&reply)).await
    }

    fn next_wake(&self, session: &Session) -> Option<Instant> {
        [
            session.pending.next_wake(),
            Some(session.next_ping),
            session.next_token_refresh,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    async fn on_wake(
        &mut self,
        session: &mut Session,
        wire: &mut Wire,
        now: Instant,
    ) -> Result<(), String> {
        if session.pending.next_wake().is_some_and(|wake| wake <= now) {
            let expired = session.pending.expire(now);
            tracing::debug!(expired, "requests timed out");
        }
        if session.next_token_refresh.is_some_and(|at| at <= now) {
            session.next_token_refresh =
                Some(saturating_deadline(now, self.config.token_refresh_interval));
            let request_id = RequestId::random();
            let create = Gw3Message::CreateToken(CreateToken {
                envelope: Envelope {
                    domain: Some(Domain::Global),
                    request_id: Some(request_id.clone()),
                    peer_id: Some(session.peer_id.clone()),
                    ..Envelope::default()
                },
            });
            session.token_request = Some(request_id);
            wire.send(gw3::encode(&create)).await?;
        }
        if session.next_ping <= now {
            session.next_ping = saturating_deadline(now, self.config.ping_interval);
            wire.send(gw3::encode(&Gw3Message::Ping(Ping {}))).await?;
        }
        Ok(())
    }

    fn end_session(&mut self, mut session: Session, reason: &str) {
        let failed = session.pending.fail_all(Some(reason));
        for (_, responder) in session.registering.drain() {
            let _ = responder.send(Err(BusError::Disconnected {
                reason: Some(reason.to_owned()),
            }));
        }
        if failed > 0 {
            tracing::warn!(failed, %reason, "failed pending requests");
        }
    }

    /// While disconnected: calls fail at once, serve requests are remembered.
    fn refuse(&mut self, command: Command) {
        match command {
            Command::Call { responder, .. } | Command::Request { responder, .. } => {
                let _ = responder.send(Err(ProtocolError::Closed {
                    reason: Some("not connected to the gateway".into()),
                }));
            }
            Command::Subscribe(request) => {
                let _ = request.responder.send(Err(BusError::Disconnected {
                    reason: Some("not connected to the gateway".into()),
                }));
            }
            Command::Unsubscribe(_) => {}
            Command::Serve {
                method,
                handler,
                responder,
            } => {
                self.served.push(Served {
                    id: self.next_served_id(),
                    method,
                    handler,
                });
                let _ = responder.send(Ok(()));
            }
        }
    }
}

/// Sends `request` and reads frames until the reply to `request_id`, folding announcements into
/// `table` on the way (the gateway streams the whole catalogue before the join's success).
async fn exchange(
    wire: &mut Wire,
    request: &Gw3Message,
    request_id: &RequestId,
    config: &IoConnectConfig,
    mut table: Option<&mut PeerTable>,
    shared: &Shared,
) -> Result<Gw3Message, BusError> {
    let closed = |reason: String| BusError::Connect {
        url: config.url.clone(),
        reason,
    };
    wire.send(gw3::encode(request)).await.map_err(closed)?;
    loop {
        let frame = handshake_frame(wire, "gateway").await.map_err(closed)?;
        let message = match gw3::decode(frame.as_str(), config.max_frame_bytes) {
            Ok(message) => message,
            Err(error) => {
                // Not JSON, or our reply in the wrong shape: the handshake cannot go on. A
                // malformed frame about something else is dropped.
                let ours = serde_json::from_str::<Value>(frame.as_str()).map(|value| {
                    value.get("request_id").and_then(Value::as_str) == Some(request_id.as_str())
                });
                match ours {
                    Err(_) => {
                        return Err(closed(format!(
                            "the gateway sent a frame that is not JSON during the handshake: \
                             {error}"
                        )));
                    }
                    Ok(true) => {
                        return Err(closed(format!(
                            "the gateway's reply to `{}` is malformed: {error}",
                            request.message_type()
                        )));
                    }
                    Ok(false) => {
                        tracing::warn!(%error, "dropping a malformed frame during the handshake");
                        continue;
                    }
                }
            }
        };
        if message.request_id() == Some(request_id) {
            return Ok(message);
        }
        if let Ok(mut contexts) = shared.contexts.write() {
            contexts.observe(&message);
        }
        if let Some(table) = table.as_deref_mut() {
            table.apply(&message);
        }
    }
}

fn our_identity(config: &IoConnectConfig) -> Identity {
    let instance = config
        .instance
        .clone()
        .unwrap_or_else(|| format!("{}-{}", config.application, uuid::Uuid::new_v4().simple()));
    let mut identity = Identity::new();
    identity.insert(
        "application".into(),
        Value::String(config.application.clone()),
    );
    identity.insert(
        "applicationName".into(),
        Value::String(config.application.clone()),
    );
    identity.insert("instance".into(), Value::String(instance));
    identity.insert("process".into(), Value::from(std::process::id()));
    identity.insert(
        "api".into(),
        Value::String(format!("codemode-{}", env!("CARGO_PKG_VERSION"))),
    );
    identity
}

fn register_message(peer_id: &PeerId, request_id: &RequestId, served: &[Served]) -> Gw3Message {
    Gw3Message::Register(Register {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            request_id: Some(request_id.clone()),
            peer_id: Some(peer_id.clone()),
            ..Envelope::default()
        },
        methods: served
            .iter()
            .map(|served| definition(served.id.clone(), &served.method))
            .collect(),
    })
}

fn definition(id: MethodId, method: &ServedMethod) -> MethodDefinition {
    MethodDefinition {
        display_name: method.display_name.clone(),
        description: method.description.clone(),
        input_signature: method.input_signature.clone(),
        result_signature: method.result_signature.clone(),
        flags: MethodFlags {
            metadata: method.metadata.clone(),
            streaming: false,
        },
        ..MethodDefinition::new(id, method.name.clone())
    }
}

pub(crate) fn error_text(error: &ErrorMessage) -> String {
    match (&error.reason, &error.reason_uri) {
        (Some(reason), _) if !reason.is_empty() => reason.clone(),
        (_, Some(uri)) => uri.clone(),
        _ => "unknown error".into(),
    }
}

fn served_reply(
    peer_id: &PeerId,
    invocation_id: InvocationId,
    outcome: Result<Value, HandlerError>,
) -> Gw3Message {
    match outcome {
        Ok(result) => {
            let result = match result {
                Value::Object(_) => result,
                Value::Null => Value::Object(Map::new()),
                other => {
                    let mut wrapped = Map::new();
                    wrapped.insert("_value".into(), other);
                    Value::Object(wrapped)
                }
            };
            Gw3Message::Yield(Yield {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    request_id: None,
                    peer_id: Some(peer_id.clone()),
                    ..Envelope::default()
                },
                invocation_id,
                result: Some(result),
            })
        }
        Err(error) => Gw3Message::Error(ErrorMessage {
            domain: Some(Domain::Agm),
            request_id: Some(RequestId::new(invocation_id.as_str())),
            peer_id: Some(peer_id.clone()),
            reason_uri: Some(gw3::reasons::CLIENT_ERROR.into()),
            reason: Some(error.reason),
            context: Some(error.context.unwrap_or_else(|| Value::Object(Map::new()))),
        }),
    }
}
