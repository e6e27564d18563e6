//! The sandbox core in-process: one engine on a big-stack thread, a fake port, no worker
//! processes. Covers the snippet model, the Python models write, imports, parallel calls,
//! bus errors, pre-flight, isolation between runs, and the in-engine limits.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

#[path = "sandbox_support/fake.rs"]
mod fake;

use std::{
    thread,
    time::{Duration, Instant},
};

use codemode::sandbox::{
    Engine, ErrorPhase, LimitKind, Limits, Outcome, RunRequest, engine::EngineOptions,
};
use serde_json::{Value, json};

/// Runs `body` with a fresh engine (fake catalogue and port) on a thread with a big stack;
/// `body` also gets the log of what the engine did with its port.
fn with_engine<R: Send + 'static>(
    body: impl FnOnce(&mut Engine, &fake::PortLog) -> R + Send + 'static,
) -> R {
    thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let (port, log) = fake::FakePort::new();
            let mut engine =
                Engine::new(&EngineOptions::default(), Box::new(port)).expect("engine starts");
            engine
                .set_functions(fake::functions())
                .expect("functions install");
            body(&mut engine, &log)
        })
        .expect("thread")
        .join()
        .expect("engine thread")
}

fn request(run_id: u64, source: &str, limits: Limits) -> RunRequest {
    RunRequest {
        run_id,
        source: source.to_owned(),
        limits,
        keep_state: false,
    }
}

fn run(source: &str) -> Outcome {
    run_with(source, Limits::default())
}

/// Runs `source` and reports how many calls it started between waits (see
/// [`fake::PortLog::batches`]).
fn run_logged(source: &str) -> (Outcome, Vec<usize>) {
    let source = source.to_owned();
    with_engine(move |engine, log| {
        let outcome = engine.run(&request(1, &source, Limits::default())).outcome;
        (outcome, log.batches())
    })
}

fn run_with(source: &str, limits: Limits) -> Outcome {
    let source = source.to_owned();
    with_engine(move |engine, _| engine.run(&request(1, &source, limits)).outcome)
}

fn ok(source: &str) -> Value {
    let outcome = run(source);
    assert!(outcome.ok, "snippet failed: {:?}\n{source}", outcome.error);
    outcome.result
}

#[test]
fn result_variable_is_the_answer() {
    assert_eq!(
        ok("x = 2\nresult = {'double': x * 2}\nx + 100"),
        json!({"double": 4})
    );
}

/// The first failure of the io.Intelligence demo: a snippet that computes but never assigns
/// `result` must be told so (and how to return a value), not shown a bare `None`.
#[test]
fn an_unset_result_says_so_and_how_to_return_a_value() {
    let unset = run("x = 1 + 1");
    assert!(unset.ok && unset.result_unset, "{unset:?}");
    let text = codemode::service::render_outcome(&unset);
    assert!(
        text.contains("never assigned `result`") && text.contains("result = ..."),
        "{text}"
    );
    let explicit = run("result = None");
    assert!(explicit.ok && !explicit.result_unset, "{explicit:?}");
    assert!(codemode::service::render_outcome(&explicit).starts_with("result: null"));
    let printed = run("print('hi')");
    assert!(
        codemode::service::render_outcome(&printed)
            .contains("`result` was never assigned; the printed output is below")
    );
    assert!(
        !run("1 + 1").result_unset,
        "a final expression is the answer"
    );
}

#[test]
fn last_expression_is_the_answer_without_result() {
    assert_eq!(ok("values = [3, 1, 2]\nsorted(values)"), json!([1, 2, 3]));
    assert_eq!(ok("x = 1"), Value::Null);
}

#[test]
fn printed_text_is_captured_in_order() {
    let outcome = run(
        "print('a', 'b', sep='-', end='!')\nprint()\nprint(f'{1 + 1}', flush=True)\nresult = 'done'",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.printed, "a-b!\n2\n");
    assert_eq!(outcome.result, json!("done"));
}

#[test]
fn python_that_models_write_works() {
    let source = r#"
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def norm2(self):
        return self.x ** 2 + self.y ** 2
base = {"a": 1}
merged = {**base, "b": 2}
items = [*range(3), *[10]]
p = Point(3, 4)
try:
    1 / 0
except ZeroDivisionError as error:
    caught = type(error).__name__
people = [("ann", 31), ("bob", 25), ("cy", 40)]
result = {
    "f": f"{p.norm2():>4}|{3.14159:.2f}",
    "percent": "%s=%d" % ("n", 5),
    "format": "{}-{name}".format(1, name="x"),
    "comp": {k: v * 2 for k, v in merged.items() if v},
    "merged": merged,
    "items": items,
    "hasattr": [hasattr(p, "x"), hasattr(p, "z"), getattr(p, "z", "none")],
    "caught": caught,
    "sorted": [name for name, _ in sorted(people, key=lambda pair: pair[1])],
    "min_max": [min(people, key=lambda pair: pair[1])[0], max(people, key=lambda pair: pair[1])[0]],
    "enum_zip": [(i, a + b) for i, (a, b) in enumerate(zip([1, 2], [10, 20]))],
    "set_gen": sorted({x % 3 for x in range(10)}),
    "walrus": [y for x in range(5) if (y := x * x) > 4],
}
"#;
    assert_eq!(
        ok(source),
        json!({
            "f": "  25|3.14",
            "percent": "n=5",
            "format": "1-x",
            "comp": {"a": 2, "b": 4},
            "merged": {"a": 1, "b": 2},
            "items": [0, 1, 2, 10],
            "hasattr": [true, false, "none"],
            "caught": "ZeroDivisionError",
            "sorted": ["bob", "ann", "cy"],
            "min_max": ["bob", "cy"],
            "enum_zip": [[0, 11], [1, 22]],
            "set_gen": [0, 1, 2],
            "walrus": [9, 16],
        })
    );
}

