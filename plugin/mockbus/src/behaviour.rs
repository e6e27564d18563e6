//! What a sample method does when invoked ([`Behaviour`], written in the app JSON) and the
//! in-memory [`Store`] of named datasets it reads and writes.
//!
//! Behaviours are pure functions of the arguments and the store, except the fault-like ones
//! (`hang`, `crash`), which the app runtime handles, and `priceStream`, which serves
//! subscriptions. Arguments come from the wire: every lookup tolerates missing keys and wrong
//! types and turns them into a readable error instead of a panic.

use std::{
    collections::BTreeMap,
    hash::{DefaultHasher, Hash, Hasher},
    time::{SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use codemode_protocol::{
    dates::format_t42_date,
    signature::{Param, SigType, parse_signature},
};

use super::data::{AS_OF_MS, SeededRng};

/// What a method does when invoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Behaviour {
    /// Records of `dataset` matching every given filter, as `{resultKey: [...]}`.
    Query {
        /// The dataset to read.
        dataset: String,
        /// Filters applied when their argument is present (and not null or "").
        #[serde(default)]
        filters: Vec<Filter>,
        /// The key of the list in the result.
        result_key: String,
        /// Only these fields of each record (all when absent).
        #[serde(default)]
        select: Option<Vec<String>>,
        /// At most this many records.
        #[serde(default)]
        limit: Option<usize>,
        /// Fails unless a record referenced by an argument exists (e.g. the client).
        #[serde(default)]
        exists: Option<Exists>,
        /// Extra fields merged into the result object.
        #[serde(default)]
        extra: Map<String, Value>,
    },
    /// One record of `dataset` by id, as `{resultKey: {...}}`; `notFound` when missing.
    Get {
        /// The dataset to read.
        dataset: String,
        /// The argument holding the id.
        id_arg: String,
        /// The record field compared with it.
        #[serde(default = "default_id_field")]
        id_field: String,
        /// The key of the record in the result.
        result_key: String,
        /// The error reason, with `{arg}` placeholders, e.g. `Unknown client {clientId}`.
        not_found: String,
        /// Only these fields of the record.
        #[serde(default)]
        select: Option<Vec<String>>,
    },
    /// The first record matching any key path of the arguments (for intent contexts);
    /// returned as the whole result.
    Find {
        /// The dataset to read.
        dataset: String,
        /// Tried in order: the value at `path` compared with `field` (case-insensitive).
        keys: Vec<FindKey>,
        /// The error reason when nothing matches.
        not_found: String,
    },
    /// Returns the arguments.
    Echo,
    /// Returns a fixed object.
    Constant {
        /// The result.
        result: Value,
    },
    /// Returns `result` with `"{path|path}"` placeholders filled from the arguments.
    Template {
        /// The result template.
        result: Value,
        /// The error reason when a placeholder cannot be filled.
        #[serde(default)]
        missing: Option<String>,
    },
    /// Always fails with `reason` (and `reasonUri`, default `agm.errors.client_error`).
    Fail {
        /// Human-readable reason, with `{arg}` placeholders.
        reason: String,
        /// Machine-readable reason.
        #[serde(default)]
        reason_uri: Option<String>,
        /// Extra data for the caller.
        #[serde(default)]
        context: Option<Value>,
    },
    /// Never replies.
    Hang,
    /// The serving peer leaves mid-call (its callers get "Peer has left while waiting…").
    Crash,
    /// Appends the arguments as a new record with a fresh id; returns `{resultKey: record}`.
    Append {
        /// The dataset to append to.
        dataset: String,
        /// The key of the new record in the result.
        result_key: String,
        /// Ids are `<idPrefix><number>`.
        id_prefix: String,
        /// Arguments that must be present and non-empty.
        #[serde(default)]
        required: Vec<String>,
        /// Fields set when the arguments do not give them.
        #[serde(default)]
        defaults: Map<String, Value>,
    },
    /// A streaming method: one branch per key, publishing simulated prices.
    PriceStream {
        /// The instruments dataset.
        dataset: String,
        /// The argument naming the instrument.
        key_arg: String,
        /// The record field it is compared with.
        key_field: String,
        /// The rejection reason for an unknown key.
        not_found: String,
    },
    /// A plausible result fabricated from the method's `returns` signature (synthetic apps).
    Sample,
}

/// A filter of a [`Behaviour::Query`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    /// The argument holding the wanted value.
    pub arg: String,
    /// The record field compared with it.
    pub field: String,
    /// How they are compared.
    #[serde(default, rename = "match")]
    pub matching: Match,
}

/// How a [`Filter`] compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Match {
    /// Equal (strings case-insensitively).
    #[default]
    Equals,
    /// The field contains the argument (case-insensitive).
    Contains,
    /// The field is a number at least the argument.
    Min,
    /// The field is a number at most the argument.
    Max,
}

