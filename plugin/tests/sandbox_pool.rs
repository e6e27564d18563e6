//! Containment: snippets in worker processes. Hard deadlines, crashes, memory bombs,
//! respawn, recycling, sessions, and hostile snippets running beside a normal one.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

#[path = "sandbox_support/fake.rs"]
mod fake;

use std::{sync::Arc, time::Duration};

use tokio::sync::Barrier;

use codemode::sandbox::{
    ErrorPhase, HostCalls, LimitKind, Limits, Sandbox, SandboxConfig, WorkerCommand,
};
use serde_json::json;

fn config(workers: usize) -> SandboxConfig {
    let mut config = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    config.workers = workers;
    // A fixed pool (no spare, no growth): these tests count spawns and kills exactly.
    config.max_workers = workers;
    config.spare_workers = 0;
    config.limits.wall_time = Duration::from_secs(2);
    config.kill_grace = Duration::from_millis(700);
    config
}

fn host() -> Arc<dyn HostCalls> {
    fake::FakeBus::new()
}

const NORMAL: &str = "clients = crm.get_clients(adviser='ann')\nresult = {'names': sorted(c['name'] for c in clients), 'total': sum(c['aum'] for c in clients)}";

fn normal_answer() -> serde_json::Value {
    json!({"names": ["Ada", "Bob"], "total": 200})
}

#[tokio::test]
async fn a_snippet_runs_in_a_worker_with_bus_calls_served_by_the_host() {
    let sandbox = Sandbox::new(config(1));
    sandbox.warm_up().await.expect("worker starts");
    let bus = fake::FakeBus::new();
    let outcome = sandbox
        .execute(NORMAL, &fake::functions(), bus.clone())
        .await;
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.result, normal_answer());
    assert_eq!(bus.count(), 1);
    assert_eq!(outcome.calls.len(), 1);
    assert!(outcome.calls[0].ms.is_some());
}

#[tokio::test]
async fn twenty_50ms_calls_through_the_pool_take_about_one_call() {
    let sandbox = Sandbox::new(config(1));
    sandbox.warm_up().await.expect("worker starts");
    let outcome = sandbox
        .execute(
            "import asyncio\nrows = await asyncio.gather(*[crm.slow(ms=50, tag=i) for i in range(20)])\nplain = gather(*[crm.slow(ms=50, tag=i) for i in range(20)])\nresult = [len(rows), len(plain)]",
            &fake::functions(),
            host(),
        )
        .await;
    assert!(outcome.ok, "{:?}", outcome.error);
    assert_eq!(outcome.result, json!([20, 20]));
    // Two rounds of 20 concurrent 50 ms calls: about 100 ms; sequential would be 2 s.
    assert!(
        outcome.duration_ms < 900.0,
        "took {} ms",
        outcome.duration_ms
    );
}

#[tokio::test]
async fn an_endless_loop_stops_at_the_wall_time_and_the_next_run_works() {
    let sandbox = Sandbox::new(config(1));
    let outcome = sandbox
        .execute("while True:\n    pass", &fake::functions(), host())
        .await;
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "LimitExceeded");
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::WallTime)
    );
    assert!(
        error.message.contains("wall time limit of 2 s exceeded"),
        "{}",
        error.message
    );
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
}

#[tokio::test]
async fn a_native_loop_is_killed_at_the_hard_deadline_and_the_worker_respawns() {
    let sandbox = Sandbox::new(config(1));
    let outcome = sandbox
        .execute("result = sum(range(10**12))", &fake::functions(), host())
        .await;
    let error = outcome.error.expect("error");
    assert_eq!(error.phase, ErrorPhase::Worker);
    assert_eq!(
        error.limit.map(|limit| limit.kind),
        Some(LimitKind::WallTime)
    );
    assert!(
        outcome.duration_ms < 6_000.0,
        "took {} ms",
        outcome.duration_ms
    );
    assert_eq!(sandbox.stats().killed, 1);
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
}

