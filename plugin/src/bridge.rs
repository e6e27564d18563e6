//! The bridge between the catalogue, the sandbox and the bus.
//!
//! - [`function_set`] (from [`crate::functions`]) turns the catalogue's call map into the
//!   sandbox's function set.
//! - [`BusHost`] performs the snippet's calls: it resolves each [`HostCall`] through the call
//!   map, renames arguments to their wire names, drops omitted optionals, maps `target=` and
//!   sends one correlation-tracked bus call (or raises an intent) through the adapter.
//!
//! A function whose app left answers a clear error instead of a raw bus error: pre-flight
//! refuses calls to the departed functions of the run's version (see
//! [`function_set_with_departed`]), the host refuses the ones it reaches anyway, and a call that
//! fails because its app left during the run (or since the run started) says so.
//!
//! A host reads one [`CatalogueVersion`] for its whole run and sees later ones only through a
//! [`VersionFeed`]: it never locks the catalogue or calls back into the service.
//! [`BusHost`] is where snippets meet the socket.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use codemode_adapters::{
    Bus, BusError, CallOptions, IntentRequest, IntentTarget, ServerFilter, ServerReply, Target,
    TraceContext,
};
use serde_json::{Map, Value, json};

pub use crate::functions::{DepartedMap, function_set, function_set_with_departed};
use crate::{
    catalogue::{CallKind, CallSpec, Lookup},
    control::RunControl,
    sandbox::{HostCall, HostCallError, HostCalls, HostErrorKind},
    stream_calls::StreamCaps,
    versions::{CatalogueVersion, VersionFeed, unix_ms_now},
};

/// What the host reports about each bus call as it finishes (for MCP progress, audit logs).
#[derive(Debug, Clone)]
pub struct CallReport {
    /// The Python function, e.g. `crm.get_clients`.
    pub function: String,
    /// The wire method or intent.
    pub wire: String,
    /// How long it took.
    pub elapsed: Duration,
    /// `None` on success, else the error message.
    pub error: Option<String>,
    /// Size of the JSON result in bytes (0 on error).
    pub result_bytes: usize,
}

/// Receives a [`CallReport`] per finished bus call.
pub type CallObserver = Arc<dyn Fn(&CallReport) + Send + Sync>;

/// Performs a snippet's calls on a bus, resolved through one catalogue version's call map.
pub struct BusHost {
    bus: Arc<dyn Bus>,
    /// The run's version: its call map resolves every call, its departed functions are refused.
    version: Arc<CatalogueVersion>,
    /// Later versions, for `find_intents` and "no longer available" messages.
    feed: VersionFeed,
    /// Per call.
    options: CallOptions,
    observer: Option<CallObserver>,
    /// The policy gate of the run, if any: every call passes it before it goes out.
    control: Option<Arc<RunControl>>,
    /// The run's `snippet` span: the parent of every `bus_call` span (calls are served on
    /// tasks of their own, where it is not the current span).
    run_span: Option<tracing::Span>,
    /// The caller's trace context, passed on to the bus as it came when spans are not exported.
    trace_parent: Option<TraceContext>,
}

impl BusHost {
    /// A host for one run of `version`, seeing later versions through `feed`.
    pub fn new(
        bus: Arc<dyn Bus>,
        version: Arc<CatalogueVersion>,
        feed: VersionFeed,
        options: CallOptions,
    ) -> Self {
        Self {
            bus,
            version,
            feed,
            options,
            observer: None,
            control: None,
            run_span: None,
            trace_parent: None,
        }
    }

    /// Makes every call's `bus_call` span a child of `run_span`, and sends the trace along
    /// with the calls (see [`crate::telemetry::outgoing_context`]).
    #[must_use]
    pub fn with_trace(
        mut self,
        run_span: tracing::Span,
        trace_parent: Option<TraceContext>,
    ) -> Self {
        self.run_span = Some(run_span);
        self.trace_parent = trace_parent;
        self
    }

    /// The options of a call made inside the current (`bus_call`) span: with its trace context.
    fn call_options(&self) -> CallOptions {
        CallOptions {
            trace: crate::telemetry::outgoing_context(
                &tracing::Span::current(),
                self.trace_parent.as_ref(),
            ),
            ..self.options.clone()
        }
    }

