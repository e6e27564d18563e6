//! Structural previews of large values kept by reference: in a session, a result too large to
//! send stays in the snippet's globals under a name (`_r1`), and the model reads this preview
//! instead — type, length, keys, the first items, numeric summaries and how to continue.
//! Printed text too long to send stays the same way (`_p1`), previewed by whole lines.
//!
//! Items are shown whole (never cut inside a JSON value): an item too long for the preview is
//! replaced by its shape.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Results whose JSON is longer than this (characters) are kept by reference in a session.
pub const REFERENCE_CHARS: usize = 6_000;
/// Items shown from the start of a list.
const FIRST_ITEMS: usize = 3;
/// Longest item shown whole (characters of JSON); longer ones are shown by shape.
const ITEM_CHARS: usize = 400;
/// Most keys named.
const MAX_KEYS: usize = 24;
/// Most numeric fields summarised.
const MAX_NUMBERS: usize = 6;

/// The preview of `value`, kept as `name`; `length` is the value's true `len()` when `value`
/// is a cut copy (the cut copy's marker items are left out of the preview).
pub fn preview(value: &Value, name: &str, length: Option<usize>) -> String {
    let chars = serde_json::to_string(value).map_or(0, |text| text.len());
    let kind = match (value, length) {
        (Value::Array(_), Some(length)) => format!("list of {length} items"),
        (Value::Object(_), Some(length)) => format!("dict of {length} keys"),
        _ => describe(value),
    };
    let mut out = format!(
        "The result is large ({kind}, over {chars} characters of JSON), so it stays in this \
         session as `{name}`.\n"
    );
    // The list to look into: the value itself, or a dict's largest list.
    let (path, list) = match value {
        Value::Array(items) => (name.to_owned(), Some(items)),
        Value::Object(map) => {
            let _ = writeln!(out, "keys: {}", keys_line(map));
            let largest = map
                .iter()
                .filter_map(|(key, item)| item.as_array().map(|items| (key, items)))
                .max_by_key(|(_, items)| items.len());
            match largest {
                Some((key, items)) => (format!("{name}[{}]", quote(key)), Some(items)),
                None => (name.to_owned(), None),
            }
        }
        _ => (name.to_owned(), None),
    };
    let kept: Option<Vec<Value>> = list.map(|items| {
        items
            .iter()
            .filter(|item| !item.as_str().is_some_and(|text| text.starts_with("… ")))
            .cloned()
            .collect()
    });
    if let Some(items) = kept.as_ref() {
        if path != name {
            let _ = writeln!(out, "{path}: list of {} items", items.len());
        }
        let total = length.filter(|_| path == name).unwrap_or(items.len());
        if let Some(Value::Object(first)) = items.first() {
            let _ = writeln!(out, "each item: dict with keys {}", keys_line(first));
        }
        for item in items.iter().take(FIRST_ITEMS) {
            let text = serde_json::to_string(item).unwrap_or_default();
            if text.len() <= ITEM_CHARS {
                let _ = writeln!(out, "  {text}");
            } else {
                let _ = writeln!(out, "  <{}>", describe(item));
            }
        }
        if total > FIRST_ITEMS {
            let _ = writeln!(out, "  … {} more", total - FIRST_ITEMS);
        }
        let numbers = numeric_summaries(items);
        if !numbers.is_empty() {
            let over = if items.len() < total {
                format!(" (over the first {} items)", items.len())
            } else {
                String::new()
            };
            let _ = writeln!(out, "numbers{over}: {}", numbers.join("; "));
        }
        let filter_key = items
            .first()
            .and_then(Value::as_object)
            .and_then(|first| first.keys().next().cloned());
        let _ = write!(
            out,
            "Continue in a later call with the same session: result = {path}[{FIRST_ITEMS}:{}]",
            FIRST_ITEMS * 4
        );
        if let Some(key) = filter_key {
            let _ = write!(
                out,
                ", or result = [x for x in {path} if x[{}] == ...]",
                quote(&key)
            );
        }
        out.push_str(", or len(");
        out.push_str(&path);
        out.push_str(").\n");
    } else {
        let _ = writeln!(
            out,
            "Continue in a later call with the same session: read parts of `{name}` (e.g. {name}[:2000] for text)."
        );
    }
    out
}

