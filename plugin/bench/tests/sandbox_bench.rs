//! Sandbox speed (issue 5, item 10), without a bus: the warm-pool round trip of a trivial
//! snippet, the cost of one bus call inside a snippet beyond the bus itself, the data-crunching
//! snippet, and `gather` throughput from one snippet against a host that answers at once.
//!
//! `cargo test --release -p codemode-bench --test sandbox_bench -- --ignored --nocapture`

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use codemode::sandbox::{
    FunctionSet, FunctionSpec, HostCall, HostCallError, HostCalls, Limits, Sandbox, SandboxConfig,
    WorkerCommand,
};
use codemode_bench::sandbox_speed as bench;
use serde_json::{Value, json};

struct InstantHost;

#[async_trait]
impl HostCalls for InstantHost {
    async fn call(&self, call: HostCall) -> Result<Value, HostCallError> {
        Ok(json!(call.arguments))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn sandbox_speed() {
    let mut config = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode-bench"),
        ["sandbox-worker"],
    ));
    config.workers = 1;
    config.limits = Limits {
        max_bus_calls: 20_000,
        ..Limits::default()
    };
    let sandbox = Sandbox::new(config);
    sandbox.warm_up().await.expect("worker starts");
    let report = bench::measure(&sandbox, 200)
        .await
        .expect("every benchmark snippet succeeds");
    println!("{report:#?}");

    let functions = FunctionSet::new(vec![FunctionSpec::keyword_only("bench.echo", &["value"])]);
    let host: Arc<dyn HostCalls> = Arc::new(InstantHost);
    for calls in [1_000, 10_000] {
        let source = format!(
            "rows = gather(*[bench.echo(value=i) for i in range({calls})])\nresult = len(rows)"
        );
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let outcome = sandbox
                .execute(&source, &functions, Arc::clone(&host))
                .await;
            assert_eq!(outcome.result, json!(calls), "{:?}", outcome.error);
            times.push(started.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "gather of {calls} instant calls: median {median:?} ({:.0} calls/s)",
            f64::from(u32::try_from(calls).unwrap_or(0)) / median.as_secs_f64().max(1e-9)
        );
        assert!(median < Duration::from_secs(20));
    }
}
