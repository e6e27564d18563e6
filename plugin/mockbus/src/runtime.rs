//! In-process app peers: the sample and synthetic apps and the io.Connect platform peer.
//!
//! Each running app instance is a real gateway peer with its own connection, peer id and
//! identity (`instance` included). It logs in, joins `agm` and registers its methods through
//! the same typed messages a WebSocket client sends, then serves `invoke`, `add-interest` and
//! `remove-interest` from its own task. Replies with a latency are sent from short-lived tasks,
//! so a slow method never holds up the others. The only shortcut is that in-process peers skip
//! announcements (`peer-added`, `methods-added`, …), which they would ignore anyway.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use codemode_protocol::{
    MethodDefinition, MethodId, PeerId, RequestId, SubscriptionId,
    gw3::{Domain, Envelope, Gw3Message, Identity, Join, Register},
};

use super::{
    MethodFault,
    apps::AppSpec,
    behaviour::{Behaviour, Store},
    gateway::{ConnId, Gateway, Principal, Sink},
};

/// The application name of the platform peer.
pub const PLATFORM_APPLICATION: &str = "io.Connect Desktop";

/// Inbox size of one in-process peer; a full inbox disconnects it like a slow socket. Large
/// enough for a snippet's `gather` of 10,000 calls to one sample app (the channel allocates
/// as it fills, so an idle peer costs nothing).
const INTERNAL_QUEUE: usize = 65_536;

/// The platform method listing the apps.
const GET_APPLICATIONS: &str = "T42.ACS.GetApplications";
/// The platform method starting an app.
const START_APPLICATION: &str = "T42.ACS.StartApplication";
/// The platform method reading an app's stored preferences (`io.intents.raise` asks it for a
/// remembered handler and waits for it to appear when it is missing).
const PREFS_GET: &str = "T42.Prefs.Get";
/// The platform method storing an app's preferences.
const PREFS_SET: &str = "T42.Prefs.Set";

/// Everything the in-process apps share.
pub(crate) struct Runtime {
    pub(crate) gateway: Arc<Mutex<Gateway>>,
    store: Mutex<Store>,
    apps: Vec<Arc<AppSpec>>,
    faults: RwLock<HashMap<String, MethodFault>>,
    instances: Mutex<Vec<Instance>>,
    pub(crate) tracker: TaskTracker,
    pub(crate) shutdown: CancellationToken,
    owner: Option<String>,
    stream_interval: Duration,
    start_delay: Duration,
    next_instance: AtomicU64,
    next_process: AtomicU64,
    /// App preferences kept by `T42.Prefs.Set`, by app name.
    prefs: Mutex<HashMap<String, Value>>,
}

struct Instance {
    application: String,
    conn: ConnId,
}

/// What serves one registered method of an in-process peer.
#[derive(Clone)]
enum Handler {
    App {
        name: String,
        behaviour: Box<Behaviour>,
        returns: Option<String>,
        latency: Duration,
    },
    GetApplications,
    StartApplication,
    PrefsGet,
    PrefsSet,
}

mod app_peer;

impl Handler {
    fn name(&self) -> &str {
        match self {
            Self::App { name, .. } => name,
            Self::GetApplications => GET_APPLICATIONS,
            Self::StartApplication => START_APPLICATION,
            Self::PrefsGet => PREFS_GET,
            Self::PrefsSet => PREFS_SET,
        }
    }
}

/// One running in-process peer, owned by its task.
struct AppPeer {
    runtime: Arc<Runtime>,
    conn: ConnId,
    peer: PeerId,
    handlers: HashMap<String, Handler>,
    token: CancellationToken,
    /// Open stream branches: stream id → (subscriber count, ticker stop token).
    branches: HashMap<String, (usize, CancellationToken)>,
    /// Subscription → stream id.
    subscriptions: HashMap<SubscriptionId, String>,
}

