//! The gateway state machine: connections, peers and dispatch; the `global` domain (hello,
//! authentication, tokens, join and leave) is the child module `login`. The `agm` domain (methods, calls, streams) lives in the sibling `agm` module as more
//! `impl Gateway` blocks.
//!
//! Like the real gateway, all state sits in one place and every inbound message is handled to
//! completion before the next one (the caller holds a `std::sync::Mutex`; nothing here awaits).
//! Handling a message never writes to a socket: replies and announcements are collected in an
//! outbox and flushed at the end as one batch per connection, with a non-blocking `try_send`
//! into that connection's bounded queue. A connection whose queue is full is disconnected (see
//! [`Gateway::flush`]), so one slow consumer can never stall the others.

mod login;

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use codemode_protocol::{
    InvocationId, MethodDefinition, MethodId, PeerId, ProtocolError, RequestId, SubscriptionId,
    gw3::{self, Domain, Envelope, ErrorMessage, Gw3Message, Identity, Success, reasons},
};

/// A connection's id inside the gateway (sockets and in-process peers alike).
pub(crate) type ConnId = u64;

/// The domains a `welcome` lists, as the real gateway does; only `global` and `agm` are
/// implemented, the others accept `join`/`leave` and nothing else.
const DOMAINS: &[(&str, u8)] = &[
    ("agm", 1),
    ("activity", 2),
    ("global", 1),
    ("bus", 1),
    ("context", 2),
    ("metrics", 1),
];

/// How many access tokens are kept before expired ones are pruned.
const ACCESS_TOKEN_PRUNE_AT: usize = 1024;

/// One item of a socket connection's outbound queue.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// The frames one inbound message produced for this connection, in order.
    Frames(Vec<String>),
    /// A raw WebSocket message (fault injection).
    Raw(Message),
}

/// Where a connection's messages go.
#[derive(Debug, Clone)]
pub(crate) enum Sink {
    /// A WebSocket client; frames are encoded here and written by the connection task.
    Socket {
        /// The bounded outbound queue.
        queue: mpsc::Sender<Outbound>,
        /// Cancelled to close the socket.
        closed: CancellationToken,
    },
    /// An in-process peer (sample, synthetic or platform app).
    Internal {
        /// The bounded inbox of the app task.
        queue: mpsc::Sender<Vec<Gw3Message>>,
        /// Cancelled when the peer is disconnected.
        closed: CancellationToken,
    },
}

impl Sink {
    fn closed(&self) -> &CancellationToken {
        match self {
            Self::Socket { closed, .. } | Self::Internal { closed, .. } => closed,
        }
    }

    /// In-process apps never look at announcements; skipping them keeps start-up with
    /// thousands of apps linear instead of quadratic.
    fn wants_announcements(&self) -> bool {
        matches!(self, Self::Socket { .. })
    }
}

/// Who a peer is, as established by authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Principal {
    /// The authenticated user; peers see each other only when users are equal.
    pub(crate) user: Option<String>,
    /// The login used.
    pub(crate) login: Option<String>,
    /// Service peers are visible to (and see) everyone.
    pub(crate) service: bool,
}

/// How `secret` logins are checked.
#[derive(Debug, Clone, Default)]
pub(crate) enum AuthPolicy {
    /// Any non-empty login and secret; `user = login` (the open-source gateway's behaviour).
    #[default]
    AnyNonEmpty,
    /// Only these login → secret pairs.
    Fixed(BTreeMap<String, String>),
}

/// Counters for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Frames received from sockets.
    pub frames_in: u64,
    /// Frames queued for sockets.
    pub frames_out: u64,
    /// Inbound frames that could not be decoded.
    pub malformed_in: u64,
    /// Connections closed because their outbound queue was full.
    pub overflowed: u64,
}

struct Connection {
    sink: Sink,
    machine: String,
    peers: Vec<PeerId>,
}