/// The most printed characters a session run keeps (a memory guard; the worker's memory
/// limit bounds the session as a whole).
pub const KEPT_PRINTED_CHARS: usize = 1_000_000;
/// Printed text longer than this (characters) is kept by reference in a session.
pub const PRINTED_REFERENCE_CHARS: usize = 6_000;
/// Characters of whole lines shown from the start of long printed text.
const PRINTED_HEAD_CHARS: usize = 1_500;
/// Characters of whole lines shown from its end.
const PRINTED_TAIL_CHARS: usize = 400;
/// The characters a model reads next, in the "how to continue" hint.
const PRINTED_PAGE_CHARS: usize = 4_000;

/// The preview of printed text kept as `name` (a `str` in the session): whole lines from the
/// start and the end, never a line cut in two (a line too long to show, such as one printed
/// JSON value, is described instead), and how to read the rest. `total` is how many characters
/// the snippet printed (more than `text` holds when even the kept copy was capped).
pub fn printed_preview(text: &str, name: &str, total: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut shown_chars = 0usize;
    let mut head = 0usize;
    for line in &lines {
        let length = line.chars().count() + 1;
        if shown_chars + length > PRINTED_HEAD_CHARS {
            break;
        }
        out.push_str(line);
        out.push('\n');
        shown_chars += length;
        head += 1;
    }
    if head == 0
        && let Some(first) = lines.first()
    {
        let _ = writeln!(out, "<line 1: {}>", describe_line(first));
        head = 1;
    }
    // The tail: whole lines that fit, after the head.
    let mut tail: Vec<&str> = Vec::new();
    let mut tail_chars = 0usize;
    for line in lines.iter().skip(head).rev() {
        let length = line.chars().count() + 1;
        if tail_chars + length > PRINTED_TAIL_CHARS {
            break;
        }
        tail.push(line);
        tail_chars += length;
    }
    let hidden = lines.len().saturating_sub(head + tail.len());
    if hidden > 0 {
        let _ = writeln!(out, "… {hidden} more lines …");
    }
    for line in tail.iter().rev() {
        out.push_str(line);
        out.push('\n');
    }
    let from = shown_chars;
    let _ = write!(
        out,
        "[printed output is {total} characters in {} lines; all of it stays in this session as \
         `{name}` (a str). Read on in a later call with the same session: print({name}[{from}:{}]), \
         or filter it: print('\\n'.join(line for line in {name}.splitlines() if 'word' in line))",
        lines.len(),
        from + PRINTED_PAGE_CHARS
    );
    if total > text.chars().count() {
        let _ = write!(
            out,
            "; `{name}` holds the first {} characters",
            text.chars().count()
        );
    }
    out.push_str("]\n");
    out
}

/// `12,345 characters: JSON list of 480 items` for a line too long to show.
fn describe_line(line: &str) -> String {
    let chars = line.chars().count();
    match serde_json::from_str::<Value>(line.trim()) {
        Ok(value @ (Value::Array(_) | Value::Object(_))) => {
            format!("{chars} characters: JSON {}", describe(&value))
        }
        _ => format!("{chars} characters"),
    }
}

/// `list of 480 items`, `dict of 3 keys`, `str of 52,000 characters`…
fn describe(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("list of {} items", items.len()),
        Value::Object(map) => format!("dict of {} keys", map.len()),
        Value::String(text) => format!("str of {} characters", text.chars().count()),
        Value::Number(_) => "number".to_owned(),
        Value::Bool(_) => "bool".to_owned(),
        Value::Null => "None".to_owned(),
    }
}