#[test]
fn every_allowlisted_module_imports_and_works() {
    let cases: &[(&str, Value)] = &[
        (
            "import json\njson.loads(json.dumps({'a': [1, 2]}, sort_keys=True, indent=1))",
            json!({"a": [1, 2]}),
        ),
        (
            "import math\n[math.sqrt(16), math.floor(2.7), math.gcd(12, 18), math.isclose(0.1 + 0.2, 0.3)]",
            json!([4.0, 2, 6, true]),
        ),
        (
            "import re\nm = re.search(r'(\\w+)@(\\w+)', 'mail ann@corp now')\n[m.group(1), re.sub(r'\\d', '#', 'a1b22'), re.findall(r'[a-z]+', 'ab 12 cd')]",
            json!(["ann", "a#b##", ["ab", "cd"]]),
        ),
        (
            "from datetime import datetime, timedelta, date, timezone\nd = datetime(2024, 1, 31, 12, 0, tzinfo=timezone.utc) + timedelta(days=1)\n[d.isoformat(), date(2024, 3, 1).weekday(), datetime.strptime('2024-05-06', '%Y-%m-%d').month, datetime.fromisoformat('2024-02-03T04:05:06').hour]",
            json!(["2024-02-01T12:00:00+00:00", 4, 5, 4]),
        ),
        (
            "from collections import Counter, defaultdict, OrderedDict, namedtuple, deque\nimport collections.abc\nP = namedtuple('P', 'x y')\ndd = defaultdict(list)\ndd['k'].append(1)\n[Counter('abca').most_common(1), dict(dd), P(1, 2).y, list(deque([1, 2], maxlen=1)), isinstance({}, collections.abc.Mapping)]",
            json!([[["a", 2]], {"k": [1]}, 2, [2], true]),
        ),
        (
            "import itertools\n[list(itertools.chain([1], [2])), [k for k, _ in itertools.groupby('aabbc')], list(itertools.islice(itertools.count(5), 3)), len(list(itertools.combinations(range(4), 2)))]",
            json!([[1, 2], ["a", "b", "c"], [5, 6, 7], 6]),
        ),
        (
            "import functools\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n[functools.reduce(lambda a, b: a * b, [1, 2, 3, 4]), fib(30), functools.partial(pow, 2)(5)]",
            json!([24, 832_040, 32]),
        ),
        (
            "import statistics\n[statistics.mean([1, 2, 3, 4]), statistics.median([3, 1, 2]), round(statistics.stdev([2, 4, 4, 4, 5, 5, 7, 9]), 3), statistics.mode([1, 1, 2])]",
            json!([2.5, 2, 2.138, 1]),
        ),
    ];
    let sources: Vec<(String, Value)> = cases
        .iter()
        .map(|(source, expected)| ((*source).to_owned(), expected.clone()))
        .collect();
    with_engine(move |engine, _| {
        for (index, (source, expected)) in sources.iter().enumerate() {
            let outcome = engine
                .run(&request(index as u64 + 1, source, Limits::default()))
                .outcome;
            assert!(outcome.ok, "{source}\n{:?}", outcome.error);
            assert_eq!(&outcome.result, expected, "{source}");
        }
    });
}

#[test]
fn other_imports_fail_with_an_import_error_naming_the_allowlist() {
    for source in [
        "import os",
        "import sys",
        "import subprocess",
        "import socket",
        "from os import path",
        "__import__('posix')",
        "import _io",
        "import importlib",
        "import ctypes",
        "from . import thing",
    ] {
        let outcome = run(source);
        assert!(!outcome.ok, "{source}");
        let error = outcome.error.expect("error");
        assert_eq!(error.kind, "ImportError", "{source}: {error:?}");
        if !source.contains("from .") {
            assert!(
                error
                    .message
                    .contains("allowed modules: __future__, abc, asyncio"),
                "{}",
                error.message
            );
            for allowed in [
                "statistics",
                "typing",
                "dataclasses",
                "decimal",
                "operator",
                "string",
                "csv",
                "io",
                "time",
                "random",
                "uuid",
            ] {
                assert!(
                    error.message.contains(&format!(" {allowed},"))
                        || error.message.ends_with(&format!(" {allowed}")),
                    "{allowed}: {}",
                    error.message
                );
            }
        }
    }
}

#[test]
fn bus_calls_are_functions_returning_python_values() {
    let outcome = run(
        "clients = crm.get_clients(adviser='ann')\nresult = sorted(c['name'] for c in clients if c['aum'] > 50)",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.result, json!(["Ada", "Bob"]));
    assert_eq!(outcome.calls.len(), 1);
    assert_eq!(outcome.calls[0].function, "crm.get_clients");
    assert!(outcome.calls[0].ok);
    assert!(outcome.calls[0].ms.is_some());
}

#[test]
fn positional_parameters_targets_and_global_functions() {
    let outcome = run(
        "a = intents.view_chart({'type': 'fdc3.instrument'}, app='Charts')\nb = raise_intent('ViewChart', {'type': 'x'})\nc = crm.get_clients(target='all')\nresult = [a, b, len(c)]",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!([{"handled_by": "Charts"}, {"intent": "ViewChart"}, 3])
    );
    assert_eq!(outcome.calls[2].target, Some(json!("all")));
}

