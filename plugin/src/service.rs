//! Code Mode as one service: the three operations every front end (MCP, the bus, the CLI)
//! offers, over one bus connection, one live catalogue and one sandbox pool.
//!
//! - [`CodeMode::list`] → `list_python_definitions`;
//! - [`CodeMode::get`] → `get_python_definitions`;
//! - [`CodeMode::execute`] → `execute_python_code`, with [`render_outcome`] for the text a model
//!   reads.
//!
//! The catalogue follows the bus: every operation first compares the bus's catalogue
//! generation with the one it last folded in and updates incrementally when it moved, so an app
//! that just joined is listed (and callable) on the next request.

use std::{
    fmt::Write as _,
    io::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use codemode_adapters::{Bus, CallOptions};
use serde_json::{Value, json};

use crate::{
    bridge::{BusHost, CallObserver, function_set},
    catalogue::{CallMap, CatalogueConfig, Definitions, ListPage, ListRequest, PythonCatalogue},
    sandbox::{FunctionSet, Outcome, Sandbox, SandboxConfig},
};

/// How long a snippet may run at most, whatever it asks for.
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
            audit_log: None,
        }
    }
}

/// Options of one execution.
#[derive(Default, Clone)]
pub struct ExecuteOptions {
    /// Wall-time limit for this run (capped at [`MAX_TIMEOUT`]); default: the configured one.
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

/// The call map and sandbox functions of one catalogue version.
struct Version {
    map: Arc<CallMap>,
    functions: Arc<FunctionSet>,
}

/// Code Mode over one bus.
pub struct CodeMode {
    bus: Arc<dyn Bus>,
    catalogue: Arc<RwLock<PythonCatalogue>>,
    version: Mutex<Arc<Version>>,
    sandbox: Sandbox,
    config: CodeModeConfig,
    audit: Option<Mutex<std::fs::File>>,
}

impl std::fmt::Debug for CodeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMode")
            .field("dialect", &self.bus.dialect())
            .finish_non_exhaustive()
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The audit log could not be opened.
    #[error("opening the audit log {path}: {source}")]
    AuditLog {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl CodeMode {
    /// A service over a connected bus. Builds the catalogue from its current snapshot.
    pub fn new(bus: Arc<dyn Bus>, config: CodeModeConfig) -> Result<Self, ServiceError> {
        let audit = match &config.audit_log {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| ServiceError::AuditLog {
                        path: path.clone(),
                        source,
                    })?,
            )),
            None => None,
        };
        let catalogue = PythonCatalogue::build(&bus.catalogue(), config.catalogue.clone());
        let version = version_of(&catalogue);
        Ok(Self {
            bus,
            catalogue: Arc::new(RwLock::new(catalogue)),
            version: Mutex::new(Arc::new(version)),
            sandbox: Sandbox::new(config.sandbox.clone()),
            config,
            audit,
        })
    }

    /// The bus.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    /// The sandbox pool.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Starts the pool's workers now rather than on the first snippet.
    pub async fn warm_up(&self) -> Result<(), crate::sandbox::SandboxError> {
        self.sandbox.warm_up().await
    }

    /// Folds the bus's latest catalogue in if it changed; returns the current version's call
    /// map and functions.
    fn refresh(&self) -> Arc<Version> {
        let snapshot = self.bus.catalogue();
        let stale = self
            .catalogue
            .read()
            .is_ok_and(|catalogue| catalogue.version() != snapshot.generation);
        if stale && let Ok(mut catalogue) = self.catalogue.write() {
            if catalogue.version() != snapshot.generation {
                let stats = catalogue.update(&snapshot);
                let changed = stats.added + stats.removed + stats.renamed > 0;
                if changed {
                    tracing::info!(
                        version = stats.version,
                        added = stats.added,
                        removed = stats.removed,
                        functions = catalogue.function_count(),
                        "catalogue updated"
                    );
                }
                tracing::debug!(
                    version = stats.version,
                    added = stats.added,
                    removed = stats.removed,
                    functions = catalogue.function_count(),
                    "catalogue updated"
                );
            }
            let fresh = Arc::new(version_of(&catalogue));
            if let Ok(mut version) = self.version.lock() {
                *version = Arc::clone(&fresh);
            }
            return fresh;
        }
        self.version.lock().map_or_else(
            |_| {
                Arc::new(Version {
                    map: Arc::new(CallMap::default()),
                    functions: Arc::new(FunctionSet::empty()),
                })
            },
            |version| Arc::clone(&version),
        )
    }

    /// How many functions the catalogue has now.
    pub fn function_count(&self) -> usize {
        self.refresh();
        self.catalogue
            .read()
            .map_or(0, |catalogue| catalogue.function_count())
    }

    /// `list_python_definitions`.
    pub fn list(&self, request: &ListRequest) -> ListPage {
        self.refresh();
        match self.catalogue.read() {
            Ok(catalogue) => catalogue.list(request),
            Err(_) => ListPage {
                text: "The catalogue is unavailable; try again.".to_owned(),
                next_cursor: None,
                matches: 0,
                shown: 0,
                tokens: 0,
            },
        }
    }

    /// `get_python_definitions`.
    pub fn get(&self, names: &[String]) -> Definitions {
        self.refresh();
        match self.catalogue.read() {
            Ok(catalogue) => catalogue.get(names),
            Err(_) => Definitions {
                text: "# The catalogue is unavailable; try again.\n".to_owned(),
                found: Vec::new(),
                unknown: Vec::new(),
                omitted: Vec::new(),
                tokens: 0,
            },
        }
    }

    /// The whole Python module (every stub), for `codemode catalogue module`.
    pub fn module_source(&self) -> String {
        self.refresh();
        self.catalogue
            .read()
            .map(|catalogue| catalogue.module_source())
            .unwrap_or_default()
    }

    /// `execute_python_code`: runs `code` in the sandbox with the catalogue's functions backed
    /// by the bus.
    pub async fn execute(&self, code: &str, options: ExecuteOptions) -> Outcome {
        let version = self.refresh();
        let mut limits = self.config.sandbox.limits.clone();
        if let Some(timeout) = options.timeout {
            limits.wall_time = timeout.clamp(Duration::from_millis(1), MAX_TIMEOUT);
        }
        let mut host = BusHost::new(
            Arc::clone(&self.bus),
            Arc::clone(&self.catalogue),
            Arc::clone(&version.map),
            CallOptions {
                timeout: self.config.call_timeout,
                ..CallOptions::default()
            },
        );
        if let Some(observer) = options.observer {
            host = host.with_observer(observer);
        }
        let span =
            tracing::info_span!("snippet", bytes = code.len(), version = version.map.version);
        let outcome = tracing::Instrument::instrument(
            self.sandbox
                .execute_with_limits(code, &version.functions, Arc::new(host), limits),
            span,
        )
        .await;
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
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
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

fn version_of(catalogue: &PythonCatalogue) -> Version {
    let map = catalogue.call_map();
    let functions = function_set(&map);
    Version {
        map: Arc::new(map),
        functions: Arc::new(functions),
    }
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
