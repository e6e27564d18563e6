//! CPython parity: every case in `tests/parity/cases` runs in CPython 3.11
//! (`tests/parity/cpython_reference.py`) and in the sandbox engine, and the two must give the
//! same answer, printed text and exception (type and message). A difference fails the test
//! unless `tests/parity/divergences.toml` lists the case with a reason; a listed case that
//! now agrees fails too, so the list stays true.
//!
//! Environment: `PARITY_ONLY=<text>` runs only the case ids containing `<text>`;
//! `PARITY_REPORT=<file>` writes every difference as a JSON line (for triage).
//!
//! Needs Python 3.11: `target/pyvenv/bin/python` if present, else `python3` on `PATH`.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Write as _,
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use codemode_engine::{
    Completion, Engine, HostCall, HostPort, Limits, Outcome, PortClosed, RunRequest,
    engine::{EngineOptions, Interrupter},
};
use serde::Deserialize;
use serde_json::{Value, json};

/// A case running longer than this is stopped (CPython's side stops at 10 s too).
const CASE_WALL_TIME: Duration = Duration::from_secs(10);

/// One line of the CPython reference's output.
#[derive(Debug, Deserialize)]
struct Expected {
    id: String,
    source: String,
    ok: bool,
    result: Value,
    printed: String,
    error: Option<ExpectedError>,
}

#[derive(Debug, Deserialize)]
struct ExpectedError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

/// `tests/parity/divergences.toml`.
#[derive(Debug, Deserialize)]
struct Divergences {
    #[serde(default)]
    divergence: Vec<Divergence>,
}

#[derive(Debug, Deserialize)]
struct Divergence {
    case: String,
    reason: String,
}

/// Snippets here make no bus calls; a call would be a bug in a case.
struct NoBus;

impl HostPort for NoBus {
    fn start(&mut self, _ticket: u64, _call: &HostCall) -> Result<(), PortClosed> {
        Err(PortClosed)
    }

    fn next_completion(&mut self, _timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        Err(PortClosed)
    }
}

/// Interrupts a run that outlives [`CASE_WALL_TIME`], as the worker's watchdog does.
#[derive(Default)]
struct Watchdog {
    armed: Mutex<Option<(Interrupter, u64, Instant)>>,
}

impl Watchdog {
    fn arm(&self, interrupter: Interrupter, run_id: u64) {
        *self.armed.lock().expect("watchdog lock") = Some((interrupter, run_id, Instant::now()));
    }

    fn disarm(&self) {
        *self.armed.lock().expect("watchdog lock") = None;
    }

    fn serve(&self, done: &Mutex<bool>) {
        while !*done.lock().expect("done lock") {
            thread::sleep(Duration::from_millis(20));
            if let Some((interrupter, run_id, started)) = &*self.armed.lock().expect("lock")
                && started.elapsed() > CASE_WALL_TIME
            {
                interrupter.interrupt(*run_id);
            }
        }
    }
}

/// The workspace root: the ancestor of this crate that holds `tests/parity`.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("tests/parity/cpython_reference.py").is_file())
        .expect("tests/parity/cpython_reference.py above this crate")
        .to_path_buf()
}

/// The Python to compare with; fails (does not skip) when there is none.
fn python(root: &Path) -> PathBuf {
    let venv = root.join("target/pyvenv/bin/python");
    let candidate = if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let version = Command::new(&candidate)
        .arg("--version")
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "the parity suite needs Python 3.11 ({} could not start: {error})",
                candidate.display()
            )
        });
    assert!(
        version.status.success(),
        "{} --version failed",
        candidate.display()
    );
    candidate
}

