//! Measurements for the benchmark: the warm-pool round trip of a trivial snippet, the cost of
//! one bus call inside a snippet beyond the bus itself, and a data-crunching snippet.
//!
//! Call [`measure`] on a warmed-up [`Sandbox`]; it uses an in-memory host that answers at
//! once, so every microsecond it reports is the sandbox's own.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Value, json};

use codemode_sandbox::{FunctionSet, FunctionSpec, HostCall, HostCallError, HostCalls, Sandbox};

/// The data-crunching snippet used for timing comparisons (1,000 rows built, filtered,
/// summed).
pub const CRUNCH_SNIPPET: &str = r#"rows = []
for i in range(1000):
    rows.append({"id": i, "name": f"item{i}", "price": i * 1.5,
                 "tags": ["a", "b"] if i % 3 == 0 else ["c"], "active": i % 2 == 0})
selected = [r for r in rows if r["active"] and "a" in r["tags"] and r["price"] > 100]
total = 0.0
for r in selected:
    total += r["price"]
result = {"count": len(selected), "total": total, "first": selected[0]["name"],
          "ids": [r["id"] for r in selected[:5]]}
"#;

/// Calls made by the call-overhead snippet.
const CALLS_PER_RUN: u32 = 100;

/// Medians and spreads, in microseconds unless named otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Runs per measurement.
    pub iterations: usize,
    /// `result = 1 + 1` from the warm pool: median round trip.
    pub trivial_p50_us: f64,
    /// Same, 90th percentile.
    pub trivial_p90_us: f64,
    /// One bus call inside a snippet, beyond the bus round trip (the host answers at once).
    pub call_overhead_us: f64,
    /// [`CRUNCH_SNIPPET`] from the warm pool: median round trip in milliseconds.
    pub crunch_p50_ms: f64,
}

/// Measures the three numbers over `iterations` runs each (after a short warm-up). Fails,
/// naming the snippet and its error, if any run does not succeed: a failing snippet is not
/// timed as if it had worked.
pub async fn measure(sandbox: &Sandbox, iterations: usize) -> Result<BenchReport, String> {
    let iterations = iterations.max(1);
    let functions = FunctionSet::new(vec![FunctionSpec::keyword_only("bench.echo", &["value"])]);
    let host: Arc<dyn HostCalls> = Arc::new(InstantHost);

    let trivial = timings(sandbox, "result = 1 + 1", &functions, &host, iterations).await?;
    let calls_source = format!(
        "total = 0\nfor i in range({CALLS_PER_RUN}):\n    total += bench.echo(value=i)[\"value\"]\nresult = total\n"
    );
    let loop_source = format!(
        "total = 0\nfor i in range({CALLS_PER_RUN}):\n    total += {{\"value\": i}}[\"value\"]\nresult = total\n"
    );
    let with_calls = timings(sandbox, &calls_source, &functions, &host, iterations).await?;
    let without_calls = timings(sandbox, &loop_source, &functions, &host, iterations).await?;
    let crunch = timings(sandbox, CRUNCH_SNIPPET, &functions, &host, iterations).await?;

    let overhead =
        (percentile(&with_calls, 0.5) - percentile(&without_calls, 0.5)) / f64::from(CALLS_PER_RUN);
    Ok(BenchReport {
        iterations,
        trivial_p50_us: percentile(&trivial, 0.5),
        trivial_p90_us: percentile(&trivial, 0.9),
        call_overhead_us: overhead.max(0.0),
        crunch_p50_ms: percentile(&crunch, 0.5) / 1000.0,
    })
}

async fn timings(
    sandbox: &Sandbox,
    source: &str,
    functions: &FunctionSet,
    host: &Arc<dyn HostCalls>,
    iterations: usize,
) -> Result<Vec<f64>, String> {
    let failed = |outcome: &codemode_sandbox::Outcome| {
        let first_line = source.lines().next().unwrap_or_default();
        format!(
            "the benchmark snippet `{first_line}…` failed: {:?}",
            outcome.error
        )
    };
    for _ in 0..3 {
        let outcome = sandbox.execute(source, functions, Arc::clone(host)).await;
        if !outcome.ok {
            return Err(failed(&outcome));
        }
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let outcome = sandbox.execute(source, functions, Arc::clone(host)).await;
        samples.push(micros(started.elapsed()));
        if !outcome.ok {
            return Err(failed(&outcome));
        }
    }
    Ok(samples)
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000_000.0
}

/// The value at quantile `q` (0..=1) of `samples`.
pub fn percentile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let last = sorted.len() - 1;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short sample list"
    )]
    let index = ((last as f64) * q.clamp(0.0, 1.0)).round() as usize;
    sorted[index.min(last)]
}

/// Echoes its arguments at once.
struct InstantHost;

#[async_trait]
impl HostCalls for InstantHost {
    async fn call(&self, call: HostCall) -> Result<Value, HostCallError> {
        Ok(json!(call.arguments))
    }
}
