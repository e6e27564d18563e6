//! The user stays in control: the device's policy over what snippets see and call, approval of
//! single calls in place, PII tokenization at the device boundary, and the audit log.
//!
//! # Layout
//! - [`policy`]: the `[policy]` config section, read/write classification, the reloading
//!   store;
//! - [`visibility`]: the bus as the policy shows it (hidden things are absent);
//! - [`guard`]: the per-run gate each bus call passes ([`RunControl`]);
//! - [`approval`]: approvers (fixed, terminal, on the bus) and what they are shown;
//! - [`pii`]: placeholders for PII, per session, in memory only;
//! - [`audit`]: the audit log file;
//! - [`annotate`]: the class of each function in listings and stubs.

pub mod annotate;
pub mod approval;
pub mod audit;
pub mod guard;
pub mod pii;
pub mod policy;
pub mod visibility;

pub use approval::{
    ApprovalRequest, Approver, BUS_APPROVAL_METHOD, BusApprover, Decision, FixedApprover,
    TerminalApprover,
};
pub use audit::AuditLog;
pub use guard::{RunControl, SessionControl};
pub use pii::PiiSession;
pub use policy::{
    ApproveClass, Class, PiiConfig, Policy, PolicyConfig, PolicyOverrides, PolicyStore,
};
pub use visibility::{PolicyBus, PolicyView};
