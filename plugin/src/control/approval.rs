//! Approval of single calls, in place: the call that needs it waits for an [`Approver`] while
//! the snippet's other calls go on; approved, it goes out and the snippet continues; declined
//! (or unanswered), the snippet gets `ApprovalDeniedError`.
//!
//! Approvers: [`FixedApprover`] (`codemode exec --approve`/`--deny`), [`TerminalApprover`] (a
//! prompt on the controlling terminal), [`BusApprover`] (a method an assistant UI serves on
//! the bus, see its contract), and the MCP server's elicitation approver
//! (`crate::mcp`). Who asks, the wait limit and the audit are in [`super::guard`].

use std::{fmt::Write as _, io::Write as _, sync::Arc, time::Duration};

use async_trait::async_trait;
use codemode_adapters::{Bus, CallOptions, Target};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::policy::Class;

/// What an approver is shown.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalRequest {
    /// Unique within the process.
    pub id: u64,
    /// The Python function, e.g. `order_ticket.place_order`.
    pub function: String,
    /// The wire method or intent, e.g. `OrderTicket.PlaceOrder`.
    pub wire: String,
    /// The applications that would serve it.
    pub apps: Vec<String>,
    /// Read or write.
    pub writes: bool,
    /// The arguments, PII tokenized.
    pub arguments: Map<String, Value>,
    /// The snippet lines that call it (1-based number, text).
    pub lines: Vec<(u32, String)>,
    /// Other functions with side effects the snippet may still call.
    pub side_effects: Vec<String>,
    /// The session that sent the snippet (MCP session id, `exec`, …).
    pub session: String,
}

impl ApprovalRequest {
    /// Read or write as the request says.
    pub fn class(&self) -> Class {
        if self.writes {
            Class::Write
        } else {
            Class::Read
        }
    }

    /// The request as text for a person.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "A Code Mode snippet wants to call {} ({}{}){}.\n",
            self.function,
            self.wire,
            if self.apps.is_empty() {
                String::new()
            } else {
                format!(" in {}", self.apps.join(", "))
            },
            if self.writes {
                ", which may change data"
            } else {
                ""
            }
        );
        let _ = writeln!(text, "Arguments: {}", Value::Object(self.arguments.clone()));
        for (number, line) in &self.lines {
            let _ = writeln!(text, "Snippet line {number}: {}", line.trim());
        }
        if !self.side_effects.is_empty() {
            let _ = writeln!(
                text,
                "The snippet may also call: {}",
                self.side_effects.join(", ")
            );
        }
        text
    }
}

/// An approver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Approved {
        /// Who approved (a user, "flag --approve", the approving app).
        by: String,
    },
    /// Do not.
    Declined {
        /// Who declined.
        by: String,
        /// Why, if they said.
        reason: Option<String>,
    },
    /// Nobody could be asked (no approver, no elicitation support, the approver failed).
    Unavailable {
        /// Why.
        reason: String,
    },
}

/// Decides approval requests. Requests of one snippet may arrive concurrently.
#[async_trait]
pub trait Approver: Send + Sync {
    /// A short description for logs ("MCP elicitation", "terminal", "bus CodeMode.Approval").
    fn describe(&self) -> String;

    /// Asks; the caller bounds the wait.
    async fn decide(&self, request: &ApprovalRequest) -> Decision;
}

/// Always the same answer (`--approve`, `--deny`).
#[derive(Debug, Clone, Copy)]
pub struct FixedApprover {
    /// Approve or decline everything.
    pub approve: bool,
}

#[async_trait]
impl Approver for FixedApprover {
    fn describe(&self) -> String {
        if self.approve { "--approve" } else { "--deny" }.to_owned()
    }

    async fn decide(&self, _request: &ApprovalRequest) -> Decision {
        if self.approve {
            Decision::Approved {
                by: "flag --approve".to_owned(),
            }
        } else {
            Decision::Declined {
                by: "flag --deny".to_owned(),
                reason: Some("codemode exec --deny".to_owned()),
            }
        }
    }
}

