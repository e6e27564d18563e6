//! The catalogue and the sandbox agree: every example call the stubs show passes the sandbox's
//! pre-flight and binds at run time (intents' positional context, keyword-only methods,
//! `target=`, `**kwargs`), and every exception the stubs say a function raises is a `BusError`
//! class a snippet can catch; a call to a function whose app left fails pre-flight with the
//! departure, not as an unknown name.

pub mod catalogue_common;

use std::{
    collections::{BTreeSet, HashSet},
    fmt::Write as _,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use codemode::{
    bridge::{function_set, function_set_with_departed},
    catalogue::{CatalogueConfig, PythonCatalogue},
    sandbox::{
        Completion, Engine, HostCall, HostPort, Limits, PortClosed, RunRequest,
        engine::EngineOptions,
        preflight::{self, Context},
    },
};
use serde_json::{Value, json};

/// Answers every call at once with an empty object, recording the function names.
struct EchoPort {
    sender: mpsc::Sender<Completion>,
    receiver: mpsc::Receiver<Completion>,
    calls: mpsc::Sender<String>,
}

impl HostPort for EchoPort {
    fn start(&mut self, ticket: u64, call: &HostCall) -> Result<(), PortClosed> {
        let _ = self.calls.send(call.function.clone());
        self.sender
            .send(Completion {
                ticket,
                result: Ok(json!({})),
                received: Instant::now(),
            })
            .map_err(|_| PortClosed)
    }

    fn next_completion(&mut self, timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        match self.receiver.recv_timeout(timeout) {
            Ok(completion) => Ok(Some(completion)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(PortClosed),
        }
    }
}

/// The line after each `Example:` of a stub text, without its `result = `.
fn example_calls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "Example:"
            && let Some(call) = lines.next()
        {
            let call = call.trim();
            out.push(call.strip_prefix("result = ").unwrap_or(call).to_owned());
        }
    }
    out
}

/// The exception classes named on `Raises:` lines.
fn raised(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("Raises: "))
        .flat_map(|list| list.split(", "))
        .filter_map(|item| item.split([' ', '.']).next())
        .filter(|name| name.ends_with("Error"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_stub_example_runs_in_the_sandbox_and_every_named_exception_is_a_bus_error() {
    let catalogue = PythonCatalogue::build(
        &catalogue_common::sample_with_synthetic(20, 4),
        CatalogueConfig::default(),
    );
    let map = catalogue.call_map();
    let mut calls = Vec::new();
    let mut names = BTreeSet::new();
    for name in map.functions.keys() {
        let defs = catalogue.get(&[name.as_str()]);
        assert!(defs.unknown.is_empty() && defs.omitted.is_empty(), "{name}");
        let examples = example_calls(&defs.text);
        assert_eq!(examples.len(), 1, "{name}: one example\n{}", defs.text);
        calls.extend(examples);
        names.extend(raised(&defs.text));
    }
    assert!(names.len() >= 4, "{names:?}");

    let mut source = String::from("from datetime import datetime\nmade = 0\n");
    for call in &calls {
        let _ = write!(
            source,
            "try:\n    {call}\n    made += 1\nexcept BusError:\n    pass\n"
        );
    }
    let _ = writeln!(
        source,
        "result = {{'made': made, 'bus_errors': [issubclass(cls, BusError) for cls in ({},)]}}",
        names.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    assert!(source.len() < Limits::default().max_source_bytes);

    let expected_calls = calls.len();
    let functions = function_set(&map);
    let (outcome, started) = thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let (sender, receiver) = mpsc::channel();
            let (calls, started) = mpsc::channel();
            let port = EchoPort {
                sender,
                receiver,
                calls,
            };
            let mut engine =
                Engine::new(&EngineOptions::default(), Box::new(port)).expect("engine starts");
            engine.set_functions(functions).expect("functions install");
            let outcome = engine
                .run(&RunRequest {
                    run_id: 1,
                    source,
                    limits: Limits::default(),
                    keep_state: false,
                })
                .outcome;
            (outcome, started.try_iter().collect::<Vec<String>>())
        })
        .expect("thread")
        .join()
        .expect("engine thread");
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result["made"],
        json!(expected_calls),
        "{:?}",
        outcome.result
    );
    let all_bus_errors = outcome.result["bus_errors"]
        .as_array()
        .is_some_and(|flags| {
            !flags.is_empty() && flags.iter().all(|flag| flag == &Value::Bool(true))
        });
    assert!(all_bus_errors, "{names:?}: {}", outcome.result);
    // `find_intents` is a call too (the bridge answers it from the catalogue).
    assert_eq!(started.len(), expected_calls);
}

#[test]
fn a_call_to_a_function_whose_app_left_fails_pre_flight_with_the_departure() {
    let mut snapshot = catalogue_common::sample();
    let mut catalogue = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
    snapshot.methods.retain(|m| !m.name.starts_with("CRM."));
    snapshot.generation += 1;
    catalogue.update(&snapshot);
    let functions = function_set_with_departed(&catalogue.call_map(), &catalogue.departed());
    let known = HashSet::new();
    let context = Context {
        functions: &functions,
        known_globals: &known,
    };

    // The whole `crm` namespace left, yet `crm.get_clients(...)` names the app, not a typo.
    let issues = preflight::analyse("x = 1\ncrm.get_clients(adviser='M Carter')", context)
        .expect_err("refused before running");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].kind, "MethodNotFoundError");
    assert_eq!(issues[0].line, 2);
    assert!(
        issues[0]
            .message
            .starts_with("crm.get_clients is no longer available: CRM left the bus"),
        "{}",
        issues[0].message
    );

    // Suggestions for a typo name live functions only.
    let issues = preflight::analyse("portfolio.get_holdingz()", context).expect_err("a typo");
    assert!(!issues[0].message.contains("crm."), "{}", issues[0].message);

    // Without departed functions (a fresh catalogue) nothing changes.
    let fresh = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
    assert!(fresh.departed().is_empty());
    assert_eq!(
        function_set(&fresh.call_map()).fingerprint(),
        function_set_with_departed(&fresh.call_map(), &fresh.departed()).fingerprint()
    );
}
