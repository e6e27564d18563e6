//! Times data-sized snippets in the sandbox engine and in CPython (`python3`) side by side.
//!
//! `cargo run --release -p codemode-engine --example speed [-- --runs N]`: one engine, each
//! snippet run `N` times (default 3); the table shows the median wall time of the run (the
//! engine's own `duration_ms`; CPython: the same snippet timed with `time.perf_counter` in one
//! `python3` process, data setup included in both). `SPEED_ONLY=<text>` picks rows;
//! `SPEED_SNIPPET=<source>` runs one snippet and prints what it printed (for profiling).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line timing tool prints its table"
)]

use std::{process::Command, time::Duration};

use codemode_engine::{
    Completion, Engine, HostCall, HostPort, Limits, PortClosed, RunRequest, engine::EngineOptions,
};

/// The rows: a name and a snippet that builds its data and works on it.
const ROWS: &[(&str, &str)] = &[
    (
        "sort 100k ints",
        "import random\nrng = random.Random(7)\nxs = [rng.randrange(10**9) for _ in range(100_000)]\nresult = sorted(xs)[:3] and len(sorted(xs))",
    ),
    (
        "sort 100k dicts by key",
        "import random\nrng = random.Random(7)\nrows = [{'id': i, 'aum': rng.random() * 1e6} for i in range(100_000)]\nresult = sorted(rows, key=lambda r: r['aum'])[0]['id']",
    ),
    (
        "re.findall 50k lines",
        "import re\ntext = '\\n'.join(f'client {i}: aum={i * 37 % 10007} region=EU' for i in range(50_000))\nresult = len(re.findall(r'aum=(\\d+)', text))",
    ),
    (
        "json loads/dumps 10 MB",
        "import json\nrows = [{'id': i, 'name': f'client {i}', 'tags': ['a', 'b'], 'aum': i * 1.5, 'active': i % 2 == 0} for i in range(120_000)]\ntext = json.dumps(rows)\nback = json.loads(text)\nresult = [len(text) // 1_000_000, len(back)]",
    ),
    (
        "group-by 100k rows",
        "from collections import defaultdict\nrows = [{'region': ('EU', 'US', 'APAC')[i % 3], 'aum': i * 1.5} for i in range(100_000)]\ntotals = defaultdict(float)\nfor r in rows:\n    totals[r['region']] += r['aum']\nresult = sorted(totals.items())",
    ),
];

struct NoBus;

impl HostPort for NoBus {
    fn start(&mut self, _ticket: u64, _call: &HostCall) -> Result<(), PortClosed> {
        Err(PortClosed)
    }

    fn next_completion(&mut self, _timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        Err(PortClosed)
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn cpython_ms(source: &str, runs: usize) -> Option<f64> {
    let program = format!(
        "import time, statistics\nsource = {source:?}\ntimes = []\nfor _ in range({runs}):\n    \
         started = time.perf_counter()\n    exec(compile(source, '<snippet>', 'exec'), {{}})\n    \
         times.append((time.perf_counter() - started) * 1000)\nprint(statistics.median(times))\n"
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(program)
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn main() {
    let runs = std::env::args()
        .skip_while(|arg| arg != "--runs")
        .nth(1)
        .and_then(|value| value.parse().ok())
        .unwrap_or(3_usize);
    let only = std::env::var("SPEED_ONLY").ok();
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let mut engine = match Engine::new(&EngineOptions::default(), Box::new(NoBus)) {
                Ok(engine) => engine,
                Err(error) => return eprintln!("{error}"),
            };
            println!("| snippet | sandbox (ms) | CPython (ms) | ratio |");
            println!("|---|---:|---:|---:|");
            let limits = Limits {
                wall_time: Duration::from_mins(10),
                ..Limits::default()
            };
            let mut run_id = 0;
            if let Ok(source) = std::env::var("SPEED_SNIPPET") {
                let report = engine.run(&RunRequest {
                    run_id: 1,
                    source,
                    limits,
                    keep_state: false,
                });
                println!("{}\n{:?}", report.outcome.printed, report.outcome.error);
                return;
            }
            for (name, source) in ROWS {
                if only.as_deref().is_some_and(|only| !name.contains(only)) {
                    continue;
                }
                let mut times = Vec::new();
                for _ in 0..runs {
                    run_id += 1;
                    let report = engine.run(&RunRequest {
                        run_id,
                        source: (*source).to_owned(),
                        limits: limits.clone(),
                        keep_state: false,
                    });
                    if let Some(error) = &report.outcome.error {
                        eprintln!("{name}: {}: {}", error.kind, error.message);
                    }
                    times.push(report.outcome.duration_ms);
                }
                let sandbox = median(times);
                let cpython = cpython_ms(source, runs).unwrap_or(f64::NAN);
                println!(
                    "| {name} | {sandbox:.0} | {cpython:.0} | {:.1}× |",
                    sandbox / cpython
                );
            }
        });
    if let Ok(handle) = worker {
        let _ = handle.join();
    }
}
