//! Classic tool calling's side: every catalogue method and intent as an MCP tool with a JSON
//! schema derived from its signature, called on the bus one by one; and the number formatting of
//! the tables.

use std::time::Duration;

use codemode_adapters::{
    Bus, CallOptions, IntentInfo, IntentRequest, IntentTarget, MethodInfo, Target,
};
use codemode_protocol::signature::{Param, SigType, parse_signature};
use serde_json::{Map, Value, json};

use super::{Block, Scenario, Transcript};
use crate::Error;

/// Every method and intent of a catalogue as a classic MCP tool.
pub(super) struct ClassicTools {
    /// Method or intent name → tool name.
    names: Vec<(String, String)>,
    /// The serialized definitions.
    definitions: String,
}

impl ClassicTools {
    pub(super) fn of(bus: &dyn Bus) -> Self {
        let catalogue = bus.catalogue();
        let mut names: Vec<(String, String)> = Vec::new();
        let mut tools = Vec::new();
        let mut taken = std::collections::BTreeSet::new();
        for method in &catalogue.methods {
            if names.iter().any(|(known, _)| known == &method.name) {
                // A second signature of the same name: one tool takes either.
                continue;
            }
            let tool = unique_tool_name(&method.name, &mut taken);
            tools.push(method_tool(&tool, method));
            names.push((method.name.clone(), tool));
        }
        for intent in &catalogue.intents {
            let tool = unique_tool_name(&format!("raise_{}", intent.name), &mut taken);
            tools.push(intent_tool(&tool, intent));
            names.push((intent_key(&intent.name), tool));
        }
        Self {
            names,
            definitions: Value::Array(tools).to_string(),
        }
    }

    pub(super) fn transcript(&self, scenario: Scenario) -> Transcript {
        Transcript::new(self.names.len(), self.definitions.clone(), scenario)
    }

    pub(super) fn tool(&self, key: &str) -> Result<&str, Error> {
        self.names
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, tool)| tool.as_str())
            .ok_or_else(|| Error::Scenario {
                scenario: "setup",
                what: format!("the bus has no `{key}`"),
            })
    }

    /// Calls `method` on the bus; the tool result is its JSON, or the error's text.
    pub(super) async fn invoke(
        &self,
        bus: &dyn Bus,
        method: &str,
        arguments: Value,
    ) -> Result<((Block, String), Result<Value, String>), Error> {
        let tool = self.tool(method)?;
        let call = tool_use(tool, &arguments);
        let arguments = match arguments {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let outcome = bus
            .invoke_one(method, arguments, &Target::Best, CallOptions::default())
            .await
            .map_err(|error| error.to_string());
        let text = match &outcome {
            Ok(value) => value.to_string(),
            Err(error) => format!("Error: {error}"),
        };
        Ok(((call, text), outcome))
    }

    /// Raises `intent` with `context`; the tool result is the resolution's JSON.
    pub(super) async fn raise(
        &self,
        bus: &dyn Bus,
        intent: &str,
        context: Value,
    ) -> Result<((Block, String), Result<Value, String>), Error> {
        let tool = self.tool(&intent_key(intent))?;
        let call = tool_use(tool, &json!({"context": context}));
        let outcome = bus
            .raise_intent(IntentRequest {
                intent: intent.to_owned(),
                context,
                target: IntentTarget::default(),
                timeout: Duration::from_secs(30),
            })
            .await
            .map(|resolution| serde_json::to_value(resolution).unwrap_or_default())
            .map_err(|error| error.to_string());
        let text = match &outcome {
            Ok(value) => value.to_string(),
            Err(error) => format!("Error: {error}"),
        };
        Ok(((call, text), outcome))
    }
}

fn intent_key(intent: &str) -> String {
    format!("intent:{intent}")
}

