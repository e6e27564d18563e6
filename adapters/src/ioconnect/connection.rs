//! The one task that owns the gateway socket and the pending-request table.
//!
//! It connects, says `hello`, joins `agm` and folds the catalogue bootstrap until the join's
//! `success` (the "catalogue ready" barrier), then serves commands from the handles, replies and
//! announcements from the gateway, keep-alive pings and request deadlines in one `select!` loop.
//! When the socket drops it fails every pending request at once, reconnects with capped
//! exponential backoff, rebuilds the catalogue from scratch and re-registers served methods.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::{
    net::TcpStream,
    sync::{broadcast, mpsc, oneshot, watch},
    time::{Instant, MissedTickBehavior},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, protocol::WebSocketConfig},
};

use codemode_protocol::{
    MethodDefinition, MethodFlags, MethodId, PeerId, PendingTable, ProtocolError, RequestId,
    correlation::PendingOutcome,
    gw3::{
        self, Authentication, Call, CreateToken, Domain, ErrorMessage, Gw3Message, Hello, Identity,
        Join, Ping, Register, Yield,
    },
};

use super::{config::IoConnectConfig, state::PeerTable};
use crate::{
    error::BusError,
    model::{BusEvent, Catalogue, HandlerError, MethodHandler, ServedMethod},
};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// State shared between the socket task and the handles.
pub(crate) struct Shared {
    pub(crate) table: RwLock<PeerTable>,
    pub(crate) generation: watch::Sender<u64>,
    pub(crate) events: broadcast::Sender<BusEvent>,
    pub(crate) connected: AtomicBool,
    /// The last snapshot while anyone still holds it: the table already has everything, so a
    /// snapshot nobody uses is not kept (it would double the catalogue's memory).
    pub(crate) snapshot: Mutex<Weak<Catalogue>>,
    pub(crate) identity: RwLock<Identity>,
    /// How to log in again after a drop when the configured authentication is a gateway token
    /// (which expires minutes after io.Connect Desktop handed it over): the freshest token the
    /// session created with `create-token`.
    pub(crate) reconnect_authentication: Mutex<Option<Authentication>>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        let (generation, _) = watch::channel(0);
        let (events, _) = broadcast::channel(256);
        Self {
            table: RwLock::new(PeerTable::default()),
            generation,
            events,
            connected: AtomicBool::new(false),
            snapshot: Mutex::new(Weak::new()),
            identity: RwLock::new(Identity::new()),
            reconnect_authentication: Mutex::new(None),
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

/// A request from a handle to the socket task.
pub(crate) enum Command {
    /// Call one method on one server.
    Call {
        server_id: PeerId,
        method_id: MethodId,
        arguments: Map<String, Value>,
        timeout: Duration,
        responder: oneshot::Sender<PendingOutcome<Gw3Message>>,
    },
    /// Offer a method (now and after every reconnect).
    Serve {
        method: ServedMethod,
        handler: Arc<dyn MethodHandler>,
        responder: oneshot::Sender<Result<(), BusError>>,
    },
    /// Leave the bus.
    Close { done: oneshot::Sender<()> },
}

struct Served {
    id: MethodId,
    method: ServedMethod,
    handler: Arc<dyn MethodHandler>,
}

enum SessionEnd {
    Closed(Option<oneshot::Sender<()>>),
    Dropped(String),
}

/// Runs the connection until [`Command::Close`] or until every handle is gone. `ready` gets the
/// outcome of the first connection attempt.
pub(crate) async fn run(
    config: Arc<IoConnectConfig>,
    shared: Arc<Shared>,
    mut commands: mpsc::Receiver<Command>,
    ready: oneshot::Sender<Result<(), BusError>>,
) {
    let mut ready = Some(ready);
    let mut served: Vec<Served> = Vec::new();
    let mut attempt: u32 = 0;
    loop {
        match establish(&config, &shared, &served).await {
            Ok(mut session) => {
                attempt = 0;
                shared.connected.store(true, Ordering::SeqCst);
                match ready.take() {
                    Some(ready) => {
                        let _ = ready.send(Ok(()));
                    }
                    None => shared.emit(BusEvent::Reconnected {
                        generation: *shared.generation.borrow(),
                    }),
                }
                let end = session
                    .run(&config, &shared, &mut commands, &mut served)
                    .await;
                shared.connected.store(false, Ordering::SeqCst);
                match end {
                    SessionEnd::Closed(done) => {
                        if let Some(done) = done {
                            let _ = done.send(());
                        }
                        return;
                    }
                    SessionEnd::Dropped(reason) => {
                        tracing::warn!(%reason, "gateway connection dropped");
                        shared.emit(BusEvent::Disconnected { reason });
                    }
                }
            }
            Err(error) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(error));
                    return;
                }
                tracing::warn!(%error, "reconnect attempt failed");
            }
        }
        if !config.reconnect {
            drain_while_disconnected(&mut commands, &mut served, None).await;
            return;
        }
        attempt = attempt.saturating_add(1);
        let delay = backoff(&config, attempt);
        tracing::info!(attempt, ?delay, "reconnecting to the gateway");
        shared.emit(BusEvent::Reconnecting { attempt, delay });
        if drain_while_disconnected(&mut commands, &mut served, Some(delay)).await {
            return;
        }
    }
}

