//! How the three tools present themselves beyond name and description: a `title` for people,
//! the behaviour hints (`annotations`), and `execute_python_code`'s `outputSchema` with the
//! matching `structuredContent`.
//!
//! [`presentation`] is the one place that decides titles and hints, so a policy (which bus
//! methods a deployment allows, whether snippets may change anything) can decide
//! `readOnlyHint`/`destructiveHint` here without touching the tool code.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Serialize;
use serde_json::{Value, json};

use crate::sandbox::{Outcome, render::listed_calls};

/// A tool's title and behaviour hints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Presentation {
    /// Shown to people in client UIs.
    pub(crate) title: &'static str,
    /// Only reads (the catalogue, never the bus).
    pub(crate) read_only: bool,
    /// May change state elsewhere (only meaningful when not read-only).
    pub(crate) destructive: bool,
    /// Calling it twice with the same arguments has no further effect.
    pub(crate) idempotent: bool,
    /// Reaches entities outside the server (other apps on the bus).
    pub(crate) open_world: bool,
}

/// Title and hints of the tool `name` (`None` for a tool this server does not have).
///
/// `execute_python_code` runs code that calls other apps' methods and raises intents, which
/// can change things (place an order, update a record): it is neither read-only nor
/// idempotent, and destructive unless a policy says the reachable methods only read.
pub(crate) fn presentation(name: &str) -> Option<Presentation> {
    let catalogue_read = |title| Presentation {
        title,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
    };
    match name {
        "list_python_definitions" => Some(catalogue_read("List desktop app functions")),
        "get_python_definitions" => Some(catalogue_read("Get Python stubs")),
        "execute_python_code" => Some(Presentation {
            title: "Run Python against desktop apps",
            read_only: false,
            destructive: true,
            idempotent: false,
            open_world: true,
        }),
        _ => None,
    }
}

/// Adds title, annotations and (for `execute_python_code`) the output schema to `tool`.
pub(crate) fn decorate(mut tool: Tool) -> Tool {
    if let Some(p) = presentation(&tool.name) {
        tool.title = Some(p.title.to_owned());
        // destructive/idempotent mean something only when the tool is not read-only.
        let mut hints = ToolAnnotations::new()
            .read_only(p.read_only)
            .open_world(p.open_world);
        if !p.read_only {
            hints = hints.destructive(p.destructive).idempotent(p.idempotent);
        }
        tool.annotations = Some(hints);
    }
    if tool.name == "execute_python_code" {
        tool.output_schema = Some(execute_output_schema());
    }
    tool
}

/// The `structuredContent` of `execute_python_code`: the outcome a program reads, next to the
/// text a model reads.
#[derive(Debug, Serialize)]
pub(crate) struct ExecuteOutput {
    /// True when the snippet ran to the end without an uncaught exception.
    pub(crate) ok: bool,
    /// The value of `result` (or of the last expression), as JSON; null when there is none.
    pub(crate) result: Value,
    /// Whether `result` was shortened to fit the result limit.
    pub(crate) result_truncated: bool,
    /// What the snippet printed (stdout and stderr, interleaved).
    pub(crate) printed: String,
    /// Whether `printed` was cut at the output limit.
    pub(crate) printed_truncated: bool,
    /// The bus calls the snippet made, in start order (the first
    /// [`MAX_LISTED_CALLS`](crate::sandbox::render::MAX_LISTED_CALLS)).
    pub(crate) calls: Vec<CallOutput>,
    /// How many later calls are left out of `calls`.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) calls_omitted: usize,
    /// Wall time of the run in milliseconds.
    pub(crate) duration_ms: f64,
    /// Why the run failed, when `ok` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<ErrorOutput>,
}

/// One bus call of a run.
#[derive(Debug, Serialize)]
pub(crate) struct CallOutput {
    /// The Python function, e.g. `crm.get_clients`.
    pub(crate) function: String,
    /// Whether it succeeded.
    pub(crate) ok: bool,
    /// Milliseconds from start to reply; absent when the run ended first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ms: Option<f64>,
    /// The error of a failed call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// Why a run failed.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorOutput {
    /// The Python exception type (`KeyError`, `InvocationFailedError`, `LimitExceeded`…).
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// The exception message.
    pub(crate) message: String,
    /// The snippet line (1-based) it points at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<u32>,
    /// The text of that line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line_text: Option<String>,
}

