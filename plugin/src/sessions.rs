//! Snippet sessions of one client: `execute_python_code(session=…)` keeps variables, functions
//! and imports between calls, on a sandbox worker of the session's own.
//!
//! - **Scope.** A [`ClientSessions`] belongs to one client (one MCP connection, one bus caller
//!   identity); names are looked up only there, so no client can reach another's state.
//! - **Opt-in per call.** `session: true` is the client's default session, a string names one;
//!   `reset` drops the state first. Without `session` a run is stateless, as before.
//! - **Limits.** The pool caps open sessions across all clients
//!   ([`crate::sandbox::SandboxConfig::max_sessions`]); each session's worker has the run
//!   limits, whose memory limit so bounds the session's state; a session idle for longer than
//!   [`SessionLimits::idle`] is closed on the client's next call; a client holds at most
//!   [`SessionLimits::per_client`].
//! - **Stateless transports.** Streamable HTTP on the 2026-07-28 protocol has no MCP session:
//!   every request gets a fresh handler, so sessions there are kept by id in the service
//!   ([`crate::session_handles`]); the answer names the id to pass back.
//! - **Endings are told.** When a run ends the worker (a limit, a crash, a recycle) or a session
//!   expired, the next answer says that the state is gone and why, never silently.

use std::{collections::HashMap, time::Duration};

use tokio::{sync::Mutex, time::Instant};

use crate::{
    sandbox::{Outcome, Session},
    service::{CodeMode, ExecuteOptions},
};

/// The name of a client's default session (`session: true`).
pub const DEFAULT_SESSION: &str = "default";

/// Longest session name accepted.
const MAX_NAME: usize = 64;

/// Limits of one client's sessions.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// A session unused this long is closed (default 15 minutes).
    pub idle: Duration,
    /// Sessions one client may hold at once (default 2).
    pub per_client: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::from_mins(15),
            per_client: 2,
        }
    }
}

/// Which session a call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    /// The session's name ([`DEFAULT_SESSION`] for `session: true`).
    pub name: String,
    /// Drop the session's state before this run.
    pub reset: bool,
}

impl SessionRequest {
    /// Parses the `session` argument: `true` → the default session, a string → that name;
    /// `false`/absent → no session (`Ok(None)`).
    pub fn parse(value: Option<&serde_json::Value>, reset: bool) -> Result<Option<Self>, String> {
        let name = match value {
            None | Some(serde_json::Value::Null | serde_json::Value::Bool(false)) => {
                return if reset {
                    Ok(Some(Self {
                        name: DEFAULT_SESSION.to_owned(),
                        reset,
                    }))
                } else {
                    Ok(None)
                };
            }
            Some(serde_json::Value::Bool(true)) => DEFAULT_SESSION.to_owned(),
            Some(serde_json::Value::String(name)) => {
                let name = name.trim();
                if name.is_empty()
                    || name.chars().count() > MAX_NAME
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    return Err(format!(
                        "session must be true or a name of letters, digits, _ - . (at most {MAX_NAME}), got {:?}.",
                        name.chars().take(MAX_NAME).collect::<String>()
                    ));
                }
                name.to_owned()
            }
            Some(other) => {
                return Err(format!(
                    "session must be true or a session name, got {other}."
                ));
            }
        };
        Ok(Some(Self { name, reset }))
    }
}

/// One open session.
struct Entry {
    session: Session,
    last_used: Instant,
    runs: u64,
}

/// The sessions of one client.
#[derive(Default)]
pub struct ClientSessions {
    limits: SessionLimits,
    open: Mutex<HashMap<String, Entry>>,
    /// Why sessions ended without the client asking, told on the next call naming them.
    ended: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for ClientSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSessions")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What a session run returns: the outcome and a note for the model about the session.
#[derive(Debug)]
pub struct SessionRun {
    /// The run's outcome.
    pub outcome: Outcome,
    /// E.g. "Session "default": run 3; state kept." or why the state is gone.
    pub note: String,
}

impl ClientSessions {
    /// Sessions with `limits`.
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Runs `code` in the session `request` names, opening it when needed.
    pub async fn execute(
        &self,
        service: &CodeMode,
        request: &SessionRequest,
        code: &str,
        options: ExecuteOptions,
    ) -> SessionRun {
        let mut open = self.open.lock().await;
        let mut notes: Vec<String> = Vec::new();
        // Idle expiry, checked on every call of this client.
        let now = Instant::now();
        let expired: Vec<String> = open
            .iter()
            .filter(|(_, entry)| now.duration_since(entry.last_used) > self.limits.idle)
            .map(|(name, _)| name.clone())
            .collect();
        for name in expired {
            open.remove(&name);
            tracing::info!(session = %name, "sandbox session expired");
            self.ended.lock().await.insert(
                name,
                format!(
                    "it was idle for more than {} minutes",
                    self.limits.idle.as_secs() / 60
                ),
            );
        }
        if let Some(why) = self.ended.lock().await.remove(&request.name) {
            notes.push(format!(
                "Session {:?} had ended ({why}); its variables are gone, this run starts a new one.",
                request.name
            ));
        }
        if request.reset && open.remove(&request.name).is_some() {
            notes.push(format!("Session {:?} was reset.", request.name));
        }
        if !open.contains_key(&request.name) {
            if open.len() >= self.limits.per_client {
                let names: Vec<&String> = open.keys().collect();
                return SessionRun {
                    outcome: refused(&format!(
                        "this client already has {} sessions open ({names:?}); reuse one, or reset one with reset=true",
                        open.len()
                    )),
                    note: String::new(),
                };
            }
            match service.open_session().await {
                Ok(session) => {
                    open.insert(
                        request.name.clone(),
                        Entry {
                            session,
                            last_used: now,
                            runs: 0,
                        },
                    );
                }
                Err(error) => {
                    return SessionRun {
                        outcome: refused(&format!(
                            "{error}; run without session, or try again later"
                        )),
                        note: String::new(),
                    };
                }
            }
        }
        let Some(entry) = open.get_mut(&request.name) else {
            return SessionRun {
                outcome: refused("the session could not be opened"),
                note: String::new(),
            };
        };
        let outcome = service
            .execute_in(Some(&mut entry.session), code, options)
            .await;
        entry.runs += 1;
        entry.last_used = Instant::now();
        if entry.session.is_alive() {
            notes.push(format!(
                "Session {:?}: run {}; variables kept for the next call with session={} on this connection.",
                request.name,
                entry.runs,
                session_arg(&request.name)
            ));
        } else {
            let why = outcome.error.as_ref().map_or_else(
                || "its worker was recycled".to_owned(),
                |error| format!("its worker stopped after {}", error.kind),
            );
            open.remove(&request.name);
            tracing::info!(session = %request.name, %why, "sandbox session ended");
            notes.push(format!(
                "Session {:?} ended: {why}. Its variables are gone; the next call with session={} starts empty.",
                request.name,
                session_arg(&request.name)
            ));
        }
        SessionRun {
            outcome,
            note: notes.join(" "),
        }
    }

    /// How many sessions this client holds.
    pub async fn open_count(&self) -> usize {
        self.open.lock().await.len()
    }
}

/// `true` or `"name"`, as the model passes it.
fn session_arg(name: &str) -> String {
    if name == DEFAULT_SESSION {
        "true".to_owned()
    } else {
        format!("{name:?}")
    }
}

/// A failed outcome for a session that could not run.
fn refused(message: &str) -> Outcome {
    Outcome::failed(crate::sandbox::SnippetError::new(
        crate::sandbox::ErrorPhase::Worker,
        "SessionError",
        message,
    ))
}
