//! The mock bus: an embedded, io.Connect-compatible GW3 gateway with realistic sample apps.
//!
//! [`MockBus::start`] binds a WebSocket endpoint (`ws://127.0.0.1:P/gw`) that behaves like the
//! real gateway for everything codemode uses (doc `ioconnect-gw3.md` §3–§7): `hello` with
//! `secret`, `gateway-token` and `access-token` authentication, `join agm` with the catalogue
//! bootstrap (all `peer-added`/`methods-added` before the join's `success`), announcements,
//! `register`/`unregister`, `call` → `invoke` → `yield`/`error` → `result`/`error`, streams,
//! per-user visibility and the gateway's error reasons. Behind it run in-process app peers:
//! the sample apps of `samples/apps/*.json` (CRM, Portfolio, MarketData, Charts, Dialer,
//! Notes, Tasks, Diagnostics), any number of synthetic apps, and a platform peer
//! (`io.Connect Desktop`) serving `T42.ACS.GetApplications` and `T42.ACS.StartApplication`.
//! [`MockBusHandle`] has fault knobs for reliability tests.
//!
//! # Slow consumers
//! Each connection has a bounded outbound queue ([`MockBusConfig::outbound_queue`] batches;
//! one batch is everything one inbound message produced for that connection, so a 1,000-app
//! bootstrap is one item). When a connection's queue is full, the bus **disconnects** it: its
//! peers leave as on any disconnect and the client may reconnect and resynchronise. Nobody else
//! waits for it, and no client silently misses frames. In-process app peers have a bounded
//! inbox too and are treated the same way.
//!
//! # Malformed input
//! A frame that is not JSON, not an object, has no `type`, has the wrong shape for its type
//! or is larger than [`MockBusConfig::max_frame_bytes`] gets an `error` reply (with the
//! frame's `request_id` when it can be read) and the connection stays open. Binary frames get
//! an `error` too. Only a frame over the WebSocket hard cap (twice `max_frame_bytes`, at least
//! 64 MiB) closes the connection, since it cannot be read at all.
//!
//! # Known differences from the real gateway
//! - Only the `global` and `agm` domains are implemented. `join`/`leave` of `context`, `bus`,
//!   `activity` and `metrics` succeed; their other messages get
//!   `<domain>.errors.unhandled_message` errors (the real gateway serves them).
//! - Visibility `restrictions` on `join` and on methods are accepted and ignored.
//! - Tokens are opaque strings, not JWTs. Gateway tokens are one-shot and expire after
//!   [`MockBusConfig::token_ttl`]; access tokens live six times as long.
//! - A method with an empty name is refused with `agm.errors.registration.failure` (the real
//!   gateway accepts and announces it; no client can call it by name).
//! - Error `reason` texts match the real gateway's where clients read them; where the real
//!   gateway prints its internal message map, the mock says the type and domain instead. The
//!   `global.errors.failure` for a message to an unknown domain does not echo that domain.
//! - In-process app peers get no announcements (they would ignore them).
//!
//! Checked against the real gateway by the contract suite (`tests/it/contract.rs`): registering
//! a method id again replaces its definition (announced again as sent; later bootstraps show
//! only the last one); a `peer_id` of another connection fails with `global.errors.failure`
//! and no domain; a missing or unknown `peer_id` fails with the message domain's `failure`; a
//! `hello` without `application` is welcomed.
//!
//! # Layout
//! - `gateway`: connections, peers, authentication, the `global` domain and the outbox.
//! - `agm`: the interop domain (bootstrap, methods, calls, streams, visibility).
//! - `server`: the accept loop and the per-connection socket tasks.
//! - `runtime`: in-process app peers, the platform peer and fault injection.
//! - [`apps`], [`behaviour`], [`data`], [`synthetic`]: apps as data, what their methods do,
//!   the sample datasets and the synthetic-app generator.

mod agm;
pub mod apps;
pub mod behaviour;
mod contexts;
pub mod data;
mod gateway;
mod runtime;
mod server;
pub mod synthetic;

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use thiserror::Error;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_util::sync::CancellationToken;

