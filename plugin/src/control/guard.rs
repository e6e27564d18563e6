//! The per-run gate every bus call passes before it goes out ([`RunControl::admit`]): hidden
//! functions, read-only mode and caps are refused; calls that need approval wait for the
//! session's [`Approver`] with the run's wall-time clock stopped; placeholders are restored.

use std::{
    collections::HashMap,
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use regex::Regex;
use serde_json::{Map, Value, json};

use super::{
    approval::{ApprovalRequest, Approver, Decision},
    audit::AuditLog,
    pii::PiiSession,
    policy::{Callee, Class, ClassSource, Policy},
    visibility::PolicyView,
};
use crate::{
    catalogue::{CallKind, CallMap, CallSpec},
    sandbox::{HostCall, HostCallError, HostErrorKind, PauseClock},
    versions::unix_ms_now,
};

/// What a front end brings to a run: who asks, how to reach a person, the PII session.
#[derive(Clone, Default)]
pub struct SessionControl {
    /// Asked when a call needs approval; `None`: such calls fail closed.
    pub approver: Option<Arc<dyn Approver>>,
    /// The session's placeholders; `None`: a fresh mapping for this run only.
    pub pii: Option<Arc<PiiSession>>,
    /// Who sent the snippet, for the approver and the audit log.
    pub session: String,
}

impl std::fmt::Debug for SessionControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionControl")
            .field("approver", &self.approver.as_ref().map(|a| a.describe()))
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

static CALL_SITE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\(").ok()
});

/// One run's policy gate.
pub struct RunControl {
    policy: Arc<Policy>,
    view: Arc<PolicyView>,
    approver: Option<Arc<dyn Approver>>,
    pii: Arc<PiiSession>,
    audit: Option<Arc<AuditLog>>,
    clock: PauseClock,
    session: String,
    source: String,
    side_effects: Vec<String>,
    counts: Mutex<HashMap<String, u32>>,
}

