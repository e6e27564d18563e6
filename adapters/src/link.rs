//! The one reconnecting link both dialects run on: a task that owns the WebSocket, the
//! session's pending requests (through its [`Dialect`]) and the backoff.
//!
//! The task connects within a timeout, lets the dialect run its handshake, then serves one
//! session: commands from the handles, frames from the peer, events from tasks the session
//! spawned, and the dialect's timers (deadlines, pings), all in one `select!` loop. When the
//! socket drops, the dialect fails its pending requests, [`BusEvent::Disconnected`] goes out, and
//! while the task waits (capped, jittered exponential backoff, announced as
//! [`BusEvent::Reconnecting`]) commands are refused at once. During the wait the peer's TCP
//! port is probed every [`PROBE_INTERVAL`]: when it was closed and opens again (the gateway
//! restarted), the task retries at once instead of sleeping out the backoff. A new session after a drop is
//! [`BusEvent::Reconnected`]. Closing (or dropping every handle) ends the session, lets the
//! dialect say goodbye and closes the socket. Whether the link is up is published on a `watch`
//! channel, so readers never share a lock with the task.

use std::{
    future::Future,
    hash::BuildHasher,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use tokio::{
    net::TcpStream,
    sync::{broadcast, mpsc, oneshot, watch},
};
use tokio_tungstenite::{
    Connector, MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, Utf8Bytes, protocol::WebSocketConfig},
};

use crate::{
    error::BusError,
    model::BusEvent,
    tls::{self, TlsConfig},
};