fn backoff(config: &IoConnectConfig, attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1).min(16))
        .unwrap_or(u32::MAX);
    config
        .reconnect_initial_delay
        .saturating_mul(factor)
        .min(config.reconnect_max_delay)
}

/// While disconnected: calls fail at once, serve requests are remembered. Returns true when
/// the bus was closed. With `wait == None`, runs until every handle is gone.
async fn drain_while_disconnected(
    commands: &mut mpsc::Receiver<Command>,
    served: &mut Vec<Served>,
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
                Some(Command::Call { responder, .. }) => {
                    let _ = responder.send(Err(ProtocolError::Closed {
                        reason: Some("not connected to the gateway".into()),
                    }));
                }
                Some(Command::Serve { method, handler, responder }) => {
                    served.push(Served { id: next_served_id(served), method, handler });
                    let _ = responder.send(Ok(()));
                }
            },
        }
    }
}

fn next_served_id(served: &[Served]) -> MethodId {
    MethodId::new(Value::String(served.len().to_string()))
}

struct Session {
    socket: Socket,
    peer_id: PeerId,
    pending: PendingTable<Gw3Message>,
    served_results: mpsc::Sender<(codemode_protocol::InvocationId, Result<Value, HandlerError>)>,
    served_results_rx:
        mpsc::Receiver<(codemode_protocol::InvocationId, Result<Value, HandlerError>)>,
    /// Register requests whose `success` we wait for, with their responders.
    registering: HashMap<RequestId, oneshot::Sender<Result<(), BusError>>>,
    /// The `create-token` in flight that refreshes the reconnect token.
    token_request: Option<RequestId>,
    /// Frames are queued, not flushed, until the current batch of commands is done.
    corked: bool,
}

/// Queued commands handled (and their frames written) in one go, at most.
const COMMAND_BATCH: usize = 256;

/// The authentication of the next `hello`: the configured one, unless it is a gateway token and
/// the session created a fresher one.
fn login_authentication(config: &IoConnectConfig, shared: &Shared) -> Authentication {
    shared
        .reconnect_authentication
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .unwrap_or_else(|| config.authentication.clone())
}