/// `id: str, name: str, holdings: list[7]`, at most [`MAX_KEYS`].
fn keys_line(map: &Map<String, Value>) -> String {
    let mut parts: Vec<String> = map
        .iter()
        .take(MAX_KEYS)
        .map(|(key, value)| {
            let kind = match value {
                Value::Array(items) => format!("list[{}]", items.len()),
                Value::Object(inner) => format!("dict[{}]", inner.len()),
                Value::String(_) => "str".to_owned(),
                Value::Number(_) => "number".to_owned(),
                Value::Bool(_) => "bool".to_owned(),
                Value::Null => "None".to_owned(),
            };
            format!("{key}: {kind}")
        })
        .collect();
    if map.len() > MAX_KEYS {
        parts.push(format!("… {} more", map.len() - MAX_KEYS));
    }
    parts.join(", ")
}

/// `aum: min 1.2, max 9.9, mean 4.1` for the numeric fields of dict items (or the items).
fn numeric_summaries(items: &[Value]) -> Vec<String> {
    let mut fields: Vec<(String, Vec<f64>)> = Vec::new();
    let bare: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
    if !bare.is_empty() {
        fields.push(("values".to_owned(), bare));
    }
    if let Some(Value::Object(first)) = items.first() {
        for key in first.keys() {
            if fields.len() >= MAX_NUMBERS {
                break;
            }
            let values: Vec<f64> = items
                .iter()
                .filter_map(|item| item.get(key).and_then(Value::as_f64))
                .collect();
            if !values.is_empty() {
                fields.push((key.clone(), values));
            }
        }
    }
    fields
        .into_iter()
        .map(|(key, values)| {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = values.iter().sum();
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let mean = sum / values.len() as f64;
            format!(
                "{key}: min {}, max {}, mean {}, sum {}",
                short(min),
                short(max),
                short(mean),
                short(sum)
            )
        })
        .collect()
}

/// A number in a few significant digits.
fn short(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// A Python string literal of `key`.
fn quote(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_list_of_records_shows_keys_first_items_numbers_and_how_to_continue() {
        let rows: Vec<Value> = (0..500)
            .map(|i| json!({"id": format!("c-{i:03}"), "aum": f64::from(i) * 10.0}))
            .collect();
        let text = preview(&json!({"clients": rows, "total": 500}), "_r1", None);
        assert!(text.contains("dict of 2 keys"), "{text}");
        assert!(
            text.contains("_r1[\"clients\"]: list of 500 items"),
            "{text}"
        );
        assert!(
            text.contains("each item: dict with keys id: str, aum: number"),
            "{text}"
        );
        assert!(text.contains("{\"id\":\"c-000\",\"aum\":0.0}"), "{text}");
        assert!(text.contains("aum: min 0, max 4990, mean 2495"), "{text}");
        assert!(text.contains("result = _r1[\"clients\"][3:12]"), "{text}");
        assert!(text.contains("if x[\"id\"] == ...]"), "{text}");
        assert!(text.len() < 1_200, "{} chars:\n{text}", text.len());
    }

    #[test]
    fn a_long_item_is_shown_by_shape_not_cut() {
        let big = json!([{"text": "x".repeat(5_000)}, 1]);
        let text = preview(&big, "_r2", None);
        assert!(text.contains("<dict of 1 keys>"), "{text}");
        assert!(!text.contains("xxxx"), "{text}");
    }

    #[test]
    fn a_cut_copy_reports_the_true_length_and_hides_the_cut_markers() {
        let cut = json!([1, 2, 3, 4, "… 96 more items"]);
        let text = preview(&cut, "_r3", Some(100));
        assert!(text.contains("list of 100 items"), "{text}");
        assert!(text.contains("… 97 more"), "{text}");
        assert!(
            text.contains("numbers (over the first 4 items): values: min 1, max 4"),
            "{text}"
        );
        assert!(!text.contains("96 more items"), "{text}");
    }
}
