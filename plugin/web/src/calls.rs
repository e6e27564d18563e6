//! A snippet's call, planned for the page: resolved through the run's call map into the one
//! request the page's adapter performs (`invoke` a method or `raise` an intent), or answered
//! here (`find_intents`, refused arguments). Also reads the page's replies. Pure: the worker's
//! port sends the requests.

use codemode_catalogue::{CallKind, CallMap, CallSpec, PythonCatalogue};
use codemode_engine::{HostCall, HostCallError, HostErrorKind};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// What to do with one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Send this request to the page.
    Request(Value),
    /// Already answered (`find_intents`, or refused before reaching the bus).
    Answered(Result<Value, HostCallError>),
}

/// Plans `call` against `catalogue` (the run's version).
pub fn plan(catalogue: &PythonCatalogue, map: &CallMap, call: &HostCall) -> Plan {
    let Some(spec) = map.functions.get(&call.function) else {
        return Plan::Answered(Err(HostCallError::new(
            HostErrorKind::MethodNotFound,
            format!("`{}` is not in the catalogue", call.function),
        )));
    };
    match request(spec, call) {
        Ok(Some(request)) => Plan::Request(request),
        Ok(None) => {
            let name = string_argument(&call.arguments, "name");
            let context_type = string_argument(&call.arguments, "context_type");
            Plan::Answered(Ok(
                catalogue.find_intents(name.as_deref(), context_type.as_deref())
            ))
        }
        Err(error) => Plan::Answered(Err(error)),
    }
}

/// The page request for `call`, `None` for `find_intents`.
fn request(spec: &CallSpec, call: &HostCall) -> Result<Option<Value>, HostCallError> {
    match &spec.call {
        CallKind::Method {
            streaming: true,
            method,
            ..
        } => Err(HostCallError::new(
            HostErrorKind::Other,
            format!(
                "`{}` streams ({method}); streams are not supported in the browser package yet: use codemode on the desktop to collect them",
                spec.python_name
            ),
        )),
        CallKind::Method {
            method,
            servers,
            restrict_to_servers,
            ..
        } => {
            let target = method_target(call.target.as_ref())?;
            let mut request = json!({
                "kind": "invoke",
                "function": spec.python_name,
                "method": method,
                "arguments": spec.wire_arguments(call.arguments.clone()),
                "target": target,
            });
            if *restrict_to_servers {
                request["servers"] = servers
                    .iter()
                    .map(|server| {
                        json!({"application": server.application, "instance": server.instance,
                               "peerId": server.peer_id})
                    })
                    .collect();
            }
            Ok(Some(request))
        }
        CallKind::Intent { intent } => {
            let mut arguments = call.arguments.clone();
            let context = arguments.remove("context").unwrap_or(Value::Null);
            raise_request(
                &spec.python_name,
                intent,
                &context,
                string_argument(&arguments, "app").as_deref(),
                string_argument(&arguments, "instance").as_deref(),
            )
            .map(Some)
        }
        CallKind::RaiseIntent => {
            let mut arguments = call.arguments.clone();
            let Some(name) = string_argument(&arguments, "name") else {
                return Err(HostCallError::new(
                    HostErrorKind::InvalidArguments,
                    "raise_intent() needs the intent name as a string",
                ));
            };
            let context = arguments.remove("context").unwrap_or(Value::Null);
            let (app, instance) = match arguments.remove("target") {
                None | Some(Value::Null) => (None, None),
                Some(Value::Object(target)) => (
                    string_argument(&target, "app"),
                    string_argument(&target, "instance"),
                ),
                Some(other) => {
                    return Err(HostCallError::new(
                        HostErrorKind::InvalidArguments,
                        format!(
                            "raise_intent() target must be {{\"app\": ...}} or {{\"instance\": ...}}, not {other}"
                        ),
                    ));
                }
            };
            raise_request(
                &spec.python_name,
                &name,
                &context,
                app.as_deref(),
                instance.as_deref(),
            )
            .map(Some)
        }
        CallKind::FindIntents => Ok(None),
        CallKind::Context { op } => Err(HostCallError::new(
            HostErrorKind::MethodNotFound,
            format!(
                "`{}` (channels and raise-for-context) is not available in the browser package \
                 yet: the page adapters relay methods and intents only",
                op.python_name()
            ),
        )),
    }
}

fn raise_request(
    function: &str,
    intent: &str,
    context: &Value,
    app: Option<&str>,
    instance: Option<&str>,
) -> Result<Value, HostCallError> {
    if !context.get("type").is_some_and(Value::is_string) {
        return Err(HostCallError::new(
            HostErrorKind::InvalidArguments,
            format!(
                "the context for {intent} must be a dict with a \"type\" key, e.g. {{\"type\": \"fdc3.instrument\", \"id\": {{\"ticker\": \"AAPL\"}}}}"
            ),
        ));
    }
    Ok(json!({
        "kind": "raise",
        "function": function,
        "intent": intent,
        "context": context,
        "app": app,
        "instance": instance,
    }))
}

/// `target=` for the page: `"best"`, `"all"` or an identity filter object.
fn method_target(target: Option<&Value>) -> Result<Value, HostCallError> {
    match target {
        None | Some(Value::Null) => Ok(Value::from("best")),
        Some(Value::String(text)) if text == "best" || text == "all" => {
            Ok(Value::from(text.as_str()))
        }
        Some(Value::Object(filter)) if !filter.is_empty() => Ok(Value::Object(filter.clone())),
        Some(other) => Err(HostCallError::new(
            HostErrorKind::InvalidArguments,
            format!(
                "target must be \"best\", \"all\" or an identity filter such as {{\"application\": \"CRM\"}}, not {other}"
            ),
        )),
    }
}