pub use self::{
    apps::{AppSpec, IntentSpec, MethodSpec},
    behaviour::Behaviour,
    gateway::GatewayStats,
    runtime::PLATFORM_APPLICATION,
};
use self::{
    gateway::{AuthPolicy, Gateway, Outbound, Sink},
    runtime::{Runtime, lock},
    server::ServerLimits,
};

/// How long [`MockBusHandle::shutdown`] waits for the bus's tasks to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How to run a mock bus; [`MockBusConfig::default`] gives a bus on a free loopback port with
/// the sample apps and no synthetic apps.
#[derive(Debug, Clone)]
pub struct MockBusConfig {
    /// Where to listen; `None` means `127.0.0.1:0` (a free port). Give the previous address to
    /// restart on the same port.
    pub listen: Option<SocketAddr>,
    /// How many synthetic apps to add (see [`synthetic::generate_apps`]).
    pub synthetic_apps: usize,
    /// The seed of the synthetic apps.
    pub synthetic_seed: u64,
    /// How many CRM clients the sample data has (default [`data::CLIENT_COUNT`]); the data is
    /// deterministic and a smaller count gives a prefix of a larger one.
    pub crm_clients: usize,
    /// The owner of the in-process apps. `None`: they are service peers every user sees;
    /// `Some(user)`: only peers logged in as `user` see them.
    pub user: Option<String>,
    /// Load the sample apps from this directory of `*.json` files instead of the embedded ones.
    pub samples_dir: Option<PathBuf>,
    /// Whether to run the sample apps at all (the platform peer always runs).
    pub include_samples: bool,
    /// Fixed `login → secret` pairs; `None` accepts any non-empty login and secret.
    pub credentials: Option<BTreeMap<String, String>>,
    /// Outbound batches queued per connection before it is disconnected as a slow consumer.
    pub outbound_queue: usize,
    /// Largest inbound frame handled; larger ones get an error reply.
    pub max_frame_bytes: usize,
    /// Simultaneous WebSocket connections.
    pub max_connections: usize,
    /// Lifetime of gateway tokens (`create-token`).
    pub token_ttl: Duration,
    /// Delay between `StartApplication`'s reply and the app's peer appearing (zero: the app is
    /// registered before the reply).
    pub app_start_delay: Duration,
    /// Interval between two prices of a streaming subscription.
    pub stream_interval: Duration,
    /// The node id in minted ids (`p-<node>-<n>`); random when `None`.
    pub node_id: Option<String>,
}

impl Default for MockBusConfig {
    fn default() -> Self {
        Self {
            listen: None,
            synthetic_apps: 0,
            synthetic_seed: synthetic::DEFAULT_SEED,
            crm_clients: data::CLIENT_COUNT,
            user: None,
            samples_dir: None,
            include_samples: true,
            credentials: None,
            outbound_queue: 1024,
            max_frame_bytes: 16 * 1024 * 1024,
            max_connections: 1024,
            token_ttl: Duration::from_mins(10),
            app_start_delay: Duration::ZERO,
            stream_interval: Duration::from_millis(250),
            node_id: None,
        }
    }
}

/// Why the mock bus could not start or do what was asked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MockBusError {
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A sample app file is unreadable or invalid.
    #[error("invalid sample app {}: {reason}", path.display())]
    Samples {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Two apps have the same name.
    #[error("two apps are named `{name}`")]
    DuplicateApp {
        /// The name.
        name: String,
    },
    /// An app could not be started.
    #[error("cannot start app: {reason}")]
    Start {
        /// Why (names the app).
        reason: String,
    },
}

/// The mock bus; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct MockBus;