/// Asks on the controlling terminal (`/dev/tty`, or the console on Windows), one request at
/// a time; no terminal means [`Decision::Unavailable`].
#[derive(Debug, Default)]
pub struct TerminalApprover {
    one_at_a_time: tokio::sync::Mutex<()>,
}

#[async_trait]
impl Approver for TerminalApprover {
    fn describe(&self) -> String {
        "terminal".to_owned()
    }

    async fn decide(&self, request: &ApprovalRequest) -> Decision {
        let _turn = self.one_at_a_time.lock().await;
        let prompt = format!("\n{}Approve? [y/N] ", request.describe());
        let answer = tokio::task::spawn_blocking(move || ask_terminal(&prompt)).await;
        match answer {
            Ok(Ok(line)) if matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") => {
                Decision::Approved {
                    by: format!("terminal user {}", user_name()),
                }
            }
            Ok(Ok(_)) => Decision::Declined {
                by: format!("terminal user {}", user_name()),
                reason: None,
            },
            Ok(Err(error)) => Decision::Unavailable {
                reason: format!("no terminal to ask on ({error}); pass --approve or --deny"),
            },
            Err(error) => Decision::Unavailable {
                reason: format!("the terminal prompt failed: {error}"),
            },
        }
    }
}

fn ask_terminal(prompt: &str) -> std::io::Result<String> {
    #[cfg(unix)]
    let (mut input, mut output) = {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")?;
        (std::io::BufReader::new(tty.try_clone()?), tty)
    };
    #[cfg(windows)]
    let (mut input, mut output) = (
        std::io::BufReader::new(std::fs::File::open("CONIN$")?),
        std::fs::OpenOptions::new().write(true).open("CONOUT$")?,
    );
    output.write_all(prompt.as_bytes())?;
    output.flush()?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut input, &mut line)?;
    Ok(line)
}

fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "?".to_owned())
}

/// The default approval method an assistant UI serves on the bus.
pub const BUS_APPROVAL_METHOD: &str = "CodeMode.Approval.Request";

/// Asks a method on the bus (see `docs/control.md` for the contract): codemode invokes
/// [`BUS_APPROVAL_METHOD`] with the [`ApprovalRequest`] as arguments (plus `text`, the
/// request for a person) and expects `{"approved": bool, "by": str?, "reason": str?}`.
/// No server, an error or another shape is [`Decision::Unavailable`] (fail closed).
pub struct BusApprover {
    bus: Arc<dyn Bus>,
    method: String,
    timeout: Duration,
}

impl BusApprover {
    /// An approver calling `method` on `bus`; one call waits at most `timeout` (the guard's
    /// approval limit applies on top).
    pub fn new(bus: Arc<dyn Bus>, method: impl Into<String>, timeout: Duration) -> Self {
        Self {
            bus,
            method: method.into(),
            timeout,
        }
    }
}

#[async_trait]
impl Approver for BusApprover {
    fn describe(&self) -> String {
        format!("bus method {}", self.method)
    }

    async fn decide(&self, request: &ApprovalRequest) -> Decision {
        let mut arguments = match serde_json::to_value(request) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        arguments.insert("text".into(), json!(request.describe()));
        let options = CallOptions {
            timeout: self.timeout,
            ..CallOptions::default()
        };
        let reply = self
            .bus
            .invoke_one(&self.method, arguments, &Target::Best, options)
            .await;
        match reply {
            Ok(answer) => {
                let by = answer
                    .get("by")
                    .and_then(Value::as_str)
                    .map_or_else(|| self.method.clone(), ToOwned::to_owned);
                match answer.get("approved").and_then(Value::as_bool) {
                    Some(true) => Decision::Approved { by },
                    Some(false) => Decision::Declined {
                        by,
                        reason: answer
                            .get("reason")
                            .and_then(Value::as_str)
                            .map(ToOwned::to_owned),
                    },
                    None => Decision::Unavailable {
                        reason: format!("{} answered without a boolean \"approved\"", self.method),
                    },
                }
            }
            Err(error) => Decision::Unavailable {
                reason: format!("asking {} on the bus failed: {error}", self.method),
            },
        }
    }
}