/// One dialect's part of a link: its handshake, its frames and its commands. The link calls
/// these from its task only, so a dialect keeps its state in plain fields, no locks.
pub(crate) trait Dialect: Send + 'static {
    /// A request from a handle (a call, a served method…).
    type Command: Send + 'static;
    /// What one connection knows: the pending requests, the peer id, timers.
    type Session: Send;
    /// What tasks spawned during a session report back (e.g. a served method's result).
    type Local: Send + 'static;

    /// The peer, for messages: `gateway`, `agent`.
    const PEER: &'static str;
    /// What the connect timeout waits for, for its error: `catalogue`, `handshake`.
    const READY: &'static str;

    /// Logs in on a freshly opened socket; `local` reaches this session's loop.
    fn handshake(
        &mut self,
        wire: &mut Wire,
        local: mpsc::Sender<Self::Local>,
    ) -> impl Future<Output = Result<Self::Session, BusError>> + Send;

    /// The catalogue generation announced with [`BusEvent::Reconnected`].
    fn generation(&self) -> u64 {
        0
    }

    /// Handles one command while connected; `Err` drops the connection with that reason.
    fn on_command(
        &mut self,
        session: &mut Self::Session,
        wire: &mut Wire,
        command: Self::Command,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Handles one text frame from the peer; `Err` drops the connection with that reason.
    fn on_frame(
        &mut self,
        session: &mut Self::Session,
        wire: &mut Wire,
        frame: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Handles what a task of this session reported.
    fn on_local(
        &mut self,
        session: &mut Self::Session,
        wire: &mut Wire,
        event: Self::Local,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// When [`Self::on_wake`] must run next (a request deadline, a ping), if ever.
    fn next_wake(&self, session: &Self::Session) -> Option<Instant>;

    /// Runs what is due at `now`: expires requests, sends keep-alives.
    fn on_wake(
        &mut self,
        session: &mut Self::Session,
        wire: &mut Wire,
        now: Instant,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// The session is over (closed or dropped): fail everything still pending with `reason`.
    fn end_session(&mut self, session: Self::Session, reason: &str);

    /// A command that arrived while disconnected: fail it at once (or keep it for later).
    fn refuse(&mut self, command: Self::Command);

    /// The last frames before the socket closes on [`Link::close`].
    fn goodbye(&mut self, wire: &mut Wire) -> impl Future<Output = ()> + Send {
        let _ = wire;
        async {}
    }
}

/// Where and how patiently a link connects.
#[derive(Debug, Clone)]
pub(crate) struct LinkConfig {
    /// The peer's WebSocket URL.
    pub(crate) url: String,
    /// Timeout of the connect plus the dialect's handshake.
    pub(crate) connect_timeout: Duration,
    /// Whether to reconnect after a drop.
    pub(crate) reconnect: bool,
    /// The delays between reconnect attempts.
    pub(crate) backoff: Backoff,
    /// Largest frame (and message) accepted.
    pub(crate) max_frame_bytes: usize,
    /// How `wss://` peers are verified.
    pub(crate) tls: TlsConfig,
}

/// Capped exponential backoff with jitter: attempt `n` waits `initial · 2^(n−1)`, at most `max`,
/// scaled down by up to half at random, so clients dropped together do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first attempt (before jitter).
    pub initial: Duration,
    /// The cap of the delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay before attempt `attempt` (from 1) with `jitter` in `0.0..=1.0`: 0 gives half
    /// the capped delay, 1 the whole; anything else (NaN included) is clamped into the range.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1).min(16))
            .unwrap_or(u32::MAX);
        let capped = self.initial.saturating_mul(factor).min(self.max);
        let jitter = if jitter.is_nan() {
            1.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        // `mul_f64` panics where seconds round past `u64::MAX`; a delay that large is the cap.
        Duration::try_from_secs_f64(capped.as_secs_f64() * (0.5 + jitter / 2.0))
            .map_or(capped, |delay| delay.min(capped))
    }
}

/// The longest a peer may stay silent during a handshake before the attempt fails with that
/// cause (rather than waiting out the whole connect timeout).
pub(crate) const HANDSHAKE_SILENCE: Duration = Duration::from_secs(2);

/// The next frame of a handshake: text, or the named cause why there is none (closed, a
/// binary frame, [`HANDSHAKE_SILENCE`]) for `peer`'s handshake error.
pub(crate) async fn handshake_frame(wire: &mut Wire, peer: &str) -> Result<Utf8Bytes, String> {
    match tokio::time::timeout(HANDSHAKE_SILENCE, wire.receive()).await {
        Err(_) => Err(format!(
            "the {peer} sent nothing for {HANDSHAKE_SILENCE:?} during the handshake"
        )),
        Ok(Inbound::Text(text)) => Ok(text),
        Ok(Inbound::Binary(bytes)) => Err(format!(
            "the {peer} sent a binary frame ({bytes} bytes) during the handshake; the protocol \
             is JSON text"
        )),
        Ok(Inbound::Close(Some(reason))) => Err(format!(
            "the {peer} closed the connection during the handshake: {reason}"
        )),
        Ok(Inbound::Close(None) | Inbound::Ended) => Err(format!(
            "the {peer} closed the connection during the handshake"
        )),
        Ok(Inbound::Failed(error)) => Err(error),
    }
}

/// How often a waiting link probes its peer's port.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// Waits until the TCP port of `url` has been seen closed and then open; `false` at once when
/// the URL names no host (nothing to probe).
async fn port_reopened(url: &str) -> bool {
    let Some(address) = host_and_port(url) else {
        return false;
    };
    let mut seen_closed = false;
    loop {
        let open = matches!(
            tokio::time::timeout(PROBE_INTERVAL, TcpStream::connect(&address)).await,
            Ok(Ok(_))
        );
        if open && seen_closed {
            return true;
        }
        seen_closed |= !open;
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// Whether `url` is a `wss://` URL.
fn is_tls_url(url: &str) -> bool {
    url.get(..6)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("wss://"))
}

/// `host:port` of a `ws://` or `wss://` URL (default ports 80 and 443).
fn host_and_port(url: &str) -> Option<String> {
    let uri: tokio_tungstenite::tungstenite::http::Uri = url.parse().ok()?;
    let host = uri.host()?;
    let port = uri.port_u16().or(match uri.scheme_str()? {
        "ws" | "http" => Some(80),
        "wss" | "https" => Some(443),
        _ => None,
    })?;
    Some(format!("{host}:{port}"))
}

/// A random number in `0.0..=1.0` for [`Backoff::delay`], from the standard hasher's seed.
fn jitter() -> f64 {
    let random = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    let high = u32::try_from(random >> 32).unwrap_or(u32::MAX);
    f64::from(high) / f64::from(u32::MAX)
}

/// A handle's end of a link: send commands, ask whether it is up, close it. Dropping every
/// handle ends the task as [`Link::close`] does.
pub(crate) struct Link<C> {
    requests: mpsc::Sender<Request<C>>,
    connected: watch::Receiver<bool>,
}

/// The link task is gone (closed, or it gave up without reconnecting).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkClosed;

impl<C: Send + 'static> Link<C> {
    /// Starts the task for `dialect` and waits for its first session: a failed first attempt
    /// is the error (no retry), later drops reconnect.
    pub(crate) async fn start<D: Dialect<Command = C>>(
        dialect: D,
        config: LinkConfig,
        events: broadcast::Sender<BusEvent>,
    ) -> Result<Self, BusError> {
        let (requests, receiver) = mpsc::channel(1024);
        let (connected_tx, connected) = watch::channel(false);
        let (ready_tx, ready_rx) = oneshot::channel();
        let url = config.url.clone();
        let task = Task {
            dialect,
            config,
            events,
            connected: connected_tx,
            requests: receiver,
        };
        tokio::spawn(task.run(ready_tx));
        ready_rx.await.map_err(|_| BusError::Connect {
            url,
            reason: "the connection task ended unexpectedly".into(),
        })??;
        Ok(Self {
            requests,
            connected,
        })
    }

    /// Hands `command` to the task.
    pub(crate) async fn send(&self, command: C) -> Result<(), LinkClosed> {
        self.requests
            .send(Request::Command(command))
            .await
            .map_err(|_| LinkClosed)
    }

    /// Whether a session is up right now.
    pub(crate) fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Ends the session (the dialect says goodbye) and waits until the task is done.
    pub(crate) async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.requests.send(Request::Close(done)).await.is_ok() {
            let _ = finished.await;
        }
    }

    /// A handle that does not keep the task alive.
    pub(crate) fn downgrade(&self) -> WeakLink<C> {
        WeakLink {
            requests: self.requests.downgrade(),
            connected: self.connected.clone(),
        }
    }
}

/// A [`Link`] that does not keep its task alive (for helper tasks of the handles).
pub(crate) struct WeakLink<C> {
    requests: mpsc::WeakSender<Request<C>>,
    connected: watch::Receiver<bool>,
}

impl<C> WeakLink<C> {
    /// The link, while some strong handle still exists.
    pub(crate) fn upgrade(&self) -> Option<Link<C>> {
        Some(Link {
            requests: self.requests.upgrade()?,
            connected: self.connected.clone(),
        })
    }

    /// Hands `command` to the task without waiting (for `Drop`): when the queue is full it is
    /// sent from a spawned task. Nothing happens once every strong handle is gone.
    pub(crate) fn send_now(&self, command: C)
    where
        C: Send + 'static,
    {
        let Some(requests) = self.requests.upgrade() else {
            return;
        };
        match requests.try_send(Request::Command(command)) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(request)) => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        let _ = requests.send(request).await;
                    });
                }
            }
        }
    }

    /// Whether every strong handle is gone.
    pub(crate) fn is_abandoned(&self) -> bool {
        self.requests.strong_count() == 0
    }
}

