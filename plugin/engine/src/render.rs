//! The text a model reads for an [`Outcome`]: the result or the exception with the snippet
//! line it points at, what was printed, and one line about the bus calls. Every host (the
//! desktop service, the browser package) renders outcomes here, so they read the same.

use std::fmt::Write as _;

use serde_json::Value;

use crate::outcome::Outcome;

/// The text a model reads for an outcome: the result, what was printed, one line about the bus
/// calls; for a failure, the exception with the snippet line it points at.
pub fn render_outcome(outcome: &Outcome) -> String {
    let mut text = String::new();
    if let Some(error) = &outcome.error {
        let _ = write!(text, "{}: {}", error.kind, error.message);
        if let Some(line) = error.line {
            let _ = write!(text, "\n  at line {line}");
            if let Some(line_text) = &error.line_text {
                let _ = write!(text, ": {}", line_text.trim());
            }
        }
        if let Some(details) = &error.details
            && !details.is_empty()
        {
            let _ = write!(text, "\n  details: {}", Value::Object(details.clone()));
        }
        text.push('\n');
    } else if outcome.result_unset {
        text.push_str(if outcome.printed.is_empty() {
            "result: None — the snippet never assigned `result` and printed nothing. Return a \
             value with `result = ...` (or end with an expression, or print()).\n"
        } else {
            "result: None (`result` was never assigned; the printed output is below).\n"
        });
    } else {
        let result = match &outcome.result {
            Value::String(text) => text.clone(),
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        let _ = writeln!(
            text,
            "result: {result}{}",
            if outcome.result_truncated {
                " [truncated]"
            } else {
                ""
            }
        );
    }
    if !outcome.printed.is_empty() {
        let _ = write!(text, "printed:\n{}", outcome.printed);
        if !outcome.printed.ends_with('\n') {
            text.push('\n');
        }
        if outcome.printed_truncated && outcome.printed_ref.is_none() {
            text.push_str("[printed output truncated]\n");
        }
    }
    text.push_str(&calls_summary(outcome));
    text
}

/// The most bus calls listed one by one where an outcome is sent as data (the MCP tool's
/// structured content, the on-bus method's reply); the text names at most six functions.
pub const MAX_LISTED_CALLS: usize = 20;

/// The calls to list one by one: the first [`MAX_LISTED_CALLS`], and how many are left out.
pub fn listed_calls(outcome: &Outcome) -> (&[crate::outcome::CallRecord], usize) {
    let shown = outcome.calls.len().min(MAX_LISTED_CALLS);
    (&outcome.calls[..shown], outcome.calls.len() - shown)
}

/// "bus calls: 3 (crm.get_clients ×2, intents.view_chart; 1 failed) in 12 ms".
pub fn calls_summary(outcome: &Outcome) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for call in &outcome.calls {
        match counts.iter_mut().find(|(name, _)| *name == call.function) {
            Some((_, count)) => *count += 1,
            None => counts.push((&call.function, 1)),
        }
    }
    let failed = outcome.calls.iter().filter(|call| !call.ok).count();
    let mut names: Vec<String> = counts
        .iter()
        .take(6)
        .map(|(name, count)| {
            if *count > 1 {
                format!("{name} ×{count}")
            } else {
                (*name).to_owned()
            }
        })
        .collect();
    if counts.len() > 6 {
        names.push(format!("… {} more", counts.len() - 6));
    }
    let mut line = format!("bus calls: {}", outcome.calls.len());
    if !names.is_empty() {
        let _ = write!(line, " ({}", names.join(", "));
        if failed > 0 {
            let _ = write!(line, "; {failed} failed");
        }
        line.push(')');
    }
    let _ = writeln!(line, "; ran {:.1} ms", outcome.duration_ms);
    line
}
