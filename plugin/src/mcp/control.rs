//! The MCP side of the policy: approvals asked of the client that sent the snippet (form
//! elicitation), the tool annotations the policy implies, and the instructions' approval
//! sentence.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use rmcp::{
    Peer, RoleServer,
    model::{Tool, ToolAnnotations},
    service::ElicitationError,
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::control::{ApprovalRequest, Approver, Decision, Policy};

/// The answer form the client shows: one checkbox.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ApprovalAnswer {
    /// Tick to let this one call go out.
    approve: bool,
}

rmcp::elicit_safe!(ApprovalAnswer);

/// Asks the MCP client that sent the snippet, by form elicitation. A client that did not
/// declare elicitation, or a protocol version without server-to-client requests (2026-07-28),
/// is [`Decision::Unavailable`]: the call fails closed.
pub(crate) struct ElicitationApprover {
    pub(crate) peer: Peer<RoleServer>,
}

#[async_trait]
impl Approver for ElicitationApprover {
    fn describe(&self) -> String {
        "MCP elicitation".to_owned()
    }

    async fn decide(&self, request: &ApprovalRequest) -> Decision {
        let who = self.peer.peer_info().map_or_else(
            || "the MCP client's user".to_owned(),
            |info| format!("the user of MCP client {}", info.client_info.name),
        );
        let message = format!("{}Approve this call?", request.describe());
        match self.peer.elicit::<ApprovalAnswer>(message).await {
            Ok(Some(ApprovalAnswer { approve: true })) => Decision::Approved { by: who },
            Ok(Some(ApprovalAnswer { approve: false })) | Err(ElicitationError::UserDeclined) => {
                Decision::Declined {
                    by: who,
                    reason: None,
                }
            }
            Err(ElicitationError::UserCancelled) => Decision::Declined {
                by: who,
                reason: Some("dismissed".to_owned()),
            },
            Err(ElicitationError::CapabilityNotSupported) => Decision::Unavailable {
                reason: "the MCP client does not support elicitation, so nobody can be asked"
                    .to_owned(),
            },
            Ok(None) | Err(ElicitationError::NoContent) => Decision::Unavailable {
                reason: "the MCP client accepted without an answer".to_owned(),
            },
            Err(error) => Decision::Unavailable {
                reason: format!(
                    "asking the MCP client failed ({error}); elicitation needs a protocol version with server-to-client requests (2025-11-25 or older)"
                ),
            },
        }
    }
}

/// A name for an MCP session in approval requests and the audit log.
pub(crate) fn session_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("mcp-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `execute_python_code`'s hints follow the policy: read-only when the policy is; otherwise
/// destructive (a snippet may write) and closed-world (it reaches only this desktop's bus).
pub(crate) fn annotate_tools(tools: &mut [Tool], policy: &Policy) {
    for tool in tools {
        if tool.name != "execute_python_code" {
            continue;
        }
        let mut annotations = tool
            .annotations
            .clone()
            .unwrap_or_else(ToolAnnotations::new);
        annotations.read_only_hint = Some(policy.config.read_only);
        annotations.destructive_hint = Some(!policy.config.read_only);
        annotations.open_world_hint = Some(false);
        tool.annotations = Some(annotations);
    }
}

/// What the server instructions gain under the policy (empty when nothing applies).
pub(crate) fn instructions_note(policy: &Policy) -> String {
    let mut note = String::new();
    if policy.config.read_only {
        note.push_str(
            " This device is read-only: calls marked \"writes\" are refused (PolicyError).",
        );
    } else if policy.approvals_on() {
        note.push_str(
            " Calls marked \"needs approval\" pause until the user approves; a declined one \
raises ApprovalDeniedError, which the snippet may catch.",
        );
    }
    if crate::control::pii::active(&policy.config.pii) {
        note.push_str(
            " Personal data comes back as placeholders such as <email_1>: pass them to \
functions as they are, the device restores the real values.",
        );
    }
    note
}