#[test]
fn bus_dates_become_datetimes_and_results_serialise_as_iso_strings() {
    let outcome = run(
        "from datetime import datetime, timezone\nc = crm.get_client(id=7)\nsince = c['since']\nechoed = crm.echo(when=datetime(2024, 1, 2, tzinfo=timezone.utc))['when']\nresult = {'type': type(since).__name__, 'year': since.year, 'since': since, 'echo_is_date': isinstance(echoed, datetime), 'echo': echoed}",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!({
            "type": "datetime",
            "year": 2023,
            "since": "2023-11-14T22:13:20+00:00",
            "echo_is_date": true,
            "echo": "2024-01-02T00:00:00+00:00",
        })
    );
}

#[test]
fn gather_runs_twenty_50ms_calls_concurrently() {
    let (outcome, batches) =
        run_logged("result = gather(*[crm.slow(ms=50, tag=i) for i in range(20)])");
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.result.as_array().map(Vec::len), Some(20));
    assert_eq!(outcome.result[7], json!({"tag": 7}));
    assert_eq!(batches, [20], "all twenty started before the first wait");
}

#[test]
fn gather_accepts_direct_calls_a_list_and_a_generator() {
    let (outcome, batches) = run_logged(
        "a = gather(crm.slow(tag=1), crm.slow(tag=2))\nb = gather([crm.slow(tag=3), crm.slow(tag=4)])\nc = gather(crm.slow(tag=t) for t in (5, 6))\nresult = [x['tag'] for x in a + b + c]",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.result, json!([1, 2, 3, 4, 5, 6]));
    assert_eq!(batches, [2, 2, 2], "each pair went out together");
}

#[test]
fn top_level_await_with_asyncio_gather_runs_concurrently() {
    let (outcome, batches) = run_logged(
        "import asyncio\nrows = await asyncio.gather(*[crm.slow(ms=50, tag=i) for i in range(20)])\nresult = [r['tag'] for r in rows][:3]",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.result, json!([0, 1, 2]));
    assert_eq!(batches, [20], "all twenty started before the first wait");
}

#[test]
fn async_functions_with_asyncio_run_and_create_task() {
    let (outcome, batches) = run_logged(
        r#"
import asyncio
async def fetch(i):
    row = await crm.slow(ms=50, tag=i)
    return row["tag"] * 10
async def main():
    task = asyncio.create_task(fetch(100))
    values = await asyncio.gather(*(fetch(i) for i in range(10)))
    await asyncio.sleep(0)
    return values + [await task]
result = asyncio.run(main())
"#,
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 1000])
    );
    assert_eq!(
        batches,
        [11],
        "the task and the ten gathered calls started before the first wait"
    );
}

#[test]
fn bus_errors_are_exceptions_a_snippet_can_catch() {
    let outcome = run(r#"
caught = {}
for name, call in [("fail", crm.fail), ("missing", crm.missing), ("timeout", crm.timeout), ("disconnected", crm.disconnected)]:
    try:
        call()
    except BusError as error:
        caught[name] = [type(error).__name__, error.kind, error.function]
try:
    crm.fail()
except InvocationFailedError as error:
    detail = [error.reason, error.reason_uri, error.context]
try:
    crm.timeout()
except TimeoutError:
    timeout_is_builtin_timeout = True
ok = gather(crm.fail(), crm.slow(ms=1, tag=1), return_exceptions=True)
result = {"caught": caught, "detail": detail, "builtin": timeout_is_builtin_timeout, "gathered": [type(ok[0]).__name__, ok[1]]}
"#);
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!({
            "caught": {
                "fail": ["InvocationFailedError", "invocation_failed", "crm.fail"],
                "missing": ["MethodNotFoundError", "method_not_found", "crm.missing"],
                "timeout": ["BusTimeoutError", "timeout", "crm.timeout"],
                "disconnected": ["DisconnectedError", "disconnected", "crm.disconnected"],
            },
            "detail": ["client 42 is locked", "crm.errors.locked", {"client": 42}],
            "builtin": true,
            "gathered": ["InvocationFailedError", {"tag": 1}],
        })
    );
}

#[test]
fn an_uncaught_bus_error_reports_type_line_and_details() {
    let outcome = run("x = 1\ny = crm.fail()\nresult = y");
    assert!(!outcome.ok);
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "InvocationFailedError");
    assert_eq!(error.phase, ErrorPhase::Runtime);
    assert_eq!(error.line, Some(2));
    assert_eq!(error.line_text.as_deref(), Some("y = crm.fail()"));
    assert_eq!(error.message, "client 42 is locked");
    let details = error.details.expect("details");
    assert_eq!(details["reason_uri"], json!("crm.errors.locked"));
    assert_eq!(details["context"], json!({"client": 42}));
    assert!(!outcome.calls[0].ok);
}

#[test]
fn a_wrong_argument_at_run_time_raises_type_error_naming_function_and_signature() {
    // `**kwargs` hides the keyword from pre-flight; the call itself still checks it.
    let outcome = run("kwargs = {'advisor': 'ann'}\ncrm.get_clients(**kwargs)");
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "TypeError");
    assert_eq!(error.phase, ErrorPhase::Runtime);
    assert!(
        error
            .message
            .contains("crm.get_clients() got an unexpected keyword argument 'advisor'"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("did you mean 'adviser'"),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .contains("expected crm.get_clients(*, adviser=None, region=None, target=None)"),
        "{}",
        error.message
    );
    assert!(outcome.calls.is_empty());
    let missing = run("args = {}\ncrm.get_client(**args)");
    assert!(
        missing
            .error
            .expect("error")
            .message
            .contains("missing required argument: 'id'")
    );
}

