//! io.Connect's date encoding: JavaScript clients send every `Date` as the string
//! `"#T42_DATE#<epoch milliseconds>"` and turn such strings back into dates on receipt.
//! The gateway passes them through untouched, so we decode and encode them at the edges.

use serde_json::Value;

/// The prefix that marks an encoded date.
pub const T42_DATE_PREFIX: &str = "#T42_DATE#";

/// Reads `#T42_DATE#<ms>` as epoch milliseconds; `None` for any other string.
pub fn parse_t42_date(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(T42_DATE_PREFIX)?;
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    digits.parse::<i64>().ok()
}

/// Encodes epoch milliseconds as `#T42_DATE#<ms>`.
pub fn format_t42_date(epoch_ms: i64) -> String {
    format!("{T42_DATE_PREFIX}{epoch_ms}")
}

/// Rewrites every encoded date inside `value` (recursively) with `convert`.
///
/// `convert` gets the epoch milliseconds and returns the replacement, so the sandbox can turn
/// dates into its own representation without this crate knowing about Python.
pub fn map_t42_dates(value: &mut Value, convert: &mut impl FnMut(i64) -> Value) {
    match value {
        Value::String(text) => {
            if let Some(ms) = parse_t42_date(text) {
                *value = convert(ms);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| map_t42_dates(item, convert)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| map_t42_dates(item, convert)),
        _ => {}
    }
}
