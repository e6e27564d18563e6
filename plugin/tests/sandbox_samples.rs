//! The normal snippets in `samples/snippets/*.py` run through the worker pool and give their
//! expected answers.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

#[path = "sandbox_support/cases.rs"]
mod cases;
#[path = "sandbox_support/fake.rs"]
mod fake;

use codemode::sandbox::{Sandbox, SandboxConfig, WorkerCommand};

#[tokio::test]
async fn every_sample_snippet_gives_its_expected_answer() {
    let mut config = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    config.workers = 1;
    let sandbox = Sandbox::new(config);
    let cases = cases::load(&cases::snippets_dir(), &sandbox.config().limits);
    assert!(cases.len() >= 7, "found {} samples", cases.len());
    let functions = fake::functions();
    let mut failures = Vec::new();
    for case in &cases {
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
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