#[tokio::test]
async fn catching_base_exception_forever_costs_only_its_worker() {
    let sandbox = Sandbox::new(config(1));
    let source = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        continue";
    let outcome = sandbox.execute(source, &fake::functions(), host()).await;
    // The in-worker interrupt is caught, again and again, so usually the kill at deadline +
    // grace ends it. On a busy machine a repeated interrupt can also land on the `continue`,
    // outside the `try`, and stop it in the worker, or land inside the handler and make
    // RustPython panic ("CopyItem: stack underflow"), which replaces the worker. Every way,
    // the run ends on its wall time and only its worker is lost.
    let error = outcome.error.expect("error");
    assert_eq!(
        error.limit.as_ref().map(|limit| limit.kind),
        Some(LimitKind::WallTime),
        "{error:?}"
    );
    assert!(
        error.message.starts_with("wall time limit of 2 s exceeded"),
        "{}",
        error.message
    );
    let killed = error.message.ends_with(KILLED);
    assert_eq!(sandbox.stats().killed, u64::from(killed), "{error:?}");
    assert_eq!(sandbox.stats().crashed, 0);
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
}

#[tokio::test]
async fn memory_bombs_are_reported_as_memory_error_and_growth_is_catchable() {
    let sandbox = Sandbox::new(config(1));
    let outcome = sandbox
        .execute("x = 'x' * (10**10)", &fake::functions(), host())
        .await;
    let error = outcome.error.expect("error");
    assert_eq!(error.kind, "MemoryError", "{error:?}");
    assert_eq!(error.limit.map(|limit| limit.kind), Some(LimitKind::Memory));
    let mut roomy = sandbox.config().limits.clone();
    roomy.wall_time = Duration::from_secs(20);
    let caught = sandbox
        .execute_with_limits(
            "chunks = []\ntry:\n    while True:\n        chunks.append('y' * 10_000_000)\nexcept MemoryError:\n    chunks = None\n    result = 'caught'",
            &fake::functions(),
            host(),
            roomy,
        )
        .await;
    assert_eq!(caught.result, json!("caught"), "{:?}", caught.error);
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
}

#[tokio::test]
async fn gradual_memory_growth_is_contained_by_the_memory_limit() {
    let sandbox = Sandbox::new(config(1));
    let mut limits = sandbox.config().limits.clone();
    limits.memory_bytes = 64 * 1024 * 1024;
    limits.wall_time = Duration::from_secs(10);
    let outcome = sandbox
        .execute_with_limits(
            "chunks = []\nwhile True:\n    chunks.append('x' * 1_000_000)",
            &fake::functions(),
            host(),
            limits,
        )
        .await;
    let error = outcome.error.expect("error");
    assert_eq!(
        error.limit.as_ref().map(|limit| limit.kind),
        Some(LimitKind::Memory),
        "{error:?}"
    );
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
}

/// The portable heap cap (a capped counting allocator in the worker) stops a single allocation
/// of three times the limit on Linux too, where the address-space rlimit (four times) would let
/// it through and, the bytes being untouched, the resident-memory watchdog would not see it:
/// the worker stops and the run reports the memory limit. Without the heap cap this snippet
/// returns its length.
#[tokio::test]
async fn the_heap_cap_stops_an_allocation_the_address_space_limit_would_allow() {
    let sandbox = Sandbox::new(config(1));
    let mut limits = sandbox.config().limits.clone();
    limits.memory_bytes = 64 * 1024 * 1024;
    limits.wall_time = Duration::from_secs(10);
    let outcome = sandbox
        .execute_with_limits(
            "block = bytearray(192 * 1024 * 1024)\nresult = len(block)",
            &fake::functions(),
            host(),
            limits,
        )
        .await;
    let error = outcome.error.expect("the 192 MiB allocation was allowed");
    assert_eq!(error.phase, ErrorPhase::Worker, "{error:?}");
    assert_eq!(
        error.limit.as_ref().map(|limit| limit.kind),
        Some(LimitKind::Memory),
        "{error:?}"
    );
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
}

/// A 300,000-term sum: the parser/compiler recurse once per term and overflow even the
/// interpreter thread's 256 MiB stack, which aborts the worker process. The default 64 KiB source
/// limit refuses such a snippet before it is parsed, so the crash needs a larger limit.
fn compiler_crash() -> (String, Limits) {
    let limits = Limits {
        max_source_bytes: 1024 * 1024,
        ..Limits::default()
    };
    (format!("x = {}1", "1+".repeat(300_000)), limits)
}