#[test]
fn preflight_names_the_closest_functions_and_makes_no_call() {
    let (outcome, calls) = with_engine(|engine, log| {
        let outcome = engine
            .run(&request(
                1,
                "a = crm.get_clients()\nb = crm.get_client_list()\n",
                Limits::default(),
            ))
            .outcome;
        (outcome, log.started())
    });
    assert_eq!(calls, 0, "pre-flight must stop the run before any bus call");
    let error = outcome.error.expect("error");
    assert_eq!(error.phase, ErrorPhase::Preflight);
    assert_eq!(error.kind, "AttributeError");
    assert_eq!(error.line, Some(2));
    assert!(
        error
            .message
            .contains("'crm.get_client_list' is not a catalogue function"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains(
            "did you mean one of: crm.get_clients(*, adviser=None, region=None, target=None)"
        ),
        "the closest functions come with their signatures, closest first: {}",
        error.message
    );
    assert!(
        error.message.contains("crm.get_client(*, id)"),
        "{}",
        error.message
    );
}

#[test]
fn preflight_reports_unknown_and_missing_keywords_together() {
    let (outcome, calls) = with_engine(|engine, log| {
        let source = "crm.get_clients(adviser='ann')\ncrm.get_clients(advisor='ann')\ncrm.get_client()\nintents.view_chart()\ncmr.get_clients()\n";
        let outcome = engine.run(&request(1, source, Limits::default())).outcome;
        (outcome, log.started())
    });
    assert_eq!(calls, 0);
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "TypeError");
    assert_eq!(error.line, Some(2));
    let message = error.message;
    assert!(message.contains("4 problems"), "{message}");
    assert!(message.contains("line 2: crm.get_clients() got an unexpected keyword argument 'advisor' (did you mean 'adviser'?)"), "{message}");
    assert!(message.contains("line 3: crm.get_client() missing required argument: 'id'; expected crm.get_client(*, id)"), "{message}");
    assert!(
        message.contains("line 4: intents.view_chart() missing required argument: 'context'"),
        "{message}"
    );
    assert!(
        message.contains("line 5: name 'cmr' is not defined; did you mean crm?"),
        "{message}"
    );
}

#[test]
fn preflight_leaves_shadowed_names_and_working_code_alone() {
    let outcome = run(
        "def crm_lookup(name):\n    return name.upper()\nclass crm2:\n    pass\nresult = [crm_lookup('a'), crm.get_clients.__name__ if False else 'ok']",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
}

#[test]
fn syntax_errors_report_their_line() {
    let outcome = run("x = 1\ny = (2 +\nz = 3\n");
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "SyntaxError");
    assert_eq!(error.phase, ErrorPhase::Preflight);
    assert!(error.line.is_some());
}

#[test]
fn nothing_a_run_does_reaches_the_next_run() {
    let outcomes = with_engine(|engine, _| {
        let sources = [
            "import json\njson.dumps = lambda *a, **k: 'poisoned'\nsecret = 42\nlen = lambda x: -1\ngather = None\nresult = 'set'",
            "import json\nresult = [json.dumps([1]), len([1, 2]), 'secret' in dir(), gather is None]",
            "try:\n    crm.get_clients = None\nexcept AttributeError as error:\n    result = str(error)",
            "result = callable(crm.get_clients)",
        ];
        sources
            .iter()
            .enumerate()
            .map(|(index, source)| {
                engine
                    .run(&request(index as u64 + 1, source, Limits::default()))
                    .outcome
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(outcomes[1].result, json!(["[1]", 2, false, false]));
    assert_eq!(
        outcomes[2].result,
        json!("catalogue namespace 'crm' is read-only")
    );
    assert_eq!(outcomes[3].result, json!(true));
}

#[test]
fn sessions_keep_state_only_when_asked() {
    let results = with_engine(|engine, _| {
        let mut keep = |run_id, source: &str, keep_state| {
            engine
                .run(&RunRequest {
                    run_id,
                    source: source.to_owned(),
                    limits: Limits::default(),
                    keep_state,
                })
                .outcome
        };
        vec![
            keep(1, "counter = 10\nresult = counter", true),
            keep(2, "counter += 1\nresult = counter", true),
            keep(3, "result = 'counter' in dir()", false),
            keep(4, "counter", true),
        ]
    });
    assert_eq!(results[0].result, json!(10));
    assert_eq!(results[1].result, json!(11));
    assert_eq!(results[2].result, json!(false));
    assert_eq!(results[3].result, json!(11));
}

#[test]
fn the_bus_call_limit_stops_the_run_naming_the_limit() {
    let limits = Limits {
        max_bus_calls: 5,
        ..Limits::default()
    };
    let outcome = run_with(
        "n = 0\ntry:\n    for i in range(10):\n        crm.echo(value=i)\n        n += 1\nexcept Exception:\n    pass\nresult = n",
        limits,
    );
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "LimitExceeded");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::BusCalls)
    );
    assert!(
        error.message.contains("bus call limit of 5 calls exceeded"),
        "{}",
        error.message
    );
    assert_eq!(outcome.calls.len(), 5);
}

#[test]
fn deep_recursion_raises_recursion_error() {
    let outcome = run("def f(n):\n    return f(n + 1)\nf(0)");
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "RecursionError");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::Recursion)
    );
}