/// A peer: one `hello` on a connection.
pub(crate) struct Peer {
    pub(crate) conn: ConnId,
    pub(crate) identity: Identity,
    pub(crate) principal: Principal,
    /// Join order in `agm` (`None` when not joined).
    pub(crate) agm: Option<u64>,
    /// Registered methods, in registration order.
    pub(crate) methods: Vec<MethodDefinition>,
}

/// A call waiting for its server's `yield` or `error`.
pub(crate) struct Invocation {
    pub(crate) caller: PeerId,
    pub(crate) caller_request: Option<RequestId>,
    pub(crate) server: PeerId,
}

/// A stream subscription, pending until the server's `accepted`.
pub(crate) struct Subscription {
    pub(crate) subscriber: PeerId,
    pub(crate) request_id: Option<RequestId>,
    pub(crate) server: PeerId,
    pub(crate) method_id: MethodId,
    pub(crate) stream: Option<String>,
}

enum Grant {
    Access {
        principal: Principal,
        expires: Instant,
    },
    Gateway {
        principal: Principal,
        expires: Instant,
    },
}

/// Where a message goes: its request id, sender and raw domain name (kept as text, so an
/// unknown domain can be named in the error), read uniformly across message types.
#[derive(Debug, Clone, Default)]
pub(crate) struct Route {
    pub(crate) domain: Option<String>,
    pub(crate) request_id: Option<RequestId>,
    pub(crate) peer_id: Option<PeerId>,
}

impl Route {
    /// The domain errors for this message are reported in (`agm` or `global`).
    pub(crate) fn error_domain(&self) -> Domain {
        if self.domain.as_deref() == Some("agm") {
            Domain::Agm
        } else {
            Domain::Global
        }
    }
}

/// The whole gateway state.
pub(crate) struct Gateway {
    node: String,
    next_conn: u64,
    next_peer: u64,
    next_instance: u64,
    next_request: u64,
    /// The join order handed to the next `agm` member.
    pub(crate) next_agm_seq: u64,
    connections: HashMap<ConnId, Connection>,
    pub(crate) peers: HashMap<PeerId, Peer>,
    /// Peers by their identity's `instance`, for the duplicate-identity check.
    by_instance: HashMap<String, Vec<PeerId>>,
    /// `agm` members by join order: the bootstrap replays peers in this order.
    pub(crate) agm_members: BTreeMap<u64, PeerId>,
    /// The `agm` members that consume announcements (socket peers), by join order. Fan-outs
    /// walk only these, so thousands of in-process apps cost nothing per announcement.
    pub(crate) agm_listeners: BTreeMap<u64, PeerId>,
    pub(crate) invocations: HashMap<InvocationId, Invocation>,
    pub(crate) subscriptions: BTreeMap<SubscriptionId, Subscription>,
    tokens: HashMap<String, Grant>,
    auth: AuthPolicy,
    max_frame_bytes: usize,
    token_ttl: Duration,
    outbox: Vec<(ConnId, Gw3Message)>,
    stats: GatewayStats,
    /// Shared contexts and the user channels in them.
    pub(crate) contexts: crate::contexts::Contexts,
}

impl Gateway {
    /// An empty gateway; `node` goes into every id it mints.
    pub(crate) fn new(
        node: String,
        auth: AuthPolicy,
        max_frame_bytes: usize,
        token_ttl: Duration,
    ) -> Self {
        let contexts = crate::contexts::Contexts::with_channels(&node);
        Self {
            node,
            next_conn: 0,
            next_peer: 0,
            next_instance: 0,
            next_request: 0,
            next_agm_seq: 0,
            connections: HashMap::new(),
            peers: HashMap::new(),
            by_instance: HashMap::new(),
            agm_members: BTreeMap::new(),
            agm_listeners: BTreeMap::new(),
            invocations: HashMap::new(),
            subscriptions: BTreeMap::new(),
            tokens: HashMap::new(),
            auth,
            max_frame_bytes,
            token_ttl,
            outbox: Vec::new(),
            stats: GatewayStats::default(),
            contexts,
        }
    }