fn string_argument(arguments: &Map<String, Value>, name: &str) -> Option<String> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .map(ToOwned::to_owned)
}

/// The page's answer to one request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    /// The ticket of the request.
    pub ticket: u64,
    /// The value, when the call succeeded.
    #[serde(default)]
    pub value: Option<Value>,
    /// The failure, when it did not.
    #[serde(default)]
    pub error: Option<ReplyError>,
}

/// A failed call as the page reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyError {
    /// `method_not_found`, `invocation_failed`, `intent_not_resolved`, `timeout`, `peer_left`…
    /// (unknown kinds are reported as a plain `BusError`).
    #[serde(default)]
    pub kind: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// The machine-readable reason (FDC3's standard error name…).
    #[serde(default)]
    pub reason_uri: Option<String>,
    /// Extra data.
    #[serde(default)]
    pub context: Option<Value>,
}

impl Reply {
    /// The ticket and the result the snippet sees.
    pub fn into_result(self) -> (u64, Result<Value, HostCallError>) {
        let result = match self.error {
            Some(error) => {
                let kind = error
                    .kind
                    .and_then(|kind| serde_json::from_value(Value::String(kind)).ok())
                    .unwrap_or(HostErrorKind::Other);
                Err(HostCallError {
                    kind,
                    message: error.message,
                    reason_uri: error.reason_uri,
                    context: error.context,
                })
            }
            None => Ok(self.value.unwrap_or(Value::Null)),
        };
        (self.ticket, result)
    }
}

#[cfg(test)]
mod tests {
    use codemode_catalogue::CatalogueConfig;

    use super::*;
    use crate::model::BusModel;

    fn catalogue() -> PythonCatalogue {
        let model: BusModel = serde_json::from_value(json!({
            "methods": [{"name": "CRM.GetClients", "accepts": "String adviser, Int? limit",
                         "servers": [{"peerId": "p1", "identity": {"application": "CRM"}}]}],
            "intents": [{"name": "ViewChart", "handlers": [{"application": "Charts",
                         "contextTypes": ["fdc3.instrument"]}]}]
        }))
        .expect("model");
        PythonCatalogue::build(&model.to_catalogue(), CatalogueConfig::default())
    }

    fn call(function: &str, arguments: Value) -> HostCall {
        let Value::Object(arguments) = arguments else {
            panic!("arguments must be an object")
        };
        HostCall {
            function: function.to_owned(),
            arguments,
            target: None,
        }
    }

    #[test]
    fn a_method_call_goes_out_under_wire_names_without_omitted_optionals() {
        let catalogue = catalogue();
        let plan = plan(
            &catalogue,
            &catalogue.call_map(),
            &call(
                "crm.get_clients",
                json!({"adviser": "M Carter", "limit": null}),
            ),
        );
        let Plan::Request(request) = plan else {
            panic!("expected a request, got {plan:?}")
        };
        assert_eq!(request["method"], "CRM.GetClients");
        assert_eq!(request["arguments"], json!({"adviser": "M Carter"}));
        assert_eq!(request["target"], "best");
    }

    #[test]
    fn a_streaming_method_is_refused_with_a_clear_error_before_the_page() {
        let model: BusModel = serde_json::from_value(json!({
            "methods": [{"name": "MarketData.Subscribe", "accepts": "String symbol",
                         "supportsStreaming": true,
                         "servers": [{"peerId": "p1", "identity": {"application": "MarketData"}}]}]
        }))
        .expect("model");
        let catalogue = PythonCatalogue::build(&model.to_catalogue(), CatalogueConfig::default());
        let plan = plan(
            &catalogue,
            &catalogue.call_map(),
            &call(
                "market_data.subscribe",
                json!({"symbol": "AAPL", "max_items": 3}),
            ),
        );
        let Plan::Answered(Err(error)) = plan else {
            panic!("expected a refusal, got {plan:?}")
        };
        assert!(
            error.message.contains("not supported in the browser"),
            "{error:?}"
        );
    }

    #[test]
    fn an_intent_without_a_typed_context_is_refused_before_the_page() {
        let catalogue = catalogue();
        let plan = plan(
            &catalogue,
            &catalogue.call_map(),
            &call("intents.view_chart", json!({"context": {}})),
        );
        let Plan::Answered(Err(error)) = plan else {
            panic!("expected a refusal, got {plan:?}")
        };
        assert_eq!(error.kind, HostErrorKind::InvalidArguments);
    }

    #[test]
    fn find_intents_is_answered_from_the_catalogue() {
        let catalogue = catalogue();
        let plan = plan(
            &catalogue,
            &catalogue.call_map(),
            &call("find_intents", json!({"name": "ViewChart"})),
        );
        let Plan::Answered(Ok(value)) = plan else {
            panic!("expected an answer, got {plan:?}")
        };
        assert!(value.to_string().contains("Charts"), "{value}");
    }

    #[test]
    fn a_page_error_keeps_its_kind_and_unknown_kinds_become_bus_errors() {
        let reply: Reply = serde_json::from_value(json!({"ticket": 4, "error": {
            "kind": "peer_left", "message": "CRM left"}}))
        .expect("reply");
        let (ticket, result) = reply.into_result();
        assert_eq!(ticket, 4);
        assert_eq!(result.err().map(|e| e.kind), Some(HostErrorKind::PeerLeft));
        let reply: Reply = serde_json::from_value(json!({"ticket": 5, "error": {
            "kind": "weird", "message": "?"}}))
        .expect("reply");
        assert_eq!(
            reply.into_result().1.err().map(|e| e.kind),
            Some(HostErrorKind::Other)
        );
    }
}