#[test]
fn source_over_the_size_limit_is_refused_before_parsing() {
    let source = format!("x = '{}'", "a".repeat(70 * 1024));
    let outcome = run(&source);
    let error = outcome.error.expect("error");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::SourceSize)
    );
    assert!(
        error
            .message
            .contains("source size limit of 64 KiB exceeded"),
        "{}",
        error.message
    );
}

#[test]
fn printed_output_and_result_are_capped_with_a_visible_marker() {
    let limits = Limits {
        max_output_chars: 100,
        max_result_chars: 500,
        ..Limits::default()
    };
    let outcome = run_with(
        "for i in range(1000):\n    print('line', i)\nresult = list(range(10000))",
        limits,
    );
    assert!(outcome.ok);
    assert!(outcome.printed_truncated);
    assert!(
        outcome.printed.contains(
            "[output truncated: printed output limit of 6000 tokens or 100 characters reached; "
        ),
        "{}",
        outcome.printed
    );
    // Cut at a line boundary: every line shown is whole.
    let (body, _) = outcome
        .printed
        .split_once("\n… [output truncated")
        .expect("marker");
    assert!(body.len() > 80 && body.len() <= 100, "{body:?}");
    for (index, line) in body.lines().enumerate() {
        assert_eq!(line, format!("line {index}"), "{body:?}");
    }
    assert!(outcome.result_truncated);
    let text = outcome.result.to_string();
    assert!(text.len() <= 600, "{}", text.len());
    assert!(text.contains("result truncated"), "{text}");
}

#[test]
fn waiting_past_the_wall_time_stops_the_run() {
    let limits = Limits {
        wall_time: Duration::from_millis(300),
        ..Limits::default()
    };
    let started = Instant::now();
    let outcome = run_with(
        "try:\n    crm.slow(ms=5000)\nexcept Exception:\n    pass\nresult = 1",
        limits,
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "LimitExceeded");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::WallTime)
    );
    assert!(
        error.message.contains("wall time limit of 300 ms exceeded"),
        "{}",
        error.message
    );
}

#[test]
fn the_interrupter_stops_a_busy_loop_that_catches_exception() {
    let outcome = with_engine(|engine, _| {
        let interrupter = engine.interrupter();
        let stopper = thread::spawn(move || {
            for _ in 0..500 {
                thread::sleep(Duration::from_millis(10));
                interrupter.interrupt(9);
            }
        });
        let source = "while True:\n    try:\n        x = 1\n    except Exception:\n        pass";
        let outcome = engine.run(&request(9, source, Limits::default())).outcome;
        drop(stopper);
        outcome
    });
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "LimitExceeded");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::WallTime)
    );
}

#[test]
fn taint_marks_the_worker_for_recycling() {
    let reports = with_engine(|engine, _| {
        [
            "result = 1 + 1",
            "result = ().__class__.__base__.__subclasses__()[0].__name__",
            "class A:\n    pass\nA.x = 1",
            "result = getattr(1, 'real')",
            "name = 'real'\nresult = getattr(1, name)",
        ]
        .iter()
        .enumerate()
        .map(|(index, source)| {
            engine
                .run(&request(index as u64 + 1, source, Limits::default()))
                .recycle
        })
        .collect::<Vec<_>>()
    });
    assert_eq!(reports[0], None);
    assert!(
        reports[1]
            .as_deref()
            .is_some_and(|why| why.contains("attribute `__")),
        "{reports:?}"
    );
    assert!(reports[2].is_some());
    assert_eq!(reports[3], None);
    assert!(reports[4].is_some());
}

#[test]
fn an_explicit_result_wins_even_when_it_is_none_and_only_a_final_expression_counts() {
    // `result = None` is an answer: the last expression does not replace it.
    assert_eq!(ok("result = None\n42"), Value::Null);
    // A `result` local to a function is not the snippet's answer.
    assert_eq!(
        ok("def f():\n    result = 1\n    return result\nf() + 1"),
        json!(2)
    );
    // The last *statement* must be an expression; an earlier one is not the answer.
    assert_eq!(ok("7\nx = 8"), Value::Null);
    // The last expression's value, also when it is a call that prints.
    let outcome = run("print('side effect')\n{'k': [1, 2]}");
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.result, json!({"k": [1, 2]}));
    assert_eq!(outcome.printed, "side effect\n");
}

