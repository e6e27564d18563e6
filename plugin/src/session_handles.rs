//! Snippet sessions for clients that have no connection to keep them on: MCP's streamable HTTP
//! on the 2026-07-28 protocol is stateless (no `Mcp-Session-Id`; each request may reach a
//! fresh handler), so a session cannot belong to "this connection" there.
//!
//! - **Ids.** `session: true` (or any name that is not an id) opens a session under an
//!   unguessable id, `s-` and 32 hex digits of a random (v4) UUID, which the answer names; the
//!   client passes the id back as `session` to continue. The id is the only key: a client
//!   reaches no session whose id it was not given.
//! - **Limits.** Each id holds one session of [`ClientSessions`] (its idle expiry and the
//!   pool's session cap apply); an id unused for the idle time is forgotten, and at most
//!   [`MAX_HANDLES`] ids exist at once.
//! - **Endings are told.** An id that is unknown (expired, ended, or never issued) is answered
//!   with a new session and a note saying the old state is gone.

use std::{collections::HashMap, sync::Arc};

use tokio::{sync::Mutex, time::Instant};

use crate::{
    service::{CodeMode, ExecuteOptions},
    sessions::{ClientSessions, SessionLimits, SessionRequest, SessionRun},
};

/// Most session ids open at once across all stateless clients.
pub const MAX_HANDLES: usize = 64;

/// How ids start.
const PREFIX: &str = "s-";

struct Handle {
    sessions: Arc<ClientSessions>,
    last_used: Instant,
}

/// The sessions of stateless clients, by id.
pub struct SessionHandles {
    limits: SessionLimits,
    handles: Mutex<HashMap<String, Handle>>,
}

impl Default for SessionHandles {
    fn default() -> Self {
        Self::new(SessionLimits::default())
    }
}

impl std::fmt::Debug for SessionHandles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandles")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl SessionHandles {
    /// Handles whose sessions have `limits`.
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            limits,
            handles: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `code` in the session `request` names: an id this table issued, or a new session.
    pub async fn execute(
        &self,
        service: &CodeMode,
        request: &SessionRequest,
        code: &str,
        options: ExecuteOptions,
    ) -> SessionRun {
        let mut notes: Vec<String> = Vec::new();
        let found = {
            let mut handles = self.handles.lock().await;
            let now = Instant::now();
            handles.retain(|_, handle| now.duration_since(handle.last_used) <= self.limits.idle);
            if let Some(handle) = handles.get_mut(&request.name) {
                handle.last_used = now;
                Some((request.name.clone(), Arc::clone(&handle.sessions)))
            } else {
                if request.name.starts_with(PREFIX) {
                    notes.push(format!(
                            "Session {:?} is not open (it expired, ended, or was never issued); its variables are gone, this run starts a new session.",
                            request.name
                        ));
                } else if request.name != crate::sessions::DEFAULT_SESSION {
                    notes.push(format!(
                            "This transport has no connection to keep a session named {:?} on; this run starts a new session under an id.",
                            request.name
                        ));
                }
                if handles.len() >= MAX_HANDLES {
                    None
                } else {
                    let id = format!("{PREFIX}{}", uuid::Uuid::new_v4().simple());
                    let sessions = Arc::new(ClientSessions::new(SessionLimits {
                        per_client: 1,
                        ..self.limits
                    }));
                    handles.insert(
                        id.clone(),
                        Handle {
                            sessions: Arc::clone(&sessions),
                            last_used: now,
                        },
                    );
                    Some((id, sessions))
                }
            }
        };
        let Some((id, sessions)) = found else {
            return SessionRun {
                outcome: crate::sandbox::Outcome::failed(crate::sandbox::SnippetError::new(
                    crate::sandbox::ErrorPhase::Worker,
                    "SessionError",
                    format!(
                        "{MAX_HANDLES} sessions are open on this server; run without session, or try again later"
                    ),
                )),
                note: String::new(),
            };
        };
        let inner = SessionRequest {
            name: id.clone(),
            reset: request.reset,
        };
        let run = sessions.execute(service, &inner, code, options).await;
        if sessions.open_count().await == 0 {
            self.handles.lock().await.remove(&id);
        }
        // The session note speaks of a connection; here the id is what carries the state.
        notes.push(run.note.replace(" on this connection", ""));
        SessionRun {
            outcome: run.outcome,
            note: notes.join(" "),
        }
    }

    /// How many ids are open.
    pub async fn open_count(&self) -> usize {
        self.handles.lock().await.len()
    }
}