    /// Passes every call through `control` (policy, approval, PII) before it goes out.
    #[must_use]
    pub fn with_control(mut self, control: Arc<RunControl>) -> Self {
        self.control = Some(control);
        self
    }

    /// Reports every finished call to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: CallObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    fn spec(&self, function: &str) -> Result<&CallSpec, HostCallError> {
        if let Some(spec) = self.version.map.functions.get(function) {
            return Ok(spec);
        }
        let lookup = self.lookup(function);
        if let Some(departed) = self.version.departed.get(function) {
            let message = match lookup {
                Lookup::Found(_) => format!(
                    "`{function}` is back on the bus since this run started (it had left: {}); run the snippet again to use it",
                    departed.message()
                ),
                Lookup::Departed(_) | Lookup::Unknown { .. } => departed.message(),
            };
            return Err(HostCallError::new(HostErrorKind::MethodNotFound, message));
        }
        let message = match lookup {
            Lookup::Departed(departed) => departed.message(),
            Lookup::Found(_) => format!(
                "`{function}` appeared after this run started; run the snippet again to use it"
            ),
            Lookup::Unknown { suggestions } if suggestions.is_empty() => {
                format!("`{function}` is not in the catalogue")
            }
            Lookup::Unknown { suggestions } => format!(
                "`{function}` is not in the catalogue; closest: {}",
                suggestions.join(", ")
            ),
        };
        Err(HostCallError::new(HostErrorKind::MethodNotFound, message))
    }

    /// What `function` is in the latest published version.
    fn lookup(&self, function: &str) -> Lookup {
        self.feed.latest().catalogue.lookup(function)
    }

    /// A failed method call whose app left (while it was pending, or since the run started)
    /// says so, naming the app and when; any other failure is returned as it is.
    async fn explain_failure(&self, spec: &CallSpec, error: HostCallError) -> HostCallError {
        let CallKind::Method {
            method, servers, ..
        } = &spec.call
        else {
            return error;
        };
        let during_call = error.kind == HostErrorKind::PeerLeft;
        if !during_call
            && !matches!(
                error.kind,
                HostErrorKind::MethodNotFound
                    | HostErrorKind::NoMatchingServer
                    | HostErrorKind::Timeout
            )
        {
            return error;
        }
        // The bus may have reported the departure since the last version: ask for a fresh one.
        let latest = self.feed.refreshed().await;
        let departed = match latest.catalogue.lookup(&spec.python_name) {
            Lookup::Departed(departed) => departed,
            Lookup::Found(now) if during_call => {
                // The catalogue may not show the departure yet, or other servers stayed: name
                // the servers of this call that are gone (all of them if none is known gone).
                let remaining: Vec<&str> = match &now.call {
                    CallKind::Method { servers, .. } => {
                        servers.iter().map(|s| s.peer_id.as_str()).collect()
                    }
                    _ => Vec::new(),
                };
                let gone: Vec<&crate::catalogue::ServerRef> = servers
                    .iter()
                    .filter(|server| !remaining.contains(&server.peer_id.as_str()))
                    .collect();
                let left = if gone.is_empty() {
                    servers.iter().collect()
                } else {
                    gone
                };
                self.departure(spec, method, left)
            }
            Lookup::Unknown { .. } if during_call => {
                self.departure(spec, method, servers.iter().collect())
            }
            Lookup::Found(_) | Lookup::Unknown { .. } => return error,
        };
        if during_call {
            HostCallError::new(HostErrorKind::PeerLeft, departed.message_during_call())
        } else {
            HostCallError::new(HostErrorKind::MethodNotFound, departed.message())
        }
    }

    /// A departure seen by this call now, for servers the catalogue does not show gone yet.
    fn departure(
        &self,
        spec: &CallSpec,
        method: &str,
        servers: Vec<&crate::catalogue::ServerRef>,
    ) -> crate::catalogue::Departed {
        let mut apps: Vec<String> = Vec::new();
        for server in servers {
            if !apps.contains(&server.application) {
                apps.push(server.application.clone());
            }
        }
        let now_ms = unix_ms_now();
        crate::catalogue::Departed {
            python_name: spec.python_name.clone(),
            wire_name: method.to_owned(),
            apps,
            since_version: self.version.map.version,
            left_at_unix_ms: Some(now_ms),
        }
    }

    async fn perform(&self, spec: &CallSpec, call: HostCall) -> Result<Value, HostCallError> {
        match &spec.call {
            CallKind::Method {
                method,
                servers,
                restrict_to_servers,
                streaming,
            } => {
                let mut arguments = call.arguments;
                let caps = if *streaming {
                    Some(StreamCaps::take(
                        &mut arguments,
                        &spec.python_name,
                        self.options.timeout,
                    )?)
                } else {
                    None
                };
                let arguments = spec.wire_arguments(arguments);
                let target = method_target(call.target.as_ref())?;
                let options = self.call_options();
                if let Some(caps) = caps {
                    let target = match (&target, servers.first()) {
                        (Target::Best | Target::All, Some(server)) if *restrict_to_servers => {
                            Target::Filter(ServerFilter {
                                peer_id: Some(server.peer_id.clone()),
                                ..ServerFilter::default()
                            })
                        }
                        _ => target,
                    };
                    return crate::stream_calls::collect(
                        self.bus.as_ref(),
                        method,
                        arguments,
                        &target,
                        caps,
                        options,
                    )
                    .await;
                }
                if *restrict_to_servers {
                    // Other servers offer the same name with another signature: call only the
                    // ones behind this function.
                    return self
                        .invoke_restricted(method, arguments, &target, servers, &options)
                        .await;
                }
                if target == Target::All {
                    let replies = self
                        .bus
                        .invoke(method, arguments, &target, options)
                        .await
                        .map_err(host_call_error)?;
                    return Ok(all_results(replies));
                }
                Ok(self
                    .bus
                    .invoke_one(method, arguments, &target, options)
                    .await
                    .map_err(host_call_error)?)
            }
            CallKind::Intent { intent } => {
                let mut arguments = call.arguments;
                let context = arguments.remove("context").unwrap_or(Value::Null);
                let target = IntentTarget {
                    app: string_argument(&arguments, "app"),
                    instance: string_argument(&arguments, "instance"),
                };
                self.raise(intent.clone(), context, target).await
            }
            CallKind::RaiseIntent => {
                let mut arguments = call.arguments;
                let Some(name) = string_argument(&arguments, "name") else {
                    return Err(HostCallError::new(
                        HostErrorKind::InvalidArguments,
                        "raise_intent() needs the intent name as a string",
                    ));
                };
                let context = arguments.remove("context").unwrap_or(Value::Null);
                let target = match arguments.remove("target") {
                    None | Some(Value::Null) => IntentTarget::default(),
                    Some(Value::Object(target)) => IntentTarget {
                        app: string_argument(&target, "app"),
                        instance: string_argument(&target, "instance"),
                    },
                    Some(other) => {
                        return Err(HostCallError::new(
                            HostErrorKind::InvalidArguments,
                            format!(
                                "raise_intent() target must be {{\"app\": ...}} or {{\"instance\": ...}}, not {other}"
                            ),
                        ));
                    }
                };
                self.raise(name, context, target).await
            }
            CallKind::Context { op } => {
                crate::context_calls::perform(
                    self.bus.as_ref(),
                    *op,
                    call.arguments,
                    self.options.timeout,
                )
                .await
            }
            CallKind::FindIntents => {
                let name = string_argument(&call.arguments, "name");
                let context_type = string_argument(&call.arguments, "context_type");
                Ok(self
                    .feed
                    .latest()
                    .catalogue
                    .find_intents(name.as_deref(), context_type.as_deref()))
            }
        }
    }

    async fn raise(
        &self,
        intent: String,
        context: Value,
        target: IntentTarget,
    ) -> Result<Value, HostCallError> {
        if !context.get("type").is_some_and(Value::is_string) {
            return Err(HostCallError::new(
                HostErrorKind::InvalidArguments,
                format!(
                    "the context for {intent} must be a dict with a \"type\" key, e.g. {{\"type\": \"fdc3.instrument\", \"id\": {{\"ticker\": \"AAPL\"}}}}"
                ),
            ));
        }
        let resolution = self
            .bus
            .raise_intent(IntentRequest {
                intent,
                context,
                target,
                timeout: self.options.timeout,
            })
            .await
            .map_err(host_call_error)?;
        Ok(resolution.result)
    }

    async fn invoke_restricted(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        servers: &[crate::catalogue::ServerRef],
        options: &CallOptions,
    ) -> Result<Value, HostCallError> {
        let mut replies = Vec::new();
        let mut last_error = None;
        for server in servers {
            let by_peer = Target::Filter(ServerFilter {
                peer_id: Some(server.peer_id.clone()),
                ..ServerFilter::default()
            });
            let wanted = match target {
                Target::Filter(filter) => filter.matches_parts(
                    &server.application,
                    server.instance.as_deref(),
                    &server.peer_id,
                ),
                Target::Best | Target::All => true,
            };
            if !wanted {
                continue;
            }
            match self
                .bus
                .invoke(method, arguments.clone(), &by_peer, options.clone())
                .await
            {
                Ok(mut reply) => {
                    if *target != Target::All {
                        return match reply.pop() {
                            Some(reply) => reply.outcome.map_err(host_call_error),
                            None => Err(HostCallError::new(
                                HostErrorKind::MethodNotFound,
                                format!("{method}: the server left"),
                            )),
                        };
                    }
                    replies.append(&mut reply);
                }
                Err(error) => last_error = Some(error),
            }
        }
        if *target == Target::All && !replies.is_empty() {
            return Ok(all_results(replies));
        }
        Err(last_error.map_or_else(
            || {
                HostCallError::new(
                    HostErrorKind::NoMatchingServer,
                    format!("no server of {method} matches target {target}"),
                )
            },
            host_call_error,
        ))
    }
}