#[test]
fn every_bus_failure_kind_is_a_catchable_bus_error_subclass() {
    let outcome = run(r#"
calls = [
    ("fail", lambda: crm.fail()),
    ("missing", lambda: crm.missing()),
    ("no_server", lambda: crm.no_server()),
    ("unresolved", lambda: intents.view_chart({"type": "fdc3.instrument"}, app="Nobody")),
    ("timeout", lambda: crm.timeout()),
    ("disconnected", lambda: crm.disconnected()),
    ("peer_left", lambda: crm.peer_left()),
    ("refused", lambda: crm.refused()),
]
caught = {}
for name, call in calls:
    try:
        call()
    except BusError as error:
        caught[name] = [type(error).__name__, error.kind, error.function, str(error)]
hierarchy = [
    issubclass(NoMatchingServerError, MethodNotFoundError),
    issubclass(PeerLeftError, DisconnectedError),
    issubclass(BusTimeoutError, TimeoutError),
    issubclass(DisconnectedError, ConnectionError),
    issubclass(InvalidArgumentsError, TypeError),
    all(issubclass(cls, BusError) for cls in (MethodNotFoundError, InvocationFailedError, IntentNotResolvedError, BusTimeoutError, DisconnectedError)),
    issubclass(LimitExceeded, Exception),
]
try:
    intents.view_chart({"type": "fdc3.instrument"}, app="Nobody")
except IntentNotResolvedError:
    specific = "IntentNotResolvedError"
result = {"caught": caught, "hierarchy": hierarchy, "specific": specific}
"#);
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!({
            "caught": {
                "fail": ["InvocationFailedError", "invocation_failed", "crm.fail", "client 42 is locked"],
                "missing": ["MethodNotFoundError", "method_not_found", "crm.missing", "method `CRM.Missing` not found on the bus"],
                "no_server": ["NoMatchingServerError", "no_matching_server", "crm.no_server", "no server of `CRM.NoServer` matches the target"],
                "unresolved": ["IntentNotResolvedError", "intent_not_resolved", "intents.view_chart", "no handler `Nobody` for intent `ViewChart`"],
                "timeout": ["BusTimeoutError", "timeout", "crm.timeout", "`crm.timeout` did not answer within 5ms"],
                "disconnected": ["DisconnectedError", "disconnected", "crm.disconnected", "disconnected from the bus"],
                "peer_left": ["PeerLeftError", "peer_left", "crm.peer_left", "the CRM server left while the call was pending"],
                "refused": ["InvalidArgumentsError", "invalid_arguments", "crm.refused", "the bus refused the arguments; expected crm.refused()"],
            },
            "hierarchy": [true, true, true, true, true, true, false],
            "specific": "IntentNotResolvedError",
        })
    );
    assert_eq!(outcome.calls.len(), 9);
    assert!(
        outcome
            .calls
            .iter()
            .all(|call| !call.ok && call.error.is_some())
    );
    assert_eq!(
        outcome.calls[3].error.as_deref(),
        Some("IntentNotResolvedError: no handler `Nobody` for intent `ViewChart`")
    );
}

#[test]
fn var_keyword_functions_pass_extra_keywords_and_show_kwargs_in_their_signature() {
    let outcome = run("result = crm.flexible(name='x', colour='red', size=3)");
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!({"name": "x", "colour": "red", "size": 3})
    );
    let expected = "crm.flexible() missing required argument: 'name'; expected crm.flexible(*, name, **kwargs)";
    let preflight = run("crm.flexible(colour='red')").error.expect("error");
    assert_eq!(preflight.phase, ErrorPhase::Preflight);
    assert_eq!(preflight.kind, "TypeError");
    assert_eq!(preflight.message, expected);
    // Hidden from pre-flight by `**`: the call itself raises the same TypeError.
    let runtime = run("extra = {'colour': 'red'}\ncrm.flexible(**extra)")
        .error
        .expect("error");
    assert_eq!(runtime.phase, ErrorPhase::Runtime);
    assert_eq!(runtime.kind, "TypeError");
    assert_eq!(runtime.message, expected);
    assert_eq!(
        ok("crm.flexible.__doc__"),
        json!("crm.flexible(*, name, **kwargs)")
    );
}

#[test]
fn limits_have_the_documented_defaults() {
    let limits = Limits::default();
    assert_eq!(limits.wall_time, Duration::from_secs(30));
    assert_eq!(limits.memory_bytes, 256 * 1024 * 1024);
    assert_eq!(limits.max_bus_calls, 1_000);
    assert_eq!(limits.max_source_bytes, 64 * 1024);
    assert_eq!(limits.recursion_depth, 400);
    assert_eq!(limits.max_output_tokens, 6_000);
    assert_eq!(limits.max_result_tokens, 6_000);
    assert_eq!(limits.max_output_chars, 48_000);
    assert_eq!(limits.max_result_chars, 48_000);
    let described: Vec<String> = [
        LimitKind::WallTime,
        LimitKind::Memory,
        LimitKind::Recursion,
        LimitKind::BusCalls,
        LimitKind::SourceSize,
        LimitKind::Output,
        LimitKind::Result,
    ]
    .into_iter()
    .map(|kind| format!("{kind} limit of {}", limits.describe(kind)))
    .collect();
    assert_eq!(
        described,
        [
            "wall time limit of 30 s",
            "memory limit of 256 MiB",
            "recursion depth limit of 400 frames",
            "bus call limit of 1000 calls",
            "source size limit of 64 KiB",
            "printed output limit of 6000 tokens or 48000 characters",
            "result size limit of 6000 tokens or 48000 characters",
        ]
    );
    // The defaults travel over the wire as they are (milliseconds for durations).
    let wire = serde_json::to_value(&limits).expect("serialises");
    assert_eq!(wire["wall_time"], json!(30_000));
    let back: Limits = serde_json::from_value(json!({"wall_time": 1500})).expect("partial limits");
    assert_eq!(back.wall_time, Duration::from_millis(1500));
    assert_eq!(
        back.max_bus_calls, 1_000,
        "missing fields keep their defaults"
    );
}

#[test]
fn recursion_errors_name_the_limit_and_its_value() {
    let limits = Limits {
        recursion_depth: 120,
        ..Limits::default()
    };
    let error = run_with("def f(n):\n    return f(n + 1)\nf(0)", limits)
        .error
        .expect("error");
    assert_eq!(error.kind, "RecursionError");
    assert!(
        error
            .message
            .contains("(recursion depth limit of 120 frames exceeded)"),
        "{}",
        error.message
    );
    assert_eq!(
        error.limit.map(|limit| limit.value),
        Some("120 frames".to_owned())
    );
}