/// Connects, logs in and bootstraps the catalogue; the new table replaces the shared one.
async fn establish(
    config: &IoConnectConfig,
    shared: &Shared,
    served: &[Served],
) -> Result<Session, BusError> {
    let connect_error = |reason: String| BusError::Connect {
        url: config.url.clone(),
        reason,
    };
    let handshake = async {
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(config.max_frame_bytes))
            .max_frame_size(Some(config.max_frame_bytes));
        let (mut socket, _) = tokio_tungstenite::connect_async_with_config(
            config.url.as_str(),
            Some(ws_config),
            true,
        )
        .await
        .map_err(|error| connect_error(error.to_string()))?;

        let hello_id = RequestId::random();
        let hello = Gw3Message::Hello(Hello {
            domain: Some(Domain::Global),
            request_id: Some(hello_id.clone()),
            identity: our_identity(config),
            authentication: Some(login_authentication(config, shared)),
        });
        let welcome = exchange(&mut socket, &hello, &hello_id, config, None).await?;
        let welcome = match welcome {
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
        shared
            .identity
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone_from(&welcome.resolved_identity);

        let declared = shared
            .table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .declared_apps()
            .to_vec();
        let mut table = PeerTable::new(peer_id.clone(), declared);
        let join_id = RequestId::random();
        let join = Gw3Message::Join(Join {
            domain: Some(Domain::Global),
            request_id: Some(join_id.clone()),
            peer_id: Some(peer_id.clone()),
            destination: "agm".into(),
            restrictions: None,
            options: None,
        });
        match exchange(&mut socket, &join, &join_id, config, Some(&mut table)).await? {
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

        if !served.is_empty() {
            let register_id = RequestId::random();
            let register = register_message(&peer_id, &register_id, served);
            match exchange(
                &mut socket,
                &register,
                &register_id,
                config,
                Some(&mut table),
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
        Ok((socket, peer_id, table))
    };
    let (socket, peer_id, mut table) = tokio::time::timeout(config.connect_timeout, handshake)
        .await
        .map_err(|_| {
            connect_error(format!("no catalogue within {:?}", config.connect_timeout))
        })??;

    let previous = shared
        .table
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .generation();
    table.continue_generation(previous);
    shared.update_table(|current| *current = table);
    let (served_results, served_results_rx) = mpsc::channel(1024);
    Ok(Session {
        socket,
        peer_id,
        pending: PendingTable::new(),
        served_results,
        served_results_rx,
        registering: HashMap::new(),
        token_request: None,
        corked: false,
    })
}

/// Sends `request` and reads frames until the reply to `request_id`, folding announcements into
/// `table` on the way (the gateway streams the whole catalogue before the join's success).
async fn exchange(
    socket: &mut Socket,
    request: &Gw3Message,
    request_id: &RequestId,
    config: &IoConnectConfig,
    mut table: Option<&mut PeerTable>,
) -> Result<Gw3Message, BusError> {
    let closed = |reason: String| BusError::Connect {
        url: config.url.clone(),
        reason,
    };
    socket
        .send(Message::text(gw3::encode(request)))
        .await
        .map_err(|error| closed(error.to_string()))?;
    loop {
        let frame = match socket.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => {
                return Err(closed(
                    "the gateway closed the connection during the handshake".into(),
                ));
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(closed(error.to_string())),
        };
        let message = match gw3::decode(frame.as_str(), config.max_frame_bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "dropping a malformed frame during the handshake");
                continue;
            }
        };
        if message.request_id() == Some(request_id) {
            return Ok(message);
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
        domain: Some(Domain::Agm),
        request_id: Some(request_id.clone()),
        peer_id: Some(peer_id.clone()),
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

impl Session {
    async fn run(
        &mut self,
        config: &IoConnectConfig,
        shared: &Shared,
        commands: &mut mpsc::Receiver<Command>,
        served: &mut Vec<Served>,
    ) -> SessionEnd {
        let mut ping =
            tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Logged in with a gateway token: keep a fresh one for the next reconnect, the first
        // right away (the token Desktop handed over expires after a few minutes).
        let refresh_tokens = config.authentication.method.as_deref() == Some("gateway-token");
        let mut token_refresh = tokio::time::interval(config.token_refresh_interval);
        token_refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let end = loop {
            let deadline = self.pending.next_deadline().map(Instant::from_std);
            let expiry = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    None => break SessionEnd::Closed(None),
                    Some(Command::Close { done }) => break SessionEnd::Closed(Some(done)),
                    Some(command) => {
                        // Commands already queued (a snippet's gather) go out in one socket
                        // write instead of one write per frame.
                        self.corked = true;
                        let mut outcome = self.on_command(command, served).await.map(|()| None);
                        let mut batched = 1;
                        while matches!(outcome, Ok(None)) && batched < COMMAND_BATCH {
                            match commands.try_recv() {
                                Ok(Command::Close { done }) => outcome = Ok(Some(done)),
                                Ok(command) => {
                                    outcome = self.on_command(command, served).await.map(|()| None);
                                    batched += 1;
                                }
                                Err(_) => break,
                            }
                        }
                        self.corked = false;
                        let flushed = self.socket.flush().await.map_err(|error| error.to_string());
                        match (outcome, flushed) {
                            (Err(reason), _) | (Ok(_), Err(reason)) => break SessionEnd::Dropped(reason),
                            (Ok(Some(done)), Ok(())) => break SessionEnd::Closed(Some(done)),
                            (Ok(None), Ok(())) => {}
                        }
                    }
                },
                frame = self.socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Err(reason) = self.on_frame(text.as_str(), config, shared, served).await {
                            break SessionEnd::Dropped(reason);
                        }
                    }
                    Some(Ok(Message::Close(close))) => {
                        break SessionEnd::Dropped(close.map_or_else(
                            || "the gateway closed the connection".to_owned(),
                            |close| format!("the gateway closed the connection: {}", close.reason),
                        ));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => break SessionEnd::Dropped(error.to_string()),
                    None => break SessionEnd::Dropped("the gateway connection ended".into()),
                },
                Some((invocation_id, outcome)) = self.served_results_rx.recv() => {
                    if let Err(reason) = self.send(&served_reply(&self.peer_id, invocation_id, outcome)).await {
                        break SessionEnd::Dropped(reason);
                    }
                }
                _ = token_refresh.tick(), if refresh_tokens => {
                    let request_id = RequestId::random();
                    let create = Gw3Message::CreateToken(CreateToken {
                        domain: Some(Domain::Global),
                        request_id: Some(request_id.clone()),
                        peer_id: Some(self.peer_id.clone()),
                    });
                    self.token_request = Some(request_id);
                    if let Err(reason) = self.send(&create).await {
                        break SessionEnd::Dropped(reason);
                    }
                }
                _ = ping.tick() => {
                    if let Err(reason) = self.send(&Gw3Message::Ping(Ping {})).await {
                        break SessionEnd::Dropped(reason);
                    }
                }
                () = expiry => {
                    let expired = self.pending.expire(std::time::Instant::now());
                    tracing::debug!(expired, "requests timed out");
                }
            }
        };
        let reason = match &end {
            SessionEnd::Closed(_) => "codemode closed the connection".to_owned(),
            SessionEnd::Dropped(reason) => reason.clone(),
        };
        let failed = self.pending.fail_all(Some(&reason));
        for (_, responder) in self.registering.drain() {
            let _ = responder.send(Err(BusError::Disconnected {
                reason: Some(reason.clone()),
            }));
        }
        if failed > 0 {
            tracing::warn!(failed, %reason, "failed pending requests");
        }
        if matches!(end, SessionEnd::Closed(_)) {
            let _ = self.socket.close(None).await;
        }
        end
    }

    /// Sends a frame; while corked (a batch of commands) it is only queued, and the batch is
    /// flushed at its end.
    async fn send(&mut self, message: &Gw3Message) -> Result<(), String> {
        let frame = Message::text(gw3::encode(message));
        let sent = if self.corked {
            self.socket.feed(frame).await
        } else {
            self.socket.send(frame).await
        };
        sent.map_err(|error| error.to_string())
    }

    async fn on_command(
        &mut self,
        command: Command,
        served: &mut Vec<Served>,
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
                if let Err(error) = self.pending.insert_responder(
                    request_id.clone(),
                    std::time::Instant::now(),
                    timeout,
                    responder,
                ) {
                    tracing::error!(%error, "could not track a call");
                    return Ok(());
                }
                let call = Gw3Message::Call(Call {
                    domain: Some(Domain::Agm),
                    request_id: Some(request_id),
                    peer_id: Some(self.peer_id.clone()),
                    server_id,
                    method_id,
                    arguments_kv: Some(arguments),
                    arguments: None,
                    context: None,
                });
                self.send(&call).await
            }
            Command::Serve {
                method,
                handler,
                responder,
            } => {
                let new_method = Served {
                    id: next_served_id(served),
                    method,
                    handler,
                };
                let request_id = RequestId::random();
                let register = register_message(
                    &self.peer_id,
                    &request_id,
                    std::slice::from_ref(&new_method),
                );
                served.push(new_method);
                self.registering.insert(request_id, responder);
                self.send(&register).await
            }
            Command::Close { .. } => Ok(()),
        }
    }

    async fn on_frame(
        &mut self,
        frame: &str,
        config: &IoConnectConfig,
        shared: &Shared,
        served: &[Served],
    ) -> Result<(), String> {
        let message = match gw3::decode(frame, config.max_frame_bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "dropping a malformed frame from the gateway");
                return Ok(());
            }
        };
        match message {
            Gw3Message::PeerAdded(_)
            | Gw3Message::PeerRemoved(_)
            | Gw3Message::MethodsAdded(_)
            | Gw3Message::MethodsRemoved(_) => {
                if shared.update_table(|table| table.apply(&message)) {
                    shared.emit(BusEvent::CatalogueChanged {
                        generation: *shared.generation.borrow(),
                    });
                }
            }
            Gw3Message::Invoke(invoke) => {
                let Some(target) = served.iter().find(|served| served.id == invoke.method_id)
                else {
                    let error = Gw3Message::Error(ErrorMessage {
                        domain: Some(Domain::Agm),
                        request_id: Some(RequestId::new(invoke.invocation_id.as_str())),
                        peer_id: Some(self.peer_id.clone()),
                        reason_uri: Some(gw3::reasons::CLIENT_ERROR.into()),
                        reason: Some(format!(
                            "no method with id {} is served here",
                            invoke.method_id
                        )),
                        context: None,
                    });
                    return self.send(&error).await;
                };
                let handler = Arc::clone(&target.handler);
                let results = self.served_results.clone();
                let caller = invoke.caller_id.as_ref().and_then(|caller| {
                    shared
                        .table
                        .read()
                        .ok()
                        .and_then(|table| table.identity_of(caller))
                });
                let mut arguments = invoke.arguments_kv.unwrap_or_default();
                codemode_protocol::dates::strip_trace_info(&mut arguments);
                let invocation_id = invoke.invocation_id;
                tokio::spawn(async move {
                    let outcome = handler.handle(arguments, caller).await;
                    let _ = results.send((invocation_id, outcome)).await;
                });
            }
            Gw3Message::Success(success) => {
                if let Some(id) = success.request_id.as_ref() {
                    if let Some(responder) = self.registering.remove(id) {
                        let _ = responder.send(Ok(()));
                    } else {
                        self.pending
                            .resolve(id, Gw3Message::Success(success.clone()));
                    }
                }
            }
            Gw3Message::Error(error) => {
                let Some(id) = error.request_id.clone() else {
                    tracing::warn!(reason = %error_text(&error), "error from the gateway");
                    return Ok(());
                };
                if self.token_request.as_ref() == Some(&id) {
                    self.token_request = None;
                    tracing::warn!(
                        reason = %error_text(&error),
                        "the gateway refused a token for reconnects; a reconnect will reuse the last one"
                    );
                    return Ok(());
                }
                if let Some(responder) = self.registering.remove(&id) {
                    let _ = responder.send(Err(BusError::Refused {
                        request: "register".into(),
                        reason: error_text(&error),
                    }));
                } else {
                    self.pending.resolve(&id, Gw3Message::Error(error));
                }
            }
            Gw3Message::Result(ref result) => {
                if let Some(id) = result.request_id.clone() {
                    self.pending.resolve(&id, message);
                }
            }
            Gw3Message::Token(ref token) => {
                if token.request_id.is_some() && token.request_id == self.token_request {
                    self.token_request = None;
                    *shared
                        .reconnect_authentication
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(Authentication::gateway_token(token.token.as_str()));
                    tracing::debug!("refreshed the gateway token for reconnects");
                } else if let Some(id) = token.request_id.clone() {
                    self.pending.resolve(&id, message);
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
}

fn served_reply(
    peer_id: &PeerId,
    invocation_id: codemode_protocol::InvocationId,
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
                domain: Some(Domain::Agm),
                request_id: None,
                peer_id: Some(peer_id.clone()),
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