#[async_trait]
impl HostCalls for BusHost {
    async fn call(&self, mut call: HostCall) -> Result<Value, HostCallError> {
        let started = Instant::now();
        let function = call.function.clone();
        let spec = match self.spec(&function) {
            Ok(spec) => spec,
            Err(error) => {
                return Err(self
                    .control
                    .as_ref()
                    .and_then(|control| control.hidden_message(&function))
                    .map_or(error, |message| {
                        HostCallError::new(HostErrorKind::PolicyRefused, message)
                    }));
            }
        };
        if let Some(control) = &self.control {
            control.admit(spec, &mut call).await?;
        }
        let wire = match &spec.call {
            CallKind::Method { method, .. } => method.clone(),
            CallKind::Intent { intent } => intent.clone(),
            CallKind::RaiseIntent => string_argument(&call.arguments, "name").unwrap_or_default(),
            CallKind::FindIntents => "find_intents".to_owned(),
            CallKind::Context { op } => op.python_name().to_owned(),
        };
        let argument_bytes = serde_json::to_string(&call.arguments).map_or(0, |text| text.len());
        let span = crate::telemetry::bus_call_span(
            self.run_span.as_ref(),
            &crate::telemetry::BusCall {
                system: self.bus.dialect(),
                function: &function,
                wire: &wire,
                kind: crate::telemetry::call_kind(&spec.call),
                target: call.target.as_ref(),
                argument_bytes,
            },
        );
        let outcome =
            match tracing::Instrument::instrument(self.perform(spec, call), span.clone()).await {
                Ok(value) => {
                    if let Some(control) = &self.control {
                        control.learn(&value);
                    }
                    Ok(value)
                }
                Err(error) => Err(self.explain_failure(spec, error).await),
            };
        let report = CallReport {
            function,
            wire,
            elapsed: started.elapsed(),
            error: outcome.as_ref().err().map(ToString::to_string),
            result_bytes: outcome.as_ref().map_or(0, |value| {
                serde_json::to_string(value).map_or(0, |text| text.len())
            }),
        };
        crate::telemetry::record_call(&span, &outcome, report.result_bytes);
        tracing::debug!(
            function = %report.function,
            wire = %report.wire,
            ms = report.elapsed.as_secs_f64() * 1e3,
            result_bytes = report.result_bytes,
            error = report.error.as_deref().unwrap_or(""),
            "bus call finished"
        );
        if let Some(observer) = &self.observer {
            observer(&report);
        }
        outcome
    }
}