    /// Registers a new connection; `machine` becomes the `machine` of its peers' identities.
    pub(crate) fn open_connection(&mut self, sink: Sink, machine: String) -> ConnId {
        self.next_conn += 1;
        let conn = self.next_conn;
        self.connections.insert(
            conn,
            Connection {
                sink,
                machine,
                peers: Vec::new(),
            },
        );
        conn
    }

    /// Removes a connection and every peer on it, as a disconnect does.
    pub(crate) fn close_connection(&mut self, conn: ConnId) {
        self.drop_connection(conn);
        self.flush();
    }

    /// Handles one text frame from a socket.
    pub(crate) fn on_frame(&mut self, conn: ConnId, frame: &str) {
        self.stats.frames_in += 1;
        match gw3::decode(frame, self.max_frame_bytes) {
            Ok(message) => self.dispatch(conn, message),
            Err(error) => {
                self.stats.malformed_in += 1;
                tracing::warn!(conn, %error, "malformed frame from a client");
                let envelope = match &error {
                    ProtocolError::BadMessage { .. } => raw_envelope(frame),
                    _ => Route::default(),
                };
                let reason_uri = match envelope.error_domain() {
                    Domain::Agm => "agm.errors.failure",
                    _ => reasons::FAILURE,
                };
                let peer = envelope.peer_id.clone();
                self.reply_error(
                    conn,
                    &envelope,
                    peer,
                    reason_uri,
                    format!("Unable to process message: {error}"),
                );
            }
        }
        self.flush();
    }

    /// Handles a binary frame: GW3 is text-only.
    pub(crate) fn on_binary(&mut self, conn: ConnId) {
        self.stats.frames_in += 1;
        self.stats.malformed_in += 1;
        tracing::warn!(conn, "binary frame from a client; GW3 frames are text");
        self.reply_error(
            conn,
            &Route::default(),
            None,
            reasons::FAILURE,
            "Binary frames are not supported; send JSON text frames".into(),
        );
        self.flush();
    }

    /// Handles one typed message from an in-process peer.
    pub(crate) fn handle(&mut self, conn: ConnId, message: Gw3Message) {
        self.dispatch(conn, message);
        self.flush();
    }

    /// Logs an in-process peer in without authentication (its principal is given).
    pub(crate) fn admit_internal(
        &mut self,
        conn: ConnId,
        identity: Identity,
        principal: Principal,
    ) -> Result<PeerId, String> {
        let result = self.admit(conn, identity, principal);
        self.flush();
        result.map(|(peer, _)| peer).map_err(|(_, reason)| reason)
    }

    /// Every socket connection's sink (for faults and `drop_all_connections`).
    pub(crate) fn socket_sinks(&self) -> Vec<Sink> {
        self.connections
            .values()
            .filter(|connection| matches!(connection.sink, Sink::Socket { .. }))
            .map(|connection| connection.sink.clone())
            .collect()
    }

    /// Counters so far.
    pub(crate) fn stats(&self) -> GatewayStats {
        self.stats
    }

    /// How many peers are logged in.
    pub(crate) fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// How many stream subscriptions are open (requested or accepted, not yet removed).
    pub(crate) fn subscription_count(&self) -> usize {
        self.subscriptions.len()
    }

    /// How many socket connections are open.
    pub(crate) fn socket_count(&self) -> usize {
        self.connections
            .values()
            .filter(|connection| matches!(connection.sink, Sink::Socket { .. }))
            .count()
    }