impl RunControl {
    /// The gate for one run of `source` against `map`.
    pub fn new(
        policy: Arc<Policy>,
        view: Arc<PolicyView>,
        session: SessionControl,
        audit: Option<Arc<AuditLog>>,
        source: &str,
        map: &CallMap,
    ) -> Self {
        let side_effects = side_effects(&policy, &view, source, map);
        Self {
            policy,
            view,
            approver: session.approver,
            pii: session.pii.unwrap_or_default(),
            audit,
            clock: PauseClock::new(),
            session: session.session,
            source: source.to_owned(),
            side_effects,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// The run's wall-time clock (stopped while a person is asked).
    pub fn clock(&self) -> &PauseClock {
        &self.clock
    }

    /// The policy this run follows.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The PII session.
    pub fn pii(&self) -> &Arc<PiiSession> {
        &self.pii
    }

    /// Functions with side effects the snippet calls (by its call sites), Python names.
    pub fn side_effects(&self) -> &[String] {
        &self.side_effects
    }

    /// A hidden function's message, for calls that did not resolve.
    pub fn hidden_message(&self, function: &str) -> Option<String> {
        self.view.hidden_message(function)
    }

    /// Lets a bus result teach the PII session its values (see [`PiiSession::learn`]).
    pub fn learn(&self, value: &Value) {
        self.pii.learn(&self.policy.config.pii, value);
    }

    /// Checks one call against the policy, asks for approval when needed, and restores
    /// placeholders in its arguments. An `Err` means the call must not go out.
    pub async fn admit(&self, spec: &CallSpec, call: &mut HostCall) -> Result<(), HostCallError> {
        let python = spec.python_name.as_str();
        let (wire, callee) = match &spec.call {
            CallKind::Method { method, .. } => (method.clone(), CalleeKind::Method),
            CallKind::Intent { intent } => (intent.clone(), CalleeKind::Intent),
            CallKind::RaiseIntent => {
                let name = call
                    .arguments
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if !self.policy.intent_visible(&name) {
                    return Err(HostCallError::new(
                        HostErrorKind::PolicyRefused,
                        format!("the intent {name} is hidden by this device's policy"),
                    ));
                }
                (name, CalleeKind::Intent)
            }
            CallKind::FindIntents => return Ok(()),
            CallKind::Context { op } => (
                python.to_owned(),
                CalleeKind::Context {
                    write: op.is_write(),
                },
            ),
        };
        let (class, source) = classify(&self.policy, &self.view, python, &wire, callee);
        if self.policy.config.read_only && class == Class::Write {
            return Err(HostCallError::new(
                HostErrorKind::PolicyRefused,
                format!(
                    "`{python}` ({wire}) writes ({}) and this device's policy is read-only: the call was refused before reaching the bus",
                    why(source)
                ),
            ));
        }
        let names = [wire.as_str(), python];
        if let Some((glob, cap)) = self.policy.cap(&names) {
            let count = self.counts.lock().map_or(u32::MAX, |mut counts| {
                let count = counts.entry(python.to_owned()).or_insert(0);
                *count += 1;
                *count
            });
            if count > cap {
                return Err(HostCallError::new(
                    HostErrorKind::PolicyRefused,
                    format!(
                        "`{python}` may be called at most {cap} time(s) per snippet (policy cap \"{glob}\"); call {count} was refused"
                    ),
                ));
            }
        }
        if self.policy.needs_approval(&names, class) {
            self.approve(python, &wire, class, call).await?;
        }
        let mut arguments = Value::Object(std::mem::take(&mut call.arguments));
        let restored = self.pii.restore_value(&mut arguments);
        if let Value::Object(arguments) = arguments {
            call.arguments = arguments;
        }
        if let Some(target) = call.target.as_mut() {
            self.pii.restore_value(target);
        }
        if restored > 0 {
            tracing::debug!(function = python, restored, "placeholders restored");
        }
        Ok(())
    }

    async fn approve(
        &self,
        python: &str,
        wire: &str,
        class: Class,
        call: &HostCall,
    ) -> Result<(), HostCallError> {
        let mut shown = Value::Object(call.arguments.clone());
        self.pii.tokenize_value(&self.policy.config.pii, &mut shown);
        let arguments = match shown {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let request = ApprovalRequest {
            id: NEXT_REQUEST.fetch_add(1, Ordering::Relaxed),
            function: python.to_owned(),
            wire: wire.to_owned(),
            apps: self.view.apps(wire),
            writes: class == Class::Write,
            arguments,
            lines: lines_calling(&self.source, python),
            side_effects: self
                .side_effects
                .iter()
                .filter(|name| *name != python)
                .cloned()
                .collect(),
            session: self.session.clone(),
        };
        tracing::info!(
            request = request.id,
            function = python,
            wire,
            session = %self.session,
            approver = self.approver.as_ref().map_or_else(|| "none".to_owned(), |a| a.describe()),
            "approval requested"
        );
        self.audit_line(json!({
            "event": "approval_requested",
            "request": request,
        }));
        let started = Instant::now();
        let (decision, timed_out) = match &self.approver {
            None => (
                Decision::Unavailable {
                    reason: "no approver is configured for this session".to_owned(),
                },
                false,
            ),
            Some(approver) => {
                let _paused = self.clock.pause();
                match tokio::time::timeout(self.policy.approval_timeout, approver.decide(&request))
                    .await
                {
                    Ok(decision) => (decision, false),
                    Err(_) => (
                        Decision::Unavailable {
                            reason: format!(
                                "nobody answered within {}",
                                crate::sandbox::limits::format_duration(
                                    self.policy.approval_timeout
                                )
                            ),
                        },
                        true,
                    ),
                }
            }
        };
        let waited_ms = started.elapsed().as_secs_f64() * 1e3;
        let (result, by, reason) = match &decision {
            Decision::Approved { by } => ("approved", by.clone(), None),
            Decision::Declined { by, reason } => ("declined", by.clone(), reason.clone()),
            Decision::Unavailable { reason } if timed_out => {
                ("timeout", String::new(), Some(reason.clone()))
            }
            Decision::Unavailable { reason } => {
                ("unavailable", String::new(), Some(reason.clone()))
            }
        };
        tracing::info!(
            request = request.id,
            function = python,
            result,
            by = %by,
            waited_ms,
            "approval decided"
        );
        self.audit_line(json!({
            "event": "approval_decided",
            "request_id": request.id,
            "session": self.session,
            "function": python,
            "wire": wire,
            "result": result,
            "by": by,
            "reason": reason,
            "waited_ms": waited_ms,
        }));
        match decision {
            Decision::Approved { .. } => Ok(()),
            Decision::Declined { by, reason } => Err(HostCallError {
                reason_uri: Some("declined".to_owned()),
                ..HostCallError::new(
                    HostErrorKind::ApprovalDenied,
                    format!(
                        "`{python}` was declined by {by}{}: the call did not go out",
                        reason
                            .map(|reason| format!(" ({reason})"))
                            .unwrap_or_default()
                    ),
                )
            }),
            Decision::Unavailable { reason } => Err(HostCallError {
                reason_uri: Some(if timed_out { "timeout" } else { "no_approver" }.to_owned()),
                ..HostCallError::new(
                    HostErrorKind::ApprovalDenied,
                    format!(
                        "`{python}` needs a person's approval and {reason}; the call did not go out (fail closed)"
                    ),
                )
            }),
        }
    }

    fn audit_line(&self, mut line: Value) {
        let Some(audit) = &self.audit else { return };
        if let Value::Object(map) = &mut line {
            map.insert("at_ms".into(), json!(unix_ms_now()));
        }
        audit.write(&line);
    }
}

#[derive(Clone, Copy)]
enum CalleeKind {
    Method,
    Intent,
    Context { write: bool },
}

fn why(source: ClassSource) -> &'static str {
    match source {
        ClassSource::Policy => "the policy says so",
        ClassSource::Intent => "raising an intent counts as a write",
        ClassSource::Metadata => "its app's metadata says so",
        ClassSource::Name => "by its name; an app can declare readOnly in its method metadata",
        ClassSource::ContextApi => "it changes what the user's desktop shows",
    }
}

fn classify(
    policy: &Policy,
    view: &PolicyView,
    python: &str,
    wire: &str,
    callee: CalleeKind,
) -> (Class, ClassSource) {
    let names = [wire, python];
    match callee {
        CalleeKind::Intent => policy.classify(&names, Callee::Intent),
        CalleeKind::Context { write } => policy.classify(&names, Callee::Context { write }),
        CalleeKind::Method => {
            let metadata = view.metadata(wire);
            policy.classify(
                &names,
                Callee::Method {
                    metadata: &metadata,
                },
            )
        }
    }
}

/// The class of a catalogue function under `policy`.
pub fn class_of(policy: &Policy, view: &PolicyView, spec: &CallSpec) -> Class {
    match &spec.call {
        CallKind::Method { method, .. } => {
            classify(policy, view, &spec.python_name, method, CalleeKind::Method).0
        }
        CallKind::Intent { intent } => {
            classify(policy, view, &spec.python_name, intent, CalleeKind::Intent).0
        }
        CallKind::RaiseIntent => Class::Write,
        CallKind::FindIntents => Class::Read,
        CallKind::Context { op } => {
            classify(
                policy,
                view,
                &spec.python_name,
                &spec.python_name,
                CalleeKind::Context {
                    write: op.is_write(),
                },
            )
            .0
        }
    }
}

/// Functions with side effects among the snippet's call sites, in order of first call.
fn side_effects(policy: &Policy, view: &PolicyView, source: &str, map: &CallMap) -> Vec<String> {
    let Some(pattern) = &*CALL_SITE else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for capture in pattern.captures_iter(source) {
        let Some(name) = capture.get(1) else { continue };
        let name: String = name
            .as_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if found.contains(&name) {
            continue;
        }
        if let Some(spec) = map.functions.get(&name)
            && class_of(policy, view, spec) == Class::Write
        {
            found.push(name);
        }
    }
    found
}

/// The snippet lines that call `python` (at most three).
fn lines_calling(source: &str, python: &str) -> Vec<(u32, String)> {
    let needle = format!("{python}(");
    let last = python.rsplit('.').next().unwrap_or(python);
    let short = format!(".{last}(");
    let mut lines: Vec<(u32, String)> = source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(&needle))
        .map(|(index, line)| {
            (
                u32::try_from(index + 1).unwrap_or(u32::MAX),
                line.to_owned(),
            )
        })
        .take(3)
        .collect();
    if lines.is_empty() {
        lines = source
            .lines()
            .enumerate()
            .filter(|(_, line)| line.contains(&short))
            .map(|(index, line)| {
                (
                    u32::try_from(index + 1).unwrap_or(u32::MAX),
                    line.to_owned(),
                )
            })
            .take(3)
            .collect();
    }
    lines
}