/// `target=` as the adapter's [`Target`]: absent or `"best"`, `"all"`, or an identity filter.
fn method_target(target: Option<&Value>) -> Result<Target, HostCallError> {
    match target {
        None | Some(Value::Null) => Ok(Target::Best),
        Some(Value::String(text)) if text == "best" => Ok(Target::Best),
        Some(Value::String(text)) if text == "all" => Ok(Target::All),
        Some(Value::Object(filter)) if !filter.is_empty() => {
            Ok(Target::Filter(ServerFilter::from_map(filter.clone())))
        }
        Some(other) => Err(HostCallError::new(
            HostErrorKind::InvalidArguments,
            format!(
                "target must be \"best\", \"all\" or an identity filter such as {{\"application\": \"CRM\"}}, not {other}"
            ),
        )),
    }
}

/// One `ServerResult` per reply: `{"server": {...}, "result": ...}` or `{"server", "error"}`.
fn all_results(replies: Vec<ServerReply>) -> Value {
    Value::Array(
        replies
            .into_iter()
            .map(|reply| {
                let mut server = reply.server.identity.to_map();
                server.insert(
                    "peer_id".into(),
                    Value::String(reply.server.peer_id.clone()),
                );
                match reply.outcome {
                    Ok(result) => json!({"server": server, "result": result}),
                    Err(error) => json!({"server": server, "error": error.to_string()}),
                }
            })
            .collect(),
    )
}

