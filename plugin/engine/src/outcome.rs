//! The structured outcome of one run, and the caps that keep it small.
//!
//! The outcome is plain serde data: the MCP layer renders it as text, the CLI prints it as
//! JSON. Output and result caps are applied here, with a visible marker naming the limit.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::limits::{LimitKind, Limits};

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// True when the snippet ran to the end without an uncaught exception.
    pub ok: bool,
    /// The value of `result` if the snippet assigned it, else of its last expression
    /// statement, as JSON (`null` when there is neither). Datetimes are ISO 8601 strings.
    pub result: Value,
    /// True when the snippet ended without assigning `result` and without a final expression
    /// statement, so `result` is `null` only because nothing was returned (not `result = None`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub result_unset: bool,
    /// The session global that holds the full result when it was too large to send: `result`
    /// is then a text preview of it (see [`crate::preview`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_ref: Option<String>,
    /// Whether `result` was shortened to fit [`Limits::max_result_chars`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub result_truncated: bool,
    /// Everything the snippet printed (stdout and stderr, interleaved).
    pub printed: String,
    /// Whether `printed` was cut at [`Limits::max_output_chars`] (or, with
    /// [`Outcome::printed_ref`], replaced by a preview).
    #[serde(default, skip_serializing_if = "is_false")]
    pub printed_truncated: bool,
    /// The session global that holds everything the snippet printed when it was too long to
    /// send: `printed` is then a preview of it (see [`crate::preview::printed_preview`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed_ref: Option<String>,
    /// The bus calls the snippet started, in start order.
    pub calls: Vec<CallRecord>,
    /// Wall time of the run in milliseconds, as measured by the side that reports it.
    pub duration_ms: f64,
    /// Why the run failed, when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SnippetError>,
}

impl Outcome {
    /// A failed outcome with no result, output or calls.
    pub fn failed(error: SnippetError) -> Self {
        Self {
            ok: false,
            error: Some(error),
            ..Self::default()
        }
    }

    /// The limit this run hit, if that is why it failed.
    pub fn limit(&self) -> Option<LimitKind> {
        self.error
            .as_ref()
            .and_then(|error| error.limit.as_ref())
            .map(|limit| limit.kind)
    }
}

/// One bus call made by a snippet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The dotted function path, e.g. `crm.get_clients`.
    pub function: String,
    /// The `target=` the snippet passed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Value>,
    /// Milliseconds from start to reply (`None` if the run ended before the reply).
    pub ms: Option<f64>,
    /// Whether the call succeeded (`false` also for unanswered calls).
    pub ok: bool,
    /// The error kind and message of a failed call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnippetError {
    /// Where it failed.
    pub phase: ErrorPhase,
    /// The Python exception type (`TypeError`, `BusError`…), or `LimitExceeded` and
    /// `WorkerCrashed` for failures outside Python.
    #[serde(rename = "type")]
    pub kind: String,
    /// The exception message.
    pub message: String,
    /// The snippet line (1-based) the error points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The text of that line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_text: Option<String>,
    /// The limit that was exceeded, if that is the cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitHit>,
    /// For bus errors: the server's reason URI and context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
}

impl SnippetError {
    /// An error with just a phase, type and message.
    pub fn new(phase: ErrorPhase, kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            phase,
            kind: kind.into(),
            message: message.into(),
            line: None,
            line_text: None,
            limit: None,
            details: None,
        }
    }

    /// The source-size limit's error, if `source` is over it.
    pub fn oversized_source(source: &str, limits: &Limits) -> Option<Self> {
        (source.len() > limits.max_source_bytes).then(|| {
            Self::limit(
                ErrorPhase::Preflight,
                LimitKind::SourceSize,
                limits,
                &format!("the snippet has {} bytes", source.len()),
            )
        })
    }

    /// The error for an exceeded limit: "wall time limit of 30 s exceeded".
    pub fn limit(phase: ErrorPhase, kind: LimitKind, limits: &Limits, context: &str) -> Self {
        let value = limits.describe(kind);
        let mut message = format!("{} limit of {value} exceeded", kind.label());
        if !context.is_empty() {
            message.push_str(": ");
            message.push_str(context);
        }
        let python_type = match kind {
            LimitKind::Memory => "MemoryError",
            LimitKind::Recursion => "RecursionError",
            _ => "LimitExceeded",
        };
        Self {
            limit: Some(LimitHit { kind, value }),
            ..Self::new(phase, python_type, message)
        }
    }

    /// Sets the line number and its text from `source`.
    #[must_use]
    pub fn at_line(mut self, line: Option<u32>, source: &str) -> Self {
        self.line = line;
        self.line_text = line.and_then(|number| line_text(source, number));
        self
    }
}

