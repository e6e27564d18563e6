//! Serving many clients: a cancelled run frees its worker and drops its bus calls, the wall
//! time covers the queue, the queue has a limit, and a warm spare keeps a third client from
//! waiting behind two long runs.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

#[path = "sandbox_support/fake.rs"]
mod fake;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use codemode::sandbox::{
    HostCall, HostCallError, HostCalls, RunScope, Sandbox, SandboxConfig, WorkerCommand,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

fn config(workers: usize, max_workers: usize, spare: usize) -> SandboxConfig {
    let mut config = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    config.workers = workers;
    config.max_workers = max_workers;
    config.spare_workers = spare;
    config.limits.wall_time = Duration::from_secs(20);
    config
}

/// A bus whose calls never answer; counts the calls still waiting (a dropped call stops
/// waiting).
#[derive(Default)]
struct HangingBus {
    waiting: Arc<AtomicUsize>,
}

struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl HostCalls for HangingBus {
    async fn call(&self, _call: HostCall) -> Result<Value, HostCallError> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(Arc::clone(&self.waiting));
        std::future::pending().await
    }
}

async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An interrupted run's worker is recycled (the engine's rule after a wall-time interrupt); a
/// cancel must not need a kill, and the warm spare serves the next run while the replacement
/// starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_stops_its_calls_and_frees_its_worker_without_a_kill() {
    let sandbox = Sandbox::new(config(1, 2, 1));
    sandbox.warm_up().await.expect("worker starts");
    for snippet in [
        // Waiting on bus calls that never answer.
        "import asyncio\nresult = await asyncio.gather(crm.slow(ms=1, tag=1), crm.slow(ms=1, tag=2))",
        // Computing forever.
        "while True:\n    pass",
    ] {
        let bus = Arc::new(HangingBus::default());
        let waiting = Arc::clone(&bus.waiting);
        let scope = RunScope {
            client: "a".to_owned(),
            cancel: CancellationToken::new(),
            ..RunScope::default()
        };
        let run = {
            let sandbox = sandbox.clone();
            let scope = scope.clone();
            tokio::spawn(async move {
                sandbox
                    .execute_in(
                        snippet,
                        &fake::functions(),
                        bus,
                        sandbox.config().limits.clone(),
                        &scope,
                    )
                    .await
            })
        };
        if snippet.contains("gather") {
            wait_until("the calls to start", || waiting.load(Ordering::SeqCst) == 2).await;
        } else {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let cancelled_at = Instant::now();
        scope.cancel.cancel();
        let outcome = run.await.expect("run task");
        let stopped_in = cancelled_at.elapsed();
        assert_eq!(
            outcome.error.as_ref().map(|error| error.kind.as_str()),
            Some("Cancelled"),
            "{snippet}: {:?}",
            outcome.error
        );
        assert!(
            stopped_in < Duration::from_secs(1),
            "{snippet}: cancel took {stopped_in:?}"
        );
        assert_eq!(waiting.load(Ordering::SeqCst), 0, "bus calls still waiting");
        wait_until("a spare", || sandbox.stats().spawned >= 2).await;
        let started = Instant::now();
        let next = sandbox
            .execute("result = 6 * 7", &fake::functions(), fake::FakeBus::new())
            .await;
        assert!(next.ok, "{:?}", next.error);
        let served_in = started.elapsed();
        eprintln!("{snippet:?}: stopped in {stopped_in:?}, next run served in {served_in:?}");
        assert!(
            served_in < Duration::from_secs(1),
            "next run served in {served_in:?}"
        );
    }
    let stats = sandbox.stats();
    // One worker replaced per cancel, none killed, none started twice.
    assert_eq!((stats.killed, stats.cancelled), (0, 2), "{stats:?}");
    assert!(stats.spawned <= 4, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_time_covers_the_queue_and_a_full_queue_refuses_at_once() {
    let mut config = config(1, 1, 0);
    config.max_queued = 1;
    let sandbox = Sandbox::new(config);
    sandbox.warm_up().await.expect("worker starts");
    let hog = {
        let sandbox = sandbox.clone();
        tokio::spawn(async move {
            let mut limits = sandbox.config().limits.clone();
            limits.wall_time = Duration::from_secs(6);
            sandbox
                .execute_with_limits(
                    "while True:\n    pass",
                    &fake::functions(),
                    fake::FakeBus::new(),
                    limits,
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = {
        let sandbox = sandbox.clone();
        tokio::spawn(async move {
            let mut limits = sandbox.config().limits.clone();
            limits.wall_time = Duration::from_secs(1);
            let started = Instant::now();
            let outcome = sandbox
                .execute_with_limits(
                    "result = 1",
                    &fake::functions(),
                    fake::FakeBus::new(),
                    limits,
                )
                .await;
            (outcome, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = sandbox
        .execute("result = 2", &fake::functions(), fake::FakeBus::new())
        .await;
    assert_eq!(
        refused.error.as_ref().map(|error| error.kind.as_str()),
        Some("SandboxBusy"),
        "{:?}",
        refused.error
    );
    let (outcome, took) = queued.await.expect("queued task");
    let error = outcome.error.expect("the queued run timed out");
    assert_eq!(error.kind.as_str(), "SandboxBusy", "{}", error.message);
    assert!(
        error.message.contains("timeout_seconds"),
        "{}",
        error.message
    );
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    hog.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_long_runs_do_not_delay_a_third_clients_trivial_run() {
    let sandbox = Sandbox::new(config(2, 3, 1));
    sandbox.warm_up().await.expect("workers start");
    let mut hogs = Vec::new();
    for client in ["hog-1", "hog-2"] {
        let sandbox = sandbox.clone();
        hogs.push(tokio::spawn(async move {
            let scope = RunScope {
                client: client.to_owned(),
                cancel: CancellationToken::new(),
                ..RunScope::default()
            };
            let mut limits = sandbox.config().limits.clone();
            limits.wall_time = Duration::from_secs(15);
            sandbox
                .execute_in(
                    "while True:\n    pass",
                    &fake::functions(),
                    fake::FakeBus::new(),
                    limits,
                    &scope,
                )
                .await
        }));
    }
    // The spare starts when the second hog takes the last idle worker.
    wait_until("the spare", || sandbox.stats().spawned == 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let outcome = sandbox
        .execute("result = 6 * 7", &fake::functions(), fake::FakeBus::new())
        .await;
    let took = started.elapsed();
    assert!(outcome.ok, "{:?}", outcome.error);
    assert!(
        took < Duration::from_secs(1),
        "the third client waited {took:?}"
    );
    for hog in hogs {
        hog.abort();
    }
}

/// Regression: a run in a stateful session ignored its caller's cancel (the session passed a
/// fresh token of its own), so a client that gave up still held the session's worker until the
/// run's own timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_session_run_stops_its_calls() {
    let sandbox = Sandbox::new(config(1, 2, 1));
    let mut session = sandbox.session().await.expect("a session");
    let bus = Arc::new(HangingBus::default());
    let waiting = Arc::clone(&bus.waiting);
    let scope = RunScope {
        client: "a".to_owned(),
        cancel: CancellationToken::new(),
        ..RunScope::default()
    };
    let cancel = scope.cancel.clone();
    let mut limits = sandbox.config().limits.clone();
    limits.wall_time = Duration::from_secs(30);
    let run = tokio::spawn(async move {
        let outcome = session
            .execute_in(
                "result = crm.slow(ms=1, tag=1)",
                &fake::functions(),
                bus,
                limits,
                &scope,
            )
            .await;
        (outcome, session)
    });
    wait_until("the call to start", || waiting.load(Ordering::SeqCst) == 1).await;
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (outcome, _session) = run.await.expect("run task");
    let stopped_in = cancelled_at.elapsed();
    assert_eq!(
        outcome.error.as_ref().map(|error| error.kind.as_str()),
        Some("Cancelled"),
        "{:?}",
        outcome.error
    );
    assert!(
        stopped_in < Duration::from_secs(2),
        "cancel took {stopped_in:?}"
    );
    assert_eq!(
        waiting.load(Ordering::SeqCst),
        0,
        "the bus call still waits"
    );
}