    /// The identity of every peer of `application` (case-insensitive), for `StartApplication`.
    pub(crate) fn instances_of(&self, application: &str) -> Vec<String> {
        let mut instances: Vec<(u64, String)> = self
            .peers
            .values()
            .filter(|peer| {
                peer.identity
                    .get("application")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.eq_ignore_ascii_case(application))
            })
            .filter_map(|peer| {
                let instance = peer.identity.get("instance").and_then(Value::as_str)?;
                Some((peer.agm.unwrap_or(u64::MAX), instance.to_owned()))
            })
            .collect();
        instances.sort();
        instances
            .into_iter()
            .map(|(_, instance)| instance)
            .collect()
    }

    /// A fresh `r-<node>-<n>` id for invocations and subscriptions.
    pub(crate) fn mint_request_id(&mut self) -> String {
        self.next_request += 1;
        format!("r-{}-{}", self.node, self.next_request)
    }

    fn dispatch(&mut self, conn: ConnId, message: Gw3Message) {
        if !self.connections.contains_key(&conn) {
            return;
        }
        match message {
            Gw3Message::Hello(hello) => self.hello(conn, hello),
            Gw3Message::Ping(_) => {}
            Gw3Message::Unknown(object) if !object.contains_key("peer_id") => {
                // Like the real gateway, a type nobody handles is reported as such even
                // before the sender has a peer.
                let envelope = object_envelope(&object);
                self.unhandled(conn, None, &envelope, &Gw3Message::Unknown(object));
            }
            other => {
                let envelope = envelope(&other);
                let Some(peer) = self.source_peer(conn, &envelope) else {
                    return;
                };
                self.dispatch_from_peer(conn, peer, &envelope, other);
            }
        }
    }

    fn dispatch_from_peer(
        &mut self,
        conn: ConnId,
        peer: PeerId,
        envelope: &Route,
        message: Gw3Message,
    ) {
        match message {
            Gw3Message::Join(join) => self.join(conn, &peer, join),
            Gw3Message::Leave(leave) => self.leave(conn, &peer, leave),
            Gw3Message::CreateToken(request) => self.create_token(conn, &peer, request),
            Gw3Message::SubscribeContext(_)
            | Gw3Message::UnsubscribeContext(_)
            | Gw3Message::UpdateContext(_)
            | Gw3Message::CreateContext(_) => self.context_message(conn, &peer, envelope, message),
            Gw3Message::Register(_)
            | Gw3Message::Unregister(_)
            | Gw3Message::Call(_)
            | Gw3Message::Yield(_)
            | Gw3Message::Error(_)
            | Gw3Message::Subscribe(_)
            | Gw3Message::Accepted(_)
            | Gw3Message::Publish(_)
            | Gw3Message::Post(_)
            | Gw3Message::Unsubscribe(_)
            | Gw3Message::DropSubscription(_)
                if envelope
                    .domain
                    .as_deref()
                    .is_none_or(|domain| domain == "agm") =>
            {
                self.agm_message(conn, &peer, envelope, message);
            }
            other => self.unhandled(conn, Some(peer), envelope, &other),
        }
    }

    fn unhandled(
        &mut self,
        conn: ConnId,
        peer: Option<PeerId>,
        envelope: &Route,
        message: &Gw3Message,
    ) {
        let domain = envelope.domain.as_deref().unwrap_or("global");
        tracing::debug!(
            conn,
            domain,
            message_type = message.message_type(),
            "unhandled message"
        );
        // The real gateway answers in the message's own domain
        // (`context.errors.unhandled_message` for a `context` message) and fails a message for a
        // domain it does not have with `global.errors.failure`.
        let (reply_domain, uri, reason) = match known_domain(domain) {
            Some(known) => (
                Some(known),
                format!("{domain}.errors.unhandled_message"),
                format!(
                    "Unhandled message of type `{}` in domain `{domain}`",
                    message.message_type()
                ),
            ),
            None => (
                None,
                reasons::FAILURE.to_owned(),
                format!(
                    "Unable to find domain for message of type `{}`",
                    message.message_type()
                ),
            ),
        };
        self.push(
            conn,
            Gw3Message::Error(ErrorMessage {
                domain: reply_domain,
                request_id: envelope.request_id.clone(),
                peer_id: peer,
                reason_uri: Some(uri),
                reason: Some(reason),
                context: None,
            }),
        );
    }

    /// Resolves the peer a message comes from, replying with an error when the `peer_id` is
    /// missing, unknown, or belongs to another connection. As in the real gateway, the first
    /// two are a `failure` of the message's domain and the last a `global.errors.failure` with
    /// no domain (the source is checked before the message reaches a domain).
    fn source_peer(&mut self, conn: ConnId, envelope: &Route) -> Option<PeerId> {
        let domain_failure = match envelope.error_domain() {
            Domain::Agm => reasons::AGM_FAILURE,
            _ => reasons::FAILURE,
        };
        let (domain, uri, reason) = match &envelope.peer_id {
            None => (
                Some(envelope.error_domain()),
                domain_failure,
                "Peer id is missing".to_owned(),
            ),
            Some(peer_id) => match self.peers.get(peer_id) {
                Some(peer) if peer.conn == conn => return Some(peer_id.clone()),
                Some(_) => (
                    None,
                    reasons::FAILURE,
                    format!(
                        "The original source of peer {peer_id} doesnt match the current source"
                    ),
                ),
                None => (
                    Some(envelope.error_domain()),
                    domain_failure,
                    format!("Unable to find peer with id {peer_id}"),
                ),
            },
        };
        self.push(
            conn,
            Gw3Message::Error(ErrorMessage {
                domain,
                request_id: envelope.request_id.clone(),
                peer_id: envelope.peer_id.clone(),
                reason_uri: Some(uri.to_owned()),
                reason: Some(reason),
                context: None,
            }),
        );
        None
    }

    /// Removes a connection's peers (leaving `agm` first, which announces the departure).
    fn drop_connection(&mut self, conn: ConnId) {
        let Some(connection) = self.connections.remove(&conn) else {
            return;
        };
        connection.sink.closed().cancel();
        for peer in &connection.peers {
            self.remove_from_agm(peer);
            self.contexts.remove_peer(peer);
            let Some(state) = self.peers.remove(peer) else {
                continue;
            };
            let key = state
                .identity
                .get("instance")
                .map(Value::to_string)
                .unwrap_or_default();
            if let Some(peers) = self.by_instance.get_mut(&key) {
                peers.retain(|other| other != peer);
                if peers.is_empty() {
                    self.by_instance.remove(&key);
                }
            }
        }
        self.outbox.retain(|(target, _)| *target != conn);
    }

    /// Queues `message` for `conn`.
    pub(crate) fn push(&mut self, conn: ConnId, message: Gw3Message) {
        self.outbox.push((conn, message));
    }

    /// Queues `message` for `peer`'s connection; announcements skip in-process peers.
    pub(crate) fn deliver(&mut self, peer: &PeerId, message: Gw3Message) {
        if let Some(conn) = self.peers.get(peer).map(|peer| peer.conn) {
            self.push(conn, message);
        }
    }

    /// Whether `peer` consumes announcements (`peer-added`, `methods-added`, …).
    pub(crate) fn wants_announcements(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .and_then(|peer| self.connections.get(&peer.conn))
            .is_some_and(|connection| connection.sink.wants_announcements())
    }

    /// Queues an `error` reply to the sender of a request.
    pub(crate) fn reply_error(
        &mut self,
        conn: ConnId,
        envelope: &Route,
        peer: Option<PeerId>,
        reason_uri: &str,
        reason: String,
    ) {
        self.push(
            conn,
            error_message(
                envelope.error_domain(),
                envelope.request_id.clone(),
                peer,
                reason_uri,
                reason,
            ),
        );
    }

    /// Sends everything queued, one batch per connection.
    ///
    /// A connection whose bounded queue is full is **disconnected**: its socket is closed, its
    /// peers leave (their pending callers get "Peer has left while waiting for result") and it
    /// may reconnect and resynchronise. Dropping frames silently instead (what gateway-web does
    /// with its dropping buffer) would leave that client with a wrong catalogue without knowing.
    pub(crate) fn flush(&mut self) {
        while !self.outbox.is_empty() {
            let mut batches: Vec<(ConnId, Vec<Gw3Message>)> = Vec::new();
            let mut index: HashMap<ConnId, usize> = HashMap::new();
            for (conn, message) in std::mem::take(&mut self.outbox) {
                let slot = *index.entry(conn).or_insert_with(|| {
                    batches.push((conn, Vec::new()));
                    batches.len() - 1
                });
                if let Some((_, batch)) = batches.get_mut(slot) {
                    batch.push(message);
                }
            }
            let mut overflowed = Vec::new();
            for (conn, batch) in batches {
                let Some(connection) = self.connections.get(&conn) else {
                    continue;
                };
                let sent = match &connection.sink {
                    Sink::Socket { queue, .. } => {
                        let frames: Vec<String> = batch.iter().map(gw3::encode).collect();
                        let count = frames.len() as u64;
                        match queue.try_send(Outbound::Frames(frames)) {
                            Ok(()) => {
                                self.stats.frames_out += count;
                                true
                            }
                            Err(mpsc::error::TrySendError::Full(_)) => false,
                            Err(mpsc::error::TrySendError::Closed(_)) => true,
                        }
                    }
                    Sink::Internal { queue, .. } => !matches!(
                        queue.try_send(batch),
                        Err(mpsc::error::TrySendError::Full(_))
                    ),
                };
                if !sent {
                    overflowed.push(conn);
                }
            }
            for conn in overflowed {
                tracing::warn!(conn, "outbound queue full: disconnecting the slow consumer");
                self.stats.overflowed += 1;
                self.drop_connection(conn);
            }
        }
    }
}