/// A precondition of a [`Behaviour::Query`]: a record referenced by an argument must exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exists {
    /// The dataset to look in.
    pub dataset: String,
    /// The argument holding the id.
    pub arg: String,
    /// The record field compared with it.
    pub field: String,
    /// The error reason, with `{arg}` placeholders.
    pub not_found: String,
}

/// One lookup key of a [`Behaviour::Find`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FindKey {
    /// A dotted path into the arguments, e.g. `data.id.email`.
    pub path: String,
    /// The record field compared with the value found there.
    pub field: String,
}

fn default_id_field() -> String {
    "id".into()
}

/// A failed invocation, as the server reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Machine-readable reason.
    pub reason_uri: String,
    /// Human-readable reason.
    pub reason: String,
    /// Extra data for the caller.
    pub context: Value,
}

impl Failure {
    /// A client error with `reason`, as JavaScript servers report a thrown error.
    pub fn client(reason: impl Into<String>) -> Self {
        Self {
            reason_uri: codemode_protocol::gw3::reasons::CLIENT_ERROR.into(),
            reason: reason.into(),
            context: Value::Object(Map::new()),
        }
    }
}

/// The named datasets of one bus, shared by all its apps.
#[derive(Debug, Default)]
pub struct Store {
    datasets: BTreeMap<String, Vec<Value>>,
}

impl Store {
    /// A store holding `datasets`.
    pub fn new(datasets: BTreeMap<String, Vec<Value>>) -> Self {
        Self { datasets }
    }

    /// The records of `name` (empty when unknown).
    pub fn records(&self, name: &str) -> &[Value] {
        self.datasets.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Runs a request/response behaviour. `returns` is the method's `returns` signature (for
/// [`Behaviour::Sample`]). `hang`, `crash` and `priceStream` are handled by the runtime and
/// fail here.
pub fn execute(
    behaviour: &Behaviour,
    arguments: &Map<String, Value>,
    returns: Option<&str>,
    store: &mut Store,
) -> Result<Value, Failure> {
    match behaviour {
        Behaviour::Query {
            dataset,
            filters,
            result_key,
            select,
            limit,
            exists,
            extra,
        } => {
            if let Some(exists) = exists {
                let wanted = arguments.get(&exists.arg).unwrap_or(&Value::Null);
                let found = store
                    .records(&exists.dataset)
                    .iter()
                    .any(|record| equals(record.get(&exists.field), wanted));
                if !found {
                    return Err(Failure::client(fill(&exists.not_found, arguments)));
                }
            }
            let records: Vec<Value> = store
                .records(dataset)
                .iter()
                .filter(|record| {
                    filters
                        .iter()
                        .all(|filter| keeps(filter, record, arguments))
                })
                .take(limit.unwrap_or(usize::MAX))
                .map(|record| project(record, select.as_deref()))
                .collect();
            let mut result = extra.clone();
            result.insert(result_key.clone(), Value::Array(records));
            Ok(Value::Object(result))
        }
        Behaviour::Get {
            dataset,
            id_arg,
            id_field,
            result_key,
            not_found,
            select,
        } => {
            let wanted = arguments.get(id_arg).unwrap_or(&Value::Null);
            let record = store
                .records(dataset)
                .iter()
                .find(|record| !wanted.is_null() && equals(record.get(id_field), wanted))
                .ok_or_else(|| Failure::client(fill(not_found, arguments)))?;
            let mut result = Map::new();
            result.insert(result_key.clone(), project(record, select.as_deref()));
            Ok(Value::Object(result))
        }
        Behaviour::Find {
            dataset,
            keys,
            not_found,
        } => {
            let records = store.records(dataset);
            keys.iter()
                .find_map(|key| {
                    let wanted = lookup(arguments, &key.path).filter(|value| !value.is_null())?;
                    records
                        .iter()
                        .find(|record| equals(record.get(&key.field), wanted))
                })
                .cloned()
                .ok_or_else(|| Failure::client(fill(not_found, arguments)))
        }
        Behaviour::Echo => Ok(Value::Object(arguments.clone())),
        Behaviour::Constant { result } => Ok(result.clone()),
        Behaviour::Template { result, missing } => render(result, arguments).ok_or_else(|| {
            Failure::client(fill(
                missing
                    .as_deref()
                    .unwrap_or("The arguments lack a value the handler needs"),
                arguments,
            ))
        }),
        Behaviour::Fail {
            reason,
            reason_uri,
            context,
        } => Err(Failure {
            reason_uri: reason_uri
                .clone()
                .unwrap_or_else(|| codemode_protocol::gw3::reasons::CLIENT_ERROR.into()),
            reason: fill(reason, arguments),
            context: context.clone().unwrap_or_else(|| Value::Object(Map::new())),
        }),
        Behaviour::Append {
            dataset,
            result_key,
            id_prefix,
            required,
            defaults,
        } => {
            if let Some(absent) = required.iter().find(|name| is_blank(arguments.get(*name))) {
                return Err(Failure::client(format!("{absent} is required")));
            }
            let records = store.datasets.entry(dataset.clone()).or_default();
            let mut record = Map::new();
            record.insert(
                "id".into(),
                Value::String(format!("{id_prefix}{:04}", records.len() + 1)),
            );
            for (key, value) in defaults {
                record.insert(key.clone(), value.clone());
            }
            for (key, value) in arguments {
                if key != "id" && !value.is_null() {
                    record.insert(key.clone(), value.clone());
                }
            }
            record.insert("createdAt".into(), Value::String(format_t42_date(now_ms())));
            let record = Value::Object(record);
            records.push(record.clone());
            let mut result = Map::new();
            result.insert(result_key.clone(), record);
            Ok(Value::Object(result))
        }
        Behaviour::Sample => Ok(sample(returns.unwrap_or(""), arguments)),
        Behaviour::Hang | Behaviour::Crash | Behaviour::PriceStream { .. } => Err(Failure::client(
            "This method cannot be called this way (use subscribe for streams)",
        )),
    }
}

/// The value at a dotted `path` in the arguments.
pub fn lookup<'a>(arguments: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = arguments.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

fn keeps(filter: &Filter, record: &Value, arguments: &Map<String, Value>) -> bool {
    let wanted = arguments.get(&filter.arg);
    if is_blank(wanted) {
        return true;
    }
    let (Some(wanted), field) = (wanted, record.get(&filter.field)) else {
        return true;
    };
    match filter.matching {
        Match::Equals => equals(field, wanted),
        Match::Contains => match (field.and_then(Value::as_str), wanted.as_str()) {
            (Some(text), Some(fragment)) => text.to_lowercase().contains(&fragment.to_lowercase()),
            _ => false,
        },
        Match::Min => match (field.and_then(Value::as_f64), as_number(wanted)) {
            (Some(actual), Some(limit)) => actual >= limit,
            _ => false,
        },
        Match::Max => match (field.and_then(Value::as_f64), as_number(wanted)) {
            (Some(actual), Some(limit)) => actual <= limit,
            _ => false,
        },
    }
}

fn as_number(value: &Value) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
}

fn equals(field: Option<&Value>, wanted: &Value) -> bool {
    match (field, wanted) {
        (Some(Value::String(actual)), Value::String(wanted)) => actual.eq_ignore_ascii_case(wanted),
        (Some(Value::String(actual)), Value::Number(wanted)) => *actual == wanted.to_string(),
        (Some(actual), wanted) => actual == wanted,
        (None, _) => false,
    }
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.trim().is_empty(),
        Some(_) => false,
    }
}

