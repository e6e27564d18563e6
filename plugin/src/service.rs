//! Code Mode as one service: the three operations every front end (MCP, the bus, the CLI)
//! offers, over one bus connection, one live catalogue and one sandbox pool.
//!
//! - [`CodeMode::list`] → `list_python_definitions`;
//! - [`CodeMode::get`] → `get_python_definitions`;
//! - [`CodeMode::execute`] → `execute_python_code`, with [`render_outcome`] for the text a model
//!   reads.
//!
//! The catalogue follows the bus through one [`CatalogueUpdater`], which publishes immutable
//! [`CatalogueVersion`]s; each operation reads one version from start to end:
//! - a background task waits for catalogue events, lets a burst settle ([`DEBOUNCE`], at most
//!   [`MAX_DEBOUNCE`] after its first event) and folds the bus's latest snapshot in once; it
//!   also answers the refresh requests of running snippets' hosts (by message);
//! - every operation still compares the bus's generation with the version's and updates when
//!   it moved, so an app that just joined is listed (and callable) on the next request even
//!   before the task ran.
//!
//! An update diffs the snapshot and rebuilds only changed functions; the call map and the
//! sandbox's function set are rebuilt only when functions were added or removed, so the pool
//! resends specs to its workers only then. Functions whose app left stay in the function set as
//! departed specs, so a call to one says who left and when.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use codemode_adapters::{Bus, BusEvent, CallOptions, TraceContext};
use serde_json::{Value, json};
use tokio::sync::{
    broadcast::{Receiver, error::RecvError},
    mpsc,
};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::{
    Error,
    bridge::{BusHost, CallObserver},
    catalogue::{CatalogueConfig, Definitions, ListPage, ListRequest, PythonCatalogue},
    control::{
        AuditLog, Policy, PolicyBus, PolicyStore, RunControl, SessionControl, annotate, guard, pii,
    },
    sandbox::{
        FunctionSet, Outcome, RunScope, Sandbox, SandboxConfig, Session, preflight::departed_spec,
    },
    versions::{CatalogueUpdater, CatalogueVersion, RefreshRequest, RefreshRequests, unix_ms_now},
};

/// The outcome texts live in the engine, so every host (this service, the browser package)
/// answers with the same words.
pub use codemode_sandbox::render::{calls_summary, render_outcome};

/// How long the bus must be quiet before a burst of catalogue changes is folded in.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// The longest a burst of changes delays the fold (a bus that never stays quiet).
pub const MAX_DEBOUNCE: Duration = Duration::from_millis(500);

/// The default cap on the wall time a caller may ask for (`--max-timeout-seconds`).
pub use crate::sandbox::MAX_TIMEOUT;

/// Configuration of a [`CodeMode`] service.
#[derive(Debug, Clone)]
pub struct CodeModeConfig {
    /// Catalogue budgets.
    pub catalogue: CatalogueConfig,
    /// The worker pool and the default limits (wall time 30 s…).
    pub sandbox: SandboxConfig,
    /// Per bus call timeout (default 30 s).
    pub call_timeout: Duration,
    /// The longest wall time a caller may ask for with a per-run timeout (default
    /// [`MAX_TIMEOUT`]); without one a run gets the sandbox's configured wall time.
    pub max_timeout: Duration,
    /// Append one JSON line per snippet (code, outcome, calls) and per approval request and
    /// decision to this file.
    pub audit_log: Option<PathBuf>,
    /// The policy (default: everything visible, nothing needs approval).
    pub policy: Option<Arc<PolicyStore>>,
}

impl CodeModeConfig {
    /// Defaults around a sandbox configuration.
    pub fn new(sandbox: SandboxConfig) -> Self {
        Self {
            catalogue: CatalogueConfig::default(),
            sandbox,
            call_timeout: CallOptions::default().timeout,
            max_timeout: MAX_TIMEOUT,
            audit_log: None,
            policy: None,
        }
    }
}