#[test]
fn a_limit_caught_and_turned_into_another_error_is_still_reported_as_the_limit() {
    let limits = Limits {
        max_bus_calls: 3,
        ..Limits::default()
    };
    let error = run_with(
        "try:\n    for i in range(10):\n        crm.echo(value=i)\nexcept BaseException as error:\n    raise ValueError('gave up')",
        limits,
    )
    .error
    .expect("error");
    assert_eq!(error.kind, "LimitExceeded");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::BusCalls)
    );
    assert_eq!(
        error.message,
        "bus call limit of 3 calls exceeded (the snippet then failed with ValueError: gave up)"
    );

    let outcome = with_engine(|engine, _| {
        let interrupter = engine.interrupter();
        let stopper = thread::spawn(move || {
            for _ in 0..500 {
                thread::sleep(Duration::from_millis(10));
                interrupter.interrupt(3);
            }
        });
        let source = "try:\n    while True:\n        pass\nexcept BaseException:\n    raise KeyError('swallowed')";
        let outcome = engine.run(&request(3, source, Limits::default())).outcome;
        drop(stopper);
        outcome
    });
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "LimitExceeded");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::WallTime)
    );
    assert!(
        error
            .message
            .starts_with("wall time limit of 30 s exceeded (the snippet then failed with KeyError"),
        "{}",
        error.message
    );
}

#[test]
fn an_argument_the_bus_cannot_carry_raises_an_error_naming_function_argument_and_signature() {
    let error = run("class Row:\n    pass\ncrm.echo(value=Row())")
        .error
        .expect("error");
    assert_eq!(error.kind, "TypeError");
    assert_eq!(error.phase, ErrorPhase::Runtime);
    assert!(
        error.message.starts_with(
            "crm.echo() argument 'value': a Row cannot be passed to a bus call; use str, int, float, bool, None, list, dict or datetime"
        ),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .ends_with("; expected crm.echo(*, value=None, when=None)"),
        "{}",
        error.message
    );
    let positional = run("intents.view_chart(object())").error.expect("error");
    assert!(
        positional
            .message
            .starts_with("intents.view_chart() argument 'context': a object cannot be passed"),
        "{}",
        positional.message
    );
    // Other classes keep their class: a float the bus cannot carry is a ValueError.
    let nan = run("crm.echo(value=float('nan'))").error.expect("error");
    assert_eq!(nan.kind, "ValueError");
    assert!(
        nan.message
            .starts_with("crm.echo() argument 'value': NaN is not a valid JSON number"),
        "{nan:?}"
    );
    // Sets travel as lists.
    assert_eq!(ok("crm.echo(value={2, 1})['value']"), json!([1, 2]));
}

#[test]
fn gather_scales_linearly_with_the_number_of_calls() {
    // Each finished call used to rescan every pending call (O(N²)): 1,000 calls took 0.6 s
    // and 4,000 took 8.4 s in a debug build. Now 4,000 cost about four times 1,000.
    let limits = Limits {
        max_bus_calls: 10_000,
        ..Limits::default()
    };
    let timings = with_engine(move |engine, _| {
        let mut best = [f64::MAX; 2];
        for round in 0..3 {
            for (slot, calls) in [1_000, 4_000].into_iter().enumerate() {
                let source = format!(
                    "rows = gather(*[crm.echo(value=i) for i in range({calls})])\nresult = [len(rows), rows[-1]['value']]"
                );
                let outcome = engine
                    .run(&request(
                        round * 2 + slot as u64 + 1,
                        &source,
                        limits.clone(),
                    ))
                    .outcome;
                assert!(outcome.ok, "{:?}", outcome.error);
                assert_eq!(outcome.result, json!([calls, calls - 1]));
                best[slot] = best[slot].min(outcome.duration_ms);
            }
        }
        best
    });
    assert!(
        timings[1] < 8.0 * timings[0],
        "1,000 calls: {:.0} ms, 4,000 calls: {:.0} ms",
        timings[0],
        timings[1]
    );
}

#[test]
fn gather_joins_finished_tasks_fails_fast_and_keeps_order() {
    let outcome = run(r#"
import asyncio
async def slow(ms):
    return (await crm.slow(ms=ms, tag=ms))["tag"]
async def boom():
    await crm.slow(ms=1, tag=0)
    raise ValueError("boom")
async def main():
    done = asyncio.create_task(slow(1))
    await asyncio.sleep(0.05)
    first = await asyncio.gather(done, slow(2))
    try:
        await asyncio.gather(slow(1500), boom())
    except ValueError as error:
        failed = str(error)
    empty = await asyncio.gather()
    mixed = await asyncio.gather(boom(), slow(3), return_exceptions=True)
    same = await asyncio.gather(done, done)
    plain = await gather(crm.slow(ms=5, tag="a"), crm.slow(ms=1, tag="b"))
    try:
        len(gather(crm.slow(ms=1, tag="c")))
    except TypeError as error:
        hint = str(error)
    return [first, failed, empty, [type(mixed[0]).__name__, mixed[1]], same, [p["tag"] for p in plain], hint]
result = asyncio.run(main())
"#);
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!([
            [1, 2],
            "boom",
            [],
            ["ValueError", 3],
            [1, 1],
            ["a", "b"],
            "inside `async def`, gather(...) returns an awaitable: write `await gather(...)`"
        ])
    );
    // The failing gather did not wait for its 1.5 s sibling.
    assert!(
        outcome.duration_ms < 1_200.0,
        "took {} ms",
        outcome.duration_ms
    );
}

