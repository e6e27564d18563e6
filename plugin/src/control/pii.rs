//! PII tokenization at the device boundary: values the policy names are replaced by stable
//! placeholders (`<email_1>`, `<name_3>`) before a result, printed text or error reaches the
//! model, and placeholders the model passes back are restored before a bus call goes out.
//!
//! One [`PiiSession`] per MCP session (or per `codemode exec` run) holds the mapping in memory
//! only; it is never logged, written or sent anywhere. The same value always gets the same
//! placeholder within a session.
//!
//! What is tokenized ([`PiiConfig`]):
//! - `fields`: a field name (`email`) or dotted path (`clients[].phone`); its string or number
//!   value becomes a placeholder named after the field;
//! - `name_fields`: the same, with `<name_N>` placeholders;
//! - `patterns`: `email`, `phone` (international `+…` numbers) and `iban` found inside any
//!   string;
//! - every value seen in a tokenized field — in a result the snippet returns, or in any bus
//!   call's result during the run — is also replaced wherever it appears inside other text
//!   (a printed line, an f-string, an error message).

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde_json::Value;

use super::policy::{PiiConfig, glob_match};

static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").ok()
});
static PHONE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,5}\d").ok());
static IBAN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b").ok()
});
static PLACEHOLDER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"<[a-z][a-z0-9_]*_\d+>").ok());

/// Values shorter than this are not searched for inside other text (too many false hits).
const MIN_KNOWN_LEN: usize = 3;

/// One session's placeholders, in memory only.
#[derive(Default)]
pub struct PiiSession {
    state: Mutex<Tokens>,
}

impl std::fmt::Debug for PiiSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the mapping itself.
        let count = self.state.lock().map_or(0, |state| state.by_value.len());
        f.debug_struct("PiiSession")
            .field("placeholders", &count)
            .finish()
    }
}

#[derive(Default)]
struct Tokens {
    by_value: HashMap<String, String>,
    by_token: HashMap<String, String>,
    counters: HashMap<String, u32>,
    /// Finds known values in text; rebuilt when values were added since.
    finder: Option<(usize, AhoCorasick, Vec<String>)>,
}

impl Tokens {
    fn token(&mut self, kind: &str, value: &str) -> String {
        if let Some(token) = self.by_value.get(value) {
            return token.clone();
        }
        let counter = self.counters.entry(kind.to_owned()).or_insert(0);
        *counter += 1;
        let token = format!("<{kind}_{counter}>");
        self.by_value.insert(value.to_owned(), token.clone());
        self.by_token.insert(token.clone(), value.to_owned());
        token
    }

    /// Replaces known values, then the patterns, inside `text`.
    fn text(&mut self, config: &PiiConfig, text: &str) -> String {
        let mut out = self.known(text);
        for (name, pattern) in [("email", &*EMAIL), ("phone", &*PHONE), ("iban", &*IBAN)] {
            if !config.patterns.iter().any(|wanted| wanted == name) {
                continue;
            }
            let Some(pattern) = pattern else { continue };
            if !pattern.is_match(&out) {
                continue;
            }
            let mut replaced = String::with_capacity(out.len());
            let mut last = 0;
            for found in pattern.find_iter(&out) {
                replaced.push_str(&out[last..found.start()]);
                replaced.push_str(&self.token(name, found.as_str()));
                last = found.end();
            }
            replaced.push_str(&out[last..]);
            out = replaced;
        }
        out
    }

    fn known(&mut self, text: &str) -> String {
        let count = self.by_value.len();
        if self
            .finder
            .as_ref()
            .is_none_or(|(built, _, _)| *built != count)
        {
            let values: Vec<String> = self
                .by_value
                .keys()
                .filter(|value| value.len() >= MIN_KNOWN_LEN)
                .cloned()
                .collect();
            self.finder = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&values)
                .ok()
                .map(|finder| (count, finder, values));
        }
        let Some((_, finder, values)) = &self.finder else {
            return text.to_owned();
        };
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in finder.find_iter(text) {
            let Some(token) = values
                .get(found.pattern().as_usize())
                .and_then(|value| self.by_value.get(value))
            else {
                continue;
            };
            out.push_str(&text[last..found.start()]);
            out.push_str(token);
            last = found.end();
        }
        out.push_str(&text[last..]);
        out
    }
}

impl PiiSession {
    /// An empty session.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many values have a placeholder.
    pub fn len(&self) -> usize {
        self.state.lock().map_or(0, |state| state.by_value.len())
    }

