//! Code Mode on the bus itself: the three operations as interop methods, so assistant UIs that
//! live on the bus (an io.Connect app, a chat window) can call them like any other method.
//!
//! | method | arguments | returns |
//! |---|---|---|
//! | `CodeMode.ListPythonDefinitions` | `query?`, `namespace?`, `cursor?`, `detail?` | `text`, `nextCursor?`, `matches`, `shown`, `tokens` |
//! | `CodeMode.GetPythonDefinitions` | `names` (list of strings) | `text`, `found`, `unknown`, `omitted`, `tokens` |
//! | `CodeMode.ExecutePythonCode` | `code`, `timeoutSeconds?` | `text`, `result`, `printed`, `calls`, `durationMs` |
//!
//! A call that needs approval asks [`BUS_APPROVAL_METHOD`] on the bus (served by the assistant
//! UI; see `docs/control.md`); without a server it fails closed.
//!
//! A snippet stops when its caller leaves the bus (the adapter cancels the invocation on the
//! caller's `peer-removed`), so an abandoned call does not hold a worker to its timeout. A
//! caller's io.Insights trace context (`__interopIOTracePropagationInfo`) is continued by the
//! snippet's span (see [`crate::telemetry`]).
//!
//! A snippet that fails is an invocation error whose reason is the same text an MCP client gets
//! (the exception and the snippet line), with the structured outcome as the error's context.

use std::sync::Arc;

use async_trait::async_trait;
use codemode_adapters::{
    BusError, HandlerError, Identity, InvocationContext, MethodHandler, ServedMethod,
};
use serde_json::{Map, Value, json};

use crate::{
    catalogue::{Detail, ListRequest},
    control::{BUS_APPROVAL_METHOD, BusApprover, SessionControl},
    sandbox::{Outcome, parse_timeout_seconds, render::listed_calls},
    service::{CodeMode, ExecuteOptions, render_outcome},
};

/// `CodeMode.ListPythonDefinitions`.
pub const LIST_METHOD: &str = "CodeMode.ListPythonDefinitions";
/// `CodeMode.GetPythonDefinitions`.
pub const GET_METHOD: &str = "CodeMode.GetPythonDefinitions";
/// `CodeMode.ExecutePythonCode`.
pub const EXECUTE_METHOD: &str = "CodeMode.ExecutePythonCode";