#[test]
fn a_missing_key_on_a_bus_record_names_the_keys_it_has_and_the_closest() {
    let outcome = run("client = crm.get_clients()[0]\nresult = client['advisor']");
    let error = outcome.error.expect("a KeyError");
    assert_eq!(error.kind, "KeyError");
    assert_eq!(error.line, Some(2));
    assert!(
        error
            .message
            .starts_with("'advisor'; this dict (a bus result) has the keys ")
            && error.message.ends_with(". Did you mean: 'adviser'?"),
        "{}",
        error.message
    );
    for key in ["'name'", "'adviser'", "'region'", "'aum'"] {
        assert!(error.message.contains(key), "{key}: {}", error.message);
    }
    // A dict the snippet built itself keeps Python's plain message.
    let plain = run("d = {'a': 1}\nresult = d['b']")
        .error
        .expect("a KeyError");
    assert_eq!(
        (plain.kind.as_str(), plain.message.as_str()),
        ("KeyError", "'b'")
    );
}

#[test]
fn bus_records_behave_as_plain_dicts() {
    let outcome = run(
        "import copy, json\nclient = crm.get_clients()[0]\ntry:\n    client['nope']\n    caught = None\nexcept KeyError as error:\n    caught = list(error.args)\nresult = [client.get('nope'), client.get('nope', 1), 'name' in client, isinstance(client, dict), type(client).__name__, json.loads(json.dumps(client)) == client, dict(client) == client, sorted(client), caught, {**client}['aum'], copy.deepcopy(client) == client, client == {'name': 'Ada', 'adviser': 'ann', 'region': 'EU', 'aum': 120}, client.setdefault('x', 2), repr(crm.echo(value=1))]",
    );
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(
        outcome.result,
        json!([
            null,
            1,
            true,
            true,
            "dict",
            true,
            true,
            ["adviser", "aum", "name", "region"],
            ["nope"],
            120,
            true,
            true,
            2,
            "{'value': 1}"
        ])
    );
}

#[test]
fn arguments_the_bus_refuses_come_back_with_the_signature() {
    let outcome = run("result = crm.refused()");
    let error = outcome.error.expect("refused");
    assert_eq!(error.kind, "InvalidArgumentsError");
    assert_eq!(
        error.message,
        "the bus refused the arguments; expected crm.refused()"
    );
}

#[test]
fn long_printed_text_in_a_session_stays_by_reference_in_whole_lines() {
    let (first, second, plain) = with_engine(|engine, _| {
        let session = |run_id: u64, source: &str| RunRequest {
            run_id,
            source: source.to_owned(),
            limits: Limits::default(),
            keep_state: true,
        };
        let first = engine
            .run(&session(
                1,
                "for i in range(2000):\n    print('row', i, 'x' * 20)",
            ))
            .outcome;
        let second = engine
            .run(&session(
                2,
                "lines = _p1.splitlines()\nresult = [len(lines), lines[-1][:8], len(_p1)]",
            ))
            .outcome;
        // Without a session nothing is kept: the text is cut at the output limit instead.
        let plain = engine
            .run(&request(
                3,
                "for i in range(2000):\n    print('row', i, 'x' * 20)",
                Limits::default(),
            ))
            .outcome;
        (first, second, plain)
    });
    assert!(first.ok, "{:?}", first.error);
    assert_eq!(first.printed_ref.as_deref(), Some("_p1"));
    let total = (0..2000)
        .map(|i| format!("row {i} {}\n", "x".repeat(20)).len())
        .sum::<usize>();
    assert!(
        first.printed.contains(&format!(
            "[printed output is {total} characters in 2000 lines; all of it stays in this session as `_p1` (a str)."
        )) && first.printed.contains("print(_p1[")
            && first.printed.contains("more lines …"),
        "{}",
        first.printed
    );
    assert!(first.printed.len() < 2_500, "{}", first.printed.len());
    // Every line shown is a whole printed line (or the gap marker): no line is cut in two.
    for line in first
        .printed
        .lines()
        .take_while(|line| !line.starts_with('['))
    {
        let whole = line
            .strip_prefix("row ")
            .and_then(|rest| rest.split_once(' '))
            .is_some_and(|(number, tail)| number.parse::<u32>().is_ok() && tail == "x".repeat(20));
        assert!(whole || line.ends_with(" more lines …"), "{line:?}");
    }
    assert!(first.printed.contains("row 0 ") && first.printed.contains("row 1999 "));
    assert!(second.ok, "{:?}", second.error);
    assert_eq!(second.result, json!([2000, "row 1999", total]));
    assert!(plain.printed_ref.is_none() && plain.printed_truncated);
}

#[test]
fn a_value_printed_on_one_line_is_never_cut_in_the_middle() {
    let limits = Limits {
        max_output_chars: 100,
        ..Limits::default()
    };
    let outcome = run_with("import json\nprint(json.dumps(list(range(1000))))", limits);
    assert!(outcome.ok && outcome.printed_truncated, "{outcome:?}");
    assert!(
        outcome.printed.starts_with("\n… [output truncated: "),
        "no part of the JSON is shown: {}",
        outcome.printed
    );
}
