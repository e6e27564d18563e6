//! The red-team suite: every hostile snippet in `samples/snippets/redteam/` is contained to
//! its expected outcome, and the clean-state probe run right after it on the same pool still
//! gives the right answer (no poisoning of later runs, and the pool keeps serving).

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

#[path = "sandbox_support/cases.rs"]
mod cases;
#[path = "sandbox_support/fake.rs"]
mod fake;

use std::time::Duration;

use codemode::sandbox::{Sandbox, SandboxConfig, WorkerCommand};

fn pool() -> Sandbox {
    let mut config = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    // One worker per pool, so a snippet and the probe after it share a worker unless the
    // sandbox decided to recycle it.
    config.workers = 1;
    config.limits.wall_time = Duration::from_secs(2);
    config.kill_grace = Duration::from_secs(1);
    Sandbox::new(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_red_team_snippet_is_contained_and_leaves_later_runs_clean() {
    let base = pool().config().limits.clone();
    let cases = cases::load(&cases::snippets_dir().join("redteam"), &base);
    assert!(cases.len() >= 40, "only {} red-team snippets", cases.len());
    let probe = cases::load(&cases::snippets_dir(), &base)
        .into_iter()
        .find(|case| case.name == "probe")
        .expect("samples/snippets/probe.py");

    // Two single-worker pools share the suite to halve its wall time.
    let halves: Vec<Vec<cases::Case>> = vec![
        cases.iter().step_by(2).cloned().collect(),
        cases.iter().skip(1).step_by(2).cloned().collect(),
    ];
    let mut tasks = Vec::new();
    for half in halves {
        let probe = probe.clone();
        tasks.push(tokio::spawn(async move {
            let sandbox = pool();
            let functions = fake::functions();
            let mut failures = Vec::new();
            for case in &half {
                let outcome = sandbox
                    .execute_with_limits(
                        &case.source,
                        &functions,
                        fake::FakeBus::new(),
                        case.limits.clone(),
                    )
                    .await;
                if let Err(mismatch) = cases::check(case, &outcome) {
                    failures.push(mismatch);
                }
                let after = sandbox
                    .execute_with_limits(
                        &probe.source,
                        &functions,
                        fake::FakeBus::new(),
                        probe.limits.clone(),
                    )
                    .await;
                if let Err(mismatch) = cases::check(&probe, &after) {
                    failures.push(format!("probe after {}: {mismatch}", case.name));
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for task in tasks {
        failures.extend(task.await.expect("red-team task"));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