/// The text of 1-based line `number` of `source`, trimmed, capped at 200 chars.
pub fn line_text(source: &str, number: u32) -> Option<String> {
    let index = usize::try_from(number.checked_sub(1)?).ok()?;
    let line = source.lines().nth(index)?.trim();
    Some(cap_chars(line, 200).0)
}

/// A limit that was exceeded, with its configured value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitHit {
    /// Which limit.
    pub kind: LimitKind,
    /// Its value, formatted (`30 s`, `256 MiB`).
    pub value: String,
}

/// Where a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorPhase {
    /// Before running: size, syntax, or a bad catalogue call found by pre-flight.
    Preflight,
    /// While the snippet ran.
    Runtime,
    /// Converting the result to JSON.
    Result,
    /// The worker process: hard deadline, crash, or a broken pipe.
    Worker,
}

/// Keeps at most `max` chars of `text`; returns the kept text and whether it was cut.
pub fn cap_chars(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((cut, _)) => (text[..cut].to_owned(), true),
        None => (text.to_owned(), false),
    }
}

/// The whole lines of cut `text`: up to and including its last newline (empty when the first
/// line is already cut), so a cut never splits a line, nor a value printed on one.
pub fn whole_lines(text: &str) -> &str {
    text.rfind('\n').map_or("", |at| &text[..=at])
}

/// The marker appended to cut output.
pub fn output_marker(kept: usize, total: usize, limits: &Limits) -> String {
    format!(
        "\n… [output truncated: printed output limit of {} reached; {kept} of {total} characters shown]",
        limits.describe(LimitKind::Output)
    )
}

/// Shrinks `value` until its JSON fits `max_chars`: long arrays keep their first items plus a
/// marker string, long strings are cut with a marker, deep nesting is replaced. Returns the
/// value and whether it was changed.
pub fn shape_result(value: Value, max_chars: usize) -> (Value, bool) {
    let size = json_len(&value);
    if size <= max_chars {
        return (value, false);
    }
    let note = format!(
        "result truncated: result size limit of {max_chars} characters; the full result has {size} characters of JSON"
    );
    (shape_noted(&value, max_chars, &note), true)
}

/// Shrinks `value` until its JSON fits `max_chars`, marking it with `note`.
fn shape_noted(value: &Value, max_chars: usize, note: &str) -> Value {
    let mut items = 1024usize;
    let mut chars = 4096usize;
    loop {
        let shaped = shrink(value, items, chars, 0);
        if json_len(&shaped) <= max_chars.saturating_sub(120) || (items <= 1 && chars <= 16) {
            let shaped = if json_len(&shaped) <= max_chars {
                shaped
            } else {
                let text = serde_json::to_string(value).unwrap_or_default();
                let (kept, _) = cap_chars(&text, max_chars.saturating_sub(120));
                Value::String(kept)
            };
            return wrap_marker(shaped, note);
        }
        items = (items / 2).max(1);
        chars = (chars / 2).max(16);
    }
}

/// Caps `printed` and `result` at [`Limits::max_output_tokens`] and
/// [`Limits::max_result_tokens`], with `count` counting tokens (o200k_base in the plugin).
///
/// The worker only caps characters (a memory guard): how many tokens a character is worth
/// varies 4× between prose and numbers, so the token caps are applied here, where the
/// tokenizer is. Text of fewer bytes than the cap is never counted (a token is at least a byte).
pub fn cap_tokens(outcome: &mut Outcome, limits: &Limits, count: &dyn Fn(&str) -> usize) {
    cap_printed_tokens(outcome, limits, count);
    cap_result_tokens(outcome, limits, count);
}

/// Tokens kept free for the truncation marker.
const MARKER_TOKENS: usize = 64;

/// How the worker's output marker starts (see [`output_marker`]).
const OUTPUT_MARKER_START: &str = "\n… [output truncated: ";

fn cap_printed_tokens(outcome: &mut Outcome, limits: &Limits, count: &dyn Fn(&str) -> usize) {
    let max = limits.max_output_tokens;
    if outcome.printed.len() <= max {
        return;
    }
    // The worker's marker (if any) is last; the text before it is what the snippet printed.
    let (body, total) = match outcome
        .printed
        .rfind(OUTPUT_MARKER_START)
        .filter(|_| outcome.printed_truncated)
    {
        Some(at) => {
            let body = &outcome.printed[..at];
            (
                body,
                marker_total(&outcome.printed[at..]).unwrap_or_else(|| body.chars().count()),
            )
        }
        None => (outcome.printed.as_str(), outcome.printed.chars().count()),
    };
    let budget = max.saturating_sub(MARKER_TOKENS).max(1);
    if count(&outcome.printed) <= max {
        return;
    }
    let kept = whole_lines(&prefix_within(body, budget, count)).to_owned();
    let marker = output_marker(kept.chars().count(), total, limits);
    outcome.printed = kept + &marker;
    outcome.printed_truncated = true;
}