impl Runtime {
    pub(crate) fn new(
        gateway: Arc<Mutex<Gateway>>,
        store: Store,
        apps: Vec<AppSpec>,
        owner: Option<String>,
        stream_interval: Duration,
        start_delay: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            gateway,
            store: Mutex::new(store),
            apps: apps.into_iter().map(Arc::new).collect(),
            faults: RwLock::new(HashMap::new()),
            instances: Mutex::new(Vec::new()),
            tracker: TaskTracker::new(),
            shutdown,
            owner,
            stream_interval,
            start_delay,
            next_instance: AtomicU64::new(0),
            next_process: AtomicU64::new(20_000),
            prefs: Mutex::new(HashMap::new()),
        }
    }

    /// The principal of in-process peers: a service peer, or the configured owner.
    fn principal(&self) -> Principal {
        match &self.owner {
            Some(user) => Principal {
                user: Some(user.clone()),
                login: Some(user.clone()),
                service: false,
            },
            None => Principal::default_service(),
        }
    }

    /// Every declared app.
    pub(crate) fn apps(&self) -> &[Arc<AppSpec>] {
        &self.apps
    }

    /// Starts the platform peer and every app marked `running`.
    pub(crate) fn start_all(self: &Arc<Self>) -> Result<(), String> {
        self.start_platform()?;
        let running: Vec<Arc<AppSpec>> = self
            .apps
            .iter()
            .filter(|app| app.running)
            .cloned()
            .collect();
        for app in running {
            self.start_instance(&app, None)?;
        }
        Ok(())
    }

    /// Looks an app up by exact name, then case-insensitively.
    pub(crate) fn find_app(&self, name: &str) -> Option<Arc<AppSpec>> {
        self.apps
            .iter()
            .find(|app| app.name == name)
            .or_else(|| {
                self.apps
                    .iter()
                    .find(|app| app.name.eq_ignore_ascii_case(name))
            })
            .cloned()
    }

    /// Starts an instance of `name` (or returns the running one of a single-instance app);
    /// returns the instance id.
    pub(crate) fn start_app(self: &Arc<Self>, name: &str) -> Result<String, String> {
        let app = self
            .find_app(name)
            .ok_or_else(|| format!("Application \"{name}\" not found"))?;
        if !app.allow_multiple
            && let Some(existing) = self.running_instances(&app.name).into_iter().next()
        {
            return Ok(existing);
        }
        let (_, instance) = self.start_instance(&app, None)?;
        Ok(instance)
    }

    /// The instance ids of `application` that run now.
    pub(crate) fn running_instances(&self, application: &str) -> Vec<String> {
        lock(&self.gateway).instances_of(application)
    }

    /// Disconnects every running instance of `application`; returns how many.
    pub(crate) fn kill_app(&self, application: &str) -> usize {
        let conns: Vec<ConnId> = lock(&self.instances)
            .iter()
            .filter(|instance| instance.application.eq_ignore_ascii_case(application))
            .map(|instance| instance.conn)
            .collect();
        let mut gateway = lock(&self.gateway);
        for conn in &conns {
            gateway.close_connection(*conn);
        }
        conns.len()
    }

    /// Replaces the fault of `method` (`None` clears it).
    pub(crate) fn set_fault(&self, method: &str, fault: Option<MethodFault>) {
        let mut faults = self.faults.write().unwrap_or_else(PoisonError::into_inner);
        match fault {
            Some(fault) => {
                faults.insert(method.to_owned(), fault);
            }
            None => {
                faults.remove(method);
            }
        }
    }

    /// The fault of `method`, if any.
    pub(crate) fn fault(&self, method: &str) -> Option<MethodFault> {
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(method)
            .cloned()
    }

    /// `T42.Prefs.Get {app}` → `{app, data}` (empty data when nothing was stored).
    fn prefs_get(&self, arguments: &Map<String, Value>) -> Value {
        let app = arguments.get("app").and_then(Value::as_str).unwrap_or("");
        let prefs = self.prefs.lock().unwrap_or_else(PoisonError::into_inner);
        let data = prefs
            .get(app)
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        serde_json::json!({"app": app, "data": data})
    }

    /// `T42.Prefs.Set {app, data, merge?, clear?}` → `{}`.
    fn prefs_set(&self, arguments: &Map<String, Value>) -> Value {
        let app = arguments
            .get("app")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut prefs = self.prefs.lock().unwrap_or_else(PoisonError::into_inner);
        if arguments.get("clear").and_then(Value::as_bool) == Some(true) {
            prefs.remove(&app);
        } else {
            let incoming = arguments
                .get("data")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let merge = arguments.get("merge").and_then(Value::as_bool) == Some(true);
            let entry = prefs
                .entry(app)
                .or_insert_with(|| Value::Object(Map::new()));
            match entry {
                Value::Object(existing) if merge => existing.extend(incoming),
                other => *other = Value::Object(incoming),
            }
        }
        Value::Object(Map::new())
    }

    /// Clears every fault.
    pub(crate) fn clear_faults(&self) {
        self.faults
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn start_platform(self: &Arc<Self>) -> Result<(), String> {
        let mut get =
            MethodDefinition::new(MethodId::new(Value::String("0".into())), GET_APPLICATIONS);
        get.description = Some(
            "Lists the applications io.Connect can start, with their declared intents.".into(),
        );
        get.input_signature = Some("Bool? withIntentsInfo".into());
        let mut start =
            MethodDefinition::new(MethodId::new(Value::String("1".into())), START_APPLICATION);
        start.description =
            Some("Starts an application instance; returns its instance id in Id.".into());
        start.input_signature = Some("String Name, Composite? options".into());
        start.result_signature = Some("String Id, String Name".into());
        let mut prefs_get =
            MethodDefinition::new(MethodId::new(Value::String("2".into())), PREFS_GET);
        prefs_get.description = Some("Returns an app's stored preferences.".into());
        let mut prefs_set =
            MethodDefinition::new(MethodId::new(Value::String("3".into())), PREFS_SET);
        prefs_set.description = Some("Stores an app's preferences.".into());
        let handlers = vec![
            (get, Handler::GetApplications),
            (start, Handler::StartApplication),
            (prefs_get, Handler::PrefsGet),
            (prefs_set, Handler::PrefsSet),
        ];
        let mut identity = Identity::new();
        identity.insert(
            "application".into(),
            Value::String(PLATFORM_APPLICATION.into()),
        );
        identity.insert(
            "applicationName".into(),
            Value::String(PLATFORM_APPLICATION.into()),
        );
        identity.insert(
            "instance".into(),
            Value::String("io-connect-desktop".into()),
        );
        self.spawn_peer(PLATFORM_APPLICATION, identity, handlers)
            .map(|_| ())
    }

    /// Starts one instance of `app` as a new peer; returns its peer id and instance id.
    fn start_instance(
        self: &Arc<Self>,
        app: &AppSpec,
        instance: Option<String>,
    ) -> Result<(PeerId, String), String> {
        let number = self.next_instance.fetch_add(1, Ordering::Relaxed) + 1;
        let instance = instance.unwrap_or_else(|| {
            format!(
                "{}-{number}",
                app.name.to_ascii_lowercase().replace(' ', "-")
            )
        });
        let mut identity = Identity::new();
        identity.insert("application".into(), Value::String(app.name.clone()));
        identity.insert(
            "applicationName".into(),
            Value::String(app.title.clone().unwrap_or_else(|| app.name.clone())),
        );
        identity.insert("instance".into(), Value::String(instance.clone()));
        identity.insert(
            "process".into(),
            Value::from(self.next_process.fetch_add(1, Ordering::Relaxed)),
        );
        identity.insert(
            "api".into(),
            Value::String(concat!("codemode-mock-bus/", env!("CARGO_PKG_VERSION")).into()),
        );
        let definitions = app.method_definitions();
        let specs = app
            .methods
            .iter()
            .map(|method| Handler::App {
                name: method.name.clone(),
                behaviour: Box::new(method.behaviour.clone()),
                returns: method.returns.clone(),
                latency: Duration::from_millis(method.latency_ms),
            })
            .chain(app.intents.iter().map(|intent| Handler::App {
                name: format!(
                    "{}{}",
                    codemode_protocol::gw3::INTENT_METHOD_PREFIX,
                    intent.name
                ),
                behaviour: Box::new(intent.behaviour.clone()),
                returns: None,
                latency: Duration::from_millis(intent.latency_ms),
            }));
        let handlers = definitions.into_iter().zip(specs).collect();
        let peer = self.spawn_peer(&app.name, identity, handlers)?;
        Ok((peer, instance))
    }

    /// Logs a new in-process peer in, joins `agm`, registers `handlers` and spawns its task.
    fn spawn_peer(
        self: &Arc<Self>,
        application: &str,
        identity: Identity,
        handlers: Vec<(MethodDefinition, Handler)>,
    ) -> Result<PeerId, String> {
        let (queue, inbox) = mpsc::channel(INTERNAL_QUEUE);
        let token = self.shutdown.child_token();
        let (conn, peer) = {
            let mut gateway = lock(&self.gateway);
            let conn = gateway.open_connection(
                Sink::Internal {
                    queue,
                    closed: token.clone(),
                },
                "127.0.0.1".into(),
            );
            let peer = match gateway.admit_internal(conn, identity, self.principal()) {
                Ok(peer) => peer,
                Err(reason) => {
                    gateway.close_connection(conn);
                    return Err(reason);
                }
            };
            gateway.handle(
                conn,
                Gw3Message::Join(Join {
                    envelope: Envelope {
                        domain: Some(Domain::Global),
                        request_id: Some(RequestId::new("join")),
                        peer_id: Some(peer.clone()),
                        ..Envelope::default()
                    },
                    destination: "agm".into(),
                    restrictions: None,
                    options: None,
                }),
            );
            gateway.handle(
                conn,
                Gw3Message::Register(Register {
                    envelope: Envelope {
                        domain: Some(Domain::Agm),
                        request_id: Some(RequestId::new("register")),
                        peer_id: Some(peer.clone()),
                        ..Envelope::default()
                    },
                    methods: handlers
                        .iter()
                        .map(|(definition, _)| definition.clone())
                        .collect(),
                }),
            );
            (conn, peer)
        };
        lock(&self.instances).push(Instance {
            application: application.to_owned(),
            conn,
        });
        let app_peer = AppPeer {
            runtime: Arc::clone(self),
            conn,
            peer: peer.clone(),
            handlers: handlers
                .into_iter()
                .map(|(definition, handler)| (definition.id.key(), handler))
                .collect(),
            token,
            branches: HashMap::new(),
            subscriptions: HashMap::new(),
        };
        self.tracker.spawn(app_peer.run(inbox));
        tracing::debug!(application, %peer, "in-process app started");
        Ok(peer)
    }

    fn forget(&self, conn: ConnId) {
        lock(&self.instances).retain(|instance| instance.conn != conn);
    }

    fn applications(&self, with_intents: bool) -> Value {
        let applications: Vec<Value> = self
            .apps
            .iter()
            .map(|app| app.application_info(with_intents))
            .collect();
        json!({ "applications": applications })
    }
}

impl Principal {
    fn default_service() -> Self {
        Self {
            user: None,
            login: None,
            service: true,
        }
    }
}

/// Locks a mutex, recovering from poisoning (a panicked holder cannot leave these half-updated
/// in a way that matters more than stopping the bus would).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