impl MockBus {
    /// Binds the listener, starts the platform peer and every running app, and accepts
    /// connections until [`MockBusHandle::shutdown`].
    pub async fn start(config: MockBusConfig) -> Result<MockBusHandle, MockBusError> {
        let mut apps = if !config.include_samples {
            Vec::new()
        } else if let Some(dir) = &config.samples_dir {
            apps::load_samples(dir)?
        } else {
            apps::embedded_samples()?
        };
        apps.extend(synthetic::generate_apps(
            config.synthetic_apps,
            config.synthetic_seed,
        ));
        let mut names = std::collections::BTreeSet::new();
        for app in &apps {
            if !names.insert(app.name.to_ascii_lowercase()) || app.name == PLATFORM_APPLICATION {
                return Err(MockBusError::DuplicateApp {
                    name: app.name.clone(),
                });
            }
        }

        let address = config
            .listen
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| MockBusError::Bind { address, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| MockBusError::Bind { address, source })?;

        let node = config
            .node_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let auth = config
            .credentials
            .clone()
            .map_or(AuthPolicy::AnyNonEmpty, AuthPolicy::Fixed);
        let gateway = Arc::new(Mutex::new(Gateway::new(
            node,
            auth,
            config.max_frame_bytes,
            config.token_ttl,
        )));
        let shutdown = CancellationToken::new();
        let runtime = Arc::new(Runtime::new(
            Arc::clone(&gateway),
            behaviour::Store::new(data::sample_datasets_with(config.crm_clients)),
            apps,
            config.user.clone(),
            config.stream_interval,
            config.app_start_delay,
            shutdown.clone(),
        ));
        runtime
            .start_all()
            .map_err(|reason| MockBusError::Start { reason })?;

        let limits = ServerLimits {
            outbound_queue: config.outbound_queue,
            max_message_bytes: config
                .max_frame_bytes
                .saturating_mul(2)
                .max(codemode_protocol::gw3::DEFAULT_MAX_FRAME_BYTES),
            max_connections: config.max_connections,
        };
        runtime.tracker.spawn(server::accept_loop(
            listener,
            Arc::clone(&gateway),
            limits,
            runtime.tracker.clone(),
            shutdown.clone(),
        ));
        tracing::info!(
            url = %format!("ws://{local_addr}/gw"),
            apps = runtime.apps().len(),
            "mock bus listening"
        );
        Ok(MockBusHandle {
            local_addr,
            runtime,
        })
    }
}

/// A running mock bus. Dropping the handle stops it without waiting; call
/// [`MockBusHandle::shutdown`] to wait until the port is free.
pub struct MockBusHandle {
    local_addr: SocketAddr,
    runtime: Arc<Runtime>,
}

impl Drop for MockBusHandle {
    fn drop(&mut self) {
        self.runtime.shutdown.cancel();
    }
}

/// A fault injected into every server of a method (in-process apps only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodFault {
    /// Reply only after this long (overrides the method's own `latencyMs`).
    pub latency: Option<Duration>,
    /// Never reply.
    pub never_reply: bool,
    /// The serving peer leaves when invoked; callers get "Peer has left while waiting for
    /// result".
    pub kill_peer: bool,
}

/// A malformed frame to send to every connected client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MalformedFrame {
    /// Text that is not JSON.
    NotJson,
    /// A JSON value that is not an object.
    NotAnObject,
    /// An object without `type`.
    MissingType,
    /// A known type with the wrong shape (`methods-added` without `server_id`).
    WrongShape,
    /// A type no gateway sends.
    UnknownType,
    /// A binary frame.
    Binary,
    /// Any text.
    Text(String),
}

