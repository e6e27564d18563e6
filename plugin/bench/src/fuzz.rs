//! Fuzz targets on stable Rust: proptest strategies feeding every decoder that reads input
//! from outside the process, with the properties each must keep.
//!
//! | target | input | property |
//! |---|---|---|
//! | `gw3-frames` | text: arbitrary, JSON of any shape, GW3-shaped objects, mutated real frames | `gw3::decode` never panics; a decoded message re-encodes and decodes to itself |
//! | `fdc3-frames` | the same with FDC3 message types | `fdc3::decode` likewise |
//! | `signatures` | arbitrary text, and signatures rendered from a generated type tree | `parse_signature` never panics and keeps the text; a rendered signature parses back to its tree |
//! | `worker-frames` | bytes on the worker's pipes, and generated `Done` outcomes | `read_frame` never panics in either direction; frames round-trip; the host renders any outcome |
//! | `mcp-tool-arguments` | `tools/call` of the three tools with arguments of any JSON shape | the MCP HTTP server answers every call (a result or a JSON-RPC error) and keeps serving |
//!
//! The same targets run two ways: [`Budget::Cases`] (the tests: a fixed number of cases,
//! failures shrunk by proptest) and [`Budget::Until`] (`codemode bench fuzz --seconds N`: as many
//! cases as fit, panics caught and counted), so CI runs exactly what the long run runs.

mod mcp;
mod strategies;

use std::{
    fmt::Write as _,
    panic::{AssertUnwindSafe, catch_unwind},
    time::{Duration, Instant},
};

use codemode_protocol::{
    fdc3, gw3,
    signature::{Param, parse_signature},
};
use proptest::{
    strategy::{Strategy, ValueTree as _},
    test_runner::{Config, TestCaseError, TestError, TestRunner},
};

use crate::sandbox::{
    Outcome,
    wire::{FromWorker, ToWorker, encode, read_frame},
};

pub use self::mcp::mcp_tool_arguments;

/// The longest frame the decoders are given (the adapters cap theirs the same way).
const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// How long a target runs.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// This many generated cases; a failure is shrunk and ends the run (tests).
    Cases(u32),
    /// As many cases as fit before this instant; panics are caught and counted (the bench).
    Until(Instant),
}

/// What one target did.
#[derive(Debug, Clone)]
pub struct TargetReport {
    /// The target's name.
    pub name: &'static str,
    /// Inputs decoded.
    pub executions: u64,
    /// Inputs on which the code under test panicked.
    pub panics: u64,
    /// Inputs that broke a property without panicking.
    pub violations: u64,
    /// The first failure, with its (shrunk, under [`Budget::Cases`]) input.
    pub first_failure: Option<String>,
    /// How long the target ran.
    pub elapsed: Duration,
}

impl TargetReport {
    /// True when nothing panicked and every property held.
    pub fn clean(&self) -> bool {
        self.panics == 0 && self.violations == 0
    }
}

/// Runs every target, giving each an equal share of `total` (the MCP one needs `worker`).
pub async fn fuzz(
    total: Duration,
    worker: crate::sandbox::WorkerCommand,
) -> Result<Vec<TargetReport>, crate::BenchError> {
    let share = total / 5;
    let mut reports = Vec::new();
    for target in [gw3_frames, fdc3_frames, signatures, worker_frames] {
        let deadline = Instant::now() + share;
        reports.push(
            tokio::task::spawn_blocking(move || target(Budget::Until(deadline)))
                .await
                .map_err(|error| crate::BenchError::Scenario {
                    what: format!("a fuzz target's thread failed: {error}"),
                })?,
        );
    }
    reports.push(mcp_tool_arguments(Budget::Until(Instant::now() + share), worker).await?);
    Ok(reports)
}

/// The table of [`fuzz`].
pub fn render_fuzz(reports: &[TargetReport]) -> String {
    let mut table = String::from(
        "| target | executions | per second | panics | property violations | first failure |\n\
         |---|---:|---:|---:|---:|---|\n",
    );
    for report in reports {
        let seconds = report.elapsed.as_secs_f64().max(1e-9);
        #[expect(
            clippy::cast_precision_loss,
            reason = "an execution count far below 2^52"
        )]
        let rate = report.executions as f64 / seconds;
        let _ = writeln!(
            table,
            "| {} | {} | {rate:.0} | {} | {} | {} |",
            report.name,
            report.executions,
            report.panics,
            report.violations,
            report
                .first_failure
                .as_deref()
                .unwrap_or("—")
                .replace('|', "\\|"),
        );
    }
    table
}

/// GW3 frames: never a panic; what decodes re-encodes to the same message.
pub fn gw3_frames(budget: Budget) -> TargetReport {
    drive(
        "gw3-frames",
        strategies::frame_text(
            strategies::GW3_TYPES.as_slice(),
            strategies::GW3_KEYS,
            strategies::GW3_SEEDS,
        ),
        |text| {
            let Ok(message) = gw3::decode(&text, MAX_FRAME_BYTES) else {
                return Ok(());
            };
            unchanged_by_round_trip(
                &message,
                gw3::decode(&gw3::encode(&message), MAX_FRAME_BYTES),
            )
        },
        budget,
    )
}

