//! Python at data size: snippets that sort, search, serialise and group 100,000 rows, timed in
//! the sandbox (through the warm pool, as `execute` runs them) and in CPython (`python3`) in the
//! same run, against the target of ≤ 5× CPython.
//!
//! Each row is a data setup (e.g. 100,000 random ints) and the operation it is named for (the
//! sort). Both sides run the same source, which times the operation with `time.perf_counter`;
//! the target applies to that time. The whole snippet, setup included, is shown beside it: the
//! sandbox's own `duration_ms` (compile + run inside the worker, no IPC) and `exec` of the
//! source in one `python3` process. Each row reports the median of `runs` repetitions.

use std::{fmt::Write as _, process::Command, sync::Arc, time::Duration};

use crate::{
    BenchError, CRUNCH_SNIPPET,
    perf::NoHost,
    sandbox::{FunctionSet, HostCalls, Limits, Sandbox, SandboxConfig, WorkerCommand},
};

/// The target: each data-size row within this factor of CPython.
const TARGET_RATIO: f64 = 5.0;

/// A row: its name, whether the ≤ 5× target applies, the snippet's data setup, and the
/// operation the row is named for.
const ROWS: &[(&str, bool, &str, &str)] = &[
    (
        "sort 100k ints",
        true,
        "import random\nrng = random.Random(7)\nxs = [rng.randrange(10**9) for _ in range(100_000)]",
        "result = sorted(xs)[:3] and len(sorted(xs))",
    ),
    (
        "sort 100k dicts by key",
        true,
        "import random\nrng = random.Random(7)\nrows = [{'id': i, 'aum': rng.random() * 1e6} for i in range(100_000)]",
        "result = sorted(rows, key=lambda r: r['aum'])[0]['id']",
    ),
    (
        "re.findall over 50k lines",
        true,
        "import re\ntext = '\\n'.join(f'client {i}: aum={i * 37 % 10007} region=EU' for i in range(50_000))",
        "result = len(re.findall(r'aum=(\\d+)', text))",
    ),
    (
        "json loads + dumps of 10 MB",
        true,
        "import json\nrows = [{'id': i, 'name': f'client {i}', 'tags': ['a', 'b'], 'aum': i * 1.5, 'active': i % 2 == 0} for i in range(120_000)]",
        "text = json.dumps(rows)\nback = json.loads(text)\nresult = [len(text) // 1_000_000, len(back)]",
    ),
    (
        "group-by over 100k rows",
        true,
        "from collections import defaultdict\nrows = [{'region': ('EU', 'US', 'APAC')[i % 3], 'aum': i * 1.5} for i in range(100_000)]",
        "totals = defaultdict(float)\nfor r in rows:\n    totals[r['region']] += r['aum']\nresult = sorted(totals.items())",
    ),
    ("crunch snippet (1,000 rows)", false, "", CRUNCH_SNIPPET),
];

/// The snippet of a row: its setup, then its operation timed with `time.perf_counter`, whose
/// milliseconds end up in `_operation_ms` (and are printed, so the sandbox reports them).
fn timed_source(setup: &str, operation: &str) -> String {
    format!(
        "{setup}\nimport time as _time\n_started = _time.perf_counter()\n{operation}\n\
         _operation_ms = (_time.perf_counter() - _started) * 1000\nprint(_operation_ms)\n"
    )
}

/// One measured row.
#[derive(Debug, Clone)]
pub struct PythonSpeedRow {
    /// What the snippet does.
    pub name: &'static str,
    /// Median sandbox time of the operation alone, in milliseconds.
    pub sandbox_ms: f64,
    /// Median CPython time of the operation alone, when `python3` ran it.
    pub cpython_ms: Option<f64>,
    /// Median sandbox time of the whole snippet (setup included).
    pub sandbox_total_ms: f64,
    /// Median CPython time of the whole snippet, when `python3` ran it.
    pub cpython_total_ms: Option<f64>,
    /// Whether the ≤ 5× target applies to this row.
    pub targeted: bool,
}

impl PythonSpeedRow {
    /// Sandbox time over CPython time.
    pub fn ratio(&self) -> Option<f64> {
        self.cpython_ms
            .filter(|cpython| *cpython > 0.0)
            .map(|cpython| self.sandbox_ms / cpython)
    }
}

/// Times every row whose name contains `only` (all rows when `None`), `runs` times each, in a
/// one-worker pool started from `worker`. Fails if a snippet fails: a failing snippet is not
/// timed as if it had worked.
pub async fn python_speed(
    worker: WorkerCommand,
    runs: usize,
    only: Option<&str>,
) -> Result<Vec<PythonSpeedRow>, BenchError> {
    let runs = runs.max(1);
    let mut config = SandboxConfig::new(worker);
    config.workers = 1;
    config.limits = Limits {
        wall_time: Duration::from_mins(5),
        memory_bytes: 2 << 30,
        ..Limits::default()
    };
    let pool = Sandbox::new(config);
    pool.warm_up().await.map_err(|error| BenchError::Raw {
        reason: format!("starting the sandbox worker: {error}"),
    })?;
    let functions = FunctionSet::empty();
    let host: Arc<dyn HostCalls> = Arc::new(NoHost);
    let mut rows = Vec::new();
    for (name, targeted, setup, operation) in ROWS {
        if only.is_some_and(|only| !name.contains(only)) {
            continue;
        }
        let source = timed_source(setup, operation);
        let mut operation_times = Vec::with_capacity(runs);
        let mut total_times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let outcome = pool.execute(&source, &functions, Arc::clone(&host)).await;
            let operation_ms = outcome.printed.trim().parse::<f64>().ok();
            match (outcome.ok, operation_ms) {
                (true, Some(operation_ms)) => operation_times.push(operation_ms),
                _ => {
                    return Err(BenchError::Raw {
                        reason: format!(
                            "the `{name}` snippet failed: {:?} (printed {:?})",
                            outcome.error, outcome.printed
                        ),
                    });
                }
            }
            total_times.push(outcome.duration_ms);
        }
        let cpython = cpython_ms(&source, runs);
        rows.push(PythonSpeedRow {
            name,
            sandbox_ms: median(operation_times),
            cpython_ms: cpython.map(|(operation, _)| operation),
            sandbox_total_ms: median(total_times),
            cpython_total_ms: cpython.map(|(_, total)| total),
            targeted: *targeted,
        });
    }
    Ok(rows)
}