impl MalformedFrame {
    fn message(&self) -> Message {
        match self {
            Self::NotJson => Message::text("{not json"),
            Self::NotAnObject => Message::text("[1,2,3]"),
            Self::MissingType => Message::text(r#"{"domain":"agm","request_id":"x"}"#),
            Self::WrongShape => {
                Message::text(r#"{"domain":"agm","type":"methods-added","methods":7}"#)
            }
            Self::UnknownType => {
                Message::text(r#"{"domain":"agm","type":"mock-bus-surprise","data":{}}"#)
            }
            Self::Binary => Message::Binary(Bytes::from_static(b"\x00\x01\x02")),
            Self::Text(text) => Message::text(text.clone()),
        }
    }
}

impl MockBusHandle {
    /// The WebSocket URL, `ws://127.0.0.1:P/gw`.
    pub fn url(&self) -> String {
        format!("ws://{}/gw", self.local_addr)
    }

    /// The bound address (reuse it in [`MockBusConfig::listen`] to restart on the same port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Every declared app (samples and synthetic), running or not.
    pub fn apps(&self) -> Vec<AppSpec> {
        self.runtime
            .apps()
            .iter()
            .map(|app| app.as_ref().clone())
            .collect()
    }

    /// Starts an instance of `name` (as `T42.ACS.StartApplication` does); returns its instance
    /// id, or the running one of a single-instance app.
    pub fn start_app(&self, name: &str) -> Result<String, MockBusError> {
        self.runtime
            .start_app(name)
            .map_err(|reason| MockBusError::Start { reason })
    }

    /// The running instances of `application`.
    pub fn running_instances(&self, application: &str) -> Vec<String> {
        self.runtime.running_instances(application)
    }

    /// Makes every instance of `application` leave the bus; returns how many left.
    pub fn kill_app(&self, application: &str) -> usize {
        self.runtime.kill_app(application)
    }

    /// Sets (or with `None`, clears) the fault of `method` on every server of it.
    pub fn set_fault(&self, method: &str, fault: Option<MethodFault>) {
        self.runtime.set_fault(method, fault);
    }

    /// Delays every reply of `method` by `latency`.
    pub fn set_latency(&self, method: &str, latency: Duration) {
        let mut fault = self.runtime.fault(method).unwrap_or_default();
        fault.latency = Some(latency);
        self.runtime.set_fault(method, Some(fault));
    }

    /// Makes `method` never reply.
    pub fn set_never_reply(&self, method: &str) {
        let mut fault = self.runtime.fault(method).unwrap_or_default();
        fault.never_reply = true;
        self.runtime.set_fault(method, Some(fault));
    }

    /// Makes the server of `method` leave the bus when invoked (mid-call).
    pub fn kill_peer_on_call(&self, method: &str) {
        let mut fault = self.runtime.fault(method).unwrap_or_default();
        fault.kill_peer = true;
        self.runtime.set_fault(method, Some(fault));
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.runtime.clear_faults();
    }

    /// Closes every client socket; the bus keeps running and accepts reconnects. Returns how
    /// many connections were closed.
    pub fn drop_all_connections(&self) -> usize {
        let sinks = lock(&self.runtime.gateway).socket_sinks();
        for sink in &sinks {
            if let Sink::Socket { closed, .. } = sink {
                closed.cancel();
            }
        }
        tracing::info!(connections = sinks.len(), "dropped all client connections");
        sinks.len()
    }

    /// Sends `frame` to every connected client; returns to how many it was queued.
    pub fn send_malformed_frame(&self, frame: &MalformedFrame) -> usize {
        let sinks = lock(&self.runtime.gateway).socket_sinks();
        sinks
            .iter()
            .filter(|sink| match sink {
                Sink::Socket { queue, .. } => {
                    queue.try_send(Outbound::Raw(frame.message())).is_ok()
                }
                Sink::Internal { .. } => false,
            })
            .count()
    }

    /// How many WebSocket clients are connected.
    pub fn connection_count(&self) -> usize {
        lock(&self.runtime.gateway).socket_count()
    }

    /// How many stream subscriptions the gateway holds open (what a subscriber's
    /// `unsubscribe`, its disconnect or the server's `drop-subscription` removes).
    pub fn subscription_count(&self) -> usize {
        lock(&self.runtime.gateway).subscription_count()
    }

    /// How many peers are logged in (in-process apps and the platform included).
    pub fn peer_count(&self) -> usize {
        lock(&self.runtime.gateway).peer_count()
    }

    /// Frame and overflow counters.
    pub fn stats(&self) -> GatewayStats {
        lock(&self.runtime.gateway).stats()
    }

    /// Stops accepting, closes every connection, stops every app and waits for all tasks; the
    /// port is free when this returns.
    pub async fn shutdown(self) {
        // The connection and app tasks hold no reference to the handle, so waiting here
        // while still owning it is fine; `Drop` cancels again, which is harmless.
        self.runtime.shutdown.cancel();
        self.runtime.tracker.close();
        // Every task watches the cancellation; one stuck in a write to a peer that stopped
        // reading must not hold the shutdown forever.
        if tokio::time::timeout(SHUTDOWN_GRACE, self.runtime.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                address = %self.local_addr,
                tasks = self.runtime.tracker.len(),
                "mock bus stopped with tasks still running after {SHUTDOWN_GRACE:?}"
            );
            return;
        }
        tracing::info!(address = %self.local_addr, "mock bus stopped");
    }
}