#[tokio::test]
async fn a_compiler_crashing_expression_costs_only_its_worker() {
    let sandbox = Sandbox::new(config(1));
    let (source, limits) = compiler_crash();
    let outcome = sandbox
        .execute_with_limits(&source, &fake::functions(), host(), limits)
        .await;
    let error = outcome.error.expect("error");
    assert_eq!(error.phase, ErrorPhase::Worker, "{error:?}");
    assert_eq!(error.kind, "WorkerCrashed", "{error:?}");
    assert!(
        error.message.contains("overflowed its stack"),
        "{}",
        error.message
    );
    assert_eq!(sandbox.stats().crashed, 1);
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
    // Within the default source limit the same kind of snippet is refused before parsing.
    let refused = sandbox.execute(&source, &fake::functions(), host()).await;
    assert_eq!(refused.limit(), Some(LimitKind::SourceSize));
}

#[tokio::test]
async fn workers_are_recycled_after_n_runs_and_after_tainted_runs() {
    let mut config = config(1);
    config.recycle_after_runs = 3;
    let sandbox = Sandbox::new(config);
    for _ in 0..4 {
        let outcome = sandbox
            .execute("result = 1", &fake::functions(), host())
            .await;
        assert!(outcome.ok);
    }
    assert_eq!(sandbox.stats().recycled, 1);
    let tainted = sandbox
        .execute(
            "result = (1).__class__.__name__",
            &fake::functions(),
            host(),
        )
        .await;
    assert_eq!(tainted.result, json!("int"));
    assert_eq!(sandbox.stats().recycled, 2);
    let next = sandbox.execute(NORMAL, &fake::functions(), host()).await;
    assert_eq!(next.result, normal_answer());
}

/// How a hostile snippet of the concurrent test must end.
struct Hostile {
    source: String,
    limits: Limits,
    /// Runs until the wall-time limit (so it must still be running when the normal one ends).
    long: bool,
    kind: &'static str,
    limit: Option<LimitKind>,
    /// Whether its worker is killed at the hard deadline; `None` when either is right.
    killed: Option<bool>,
}

/// The end of the message of a run whose worker was killed at the hard deadline.
const KILLED: &str = "so its worker process was killed";