fn project(record: &Value, select: Option<&[String]>) -> Value {
    match (select, record) {
        (Some(fields), Value::Object(object)) => Value::Object(
            fields
                .iter()
                .filter_map(|field| {
                    object
                        .get(field)
                        .map(|value| (field.clone(), value.clone()))
                })
                .collect(),
        ),
        _ => record.clone(),
    }
}

/// Replaces `{arg}` placeholders in `text` with argument values (strings as is, others as
/// JSON, absent ones as `null`).
pub fn fill(text: &str, arguments: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(length) = rest.get(start..).and_then(|tail| tail.find('}')) else {
            break;
        };
        let (before, tail) = rest.split_at(start);
        out.push_str(before);
        let key = tail.get(1..length).unwrap_or("");
        match lookup(arguments, key) {
            Some(Value::String(value)) => out.push_str(value),
            Some(value) => out.push_str(&value.to_string()),
            None if key == "arguments" => {
                out.push_str(&Value::Object(arguments.clone()).to_string());
            }
            None => out.push_str("null"),
        }
        rest = tail.get(length + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Fills a template: a string that is exactly `"{a|b}"` becomes the first present value (any
/// JSON type); `None` when one cannot be filled.
fn render(template: &Value, arguments: &Map<String, Value>) -> Option<Value> {
    match template {
        Value::String(text) => {
            let Some(inner) = text
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
            else {
                return Some(template.clone());
            };
            inner
                .split('|')
                .find_map(|path| {
                    lookup(arguments, path.trim()).filter(|value| !is_blank(Some(value)))
                })
                .cloned()
        }
        Value::Array(items) => items
            .iter()
            .map(|item| render(item, arguments))
            .collect::<Option<Vec<Value>>>()
            .map(Value::Array),
        Value::Object(object) => object
            .iter()
            .map(|(key, value)| render(value, arguments).map(|value| (key.clone(), value)))
            .collect::<Option<Map<String, Value>>>()
            .map(Value::Object),
        other => Some(other.clone()),
    }
}

/// A deterministic result shaped like the `returns` signature, varied by the arguments.
fn sample(returns: &str, arguments: &Map<String, Value>) -> Value {
    let mut hasher = DefaultHasher::new();
    Value::Object(arguments.clone())
        .to_string()
        .hash(&mut hasher);
    returns.hash(&mut hasher);
    let mut rng = SeededRng::new(hasher.finish());
    let signature = parse_signature(returns);
    let mut result = Map::new();
    for (index, param) in signature.params.iter().enumerate() {
        let key = param_key(param, index);
        result.insert(key.clone(), sample_value(&param.ty, &key, &mut rng, 0));
    }
    Value::Object(result)
}

fn param_key(param: &Param, index: usize) -> String {
    if let Some(name) = &param.name {
        return name.clone();
    }
    let mut ty = &param.ty;
    while let SigType::Array { item } = ty {
        ty = item;
    }
    match ty {
        SigType::Composite {
            type_name: Some(name),
            ..
        } => lower_first(name),
        _ if index == 0 => "result".into(),
        _ => format!("value{index}"),
    }
}

fn sample_value(ty: &SigType, name: &str, rng: &mut SeededRng, depth: usize) -> Value {
    let lower = name.to_ascii_lowercase();
    match ty {
        SigType::Bool => Value::Bool(rng.below(2) == 0),
        SigType::Int | SigType::Long => Value::from(rng.below(1000)),
        SigType::Double => {
            let value = (rng.unit() * 100_000.0 * 100.0).round() / 100.0;
            Value::from(value)
        }
        SigType::String | SigType::Any { .. } => Value::String(sample_text(&lower, rng)),
        SigType::DateTime => {
            let offset = i64::try_from(rng.below(90 * 24)).unwrap_or(0) * 3_600_000;
            Value::String(format_t42_date(AS_OF_MS - offset))
        }
        SigType::Array { item } => {
            if depth > 4 {
                return Value::Array(Vec::new());
            }
            let count = 2 + rng.below(3);
            Value::Array(
                (0..count)
                    .map(|_| sample_value(item, name, rng, depth + 1))
                    .collect(),
            )
        }
        SigType::Composite { fields, .. } => {
            let mut object = Map::new();
            match fields {
                Some(fields) if depth <= 4 => {
                    for (index, field) in fields.iter().enumerate() {
                        let key = param_key(field, index);
                        object.insert(key.clone(), sample_value(&field.ty, &key, rng, depth + 1));
                    }
                }
                _ => {
                    object.insert("id".into(), Value::String(sample_text("id", rng)));
                    object.insert("name".into(), Value::String(sample_text("name", rng)));
                }
            }
            Value::Object(object)
        }
    }
}

fn sample_text(name: &str, rng: &mut SeededRng) -> String {
    const SYMBOLS: &[&str] = &[
        "AAPL", "MSFT", "VOD.L", "HSBA.L", "SAP.DE", "ASML.AS", "NESN.SW",
    ];
    const CURRENCIES: &[&str] = &["USD", "EUR", "GBP", "CHF", "JPY"];
    const STATUSES: &[&str] = &["OK", "Pending", "Approved", "Rejected", "Open", "Closed"];
    const NAMES: &[&str] = &[
        "Amelia Reid",
        "Oliver Grant",
        "Isla Morgan",
        "Noah Fletcher",
    ];
    let pick = |rng: &mut SeededRng, items: &[&str]| {
        rng.pick(items).copied().unwrap_or_default().to_owned()
    };
    if name.contains("symbol") || name.contains("ticker") {
        pick(rng, SYMBOLS)
    } else if name.contains("currency") || name == "ccy" {
        pick(rng, CURRENCIES)
    } else if name.contains("status") || name.contains("state") {
        pick(rng, STATUSES)
    } else if name.contains("client") && !name.ends_with("id") {
        pick(rng, NAMES)
    } else if let Some(stem) = name.strip_suffix("id") {
        // `orderId` → `ORD-01234`; a bare `id` → `ID-01234`.
        let prefix: String = stem.chars().take(3).collect::<String>().to_uppercase();
        let prefix = if prefix.is_empty() {
            "ID".to_owned()
        } else {
            prefix
        };
        format!("{prefix}-{:05}", rng.below(100_000))
    } else {
        format!("{name}-{}", rng.below(1000))
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(AS_OF_MS, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(AS_OF_MS)
        })
}
