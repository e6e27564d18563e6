//! Snippet cases as data: `samples/snippets/*.py` and `samples/snippets/redteam/*.py`, each
//! with its expected outcome in header comments (see `samples/snippets/redteam/README.md`).

#![allow(dead_code, reason = "each test crate uses a different part")]

use std::{fs, path::PathBuf, time::Duration};

use codemode::sandbox::{LimitKind, Limits, Outcome};
use serde_json::Value;

/// What a case expects.
#[derive(Debug, Clone)]
pub(crate) enum Expect {
    Ok(Value),
    OkTruncated,
    Error(String),
    Limit(LimitKind),
}

/// One snippet file.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) source: String,
    pub(crate) expect: Expect,
    pub(crate) message: Option<String>,
    pub(crate) printed: Option<String>,
    /// Text the printed output must contain (e.g. a truncation marker).
    pub(crate) printed_contains: Option<String>,
    pub(crate) limits: Limits,
}

pub(crate) fn snippets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/snippets")
}

/// Every `*.py` in `dir` (sorted), with `base` limits adjusted by `# limits:`.
pub(crate) fn load(dir: &PathBuf, base: &Limits) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .expect("snippet directory")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let source = fs::read_to_string(&path).expect("snippet file");
            let name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            parse(name, source, base)
        })
        .collect()
}

fn parse(name: String, source: String, base: &Limits) -> Case {
    let mut expect = None;
    let mut message = None;
    let mut printed = None;
    let mut printed_contains = None;
    let mut limits = base.clone();
    for line in source.lines().take_while(|line| line.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        if let Some(rest) = line.strip_prefix("expect:") {
            expect = Some(parse_expect(rest.trim(), &name));
        } else if let Some(rest) = line.strip_prefix("message:") {
            message = Some(rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("printed_contains:") {
            printed_contains = Some(rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("printed:") {
            printed = Some(rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("limits:") {
            for setting in rest.split_whitespace() {
                let (key, value) = setting.split_once('=').expect("key=value");
                let number: u64 = value.parse().expect("a number");
                match key {
                    "wall_time_ms" => limits.wall_time = Duration::from_millis(number),
                    "memory_mib" => limits.memory_bytes = number * 1024 * 1024,
                    other => panic!("{name}: unknown limit {other}"),
                }
            }
        }
    }
    Case {
        expect: expect.unwrap_or_else(|| panic!("{name}: no `# expect:` line")),
        name,
        source,
        message,
        printed,
        printed_contains,
        limits,
    }
}

fn parse_expect(text: &str, name: &str) -> Expect {
    let (kind, rest) = text.split_once(' ').unwrap_or((text, ""));
    match kind {
        "ok" => Expect::Ok(
            serde_json::from_str(rest)
                .unwrap_or_else(|error| panic!("{name}: bad expected JSON {rest}: {error}")),
        ),
        "ok_truncated" => Expect::OkTruncated,
        "error" => Expect::Error(rest.trim().to_owned()),
        "limit" => Expect::Limit(
            serde_json::from_value(Value::String(rest.trim().to_owned()))
                .unwrap_or_else(|_| panic!("{name}: unknown limit {rest}")),
        ),
        other => panic!(
            "{name}: unknown expectation {other} (every case pins its outcome: ok, \
             ok_truncated, error or limit)"
        ),
    }
}

/// Checks an outcome against its case; returns a description of the mismatch.
pub(crate) fn check(case: &Case, outcome: &Outcome) -> Result<(), String> {
    let describe = || format!("{}: {outcome:?}", case.name);
    match &case.expect {
        Expect::Ok(value) => {
            if !outcome.ok || &outcome.result != value {
                return Err(format!("expected ok {value}, got {}", describe()));
            }
        }
        Expect::OkTruncated => {
            if !outcome.ok || !outcome.result_truncated {
                return Err(format!("expected a truncated result, got {}", describe()));
            }
        }
        Expect::Error(kind) => {
            let actual = outcome.error.as_ref().map(|error| error.kind.as_str());
            if outcome.ok || actual != Some(kind.as_str()) {
                return Err(format!("expected error {kind}, got {}", describe()));
            }
        }
        Expect::Limit(kind) => {
            if outcome.ok || outcome.limit() != Some(*kind) {
                return Err(format!("expected limit {kind:?}, got {}", describe()));
            }
        }
    }
    if let Some(message) = &case.message {
        let actual = outcome
            .error
            .as_ref()
            .map_or("", |error| error.message.as_str());
        if !actual.contains(message.as_str()) {
            return Err(format!(
                "expected message containing {message:?}, got {}",
                describe()
            ));
        }
    }
    if let Some(wanted) = &case.printed_contains
        && !outcome.printed.contains(wanted.as_str())
    {
        return Err(format!(
            "expected printed output containing {wanted:?}, got {}",
            describe()
        ));
    }
    if let Some(printed) = &case.printed
        && outcome.printed.trim_end() != printed
    {
        return Err(format!("expected printed {printed:?}, got {}", describe()));
    }
    Ok(())
}