/// Registers the three methods on the service's bus. They stay registered across reconnects.
pub async fn serve_on_bus(service: Arc<CodeMode>) -> Result<(), BusError> {
    let bus = Arc::clone(service.bus());
    bus.serve(
        ServedMethod {
            name: LIST_METHOD.to_owned(),
            description: Some(
                "Step 1 of Code Mode: lists the Python functions over this bus's apps (names and one-line descriptions); optional search query, namespace and page cursor.".to_owned(),
            ),
            display_name: Some("List Python definitions".to_owned()),
            input_signature: Some("String? query, String? namespace, String? cursor, String? detail".to_owned()),
            result_signature: Some(
                "String text, String? nextCursor, Int matches, Int shown, Int tokens".to_owned(),
            ),
            metadata: Map::new(),
        },
        Arc::new(Operation {
            service: Arc::clone(&service),
            kind: Kind::List,
        }),
    )
    .await?;
    bus.serve(
        ServedMethod {
            name: GET_METHOD.to_owned(),
            description: Some(
                "Step 2 of Code Mode: typed Python stubs (signatures, types, docstrings) of the named functions, namespaces or types.".to_owned(),
            ),
            display_name: Some("Get Python definitions".to_owned()),
            input_signature: Some("String[] names".to_owned()),
            result_signature: Some(
                "String text, String[] found, String[] unknown, String[] omitted, Int tokens"
                    .to_owned(),
            ),
            metadata: Map::new(),
        },
        Arc::new(Operation {
            service: Arc::clone(&service),
            kind: Kind::Get,
        }),
    )
    .await?;
    bus.serve(
        ServedMethod {
            name: EXECUTE_METHOD.to_owned(),
            description: Some(
                "Step 3 of Code Mode: runs a Python snippet on this machine with the bus methods and intents as functions; returns the snippet's result, what it printed and its bus calls.".to_owned(),
            ),
            display_name: Some("Execute Python code".to_owned()),
            input_signature: Some("String code, Double? timeoutSeconds".to_owned()),
            result_signature: Some(
                "String text, Object result, String printed, Object[] calls, Double durationMs"
                    .to_owned(),
            ),
            metadata: Map::new(),
        },
        Arc::new(Operation {
            service,
            kind: Kind::Execute,
        }),
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    List,
    Get,
    Execute,
}

struct Operation {
    service: Arc<CodeMode>,
    kind: Kind,
}

#[async_trait]
impl MethodHandler for Operation {
    async fn handle(
        &self,
        arguments: Map<String, Value>,
        caller: Option<Identity>,
    ) -> Result<Value, HandlerError> {
        self.handle_invocation(arguments, caller, InvocationContext::default())
            .await
    }

    /// The snippet stops when the caller leaves, and continues the caller's io.Insights trace.
    async fn handle_invocation(
        &self,
        arguments: Map<String, Value>,
        caller: Option<Identity>,
        invocation: InvocationContext,
    ) -> Result<Value, HandlerError> {
        let caller_name = caller
            .as_ref()
            .and_then(|identity| identity.application.as_deref())
            .unwrap_or("unknown")
            .to_owned();
        tracing::info!(operation = ?self.kind, caller = %caller_name, "Code Mode call on the bus");
        match self.kind {
            Kind::List => {
                let request = ListRequest {
                    query: optional_string(&arguments, "query")?,
                    namespace: optional_string(&arguments, "namespace")?,
                    cursor: optional_string(&arguments, "cursor")?,
                    token_budget: None,
                    detail: optional_string(&arguments, "detail")?
                        .map(|text| Detail::parse(&text))
                        .transpose()
                        .map_err(|message| invalid(&message))?,
                };
                let page = self.service.list(&request);
                Ok(json!({
                    "text": page.text,
                    "nextCursor": page.next_cursor,
                    "matches": page.matches,
                    "shown": page.shown,
                    "tokens": page.tokens,
                }))
            }
            Kind::Get => {
                let names = match arguments.get("names") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|item| item.as_str().map(ToOwned::to_owned))
                        .collect::<Option<Vec<String>>>()
                        .ok_or_else(|| invalid("names must be a list of strings"))?,
                    Some(Value::String(one)) => vec![one.clone()],
                    _ => return Err(invalid("names (a list of strings) is required")),
                };
                let definitions = self.service.get(&names);
                Ok(json!({
                    "text": definitions.text,
                    "found": definitions.found,
                    "unknown": definitions.unknown.iter().map(|unknown| unknown.name.clone()).collect::<Vec<_>>(),
                    "omitted": definitions.omitted,
                    "tokens": definitions.tokens,
                }))
            }
            Kind::Execute => {
                let Some(code) = arguments.get("code").and_then(Value::as_str) else {
                    return Err(invalid("code (a string of Python) is required"));
                };
                let timeout = match arguments.get("timeoutSeconds") {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(
                        value
                            .as_f64()
                            .and_then(|seconds| parse_timeout_seconds(seconds).ok())
                            .ok_or_else(|| invalid("timeoutSeconds must be a positive number"))?,
                    ),
                };
                let outcome = self
                    .service
                    .execute(
                        code,
                        ExecuteOptions {
                            timeout,
                            // Each bus caller queues apart from the others (fair turns).
                            client: Some(format!(
                                "bus:{}",
                                caller
                                    .as_ref()
                                    .and_then(|identity| identity.instance.as_deref())
                                    .unwrap_or(&caller_name)
                            )),
                            observer: None,
                            cancel: Some(invocation.caller_left.clone()),
                            control: SessionControl {
                                approver: Some(Arc::new(BusApprover::new(
                                    Arc::clone(self.service.bus()),
                                    BUS_APPROVAL_METHOD,
                                    self.service.policy().approval_timeout,
                                ))),
                                pii: None,
                                session: "bus".to_owned(),
                            },
                            trace_parent: invocation.trace.clone(),
                        },
                    )
                    .await;
                let text = render_outcome(&outcome);
                // The call log is bounded, like the MCP tool's.
                let (calls, omitted) = listed_calls(&outcome);
                let calls = calls.to_vec();
                if outcome.ok {
                    let mut reply = json!({
                        "text": text,
                        "result": outcome.result,
                        "printed": outcome.printed,
                        "calls": calls,
                        "durationMs": outcome.duration_ms,
                    });
                    if omitted > 0 {
                        reply["callsOmitted"] = json!(omitted);
                    }
                    Ok(reply)
                } else {
                    let mut context = serde_json::to_value(Outcome { calls, ..outcome }).ok();
                    if let Some(Value::Object(context)) = context.as_mut()
                        && omitted > 0
                    {
                        context.insert("calls_omitted".to_owned(), json!(omitted));
                    }
                    Err(HandlerError {
                        reason: text,
                        context,
                    })
                }
            }
        }
    }
}

fn optional_string(
    arguments: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, HandlerError> {
    match arguments.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(invalid(&format!("{name} must be a string"))),
    }
}

fn invalid(message: &str) -> HandlerError {
    HandlerError {
        reason: message.to_owned(),
        context: None,
    }
}