fn hostile_snippets(defaults: &Limits) -> Vec<Hostile> {
    let hostile = |source: &str, long, kind, limit, killed| Hostile {
        source: source.to_owned(),
        limits: defaults.clone(),
        long,
        kind,
        limit,
        killed,
    };
    let (crash, crash_limits) = compiler_crash();
    vec![
        // Stopped by the in-worker interrupt at the wall time.
        hostile(
            "while True:\n    pass",
            true,
            "LimitExceeded",
            Some(LimitKind::WallTime),
            Some(false),
        ),
        // Killed at the hard deadline: a native operation never sees the interrupt.
        hostile(
            "result = sum(range(10**12))",
            true,
            "LimitExceeded",
            Some(LimitKind::WallTime),
            Some(true),
        ),
        // Catches the interrupt, which is raised again until it lands outside the `try` or the
        // deadline + grace kills the worker; on a busy machine either comes first (and an
        // interrupt raised inside the handler can make RustPython panic, "CopyItem: stack
        // underflow", which also ends the run at the wall time).
        hostile(
            "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
            true,
            "LimitExceeded",
            Some(LimitKind::WallTime),
            None,
        ),
        // Crash their workers at once.
        hostile(
            "x = 'x' * (10**10)",
            false,
            "MemoryError",
            Some(LimitKind::Memory),
            Some(false),
        ),
        Hostile {
            source: crash,
            limits: crash_limits,
            long: false,
            kind: "WorkerCrashed",
            limit: None,
            killed: Some(false),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_snippet_running_alongside_hostile_ones_answers_correctly_before_they_end() {
    let defaults = config(1).limits;
    let hostile = hostile_snippets(&defaults);
    // One worker per snippet, all warm: nobody waits for a worker.
    let sandbox = Sandbox::new(config(hostile.len() + 1));
    sandbox.warm_up().await.expect("workers start");
    let functions = fake::functions();
    let start = Arc::new(Barrier::new(hostile.len() + 1));
    let mut runs = Vec::new();
    for case in &hostile {
        let (sandbox, functions, start) = (sandbox.clone(), functions.clone(), Arc::clone(&start));
        let (source, limits) = (case.source.clone(), case.limits.clone());
        runs.push(tokio::spawn(async move {
            start.wait().await;
            sandbox
                .execute_with_limits(&source, &functions, host(), limits)
                .await
        }));
    }
    start.wait().await;
    // The normal run took 5 to 40 ms with the hostile ones and two more CPU hogs sharing
    // 2 cores; the long ones run for the 2 s wall time, a margin of 50×.
    let normal = sandbox.execute(NORMAL, &functions, host()).await;
    // Checked before awaiting anything else: the long hostile runs are all still going, so the
    // normal run did not wait for one of their workers, and none was killed yet.
    let still_running: Vec<bool> = runs.iter().map(|run| !run.is_finished()).collect();
    let killed_before = sandbox.stats().killed;
    assert!(normal.ok, "{:?}", normal.error);
    assert_eq!(normal.result, normal_answer());
    assert_eq!(
        killed_before, 0,
        "a hostile worker was killed before the normal run ended"
    );
    for (case, running) in hostile.iter().zip(&still_running) {
        if case.long {
            assert!(running, "{:?} ended before the normal run did", case.source);
        }
    }

    let mut killed = 0;
    for (case, run) in hostile.iter().zip(runs) {
        let outcome = run.await.expect("task");
        let error = outcome.error.expect("a hostile run fails");
        assert_eq!(error.kind, case.kind, "{:?}: {error:?}", case.source);
        assert_eq!(
            error.limit.as_ref().map(|limit| limit.kind),
            case.limit,
            "{:?}: {error:?}",
            case.source
        );
        let was_killed = error.message.ends_with(KILLED);
        if let Some(expected) = case.killed {
            assert_eq!(was_killed, expected, "{:?}: {error:?}", case.source);
        }
        killed += u64::from(was_killed);
    }
    // The pool counts exactly the kills the runs report, and the two crashes.
    let stats = sandbox.stats();
    assert_eq!((stats.killed, stats.crashed), (killed, 2), "{stats:?}");
    let again = sandbox.execute(NORMAL, &functions, host()).await;
    assert_eq!(again.result, normal_answer());
}

/// Review finding: a source over the frame cap reached the worker, which rejected the frame
/// and exited, so the run was reported as a crash. The pool now refuses any source over its
/// limit before taking a worker, with the worker's own source-size outcome.
#[tokio::test]
async fn sources_over_the_limit_are_refused_before_dispatch_even_past_the_frame_cap() {
    let sandbox = Sandbox::new(config(1));
    let functions = fake::functions();
    for size in [1024 * 1024, 70 * 1024 * 1024] {
        let source = "#".repeat(size);
        let outcome = sandbox.execute(&source, &functions, host()).await;
        assert_eq!(outcome.limit(), Some(LimitKind::SourceSize));
        let error = outcome.error.expect("refused");
        assert_eq!(error.phase, ErrorPhase::Preflight, "{error:?}");
        assert_eq!(error.kind, "LimitExceeded", "{error:?}");
        assert_eq!(
            error.limit.as_ref().map(|limit| limit.value.as_str()),
            Some("64 KiB")
        );
        assert_eq!(
            error.message,
            format!("source size limit of 64 KiB exceeded: the snippet has {size} bytes")
        );
    }
    let mut session = sandbox.session().await.expect("session");
    let in_session = session
        .execute(&"#".repeat(1024 * 1024), &functions, host())
        .await;
    assert_eq!(in_session.limit(), Some(LimitKind::SourceSize));
    // The pool never started a worker for them, and the session's worker is untouched.
    assert_eq!(sandbox.stats().spawned, 1);
    assert_eq!(sandbox.stats().crashed, 0);

    // A source limit raised past the frame cap: still no worker is lost.
    let roomy = Limits {
        max_source_bytes: 128 * 1024 * 1024,
        ..sandbox.config().limits.clone()
    };
    let outcome = sandbox
        .execute_with_limits(&"#".repeat(70 * 1024 * 1024), &functions, host(), roomy)
        .await;
    let error = outcome.error.expect("refused");
    assert_eq!(error.kind, "SandboxError", "{error:?}");
    assert!(error.message.contains("frame limit"), "{}", error.message);
    assert_eq!(sandbox.stats().crashed, 0);
    let next = sandbox.execute(NORMAL, &functions, host()).await;
    assert_eq!(next.result, normal_answer());
    let in_session = session.execute(NORMAL, &functions, host()).await;
    assert_eq!(in_session.result, normal_answer());
    assert_eq!(sandbox.stats().spawned, 2);
}

#[tokio::test]
async fn sessions_keep_state_while_pool_runs_do_not() {
    let sandbox = Sandbox::new(config(1));
    let mut session = sandbox.session().await.expect("session");
    let functions = fake::functions();
    let first = session
        .execute(
            "import json\nseen = [1]\nresult = len(seen)",
            &functions,
            host(),
        )
        .await;
    assert_eq!(first.result, json!(1));
    let second = session
        .execute(
            "seen.append(2)\nresult = json.dumps(seen)",
            &functions,
            host(),
        )
        .await;
    assert_eq!(second.result, json!("[1, 2]"), "{:?}", second.error);
    let pool = sandbox
        .execute("result = 'seen' in dir()", &functions, host())
        .await;
    assert_eq!(pool.result, json!(false));
}

#[tokio::test]
async fn a_limit_hit_mid_run_still_reports_the_calls_made() {
    let sandbox = Sandbox::new(config(1));
    let limits = Limits {
        wall_time: Duration::from_millis(500),
        ..Limits::default()
    };
    let outcome = sandbox
        .execute_with_limits(
            "crm.get_clients()\nwhile True:\n    pass",
            &fake::functions(),
            host(),
            limits,
        )
        .await;
    assert_eq!(outcome.limit(), Some(LimitKind::WallTime));
    assert_eq!(outcome.calls.len(), 1);
    assert!(outcome.calls[0].ok);
}

#[tokio::test]
async fn what_one_session_does_to_its_worker_changes_nothing_for_other_sessions_or_the_pool() {
    let sandbox = Sandbox::new(config(1));
    let functions = fake::functions();
    let mut poisoner = sandbox.session().await.expect("session");
    let mut neighbour = sandbox.session().await.expect("session");
    // Through the escape hatch: the real builtins module and `sys.modules` of this worker.
    let poison = "importer = [c for c in ().__class__.__base__.__subclasses__() if 'BuiltinImporter' in repr(c)][0]\nsys = importer.load_module('sys')\nsys.modules['json'] = type(sys)('json')\nimport collections\ncollections.Counter.most_common = lambda self, n=None: 'pwned'\nreal = crm.get_clients.__globals__['__builtins__']\nif isinstance(real, dict):\n    real['len'] = lambda value: -2\nelse:\n    real.len = lambda value: -2\nsecret = 'kept'\nresult = 'poisoned'";
    let poisoned = poisoner.execute(poison, &functions, host()).await;
    assert_eq!(poisoned.result, json!("poisoned"), "{:?}", poisoned.error);
    let check = "import collections, json\nresult = [len([1, 2]), json.dumps([1]), collections.Counter('aab').most_common(1), 'secret' in dir()]";
    // A session is one trust domain: its own later runs see what it did.
    let own = poisoner.execute(check, &functions, host()).await;
    assert_eq!(own.result[2], json!("pwned"), "{:?}", own.error);
    assert_eq!(own.result[3], json!(true), "{:?}", own.error);
    // Nobody else does.
    let other = neighbour.execute(check, &functions, host()).await;
    let clean = json!([2, "[1]", [["a", 2]], false]);
    assert_eq!(other.result, clean, "{:?}", other.error);
    let pool = sandbox.execute(check, &functions, host()).await;
    assert_eq!(pool.result, clean, "{:?}", pool.error);
    let normal = sandbox.execute(NORMAL, &functions, host()).await;
    assert_eq!(normal.result, normal_answer());
}

#[tokio::test]
async fn printed_output_and_results_are_capped_at_six_thousand_tokens() {
    use codemode::catalogue::{O200k, TokenCounter};
    let sandbox = Sandbox::new(config(1));
    // Numbers: ~1.6 characters per token, so a character cap alone would let ~15,000 through.
    let outcome = sandbox
        .execute(
            "for i in range(5000):\n    print(f'{i}: {i * 1.37:.2f}')\nresult = [{'id': f'c-{i}', 'aum': i * 1234} for i in range(3000)]",
            &fake::functions(),
            host(),
        )
        .await;
    assert!(outcome.ok, "{:?}", outcome.error);
    let printed = O200k.count(&outcome.printed);
    assert!(
        (5_000..=6_000).contains(&printed),
        "{printed} tokens printed"
    );
    assert!(outcome.printed_truncated);
    assert!(
        outcome.printed.contains(
            "[output truncated: printed output limit of 6000 tokens or 48000 characters reached;"
        ),
        "{}",
        &outcome.printed[outcome.printed.len() - 200..]
    );
    let result = O200k.count(&outcome.result.to_string());
    assert!(result <= 6_000, "{result} tokens of result");
    assert!(outcome.result_truncated);
    assert!(
        outcome
            .result
            .to_string()
            .contains("result size limit of 6000 tokens"),
        "{}",
        outcome.result
    );
}