/// Reads the envelope of a typed message.
pub(crate) fn envelope(message: &Gw3Message) -> Route {
    if let Gw3Message::Unknown(object) = message {
        return object_envelope(object);
    }
    Route {
        domain: message.domain().map(domain_name),
        request_id: message.request_id().cloned(),
        peer_id: message.peer_id().cloned(),
    }
}

/// The envelope of a frame that decoded as JSON but not as its declared type.
fn raw_envelope(frame: &str) -> Route {
    match serde_json::from_str::<Value>(frame) {
        Ok(Value::Object(object)) => object_envelope(&object),
        _ => Route::default(),
    }
}

fn object_envelope(object: &Map<String, Value>) -> Route {
    let text = |key: &str| match object.get(key) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    Route {
        domain: text("domain"),
        request_id: text("request_id").map(RequestId::new),
        peer_id: text("peer_id").map(PeerId::new),
    }
}

fn domain_name(domain: Domain) -> String {
    match domain {
        Domain::Global => "global",
        Domain::Agm => "agm",
        Domain::Context => "context",
        Domain::Bus => "bus",
        Domain::Activity => "activity",
        Domain::Metrics => "metrics",
        Domain::Other => "other",
    }
    .to_owned()
}

fn known_domain(name: &str) -> Option<Domain> {
    match name {
        "global" => Some(Domain::Global),
        "agm" => Some(Domain::Agm),
        "context" => Some(Domain::Context),
        "bus" => Some(Domain::Bus),
        "activity" => Some(Domain::Activity),
        "metrics" => Some(Domain::Metrics),
        _ => None,
    }
}

fn available_domains() -> Vec<Value> {
    DOMAINS
        .iter()
        .map(|(uri, version)| json!({ "uri": uri, "description": "", "version": version }))
        .collect()
}

/// A `success` reply.
pub(crate) fn success(domain: Domain, request_id: Option<RequestId>, peer: &PeerId) -> Gw3Message {
    Gw3Message::Success(Success {
        envelope: Envelope {
            domain: Some(domain),
            request_id,
            peer_id: Some(peer.clone()),
            ..Envelope::default()
        },
    })
}

/// An `error` reply.
pub(crate) fn error_message(
    domain: Domain,
    request_id: Option<RequestId>,
    peer: Option<PeerId>,
    reason_uri: &str,
    reason: String,
) -> Gw3Message {
    Gw3Message::Error(ErrorMessage {
        domain: Some(domain),
        request_id,
        peer_id: peer,
        reason_uri: Some(reason_uri.to_owned()),
        reason: Some(reason),
        context: None,
    })
}