/// A tool name clients accept (`^[A-Za-z0-9_-]{1,64}$`), unique within the set.
fn unique_tool_name(wanted: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let base: String = wanted
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

fn method_tool(tool: &str, method: &MethodInfo) -> Value {
    let signature = parse_signature(method.input_signature.as_deref().unwrap_or(""));
    let description = method
        .description
        .clone()
        .or_else(|| method.display_name.clone())
        .unwrap_or_else(|| method.name.clone());
    json!({
        "name": tool,
        "description": description,
        "input_schema": object_schema(&signature.params),
    })
}

fn intent_tool(tool: &str, intent: &IntentInfo) -> Value {
    let mut apps: Vec<&str> = intent
        .handlers
        .iter()
        .map(|handler| handler.application.as_str())
        .collect();
    apps.dedup();
    let contexts = intent.context_types();
    json!({
        "name": tool,
        "description": format!(
            "Raises the FDC3 intent {} (handled by {}) with a context of type {}.",
            intent.name,
            apps.join(", "),
            contexts.join(" or "),
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "context": {
                    "type": "object",
                    "description": "The FDC3 context: `type` plus its fields (e.g. `name`, `id`).",
                    "properties": {"type": {"type": "string", "enum": contexts}},
                    "required": ["type"],
                },
                "app": {"type": "string", "description": "Only this handler app."},
            },
            "required": ["context"],
        },
    })
}

/// A JSON schema of an object with these parameters.
fn object_schema(params: &[Param]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (index, param) in params.iter().enumerate() {
        let name = param
            .name
            .clone()
            .unwrap_or_else(|| format!("arg{}", index + 1));
        let mut schema = type_schema(&param.ty);
        if let (Some(description), Value::Object(map)) = (&param.description, &mut schema) {
            map.insert("description".into(), Value::String(description.clone()));
        }
        if !param.optional {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema);
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    Value::Object(schema)
}

fn type_schema(ty: &SigType) -> Value {
    match ty {
        SigType::Bool => json!({"type": "boolean"}),
        SigType::Int | SigType::Long => json!({"type": "integer"}),
        SigType::Double => json!({"type": "number"}),
        SigType::String => json!({"type": "string"}),
        SigType::DateTime => json!({"type": "string", "format": "date-time"}),
        SigType::Composite {
            fields: Some(fields),
            ..
        } => object_schema(fields),
        SigType::Composite { fields: None, .. } => json!({"type": "object"}),
        SigType::Array { item } => json!({"type": "array", "items": type_schema(item)}),
        SigType::Any { .. } => json!({}),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

pub(super) fn tool_use(name: &str, arguments: &Value) -> Block {
    Block::ToolUse {
        name: name.to_owned(),
        arguments: arguments.to_string(),
    }
}

pub(super) fn mismatch(scenario: Scenario, what: &str) -> Error {
    Error::Scenario {
        scenario: scenario.label(),
        what: what.to_owned(),
    }
}

/// A client as the scenarios need it.
#[derive(Debug, Clone)]
pub(super) struct ClientLine {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) aum: f64,
    pub(super) currency: String,
}

/// The `count` clients with the most assets in a `CRM.GetClients` result (stable for ties,
/// as Python's `sorted`).
pub(super) fn largest_clients(result: Option<&Value>, count: usize) -> Vec<ClientLine> {
    let mut clients: Vec<ClientLine> = result
        .and_then(|value| value.get("clients"))
        .and_then(Value::as_array)
        .map(|clients| {
            clients
                .iter()
                .map(|client| ClientLine {
                    id: text_field(client, "id"),
                    name: text_field(client, "name"),
                    aum: client.get("aum").and_then(Value::as_f64).unwrap_or(0.0),
                    currency: text_field(client, "currency"),
                })
                .collect()
        })
        .unwrap_or_default();
    clients.sort_by(|a, b| b.aum.total_cmp(&a.aum));
    clients.truncate(count);
    clients
}

pub(super) fn text_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[expect(
    clippy::cast_precision_loss,
    reason = "token counts are far below 2^52"
)]
pub(super) fn fraction(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// `12,345`.
pub fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `1,234,567.89` (two decimals unless whole).
pub(super) fn thousands_f64(value: f64) -> String {
    let text = format!("{:.2}", value.abs());
    let (integer, decimals) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    for (index, digit) in integer.chars().enumerate() {
        if index > 0 && (integer.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if decimals != "00" {
        out.push('.');
        out.push_str(decimals);
    }
    out
}

/// `97.3 %`.
pub(super) fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}
