//! Containment on Windows (this file builds only for Windows; `tests/windows/run.sh` runs it
//! under Wine): every worker sits in a job object configured with kill-on-close, the
//! per-process memory limit, one active process, die on unhandled exception and every UI
//! restriction — as Windows accepted them (Wine too) and as it reports them back (real Windows
//! only) — and the portable heap cap stops a memory bomb where the job's memory limit is not
//! enforced (Wine accepts it and ignores it).
#![cfg(windows)]
#![expect(clippy::expect_used, reason = "test helpers fail loudly")]

#[path = "sandbox_support/fake.rs"]
mod fake;

use std::time::Duration;

use codemode::sandbox::{ErrorPhase, LimitKind, Sandbox, SandboxConfig, WorkerCommand};

fn config() -> SandboxConfig {
    let mut config = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    config.workers = 1;
    config.limits.wall_time = Duration::from_secs(5);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_runs_in_a_job_object_configured_with_every_limit() {
    let sandbox = Sandbox::new(config());
    let mut session = sandbox
        .session()
        .await
        .expect("a session starts its worker");
    let outcome = session
        .execute("result = 6 * 7", &fake::functions(), fake::FakeBus::new())
        .await;
    assert_eq!(outcome.result, serde_json::json!(42), "{:?}", outcome.error);
    let report = session
        .worker_job()
        .expect("the session holds a worker")
        .expect("Windows reports the job's configuration");
    assert!(report.kill_on_close, "{report:?}");
    assert!(report.die_on_unhandled_exception, "{report:?}");
    assert_eq!(report.active_processes, Some(1), "{report:?}");
    // 512 MiB of baseline plus four times the run's 256 MiB limit.
    assert_eq!(
        report.process_memory_bytes,
        Some((512 + 4 * 256) * 1024 * 1024),
        "{report:?}"
    );
    assert!(report.all_ui_restrictions, "{report:?}");
}

/// Under Wine 8.0, which cannot report a job back (see the test above), this shows that every
/// limit was handed to Windows and accepted; the heap cap test below carries the behaviour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_job_is_given_every_limit_and_windows_accepts_them() {
    let sandbox = Sandbox::new(config());
    let mut session = sandbox
        .session()
        .await
        .expect("a session starts its worker");
    let outcome = session
        .execute("result = 6 * 7", &fake::functions(), fake::FakeBus::new())
        .await;
    assert_eq!(outcome.result, serde_json::json!(42), "{:?}", outcome.error);
    let report = session
        .worker_job_accepted()
        .expect("the session holds a worker");
    assert!(report.kill_on_close, "{report:?}");
    assert!(report.die_on_unhandled_exception, "{report:?}");
    assert_eq!(report.active_processes, Some(1), "{report:?}");
    assert_eq!(
        report.process_memory_bytes,
        Some((512 + 4 * 256) * 1024 * 1024),
        "{report:?}"
    );
    assert!(report.all_ui_restrictions, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heap_cap_stops_a_memory_bomb_the_job_limit_is_not_trusted_with() {
    let sandbox = Sandbox::new(config());
    let mut limits = sandbox.config().limits.clone();
    limits.memory_bytes = 256 * 1024 * 1024;
    let outcome = sandbox
        .execute_with_limits(
            "block = bytearray(600 * 1024 * 1024)\nresult = len(block)",
            &fake::functions(),
            fake::FakeBus::new(),
            limits,
        )
        .await;
    let error = outcome.error.expect("600 MiB went through a 256 MiB limit");
    assert_eq!(
        error.limit.as_ref().map(|limit| limit.kind),
        Some(LimitKind::Memory),
        "{error:?}"
    );
    assert_eq!(error.phase, ErrorPhase::Worker, "{error:?}");
    let next = sandbox
        .execute("result = 1 + 1", &fake::functions(), fake::FakeBus::new())
        .await;
    assert_eq!(next.result, serde_json::json!(2), "the pool serves on");
}