enum Request<C> {
    Command(C),
    Close(oneshot::Sender<()>),
}

/// The socket of one session. While corked (a batch of commands), frames are queued and the
/// batch is flushed at its end, in one write.
pub(crate) struct Wire {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    corked: bool,
}

/// What arrived on the socket.
pub(crate) enum Inbound {
    /// A text frame.
    Text(Utf8Bytes),
    /// A binary frame (neither dialect uses them) of this many bytes.
    Binary(usize),
    /// The peer closed the connection, with its reason if it gave one.
    Close(Option<String>),
    /// The stream ended without a close frame.
    Ended,
    /// A transport error.
    Failed(String),
}

impl Wire {
    async fn open(config: &LinkConfig) -> Result<Self, String> {
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(config.max_frame_bytes))
            .max_frame_size(Some(config.max_frame_bytes));
        // Our own rustls configuration for `wss://` (platform roots plus --ca-file); `ws://`
        // ignores the connector.
        let connector = if is_tls_url(&config.url) {
            Some(Connector::Rustls(config.tls.client_config()?))
        } else {
            None
        };
        let (socket, _) = tokio::time::timeout(
            HANDSHAKE_SILENCE,
            tokio_tungstenite::connect_async_tls_with_config(
                config.url.as_str(),
                Some(ws_config),
                true,
                connector,
            ),
        )
        .await
        .map_err(|_| {
            format!(
                "the peer accepted the connection but sent no WebSocket handshake within \
                 {HANDSHAKE_SILENCE:?} (is it a bus?)"
            )
        })?
        .map_err(|error| tls::explain(&error).unwrap_or_else(|| error.to_string()))?;
        Ok(Self {
            socket,
            corked: false,
        })
    }

    /// Sends one text frame (only queues it while corked).
    pub(crate) async fn send(&mut self, frame: String) -> Result<(), String> {
        let frame = Message::text(frame);
        let sent = if self.corked {
            self.socket.feed(frame).await
        } else {
            self.socket.send(frame).await
        };
        sent.map_err(|error| error.to_string())
    }

    /// The next text or binary frame or the end of the connection; control frames are
    /// skipped.
    pub(crate) async fn receive(&mut self) -> Inbound {
        loop {
            return match self.socket.next().await {
                Some(Ok(Message::Text(text))) => Inbound::Text(text),
                Some(Ok(Message::Binary(bytes))) => Inbound::Binary(bytes.len()),
                Some(Ok(Message::Close(close))) => Inbound::Close(
                    close
                        .map(|close| close.reason.to_string())
                        .filter(|reason| !reason.is_empty()),
                ),
                Some(Ok(_)) => continue,
                Some(Err(error)) => Inbound::Failed(error.to_string()),
                None => Inbound::Ended,
            };
        }
    }

    async fn flush(&mut self) -> Result<(), String> {
        self.socket.flush().await.map_err(|error| error.to_string())
    }
}