impl From<&Outcome> for ExecuteOutput {
    fn from(outcome: &Outcome) -> Self {
        Self {
            ok: outcome.ok,
            result: outcome.result.clone(),
            result_truncated: outcome.result_truncated,
            printed: outcome.printed.clone(),
            printed_truncated: outcome.printed_truncated,
            calls: listed_calls(outcome)
                .0
                .iter()
                .map(|call| CallOutput {
                    function: call.function.clone(),
                    ok: call.ok,
                    ms: call.ms,
                    error: call.error.clone(),
                })
                .collect(),
            calls_omitted: listed_calls(outcome).1,
            duration_ms: outcome.duration_ms,
            error: outcome.error.as_ref().map(|error| ErrorOutput {
                kind: error.kind.clone(),
                message: error.message.clone(),
                line: error.line,
                line_text: error.line_text.clone(),
            }),
        }
    }
}

/// The structured content of an outcome (a JSON object matching [`execute_output_schema`]).
pub(crate) fn structured(outcome: &Outcome) -> Value {
    serde_json::to_value(ExecuteOutput::from(outcome)).unwrap_or(Value::Null)
}

/// The JSON Schema of [`ExecuteOutput`] (an object schema, as MCP requires), written compact
/// by hand: `tools/list` rides along with every model request, and the field names say
/// enough. Optional fields are left out when absent, so no `null` types.
pub(crate) fn execute_output_schema() -> Arc<JsonObject> {
    let string = || json!({"type": "string"});
    let boolean = || json!({"type": "boolean"});
    let schema = json!({
        "type": "object",
        "properties": {
            "ok": boolean(),
            "result": {},
            "result_truncated": boolean(),
            "printed": string(),
            "printed_truncated": boolean(),
            "calls": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "function": string(), "ok": boolean(), "ms": {"type": "number"},
                    "error": string(),
                },
                "required": ["function", "ok"],
            }},
            "calls_omitted": {"type": "integer"},
            "duration_ms": {"type": "number"},
            "error": {
                "type": "object",
                "properties": {
                    "type": string(), "message": string(), "line": {"type": "integer"},
                    "line_text": string(),
                },
                "required": ["type", "message"],
            },
        },
        "required": ["ok", "result", "printed", "calls"],
    });
    match schema {
        Value::Object(object) => Arc::new(object),
        _ => Arc::new(JsonObject::new()),
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(count: &usize) -> bool {
    *count == 0
}

#[cfg(test)]
mod tests {
    use crate::sandbox::{CallRecord, ErrorPhase, SnippetError};

    use super::*;

    /// Every key the structured content can carry is in the schema, at every level.
    #[test]
    fn output_schema_names_every_field_of_a_full_outcome() {
        let mut error = SnippetError::new(ErrorPhase::Runtime, "KeyError", "'x'");
        error.line = Some(2);
        error.line_text = Some("x = {}['x']".to_owned());
        let outcome = Outcome {
            ok: false,
            result: json!({"a": 1}),
            result_truncated: true,
            result_unset: false,
            result_ref: None,
            printed_ref: None,
            printed: "hi\n".to_owned(),
            printed_truncated: true,
            calls: vec![CallRecord {
                function: "crm.get_client".to_owned(),
                target: None,
                ms: Some(1.5),
                ok: false,
                error: Some("boom".to_owned()),
            }],
            duration_ms: 3.0,
            error: Some(error),
        };
        let value = structured(&outcome);
        let schema = Value::Object((*execute_output_schema()).clone());
        let properties = &schema["properties"];
        for key in value.as_object().expect("object").keys() {
            assert!(properties.get(key).is_some(), "schema lacks {key}");
        }
        for key in value["calls"][0].as_object().expect("call").keys() {
            assert!(
                properties["calls"]["items"]["properties"]
                    .get(key)
                    .is_some(),
                "calls lack {key}"
            );
        }
        for key in value["error"].as_object().expect("error").keys() {
            assert!(
                properties["error"]["properties"].get(key).is_some(),
                "error lacks {key}"
            );
        }
        for required in schema["required"].as_array().expect("required") {
            let key = required.as_str().expect("name");
            assert!(
                value.get(key).is_some(),
                "structured content lacks required {key}"
            );
        }
    }

    #[test]
    fn read_only_tools_carry_no_destructive_or_idempotent_hints() {
        for name in ["list_python_definitions", "get_python_definitions"] {
            let tool = decorate(Tool::new(name, "d", Arc::new(JsonObject::new())));
            let hints = tool.annotations.expect("annotations");
            assert_eq!(hints.read_only_hint, Some(true));
            assert_eq!(hints.destructive_hint, None);
            assert_eq!(hints.idempotent_hint, None);
        }
        let tool = decorate(Tool::new(
            "execute_python_code",
            "d",
            Arc::new(JsonObject::new()),
        ));
        let hints = tool.annotations.expect("annotations");
        assert_eq!(hints.destructive_hint, Some(true));
        assert!(tool.output_schema.is_some());
    }
}