/// Whether `again`, a decoded message's re-encoding decoded once more, is that message.
fn unchanged_by_round_trip<M: PartialEq + std::fmt::Debug, E: std::fmt::Display>(
    message: &M,
    again: Result<M, E>,
) -> Result<(), String> {
    let again = again.map_err(|error| format!("re-encoded frame does not decode: {error}"))?;
    if again == *message {
        Ok(())
    } else {
        Err(format!("round trip changed {message:?} into {again:?}"))
    }
}

/// FDC3 frames: never a panic; what decodes re-encodes to the same message.
pub fn fdc3_frames(budget: Budget) -> TargetReport {
    drive(
        "fdc3-frames",
        strategies::frame_text(
            strategies::FDC3_TYPES,
            strategies::FDC3_KEYS,
            strategies::FDC3_SEEDS,
        ),
        |text| {
            let Ok(message) = fdc3::decode(&text, MAX_FRAME_BYTES) else {
                return Ok(());
            };
            // What the adapter does next with any message: read its error and payload.
            let _ = message.error();
            let _ = message.payload_as::<fdc3::IntentResult>();
            unchanged_by_round_trip(
                &message,
                fdc3::decode(&fdc3::encode(&message), MAX_FRAME_BYTES),
            )
        },
        budget,
    )
}

/// The signature grammar: never a panic on any text; generated signatures parse back.
pub fn signatures(budget: Budget) -> TargetReport {
    drive(
        "signatures",
        strategies::signature_case(),
        |case| {
            let parsed = parse_signature(&case.text);
            if parsed.raw != case.text {
                return Err("the raw text was not kept".into());
            }
            let _ = parsed.is_fully_typed();
            for param in &parsed.params {
                let _ = param.ty.describe();
            }
            let Some(expected) = case.expected else {
                return Ok(());
            };
            let got: Vec<Param> = parsed
                .params
                .into_iter()
                .map(strategies::without_raw)
                .collect();
            if got == expected {
                Ok(())
            } else {
                Err(format!("`{}` parsed as {got:?}", case.text))
            }
        },
        budget,
    )
}

/// The worker pipes: any bytes in either direction never panic the reader; frames round-trip;
/// the host renders whatever outcome a worker sends.
pub fn worker_frames(budget: Budget) -> TargetReport {
    drive(
        "worker-frames",
        strategies::worker_bytes(),
        |bytes| {
            let mut reader = bytes.as_slice();
            let mut buffer = Vec::new();
            for _ in 0..8 {
                match read_frame::<FromWorker>(&mut reader, &mut buffer) {
                    Ok(Some(frame)) => check_from_worker(&frame)?,
                    Ok(None) | Err(_) => break,
                }
            }
            let mut reader = bytes.as_slice();
            for _ in 0..8 {
                match read_frame::<ToWorker>(&mut reader, &mut buffer) {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            Ok(())
        },
        budget,
    )
}

/// A decoded worker frame re-encodes to itself, and a `Done` outcome renders.
fn check_from_worker(frame: &FromWorker) -> Result<(), String> {
    let line = encode(frame);
    let again: FromWorker = read_frame(&mut line.as_slice(), &mut Vec::new())
        .map_err(|error| format!("re-encoded frame does not decode: {error}"))?
        .ok_or("re-encoded frame is empty")?;
    if encode(&again) != line {
        return Err(format!("round trip changed {frame:?} into {again:?}"));
    }
    if let FromWorker::Done { outcome, .. } = frame {
        let outcome: &Outcome = outcome;
        let _ = crate::service::render_outcome(outcome);
    }
    Ok(())
}

/// Runs `property` on values of `strategy` within `budget`.
fn drive<S>(
    name: &'static str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), String>,
    budget: Budget,
) -> TargetReport
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    let mut report = TargetReport {
        name,
        executions: 0,
        panics: 0,
        violations: 0,
        first_failure: None,
        elapsed: Duration::ZERO,
    };
    match budget {
        Budget::Cases(cases) => {
            let mut runner = TestRunner::new(Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            });
            let executions = std::cell::Cell::new(0u64);
            let outcome = runner.run(&strategy, |value| {
                executions.set(executions.get() + 1);
                property(value).map_err(TestCaseError::fail)
            });
            report.executions = executions.get();
            if let Err(error) = outcome {
                let text = match error {
                    TestError::Abort(reason) => format!("aborted: {reason}"),
                    TestError::Fail(reason, input) => format!("{reason} on {input:?}"),
                };
                // proptest reports a panic as a failure whose reason names the panic.
                if text.contains("panicked") {
                    report.panics += 1;
                } else {
                    report.violations += 1;
                }
                report.first_failure = Some(text);
            }
        }
        Budget::Until(deadline) => {
            let mut runner = TestRunner::new(Config {
                failure_persistence: None,
                ..Config::default()
            });
            while Instant::now() < deadline {
                let Ok(tree) = strategy.new_tree(&mut runner) else {
                    continue;
                };
                report.executions += 1;
                // `current` builds the value again, so the input is shown only on a failure.
                match catch_unwind(AssertUnwindSafe(|| property(tree.current()))) {
                    Ok(Ok(())) => {}
                    Ok(Err(reason)) => {
                        report.violations += 1;
                        report
                            .first_failure
                            .get_or_insert_with(|| format!("{reason} on {:?}", tree.current()));
                    }
                    Err(_) => {
                        report.panics += 1;
                        report
                            .first_failure
                            .get_or_insert_with(|| format!("panicked on {:?}", tree.current()));
                    }
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    report
}