/// Queued commands handled (and their frames written) in one go, at most.
const COMMAND_BATCH: usize = 256;

enum End {
    Closed(Option<oneshot::Sender<()>>),
    Dropped(String),
}

struct Task<D: Dialect> {
    dialect: D,
    config: LinkConfig,
    events: broadcast::Sender<BusEvent>,
    connected: watch::Sender<bool>,
    requests: mpsc::Receiver<Request<D::Command>>,
}

impl<D: Dialect> Task<D> {
    async fn run(mut self, ready: oneshot::Sender<Result<(), BusError>>) {
        let mut ready = Some(ready);
        let mut attempt: u32 = 0;
        loop {
            match self.connect().await {
                Ok((mut wire, mut session, local)) => {
                    attempt = 0;
                    self.connected.send_replace(true);
                    match ready.take() {
                        Some(ready) => {
                            let _ = ready.send(Ok(()));
                        }
                        None => self.emit(BusEvent::Reconnected {
                            generation: self.dialect.generation(),
                        }),
                    }
                    let end = self.session(&mut session, &mut wire, local).await;
                    let reason = match &end {
                        End::Closed(_) => "codemode closed the connection",
                        End::Dropped(reason) => reason.as_str(),
                    };
                    self.dialect.end_session(session, reason);
                    self.connected.send_replace(false);
                    match end {
                        End::Closed(done) => {
                            self.dialect.goodbye(&mut wire).await;
                            let _ = wire.socket.close(None).await;
                            if let Some(done) = done {
                                let _ = done.send(());
                            }
                            return;
                        }
                        End::Dropped(reason) => {
                            tracing::warn!(peer = D::PEER, %reason, "connection dropped");
                            self.emit(BusEvent::Disconnected { reason });
                        }
                    }
                }
                Err(error) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(error));
                        return;
                    }
                    tracing::warn!(peer = D::PEER, %error, "reconnect attempt failed");
                }
            }
            if !self.config.reconnect {
                self.refuse_until(None).await;
                return;
            }
            attempt = attempt.saturating_add(1);
            let delay = self.config.backoff.delay(attempt, jitter());
            tracing::info!(peer = D::PEER, attempt, ?delay, "reconnecting");
            self.emit(BusEvent::Reconnecting { attempt, delay });
            let url = self.config.url.clone();
            let port_reopened = async {
                if port_reopened(&url).await {
                    tracing::info!(peer = D::PEER, "the port is open again; reconnecting now");
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                closed = self.refuse_until(Some(delay)) => if closed {
                    return;
                },
                () = port_reopened => {}
            }
        }
    }

    /// Opens the socket and runs the handshake, both within the connect timeout.
    async fn connect(&mut self) -> Result<(Wire, D::Session, mpsc::Receiver<D::Local>), BusError> {
        let url = self.config.url.clone();
        let failed = |reason: String| BusError::Connect {
            url: url.clone(),
            reason,
        };
        let (local_tx, local_rx) = mpsc::channel(1024);
        let config = &self.config;
        let dialect = &mut self.dialect;
        let attempt = async {
            let mut wire = Wire::open(config).await.map_err(&failed)?;
            let session = dialect.handshake(&mut wire, local_tx).await?;
            Ok::<_, BusError>((wire, session))
        };
        let (wire, session) = tokio::time::timeout(config.connect_timeout, attempt)
            .await
            .map_err(|_| {
                failed(format!(
                    "no {} within {:?}",
                    D::READY,
                    self.config.connect_timeout
                ))
            })??;
        Ok((wire, session, local_rx))
    }

    /// Serves one session until it is closed or dropped.
    async fn session(
        &mut self,
        session: &mut D::Session,
        wire: &mut Wire,
        mut local: mpsc::Receiver<D::Local>,
    ) -> End {
        let mut binary_logged = false;
        loop {
            let wake = self.dialect.next_wake(session);
            let due = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                request = self.requests.recv() => match request {
                    None => return End::Closed(None),
                    Some(Request::Close(done)) => return End::Closed(Some(done)),
                    Some(Request::Command(command)) => {
                        if let Some(end) = self.batch(session, wire, command).await {
                            return end;
                        }
                    }
                },
                frame = wire.receive() => {
                    let reason = match frame {
                        Inbound::Text(text) => match self.dialect.on_frame(session, wire, text.as_str()).await {
                            Ok(()) => continue,
                            Err(reason) => reason,
                        },
                        Inbound::Binary(bytes) => {
                            if !binary_logged {
                                binary_logged = true;
                                tracing::warn!(peer = D::PEER, url = %self.config.url, bytes, "ignoring binary frames (the protocol is JSON text); logged once per connection");
                            }
                            continue;
                        }
                        Inbound::Close(Some(reason)) => {
                            format!("the {} closed the connection: {reason}", D::PEER)
                        }
                        Inbound::Close(None) => format!("the {} closed the connection", D::PEER),
                        Inbound::Ended => format!("the {} connection ended", D::PEER),
                        Inbound::Failed(reason) => reason,
                    };
                    return End::Dropped(reason);
                }
                Some(event) = local.recv() => {
                    if let Err(reason) = self.dialect.on_local(session, wire, event).await {
                        return End::Dropped(reason);
                    }
                }
                () = due => {
                    if let Err(reason) = self.dialect.on_wake(session, wire, Instant::now()).await {
                        return End::Dropped(reason);
                    }
                }
            }
        }
    }

    /// Handles `first` and the commands already queued behind it (a snippet's gather) with
    /// their frames in one socket write instead of one write per frame.
    async fn batch(
        &mut self,
        session: &mut D::Session,
        wire: &mut Wire,
        first: D::Command,
    ) -> Option<End> {
        wire.corked = true;
        let mut outcome = self
            .dialect
            .on_command(session, wire, first)
            .await
            .map(|()| None);
        let mut batched = 1;
        while matches!(outcome, Ok(None)) && batched < COMMAND_BATCH {
            match self.requests.try_recv() {
                Ok(Request::Close(done)) => outcome = Ok(Some(done)),
                Ok(Request::Command(command)) => {
                    outcome = self
                        .dialect
                        .on_command(session, wire, command)
                        .await
                        .map(|()| None);
                    batched += 1;
                }
                Err(_) => break,
            }
        }
        wire.corked = false;
        match (outcome, wire.flush().await) {
            (Err(reason), _) | (Ok(_), Err(reason)) => Some(End::Dropped(reason)),
            (Ok(Some(done)), Ok(())) => Some(End::Closed(Some(done))),
            (Ok(None), Ok(())) => None,
        }
    }

    /// While disconnected: commands are refused (the dialect decides how). Returns true when
    /// the link was closed. With `wait == None`, runs until every handle is gone.
    async fn refuse_until(&mut self, wait: Option<Duration>) -> bool {
        let sleep = tokio::time::sleep(wait.unwrap_or(Duration::MAX / 4));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return false,
                request = self.requests.recv() => match request {
                    None => return true,
                    Some(Request::Close(done)) => {
                        let _ = done.send(());
                        return true;
                    }
                    Some(Request::Command(command)) => self.dialect.refuse(command),
                },
            }
        }
    }

    fn emit(&self, event: BusEvent) {
        // No receiver is fine: nobody is listening yet.
        let _ = self.events.send(event);
    }
}