/// The total from a marker's "…; {kept} of {total} characters shown]".
fn marker_total(marker: &str) -> Option<usize> {
    let (_, tail) = marker.rsplit_once(" of ")?;
    tail.strip_suffix(" characters shown]")?.parse().ok()
}

/// The longest prefix of `text` (by a few proportional cuts) that `count`s within `budget`.
fn prefix_within(text: &str, budget: usize, count: &dyn Fn(&str) -> usize) -> String {
    let mut keep = text.chars().count();
    let mut tokens = count(text);
    let mut kept = text.to_owned();
    for _ in 0..16 {
        if tokens <= budget {
            return kept;
        }
        let proportional = keep.saturating_mul(budget) / tokens.max(1);
        keep = (proportional.saturating_mul(19) / 20).min(keep.saturating_sub(1));
        kept = cap_chars(text, keep).0;
        tokens = count(&kept);
    }
    if tokens <= budget {
        kept
    } else {
        cap_chars(text, budget / 4).0
    }
}

fn cap_result_tokens(outcome: &mut Outcome, limits: &Limits, count: &dyn Fn(&str) -> usize) {
    let max = limits.max_result_tokens;
    let Ok(text) = serde_json::to_string(&outcome.result) else {
        return;
    };
    if text.len() <= max {
        return;
    }
    let tokens = count(&text);
    if tokens <= max {
        return;
    }
    let note = format!(
        "result truncated: result size limit of {max} tokens; the result had {tokens} tokens of JSON"
    );
    let budget = max.saturating_sub(MARKER_TOKENS).max(1);
    let mut chars = text.chars().count();
    let mut chars_tokens = tokens;
    for _ in 0..16 {
        let proportional = chars.saturating_mul(budget) / chars_tokens.max(1);
        chars = (proportional.saturating_mul(19) / 20)
            .min(chars.saturating_sub(1))
            .max(160);
        let shaped = shape_noted(&outcome.result, chars, &note);
        let shaped_tokens = serde_json::to_string(&shaped).map_or(usize::MAX, |json| count(&json));
        if shaped_tokens <= max || chars <= 160 {
            outcome.result = shaped;
            outcome.result_truncated = true;
            return;
        }
        chars_tokens = shaped_tokens;
    }
}

fn wrap_marker(shaped: Value, note: &str) -> Value {
    match shaped {
        Value::Object(mut map) => {
            map.insert("…".to_owned(), Value::String(note.to_owned()));
            Value::Object(map)
        }
        Value::Array(mut items) => {
            items.push(Value::String(format!("… [{note}]")));
            Value::Array(items)
        }
        Value::String(mut text) => {
            text.push_str("… [");
            text.push_str(note);
            text.push(']');
            Value::String(text)
        }
        other => other,
    }
}

fn shrink(value: &Value, items: usize, chars: usize, depth: usize) -> Value {
    match value {
        Value::String(text) => {
            let (kept, cut) = cap_chars(text, chars);
            if cut {
                Value::String(format!(
                    "{kept}… [{} more characters]",
                    text.chars().count() - chars
                ))
            } else {
                Value::String(kept)
            }
        }
        Value::Array(list) if depth >= 32 => Value::String(format!("[… {} items]", list.len())),
        Value::Object(map) if depth >= 32 => Value::String(format!("{{… {} keys}}", map.len())),
        Value::Array(list) => {
            let mut kept: Vec<Value> = list
                .iter()
                .take(items)
                .map(|item| shrink(item, items, chars, depth + 1))
                .collect();
            if list.len() > items {
                kept.push(Value::String(format!(
                    "… {} more items",
                    list.len() - items
                )));
            }
            Value::Array(kept)
        }
        Value::Object(map) => {
            let mut kept = Map::new();
            for (key, item) in map.iter().take(items) {
                kept.insert(key.clone(), shrink(item, items, chars, depth + 1));
            }
            if map.len() > items {
                kept.insert(
                    "…".to_owned(),
                    Value::String(format!("{} more keys", map.len() - items)),
                );
            }
            Value::Object(kept)
        }
        other => other.clone(),
    }
}

/// The length of `value`'s JSON in characters (`usize::MAX` if it cannot be encoded).
pub fn json_len(value: &Value) -> usize {
    serde_json::to_string(value).map_or(usize::MAX, |text| text.chars().count())
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if"
)]
fn is_false(value: &bool) -> bool {
    !value
}