/// Options of one execution.
#[derive(Default, Clone)]
pub struct ExecuteOptions {
    /// Wall-time limit for this run (capped at [`CodeModeConfig::max_timeout`]); default: the
    /// configured one.
    pub timeout: Option<Duration>,
    /// Told about every bus call as it finishes.
    pub observer: Option<CallObserver>,
    /// Who asks (an MCP session, a bus caller): waiting runs of different clients take turns.
    pub client: Option<String>,
    /// Cancelled when the caller gives up: the run stops and its bus calls are dropped.
    pub cancel: Option<CancellationToken>,
    /// Who runs the snippet: their approver and PII session.
    pub control: SessionControl,
    /// The caller's trace (MCP `_meta.traceparent`, io.Connect's propagation info): the run's
    /// `snippet` span continues it, and its bus calls carry it on.
    pub trace_parent: Option<TraceContext>,
}

impl std::fmt::Debug for ExecuteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("timeout", &self.timeout)
            .field("observer", &self.observer.is_some())
            .field("client", &self.client)
            .field("cancel", &self.cancel)
            .field("control", &self.control)
            .field("trace_parent", &self.trace_parent)
            .finish()
    }
}

/// Code Mode over one bus.
pub struct CodeMode {
    updater: Arc<CatalogueUpdater>,
    /// Refresh requests of running snippets' hosts, answered by the follower task.
    refresh_requests: Option<RefreshRequests>,
    sandbox: Sandbox,
    config: CodeModeConfig,
    /// Cancelled by [`CodeMode::shutdown`]: every run in progress or queued stops.
    shutdown: CancellationToken,
    audit: Option<Arc<AuditLog>>,
    /// The bus as the policy shows it (the updater reads its catalogue).
    policy_bus: Arc<PolicyBus>,
    /// Placeholders for front ends without sessions (MCP 2026-07-28 is stateless).
    shared_pii: Arc<crate::control::PiiSession>,
    /// Snippet sessions by id, for front ends without sessions (MCP 2026-07-28).
    session_handles: Arc<crate::session_handles::SessionHandles>,
    /// The function set with hidden functions' specs added, per (version, view generation).
    hidden_functions: Mutex<Option<(u64, u64, Arc<FunctionSet>)>>,
    /// Stops the follower task when the service is dropped (`None` outside a tokio runtime).
    _follower: Option<DropGuard>,
    /// Connected or not: a catalogue served while disconnected is marked stale.
    link: Arc<crate::link_status::LinkStatus>,
    /// Stops the link status task with the service.
    _link_follower: Option<DropGuard>,
}

impl std::fmt::Debug for CodeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMode")
            .field("dialect", &self.updater.bus().dialect())
            .finish_non_exhaustive()
    }
}

