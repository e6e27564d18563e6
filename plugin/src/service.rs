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
    fmt::Write as _,
    io::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use codemode_adapters::{Bus, BusEvent, CallOptions};
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
    sandbox::{FunctionSet, Outcome, Sandbox, SandboxConfig, Session},
    versions::{CatalogueUpdater, CatalogueVersion, RefreshRequest, RefreshRequests, unix_ms_now},
};

/// How long the bus must be quiet before a burst of catalogue changes is folded in.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// The longest a burst of changes delays the fold (a bus that never stays quiet).
pub const MAX_DEBOUNCE: Duration = Duration::from_millis(500);

/// The default cap on the wall time a snippet may ask for ([`CodeModeConfig::max_timeout`]).
pub const MAX_TIMEOUT: Duration = Duration::from_mins(10);

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
    /// Append one JSON line per snippet (code, outcome, calls) to this file.
    pub audit_log: Option<PathBuf>,
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
}

impl std::fmt::Debug for ExecuteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("timeout", &self.timeout)
            .field("observer", &self.observer.is_some())
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
    audit: Option<Mutex<std::fs::File>>,
    /// Stops the follower task when the service is dropped (`None` outside a tokio runtime).
    _follower: Option<DropGuard>,
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
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| Error::AuditLog {
                        path: path.clone(),
                        source,
                    })?,
            )),
            None => None,
        };
        // Subscribe before the first snapshot, so no change between the two is missed.
        let events = bus.events();
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
            _follower: follower,
        })
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

    /// The functions snippets see now: every catalogue function plus a departed spec per
    /// function whose app left.
    pub fn sandbox_functions(&self) -> Arc<FunctionSet> {
        Arc::clone(&self.version().functions)
    }

    /// How many functions the catalogue has now.
    pub fn function_count(&self) -> usize {
        self.version().catalogue.function_count()
    }

    /// `list_python_definitions`.
    pub fn list(&self, request: &ListRequest) -> ListPage {
        self.version().catalogue.list(request)
    }

    /// `get_python_definitions`.
    pub fn get(&self, names: &[String]) -> Definitions {
        self.version().catalogue.get(names)
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
        let mut limits = self.config.sandbox.limits.clone();
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
        let span = tracing::info_span!("snippet", bytes = code.len(), version = version.number);
        let run = async {
            match session {
                Some(session) => {
                    session
                        .execute_with_limits(code, &version.functions, Arc::new(host), limits)
                        .await
                }
                None => {
                    self.sandbox
                        .execute_with_limits(code, &version.functions, Arc::new(host), limits)
                        .await
                }
            }
        };
        let outcome = tracing::Instrument::instrument(run, span).await;
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
            "at_ms": at_ms,
            "code": code,
            "ok": outcome.ok,
            "duration_ms": outcome.duration_ms,
            "calls": outcome.calls,
            "error": outcome.error,
            "result_bytes": serde_json::to_string(&outcome.result).map_or(0, |text| text.len()),
        });
        if let Ok(mut file) = audit.lock()
            && let Err(error) = writeln!(file, "{line}")
        {
            tracing::warn!(%error, "writing the audit log failed");
        }
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

/// The text a model reads for an outcome: the result, what was printed, one line about the bus
/// calls; for a failure, the exception with the snippet line it points at.
pub fn render_outcome(outcome: &Outcome) -> String {
    let mut text = String::new();
    if let Some(error) = &outcome.error {
        let _ = write!(text, "{}: {}", error.kind, error.message);
        if let Some(line) = error.line {
            let _ = write!(text, "\n  at line {line}");
            if let Some(line_text) = &error.line_text {
                let _ = write!(text, ": {}", line_text.trim());
            }
        }
        if let Some(details) = &error.details
            && !details.is_empty()
        {
            let _ = write!(text, "\n  details: {}", Value::Object(details.clone()));
        }
        text.push('\n');
    } else if outcome.result_unset {
        text.push_str(if outcome.printed.is_empty() {
            "result: None — the snippet never assigned `result` and printed nothing. Return a \
             value with `result = ...` (or end with an expression, or print()).\n"
        } else {
            "result: None (`result` was never assigned; the printed output is below).\n"
        });
    } else {
        let result = match &outcome.result {
            Value::String(text) => text.clone(),
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        let _ = writeln!(
            text,
            "result: {result}{}",
            if outcome.result_truncated {
                " [truncated]"
            } else {
                ""
            }
        );
    }
    if !outcome.printed.is_empty() {
        let _ = write!(text, "printed:\n{}", outcome.printed);
        if !outcome.printed.ends_with('\n') {
            text.push('\n');
        }
        if outcome.printed_truncated {
            text.push_str("[printed output truncated]\n");
        }
    }
    text.push_str(&calls_summary(outcome));
    text
}

/// "bus calls: 3 (crm.get_clients ×2, intents.view_chart; 1 failed) in 12 ms".
pub fn calls_summary(outcome: &Outcome) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for call in &outcome.calls {
        match counts.iter_mut().find(|(name, _)| *name == call.function) {
            Some((_, count)) => *count += 1,
            None => counts.push((&call.function, 1)),
        }
    }
    let failed = outcome.calls.iter().filter(|call| !call.ok).count();
    let mut names: Vec<String> = counts
        .iter()
        .take(6)
        .map(|(name, count)| {
            if *count > 1 {
                format!("{name} ×{count}")
            } else {
                (*name).to_owned()
            }
        })
        .collect();
    if counts.len() > 6 {
        names.push(format!("… {} more", counts.len() - 6));
    }
    let mut line = format!("bus calls: {}", outcome.calls.len());
    if !names.is_empty() {
        let _ = write!(line, " ({}", names.join(", "));
        if failed > 0 {
            let _ = write!(line, "; {failed} failed");
        }
        line.push(')');
    }
    let _ = writeln!(line, "; ran {:.1} ms", outcome.duration_ms);
    line
}