fn cpython_outcomes(root: &Path) -> Vec<Expected> {
    let mut command = Command::new(python(root));
    command.arg(root.join("tests/parity/cpython_reference.py"));
    if let Ok(only) = std::env::var("PARITY_ONLY") {
        command.args(["--only", &only]);
    }
    let output = command.output().expect("run the CPython reference");
    assert!(
        output.status.success(),
        "the CPython reference failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("the reference writes UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a reference line is an outcome"))
        .collect()
}

fn divergences(root: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(root.join("tests/parity/divergences.toml"))
        .expect("read tests/parity/divergences.toml");
    let parsed: Divergences = toml::from_str(&text).expect("divergences.toml parses");
    let mut listed = BTreeMap::new();
    for Divergence { case, reason } in parsed.divergence {
        assert!(!reason.trim().is_empty(), "divergence {case} has no reason");
        assert!(
            listed.insert(case.clone(), reason).is_none(),
            "divergence {case} is listed twice"
        );
    }
    listed
}

fn new_engine() -> Engine {
    Engine::new(&EngineOptions::default(), Box::new(NoBus)).expect("the engine starts")
}

/// Runs every case in one engine (fresh globals per run; a new engine after a run that asks
/// for recycling, as the worker does).
fn sandbox_outcomes(cases: Vec<(String, String)>) -> Vec<Outcome> {
    let watchdog = Arc::new(Watchdog::default());
    let done = Arc::new(Mutex::new(false));
    let watcher = {
        let (watchdog, done) = (Arc::clone(&watchdog), Arc::clone(&done));
        thread::spawn(move || watchdog.serve(&done))
    };
    let runner = thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let limits = Limits {
                wall_time: CASE_WALL_TIME,
                ..Limits::default()
            };
            let mut engine = new_engine();
            let mut outcomes = Vec::with_capacity(cases.len());
            for (run_id, (_, source)) in (1u64..).zip(cases) {
                watchdog.arm(engine.interrupter(), run_id);
                let report = engine.run(&RunRequest {
                    run_id,
                    source,
                    limits: limits.clone(),
                    keep_state: false,
                });
                watchdog.disarm();
                if report.recycle.is_some() {
                    engine = new_engine();
                }
                outcomes.push(report.outcome);
            }
            outcomes
        })
        .expect("spawn the engine thread");
    let outcomes = runner.join().expect("the engine thread");
    *done.lock().expect("done lock") = true;
    watcher.join().expect("the watchdog thread");
    outcomes
}

/// What is compared, as one JSON value (key order kept, floats exact).
fn cpython_view(expected: &Expected) -> Value {
    json!({
        "ok": expected.ok,
        "result": expected.result,
        "printed": expected.printed,
        "error": expected.error.as_ref().map(|error| json!({"type": error.kind, "message": error.message})),
    })
}

fn sandbox_view(outcome: &Outcome) -> Value {
    json!({
        "ok": outcome.ok,
        "result": outcome.result,
        "printed": outcome.printed,
        "error": outcome.error.as_ref().map(|error| json!({"type": error.kind, "message": error.message})),
    })
}

/// Values are compared as JSON text: `Value`'s own equality ignores the order of dict keys,
/// which a snippet's answer shows.
fn as_text(value: &Value) -> String {
    value.to_string()
}

#[test]
fn sandbox_answers_match_cpython_except_listed_divergences() {
    let root = workspace_root();
    let expected = cpython_outcomes(&root);
    let listed = divergences(&root);
    let filtered = std::env::var("PARITY_ONLY").is_ok();
    assert!(
        filtered || expected.len() >= 600,
        "the suite has {} cases, fewer than 600",
        expected.len()
    );
    let ids: HashSet<&str> = expected.iter().map(|case| case.id.as_str()).collect();
    let unknown: Vec<&String> = listed
        .keys()
        .filter(|id| !ids.contains(id.as_str()))
        .collect();
    assert!(
        filtered || unknown.is_empty(),
        "divergences.toml lists cases that do not exist: {unknown:?}"
    );

    let cases = expected
        .iter()
        .map(|case| (case.id.clone(), case.source.clone()))
        .collect();
    let outcomes = sandbox_outcomes(cases);

    let mut report = String::new();
    let mut unlisted = Vec::new();
    let mut stale = Vec::new();
    for (case, outcome) in expected.iter().zip(&outcomes) {
        let want = cpython_view(case);
        let got = sandbox_view(outcome);
        let same = as_text(&want) == as_text(&got);
        match (same, listed.contains_key(&case.id)) {
            (false, false) => {
                unlisted.push(case.id.as_str());
                let _ = writeln!(
                    report,
                    "--- {}\n{}\n  cpython: {want}\n  sandbox: {got}",
                    case.id,
                    case.source.trim_end()
                );
            }
            (true, true) => stale.push(case.id.as_str()),
            _ => {}
        }
        if !same && let Ok(path) = std::env::var("PARITY_REPORT") {
            let line =
                json!({"id": case.id, "source": case.source, "cpython": want, "sandbox": got});
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .expect("open PARITY_REPORT");
            writeln!(file, "{line}").expect("write PARITY_REPORT");
        }
    }
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "{report}\n{} of {} cases differ from CPython and are not in tests/parity/divergences.toml: \
         {unlisted:?}\nlisted in divergences.toml but now matching CPython (remove them): {stale:?}",
        unlisted.len(),
        expected.len(),
    );
}