impl CodeMode {
    /// A service over a connected bus. Builds the catalogue from its current snapshot; inside a
    /// tokio runtime also starts the task that folds bus changes in (debounced).
    pub fn new(bus: Arc<dyn Bus>, config: CodeModeConfig) -> Result<Self, Error> {
        let audit = match &config.audit_log {
            Some(path) => Some(Arc::new(AuditLog::open(path)?)),
            None => None,
        };
        let store = config
            .policy
            .clone()
            .unwrap_or_else(|| Arc::new(PolicyStore::fixed(Policy::default())));
        let policy_bus = Arc::new(PolicyBus::new(bus, store));
        let bus: Arc<dyn Bus> = Arc::clone(&policy_bus) as Arc<dyn Bus>;
        // Subscribe before the first snapshot, so no change between the two is missed.
        let events = bus.events();
        let link = Arc::new(crate::link_status::LinkStatus::default());
        let link_follower = link.follow(bus.events());
        let catalogue = PythonCatalogue::build(&bus.catalogue(), config.catalogue.clone());
        let updater = Arc::new(CatalogueUpdater::new(bus, catalogue));
        let (follower, refresh_requests) = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let token = CancellationToken::new();
                let (requests, received) = mpsc::unbounded_channel();
                runtime.spawn(follow(
                    Arc::downgrade(&updater),
                    events,
                    received,
                    token.clone(),
                ));
                (Some(token.drop_guard()), Some(requests))
            }
            Err(_) => (None, None),
        };
        Ok(Self {
            updater,
            refresh_requests,
            sandbox: Sandbox::new(config.sandbox.clone()),
            config,
            audit,
            shutdown: CancellationToken::new(),
            policy_bus,
            shared_pii: Arc::new(crate::control::PiiSession::new()),
            session_handles: Arc::default(),
            hidden_functions: Mutex::new(None),
            _follower: follower,
            link,
            _link_follower: link_follower,
        })
    }

    /// Stops every snippet running or queued now and refuses new ones (they end as
    /// `Cancelled`): for a process that is shutting down.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// The bus.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        self.updater.bus()
    }

    /// The sandbox pool.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Starts the pool's workers now rather than on the first snippet.
    pub async fn warm_up(&self) -> Result<(), crate::sandbox::SandboxError> {
        self.sandbox.warm_up().await
    }

    /// Folds the bus's latest catalogue in if it changed; returns the version to read.
    pub fn version(&self) -> Arc<CatalogueVersion> {
        self.updater.refresh()
    }

    /// The catalogue version folded in so far, without refreshing: the follower task moves
    /// it shortly after the bus changes; any request moves it at once.
    pub fn catalogue_version(&self) -> u64 {
        self.updater.current().number
    }

    /// Each catalogue version published from now on (by the follower task or any request),
    /// for front ends that tell their clients the API changed.
    pub fn catalogue_changes(&self) -> tokio::sync::watch::Receiver<Arc<CatalogueVersion>> {
        self.updater.subscribe()
    }

    /// How many [`Self::catalogue_changes`] receivers are alive: each open MCP session holds
    /// one, so a count that grows with closed sessions is a leak.
    pub fn catalogue_watchers(&self) -> usize {
        self.updater.subscribers()
    }

    /// The functions snippets see now: every catalogue function plus a departed spec per
    /// function whose app left.
    pub fn sandbox_functions(&self) -> Arc<FunctionSet> {
        Arc::clone(&self.version().functions)
    }

    /// How many functions the catalogue has now.
    pub fn function_count(&self) -> usize {
        self.version().catalogue.function_count()
    }

    /// The PII placeholders of front ends that have no session of their own (stateless MCP
    /// requests): one mapping for this service, in memory only.
    pub fn shared_pii(&self) -> Arc<crate::control::PiiSession> {
        Arc::clone(&self.shared_pii)
    }

    /// The snippet sessions of front ends that have no session of their own (stateless MCP
    /// requests), by the ids their answers named.
    pub fn session_handles(&self) -> Arc<crate::session_handles::SessionHandles> {
        Arc::clone(&self.session_handles)
    }

    /// The policy now (reloaded if its file changed).
    pub fn policy(&self) -> Arc<Policy> {
        self.policy_bus.store().current()
    }

    /// `list_python_definitions`; lines of functions that write or need approval say so.
    pub fn list(&self, request: &ListRequest) -> ListPage {
        let version = self.version();
        let mut page = version.catalogue.list(request);
        page.text = annotate::listing(&page.text, &self.labels(&version));
        if let Some(note) = self.link.stale_note() {
            page.text.insert_str(0, &note);
        }
        page
    }

    /// When the bus link dropped, if it is down now (listings and stubs say they are stale).
    pub fn disconnected_since(&self) -> Option<std::time::SystemTime> {
        self.link.disconnected_since()
    }

    /// `get_python_definitions`; stubs of functions that write or need approval say so.
    pub fn get(&self, names: &[String]) -> Definitions {
        let version = self.version();
        let mut definitions = version.catalogue.get(names);
        definitions.text = annotate::stubs(&definitions.text, &self.labels(&version));
        if let Some(note) = self.link.stale_note() {
            definitions.text.insert_str(0, &note);
        }
        definitions
    }

    /// The class label of every function of `version` that has one.
    fn labels(&self, version: &CatalogueVersion) -> annotate::Labels {
        let policy = self.policy();
        if !policy.approvals_on() && !policy.config.read_only {
            return annotate::Labels::new();
        }
        let view = self.policy_bus.view();
        version
            .map
            .functions
            .iter()
            .filter_map(|(name, spec)| {
                let writes = guard::class_of(&policy, &view, spec) == crate::control::Class::Write;
                let wire = match &spec.call {
                    crate::catalogue::CallKind::Method { method, .. } => method.as_str(),
                    crate::catalogue::CallKind::Intent { intent } => intent.as_str(),
                    _ => name.as_str(),
                };
                let class = if writes {
                    crate::control::Class::Write
                } else {
                    crate::control::Class::Read
                };
                let approval = policy.needs_approval(&[wire, name], class)
                    && !matches!(spec.call, crate::catalogue::CallKind::FindIntents);
                annotate::label(writes, approval, policy.config.read_only)
                    .map(|label| (name.clone(), label))
            })
            .collect()
    }

    /// The functions a run sees: the version's, plus a spec per hidden function whose call
    /// says a policy hides it.
    fn run_functions(&self, version: &CatalogueVersion) -> Arc<FunctionSet> {
        let view = self.policy_bus.view();
        if view.hidden.is_empty() {
            return Arc::clone(&version.functions);
        }
        if let Ok(cached) = self.hidden_functions.lock()
            && let Some((number, generation, functions)) = cached.as_ref()
            && *number == version.number
            && *generation == view.generation
        {
            return Arc::clone(functions);
        }
        let mut specs: Vec<_> = version
            .functions
            .specs()
            .iter()
            .filter(|spec| !view.hidden.contains_key(&spec.name))
            .cloned()
            .collect();
        for name in view.hidden.keys() {
            if !version.map.functions.contains_key(name)
                && let Some(message) = view.hidden_message(name)
            {
                specs.push(departed_spec(name, &message));
            }
        }
        let functions = Arc::new(FunctionSet::new(specs));
        if let Ok(mut cached) = self.hidden_functions.lock() {
            *cached = Some((version.number, view.generation, Arc::clone(&functions)));
        }
        functions
    }

    /// The whole Python module (every stub), for `codemode catalogue module`.
    pub fn module_source(&self) -> String {
        self.version().catalogue.module_source()
    }

    /// `execute_python_code`: runs `code` in the sandbox with the catalogue's functions backed
    /// by the bus.
    pub async fn execute(&self, code: &str, options: ExecuteOptions) -> Outcome {
        self.execute_in(None, code, options).await
    }

    /// Opens a stateful sandbox session (a worker of its own; see [`crate::sessions`]).
    pub async fn open_session(&self) -> Result<Session, crate::sandbox::SandboxError> {
        self.sandbox.session().await
    }

    /// [`Self::execute`] in `session`'s state when one is given.
    pub async fn execute_in(
        &self,
        session: Option<&mut Session>,
        code: &str,
        options: ExecuteOptions,
    ) -> Outcome {
        let version = self.version();
        let policy = self.policy();
        let control = Arc::new(RunControl::new(
            Arc::clone(&policy),
            self.policy_bus.view(),
            options.control,
            self.audit.clone(),
            code,
            &version.map,
        ));
        let functions = self.run_functions(&version);
        let mut limits = self.config.sandbox.limits.clone();
        if let Some(max) = policy.config.max_calls_per_snippet {
            limits.max_bus_calls = limits.max_bus_calls.min(max);
        }
        if let Some(timeout) = options.timeout {
            limits.wall_time = timeout.clamp(
                Duration::from_millis(1),
                self.config
                    .max_timeout
                    .max(self.config.sandbox.limits.wall_time)
                    .max(Duration::from_millis(1)),
            );
        }
        let mut host = BusHost::new(
            Arc::clone(self.updater.bus()),
            Arc::clone(&version),
            self.updater.feed(self.refresh_requests.clone()),
            CallOptions {
                timeout: self.config.call_timeout,
                ..CallOptions::default()
            },
        );
        if let Some(observer) = options.observer {
            host = host.with_observer(observer);
        }
        let span = crate::telemetry::snippet_span(
            code,
            version.number,
            &control,
            options.trace_parent.as_ref(),
        );
        host = host
            .with_control(Arc::clone(&control))
            .with_trace(span.clone(), options.trace_parent);
        let scope = RunScope {
            client: options.client.unwrap_or_default(),
            cancel: self.shutdown.child_token(),
            clock: Some(control.clock().clone()),
        };
        // The caller's token cancels this run's; the guard ends the link when the run ends.
        let _link = options.cancel.map(|caller| {
            let run = scope.cancel.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = caller.cancelled() => run.cancel(),
                    () = run.cancelled() => {}
                }
            });
            scope.cancel.clone().drop_guard()
        });
        let host: Arc<dyn crate::sandbox::HostCalls> = Arc::new(host);
        let run = async {
            match session {
                Some(session) => {
                    session
                        .execute_in(code, &functions, host, limits, &scope)
                        .await
                }
                None => {
                    self.sandbox
                        .execute_in(code, &functions, host, limits, &scope)
                        .await
                }
            }
        };
        let mut outcome = tracing::Instrument::instrument(run, span.clone()).await;
        finish_controlled(&control, &mut outcome);
        crate::telemetry::record_outcome(&span, &outcome);
        tracing::info!(
            ok = outcome.ok,
            ms = outcome.duration_ms,
            calls = outcome.calls.len(),
            printed_bytes = outcome.printed.len(),
            error = outcome
                .error
                .as_ref()
                .map_or("", |error| error.kind.as_str()),
            "snippet finished"
        );
        self.audit(code, &outcome);
        outcome
    }

    fn audit(&self, code: &str, outcome: &Outcome) {
        let Some(audit) = &self.audit else { return };
        let at_ms = unix_ms_now();
        let line = json!({
            "event": "snippet",
            "at_ms": at_ms,
            "code": code,
            "ok": outcome.ok,
            "duration_ms": outcome.duration_ms,
            "calls": outcome.calls,
            "error": outcome.error,
            "result_bytes": serde_json::to_string(&outcome.result).map_or(0, |text| text.len()),
        });
        audit.write(&line);
    }
}