/// The Markdown table of [`python_speed`]'s rows.
pub fn render_python_speed(rows: &[PythonSpeedRow]) -> String {
    let mut table = String::from(
        "| operation | sandbox | CPython | sandbox / CPython | target | met | whole snippet, setup included: sandbox / CPython |\n\
         |---|---:|---:|---:|---|---|---|\n",
    );
    for row in rows {
        let cpython = row
            .cpython_ms
            .map_or_else(|| "no python3".to_owned(), milliseconds);
        let ratio = row
            .ratio()
            .map_or_else(|| "–".to_owned(), |ratio| format!("{ratio:.2}×"));
        let (target, met) = match (row.targeted, row.ratio()) {
            (false, _) => ("–", "–"),
            (true, None) => ("≤ 5×", "not measured"),
            (true, Some(ratio)) if ratio <= TARGET_RATIO => ("≤ 5×", "yes"),
            (true, Some(_)) => ("≤ 5×", "**no**"),
        };
        let whole = format!(
            "{} / {}",
            milliseconds(row.sandbox_total_ms),
            row.cpython_total_ms
                .map_or_else(|| "–".to_owned(), milliseconds)
        );
        let _ = writeln!(
            table,
            "| {} | {} | {cpython} | {ratio} | {target} | {met} | {whole} |",
            row.name,
            milliseconds(row.sandbox_ms)
        );
    }
    table
}

/// `ms` for the table: whole milliseconds, with one decimal below 10 ms.
fn milliseconds(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The median of `values` (NaN for none).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The median times (operation, whole snippet) of `runs` executions of `source` in one
/// `python3` process, or `None` when `python3` is missing or failed. The snippet's own prints
/// go to a discarded buffer.
fn cpython_ms(source: &str, runs: usize) -> Option<(f64, f64)> {
    let program = format!(
        "import contextlib, io, time, statistics\nsource = {source:?}\noperation, total = [], []\n\
         for _ in range({runs}):\n    namespace = {{}}\n    started = time.perf_counter()\n    \
         with contextlib.redirect_stdout(io.StringIO()):\n        \
         exec(compile(source, '<snippet>', 'exec'), namespace)\n    \
         total.append((time.perf_counter() - started) * 1000)\n    \
         operation.append(namespace['_operation_ms'])\n\
         print(statistics.median(operation), statistics.median(total))\n"
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(program)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut numbers = text.split_whitespace().map(str::parse::<f64>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(operation)), Some(Ok(total))) => Some((operation, total)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sandbox_ms: f64, cpython_ms: Option<f64>, targeted: bool) -> PythonSpeedRow {
        PythonSpeedRow {
            name: "row",
            sandbox_ms,
            cpython_ms,
            sandbox_total_ms: sandbox_ms * 2.0,
            cpython_total_ms: cpython_ms.map(|ms| ms * 2.0),
            targeted,
        }
    }

    #[test]
    fn the_table_marks_rows_within_five_times_cpython_as_met_and_others_as_missed() {
        let table = render_python_speed(&[
            row(250.0, Some(50.0), true),
            row(252.0, Some(50.0), true),
            row(10.0, None, true),
            row(3.0, Some(1.0), false),
        ]);
        let lines: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(
            lines[0],
            "| row | 250 ms | 50 ms | 5.00× | ≤ 5× | yes | 500 ms / 100 ms |"
        );
        assert_eq!(
            lines[1],
            "| row | 252 ms | 50 ms | 5.04× | ≤ 5× | **no** | 504 ms / 100 ms |"
        );
        assert_eq!(
            lines[2],
            "| row | 10 ms | no python3 | – | ≤ 5× | not measured | 20 ms / – |"
        );
        assert_eq!(
            lines[3],
            "| row | 3.0 ms | 1.0 ms | 3.00× | – | – | 6.0 ms / 2.0 ms |"
        );
    }

    #[test]
    fn every_row_times_its_operation_in_python_that_cpython_accepts() {
        for (name, _, setup, operation) in ROWS {
            let source = timed_source(setup, operation);
            let Some((operation_ms, total_ms)) = cpython_ms(&source, 1) else {
                panic!("python3 could not run the `{name}` row:\n{source}");
            };
            assert!(
                operation_ms > 0.0 && operation_ms <= total_ms,
                "{name}: {operation_ms} ms of {total_ms} ms"
            );
        }
    }
}