    /// Whether no value has a placeholder yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gives a placeholder to every value in a configured field of `value` (a bus result seen
    /// by the snippet), without changing it: those values are then replaced wherever they
    /// show up in what goes back to the model.
    pub fn learn(&self, config: &PiiConfig, value: &Value) {
        if !active(config) {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        walk_fields(config, value, "", &mut |kind, text| {
            state.token(kind, text);
        });
    }

    /// Replaces PII in a value going to the model.
    pub fn tokenize_value(&self, config: &PiiConfig, value: &mut Value) {
        if !active(config) {
            return;
        }
        if let Ok(mut state) = self.state.lock() {
            tokenize(&mut state, config, value, "");
        }
    }

    /// Replaces PII in text going to the model.
    pub fn tokenize_text(&self, config: &PiiConfig, text: &str) -> String {
        if !active(config) {
            return text.to_owned();
        }
        self.state
            .lock()
            .map_or_else(|_| text.to_owned(), |mut state| state.text(config, text))
    }

    /// Puts the real values back for the placeholders in `value` (a bus call's arguments),
    /// alone or inside strings; returns how many were restored. Unknown placeholders stay.
    pub fn restore_value(&self, value: &mut Value) -> usize {
        let Ok(state) = self.state.lock() else {
            return 0;
        };
        if state.by_token.is_empty() {
            return 0;
        }
        restore(&state, value)
    }
}

/// Whether `config` tokenizes anything.
pub fn active(config: &PiiConfig) -> bool {
    !config.fields.is_empty() || !config.patterns.is_empty() || !config.name_fields.is_empty()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The placeholder kind for the field `key` at `path`, if the policy names it.
fn field_kind(config: &PiiConfig, key: &str, path: &str) -> Option<String> {
    let hit = |rule: &String| rule == key || glob_match(rule, path);
    if config.name_fields.iter().any(hit) {
        return Some("name".to_owned());
    }
    let rule = config.fields.iter().find(|rule| hit(rule))?;
    let last = rule
        .rsplit(['.', ']', '['])
        .find(|part| !part.is_empty())
        .unwrap_or("value");
    let kind: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    Some(if kind.starts_with(|c: char| c.is_ascii_lowercase()) {
        kind
    } else {
        format!("v{kind}")
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn walk_fields(config: &PiiConfig, value: &Value, path: &str, found: &mut dyn FnMut(&str, &str)) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = join(path, key);
                if let Some(kind) = field_kind(config, key, &child_path)
                    && let Some(text) = scalar_text(child)
                {
                    found(&kind, &text);
                    continue;
                }
                walk_fields(config, child, &child_path, found);
            }
        }
        Value::Array(items) => {
            let child_path = format!("{path}[]");
            for item in items {
                walk_fields(config, item, &child_path, found);
            }
        }
        _ => {}
    }
}

fn tokenize(state: &mut Tokens, config: &PiiConfig, value: &mut Value, path: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let child_path = join(path, key);
                if let Some(kind) = field_kind(config, key, &child_path)
                    && let Some(text) = scalar_text(child)
                {
                    *child = Value::String(state.token(&kind, &text));
                    continue;
                }
                tokenize(state, config, child, &child_path);
            }
        }
        Value::Array(items) => {
            let child_path = format!("{path}[]");
            for item in items {
                tokenize(state, config, item, &child_path);
            }
        }
        Value::String(text) => *text = state.text(config, text),
        _ => {}
    }
}

fn restore(state: &Tokens, value: &mut Value) -> usize {
    match value {
        Value::Object(map) => map.values_mut().map(|child| restore(state, child)).sum(),
        Value::Array(items) => items.iter_mut().map(|item| restore(state, item)).sum(),
        Value::String(text) => {
            if let Some(real) = state.by_token.get(text.as_str()) {
                *text = real.clone();
                return 1;
            }
            let Some(pattern) = &*PLACEHOLDER else {
                return 0;
            };
            let mut restored = 0;
            let replaced = pattern.replace_all(text, |found: &regex::Captures<'_>| {
                let token = found.get(0).map_or("", |whole| whole.as_str());
                match state.by_token.get(token) {
                    Some(real) => {
                        restored += 1;
                        real.clone()
                    }
                    None => token.to_owned(),
                }
            });
            if restored > 0 {
                *text = replaced.into_owned();
            }
            restored
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{PiiConfig, PiiSession};

    fn config() -> PiiConfig {
        PiiConfig {
            fields: vec!["phone".into()],
            patterns: vec!["email".into(), "iban".into()],
            name_fields: vec!["clients[].name".into()],
        }
    }

    #[test]
    fn values_get_stable_placeholders_and_come_back() {
        let session = PiiSession::new();
        let mut result = json!({"clients": [
            {"name": "Amelia Reid", "email": "amelia.reid@example.com", "phone": "+44 20 7946 9001"},
            {"name": "Bo Lee", "note": "mail amelia.reid@example.com, IBAN GB29 NWBK 6016 1331 9268 19"}
        ]});
        session.tokenize_value(&config(), &mut result);
        assert_eq!(result["clients"][0]["name"], "<name_1>");
        assert_eq!(result["clients"][0]["email"], "<email_1>");
        assert_eq!(result["clients"][0]["phone"], "<phone_1>");
        assert_eq!(
            result["clients"][1]["note"],
            "mail <email_1>, IBAN <iban_1>"
        );
        let printed = session.tokenize_text(&config(), "Amelia Reid's adviser");
        assert_eq!(
            printed, "<name_1>'s adviser",
            "a name seen in a field is found in text"
        );
        let mut arguments =
            json!({"email": "<email_1>", "text": "call <name_1> about <unknown_9>"});
        assert_eq!(session.restore_value(&mut arguments), 2);
        assert_eq!(arguments["email"], "amelia.reid@example.com");
        assert_eq!(arguments["text"], "call Amelia Reid about <unknown_9>");
        assert!(
            !format!("{session:?}").contains("amelia"),
            "Debug never shows values"
        );
    }
}