/// What goes back to the model after a controlled run: PII tokenized in the result, the
/// printed text and the errors; a failed run lists the side effects the snippet may make.
fn finish_controlled(control: &RunControl, outcome: &mut Outcome) {
    let config = &control.policy().config.pii;
    if pii::active(config) {
        let session = control.pii();
        session.tokenize_value(config, &mut outcome.result);
        outcome.printed = session.tokenize_text(config, &outcome.printed);
        if let Some(error) = outcome.error.as_mut() {
            error.message = session.tokenize_text(config, &error.message);
            if let Some(details) = error.details.as_mut() {
                let mut value = Value::Object(std::mem::take(details));
                session.tokenize_value(config, &mut value);
                if let Value::Object(map) = value {
                    *details = map;
                }
            }
        }
        for call in &mut outcome.calls {
            if let Some(error) = call.error.as_mut() {
                *error = session.tokenize_text(config, error);
            }
        }
    }
    if let Some(error) = outcome.error.as_mut()
        && !control.side_effects().is_empty()
    {
        error
            .details
            .get_or_insert_with(serde_json::Map::new)
            .insert("side_effects".into(), json!(control.side_effects()));
    }
}

/// Folds bus catalogue changes into `updater` until the service is dropped or the bus closes:
/// each burst of change events is coalesced into one refresh once the bus has been quiet for
/// [`DEBOUNCE`] (at most [`MAX_DEBOUNCE`] after the burst's first event). A refresh a host asks
/// for is done at once and answered with the version published then.
async fn follow(
    updater: Weak<CatalogueUpdater>,
    mut events: Receiver<BusEvent>,
    mut requests: mpsc::UnboundedReceiver<RefreshRequest>,
    token: CancellationToken,
) {
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            request = requests.recv() => {
                let Some(answer) = request else { continue };
                let Some(updater) = updater.upgrade() else { return };
                if let Ok(version) = tokio::task::spawn_blocking(move || updater.refresh()).await {
                    let _ = answer.send(version);
                }
                continue;
            }
            event = events.recv() => match event {
                Ok(event) if !changes_catalogue(&event) => continue,
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
        let deadline = tokio::time::Instant::now() + MAX_DEBOUNCE;
        loop {
            let quiet = (tokio::time::Instant::now() + DEBOUNCE).min(deadline);
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep_until(quiet) => break,
                event = events.recv() => {
                    if matches!(event, Err(RecvError::Closed)) {
                        break;
                    }
                }
            }
        }
        let Some(updater) = updater.upgrade() else {
            return;
        };
        // A diff over thousands of functions is CPU work: keep it off the async workers.
        if tokio::task::spawn_blocking(move || updater.refresh())
            .await
            .is_err()
        {
            tracing::warn!("folding a catalogue change in did not finish");
        }
    }
}

/// Whether `event` may have changed the catalogue.
fn changes_catalogue(event: &BusEvent) -> bool {
    matches!(
        event,
        BusEvent::CatalogueChanged { .. } | BusEvent::Reconnected { .. }
    )
}