fn string_argument(arguments: &Map<String, Value>, name: &str) -> Option<String> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .map(ToOwned::to_owned)
}

/// The sandbox's view of a bus failure: its kind (and so the snippet's exception class), message,
/// FDC3 standard reason and context.
pub fn host_call_error(error: BusError) -> HostCallError {
    let message = error.to_string();
    // FDC3's standard error names (`NoAppsFound`, `IntentHandlerRejected`…) are the
    // machine-readable reason a snippet matches on.
    let standard = error.standard_reason().map(str::to_owned);
    match error {
        BusError::MethodNotFound { .. } => {
            HostCallError::new(HostErrorKind::MethodNotFound, message)
        }
        BusError::NoMatchingServer { .. } => {
            HostCallError::new(HostErrorKind::NoMatchingServer, message)
        }
        BusError::InvocationFailed {
            reason_uri,
            reason,
            context,
            ..
        } => HostCallError {
            kind: HostErrorKind::InvocationFailed,
            message: reason,
            reason_uri,
            context,
        },
        BusError::IntentNotResolved { .. } => HostCallError {
            reason_uri: standard,
            ..HostCallError::new(HostErrorKind::IntentNotResolved, message)
        },
        BusError::IntentAmbiguous { ref choices, .. } => {
            let choices: Vec<Value> = choices
                .iter()
                .map(|choice| json!({"app": choice.application, "instance": choice.instance}))
                .collect();
            HostCallError {
                context: Some(json!({ "choices": choices })),
                ..HostCallError::new(HostErrorKind::IntentNotResolved, message)
            }
        }
        BusError::ContextAmbiguous { ref choices, .. } => {
            let choices: Vec<Value> = choices
                .iter()
                .map(|(intent, handler)| {
                    json!({"intent": intent, "app": handler.application, "instance": handler.instance})
                })
                .collect();
            HostCallError {
                context: Some(json!({ "choices": choices })),
                ..HostCallError::new(HostErrorKind::IntentNotResolved, message)
            }
        }
        BusError::IntentResultFailed { .. } => HostCallError {
            reason_uri: standard,
            ..HostCallError::new(HostErrorKind::InvocationFailed, message)
        },
        BusError::IntentHandlerLeft { .. } | BusError::PeerLeft { .. } => {
            HostCallError::new(HostErrorKind::PeerLeft, message)
        }
        BusError::Timeout { .. } => HostCallError::new(HostErrorKind::Timeout, message),
        BusError::Disconnected { .. } | BusError::Connect { .. } => {
            HostCallError::new(HostErrorKind::Disconnected, message)
        }
        _ => HostCallError {
            reason_uri: standard,
            ..HostCallError::new(HostErrorKind::Other, message)
        },
    }
}
