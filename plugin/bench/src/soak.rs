//! Soak and load against a running `codemode serve --mock-bus --mcp http`, over loopback.
//!
//! [`ServeProcess`] starts the real binary and reads the URL it prints. [`load`] sends many MCP
//! clients' calls at once and checks each answer against its own input. [`soak`] keeps clients
//! busy (new sessions, snippets with bus calls, listings) for a while and samples the resident
//! memory and open files of the codemode process and of its workers; [`SoakReport::leaks`]
//! compares the second half of the run against the first.
//!
//! This file is compiled twice: into `codemode-bench` (`codemode bench soak`) and, by path,
//! into the product's tests (`plugin/tests/serve_load.rs`), so CI runs the same code as the long
//! run. It therefore uses only what both have: std, tokio, rmcp's client and serde_json.
//! Sampling reads `/proc`, so it measures on Linux only.

use std::{
    fmt::Write as _,
    path::Path,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rmcp::{
    ServiceExt as _,
    model::{CallToolRequestParams, CallToolResult},
    transport::StreamableHttpClientTransport,
};
use serde_json::{Map, Value, json};
use tokio::{
    io::{AsyncBufReadExt as _, BufReader},
    process::{Child, Command},
};

/// A running `codemode serve --mock-bus --mcp http` on a free loopback port; killed on drop.
pub(crate) struct ServeProcess {
    child: Child,
    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub(crate) url: String,
    /// The process id.
    pub(crate) pid: u32,
}

impl ServeProcess {
    /// Starts `codemode` with `serve --mock-bus --mcp http --listen 127.0.0.1:0` plus `extra`,
    /// and waits (up to two minutes) for the URL it prints once it listens.
    pub(crate) async fn start(codemode: &Path, extra: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(codemode)
            .args([
                "serve",
                "--mock-bus",
                "--mcp",
                "http",
                "--listen",
                "127.0.0.1:0",
                "-q",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("starting {}: {error}", codemode.display()))?;
        let pid = child.id().ok_or("codemode serve exited at once")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let url = tokio::time::timeout(Duration::from_mins(2), async {
            BufReader::new(stdout).lines().next_line().await
        })
        .await
        .map_err(|_| "codemode serve printed no URL within 2 minutes".to_owned())?
        .map_err(|error| format!("reading codemode serve's stdout: {error}"))?
        .ok_or("codemode serve exited before printing its URL")?;
        Ok(Self { child, url, pid })
    }

    /// Stops the process.
    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// What [`load`] counted.
#[derive(Debug, Clone, Default)]
pub(crate) struct LoadReport {
    /// Calls sent.
    pub(crate) sent: u64,
    /// Calls whose answer was their own input echoed by the bus.
    pub(crate) right: u64,
    /// Calls answered with somebody else's input or a wrong value.
    pub(crate) wrong: Vec<String>,
    /// Calls that got no answer, an error, or a failed snippet.
    pub(crate) lost: Vec<String>,
    /// Wall time of the whole load.
    pub(crate) elapsed: Duration,
}

/// `clients` MCP clients at once (one session each), each making `calls` `execute_python_code`
/// calls in a row; every snippet sends its own text through a bus call
/// (`diagnostics.echo`) and returns it, and every answer is checked against what was sent.
pub(crate) async fn load(url: &str, clients: usize, calls: usize) -> LoadReport {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let url = url.to_owned();
            tokio::spawn(async move { one_client(&url, client, calls).await })
        })
        .collect();
    let mut report = LoadReport::default();
    for (client, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(part) => {
                report.sent += part.sent;
                report.right += part.right;
                report.wrong.extend(part.wrong);
                report.lost.extend(part.lost);
            }
            Err(error) => report
                .lost
                .push(format!("client {client}'s task failed: {error}")),
        }
    }
    report.elapsed = started.elapsed();
    report
}

async fn one_client(url: &str, client: usize, calls: usize) -> LoadReport {
    let mut report = LoadReport::default();
    codemode_adapters::tls::install_default_crypto_provider();
    let session = match ().serve(StreamableHttpClientTransport::from_uri(url)).await {
        Ok(session) => session,
        Err(error) => {
            report.sent = calls as u64;
            report
                .lost
                .push(format!("client {client} did not connect: {error}"));
            return report;
        }
    };
    for call in 0..calls {
        let text = format!("client {client} call {call}");
        report.sent += 1;
        match echo(&session, &text).await {
            Ok(answer) if answer == text => report.right += 1,
            Ok(answer) => report
                .wrong
                .push(format!("{text:?} came back as {answer:?}")),
            Err(error) => report.lost.push(format!("{text:?}: {error}")),
        }
    }
    let _ = session.cancel().await;
    report
}

/// Runs a snippet that sends `text` through `diagnostics.echo` and returns it.
async fn echo(
    session: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    text: &str,
) -> Result<String, String> {
    let code = format!(
        "answer = diagnostics.echo(text={})\nresult = answer['text']",
        Value::from(text)
    );
    let mut arguments = Map::new();
    arguments.insert("code".into(), Value::from(code));
    let result: CallToolResult = session
        .call_tool(CallToolRequestParams::new("execute_python_code").with_arguments(arguments))
        .await
        .map_err(|error| format!("no answer: {error}"))?;
    let outcome = result.structured_content.unwrap_or(Value::Null);
    if result.is_error == Some(true) || outcome["ok"] != json!(true) {
        return Err(format!("the snippet failed: {outcome}"));
    }
    outcome["result"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no text result: {outcome}"))
}

/// One sample of the server's resources.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sample {
    /// Since the soak started.
    pub(crate) at: Duration,
    /// The codemode process's resident memory, KiB.
    pub(crate) main_rss_kib: u64,
    /// Its open files.
    pub(crate) main_files: u64,
    /// Worker processes alive.
    pub(crate) workers: u64,
    /// Their resident memory together, KiB.
    pub(crate) workers_rss_kib: u64,
    /// Their open files together.
    pub(crate) workers_files: u64,
}

/// What [`soak`] saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct SoakReport {
    /// One sample per interval.
    pub(crate) samples: Vec<Sample>,
    /// MCP sessions opened and closed.
    pub(crate) sessions: u64,
    /// Calls answered right.
    pub(crate) calls_right: u64,
    /// Calls lost or answered wrong, with the first few reasons.
    pub(crate) calls_failed: u64,
    /// The first failures.
    pub(crate) failures: Vec<String>,
}

/// How much the second half of a soak may exceed the first before it counts as a leak.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tolerance {
    /// Growth of the codemode process's median RSS, as a fraction of the first half's.
    pub(crate) main_rss_fraction: f64,
    /// Plus this much, KiB (allocator arenas settle during the first minutes).
    pub(crate) main_rss_slack_kib: u64,
    /// Open files above the first half's most, for the process and its workers each.
    pub(crate) files_slack: u64,
    /// Growth of the workers' median RSS together (they are recycled, so it is noisy).
    pub(crate) workers_rss_fraction: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self {
            main_rss_fraction: 0.10,
            main_rss_slack_kib: 8 * 1024,
            files_slack: 8,
            workers_rss_fraction: 0.5,
        }
    }
}

/// The two halves of a soak's samples (the first tenth is left out as warm-up).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Halves {
    /// Median main RSS, KiB: first half, second half.
    pub(crate) main_rss_kib: (u64, u64),
    /// Most main open files.
    pub(crate) main_files: (u64, u64),
    /// Median workers' RSS, KiB.
    pub(crate) workers_rss_kib: (u64, u64),
    /// Most workers' open files.
    pub(crate) workers_files: (u64, u64),
}

impl SoakReport {
    /// The halves compared by [`SoakReport::leaks`].
    pub(crate) fn halves(&self) -> Halves {
        let skip = self.samples.len() / 10;
        let rest = self.samples.get(skip..).unwrap_or_default();
        let (first, second) = rest.split_at(rest.len() / 2);
        let median = |half: &[Sample], field: fn(&Sample) -> u64| {
            let mut values: Vec<u64> = half.iter().map(field).collect();
            values.sort_unstable();
            values.get(values.len() / 2).copied().unwrap_or(0)
        };
        let most =
            |half: &[Sample], field: fn(&Sample) -> u64| half.iter().map(field).max().unwrap_or(0);
        Halves {
            main_rss_kib: (
                median(first, |s| s.main_rss_kib),
                median(second, |s| s.main_rss_kib),
            ),
            main_files: (
                most(first, |s| s.main_files),
                most(second, |s| s.main_files),
            ),
            workers_rss_kib: (
                median(first, |s| s.workers_rss_kib),
                median(second, |s| s.workers_rss_kib),
            ),
            workers_files: (
                most(first, |s| s.workers_files),
                most(second, |s| s.workers_files),
            ),
        }
    }

    /// What grew past `tolerance` from the first half to the second (empty: flat).
    pub(crate) fn leaks(&self, tolerance: Tolerance) -> Vec<String> {
        let halves = self.halves();
        let mut leaks = Vec::new();
        let grown = |(first, second): (u64, u64), fraction: f64, slack: u64| {
            #[expect(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "KiB counts far below 2^52; the fraction is small and positive"
            )]
            let allowed = first + (first as f64 * fraction) as u64 + slack;
            second > allowed
        };
        if self.samples.len() < 4 {
            leaks.push(format!("only {} samples", self.samples.len()));
        }
        if grown(
            halves.main_rss_kib,
            tolerance.main_rss_fraction,
            tolerance.main_rss_slack_kib,
        ) {
            leaks.push(format!(
                "codemode's RSS grew from {} to {} KiB",
                halves.main_rss_kib.0, halves.main_rss_kib.1
            ));
        }
        if grown(halves.main_files, 0.0, tolerance.files_slack) {
            leaks.push(format!(
                "codemode's open files grew from {} to {}",
                halves.main_files.0, halves.main_files.1
            ));
        }
        if grown(
            halves.workers_rss_kib,
            tolerance.workers_rss_fraction,
            tolerance.main_rss_slack_kib,
        ) {
            leaks.push(format!(
                "the workers' RSS grew from {} to {} KiB",
                halves.workers_rss_kib.0, halves.workers_rss_kib.1
            ));
        }
        if grown(halves.workers_files, 0.0, tolerance.files_slack) {
            leaks.push(format!(
                "the workers' open files grew from {} to {}",
                halves.workers_files.0, halves.workers_files.1
            ));
        }
        leaks
    }
}

/// Keeps `clients` clients busy against `server` for `duration`, sampling every `every`. Each
/// client opens a session, makes five calls (echo snippets checked against their input, a
/// listing), closes it, and starts again.
pub(crate) async fn soak(
    server: &ServeProcess,
    clients: usize,
    duration: Duration,
    every: Duration,
) -> SoakReport {
    let started = Instant::now();
    let deadline = started + duration;
    let sessions = Arc::new(AtomicU64::new(0));
    let right = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(tokio::sync::Mutex::new((0u64, Vec::<String>::new())));
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let url = server.url.clone();
            let (sessions, right, failures) = (
                Arc::clone(&sessions),
                Arc::clone(&right),
                Arc::clone(&failures),
            );
            tokio::spawn(async move {
                let mut round = 0u64;
                while Instant::now() < deadline {
                    round += 1;
                    let failed = soak_round(&url, client, round, &right).await;
                    sessions.fetch_add(1, Ordering::Relaxed);
                    if let Some(reason) = failed {
                        let mut failures = failures.lock().await;
                        failures.0 += 1;
                        if failures.1.len() < 5 {
                            failures.1.push(reason);
                        }
                    }
                }
            })
        })
        .collect();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(every);
    while Instant::now() < deadline {
        tick.tick().await;
        let (pid, at) = (server.pid, started.elapsed());
        if let Ok(taken) = tokio::task::spawn_blocking(move || sample(pid, at)).await {
            samples.push(taken);
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    let (calls_failed, failures) = std::mem::take(&mut *failures.lock().await);
    SoakReport {
        samples,
        sessions: sessions.load(Ordering::Relaxed),
        calls_right: right.load(Ordering::Relaxed),
        calls_failed,
        failures,
    }
}

/// One session of a soak client; the first failure, if any.
async fn soak_round(url: &str, client: usize, round: u64, right: &AtomicU64) -> Option<String> {
    codemode_adapters::tls::install_default_crypto_provider();
    let session = match ().serve(StreamableHttpClientTransport::from_uri(url)).await {
        Ok(session) => session,
        Err(error) => return Some(format!("client {client} did not connect: {error}")),
    };
    let mut failed = None;
    for call in 0..4 {
        let text = format!("soak {client}.{round}.{call}");
        match echo(&session, &text).await {
            Ok(answer) if answer == text => {
                right.fetch_add(1, Ordering::Relaxed);
            }
            Ok(answer) => {
                failed.get_or_insert(format!("{text:?} came back as {answer:?}"));
            }
            Err(error) => {
                failed.get_or_insert(format!("{text:?}: {error}"));
            }
        }
    }
    let mut arguments = Map::new();
    arguments.insert("query".into(), json!("client adviser"));
    match session
        .call_tool(CallToolRequestParams::new("list_python_definitions").with_arguments(arguments))
        .await
    {
        Ok(result) if result.is_error != Some(true) => {
            right.fetch_add(1, Ordering::Relaxed);
        }
        Ok(result) => {
            failed.get_or_insert(format!("listing failed: {:?}", result.content));
        }
        Err(error) => {
            failed.get_or_insert(format!("listing got no answer: {error}"));
        }
    }
    let _ = session.cancel().await;
    failed
}

/// The resident memory and open files of `pid` and of its child processes (the workers).
fn sample(pid: u32, at: Duration) -> Sample {
    let mut sample = Sample {
        at,
        main_rss_kib: rss_kib(pid),
        main_files: open_files(pid),
        ..Sample::default()
    };
    for child in children(pid) {
        sample.workers += 1;
        sample.workers_rss_kib += rss_kib(child);
        sample.workers_files += open_files(child);
    }
    sample
}

/// `VmRSS` of `/proc/<pid>/status`, KiB (0 when unreadable).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmRSS:")
                    .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// Entries of `/proc/<pid>/fd` (0 when unreadable).
fn open_files(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |entries| entries.count() as u64)
}

/// Processes whose parent is `pid` (from `/proc/*/stat`).
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&candidate| {
            std::fs::read_to_string(format!("/proc/{candidate}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
                    let after = stat.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// The soak's table: the halves side by side and the traffic.
pub(crate) fn render_soak(report: &SoakReport, tolerance: Tolerance) -> String {
    let halves = report.halves();
    let mut table = String::from("| measure | first half | second half |\n|---|---:|---:|\n");
    let rows = [
        ("codemode RSS, median (MiB)", halves.main_rss_kib, true),
        ("codemode open files, most", halves.main_files, false),
        (
            "workers' RSS together, median (MiB)",
            halves.workers_rss_kib,
            true,
        ),
        (
            "workers' open files together, most",
            halves.workers_files,
            false,
        ),
    ];
    for (name, (first, second), mib) in rows {
        if mib {
            #[expect(clippy::cast_precision_loss, reason = "KiB counts far below 2^52")]
            let (first, second) = (first as f64 / 1024.0, second as f64 / 1024.0);
            let _ = writeln!(table, "| {name} | {first:.1} | {second:.1} |");
        } else {
            let _ = writeln!(table, "| {name} | {first} | {second} |");
        }
    }
    let most_workers = report.samples.iter().map(|s| s.workers).max().unwrap_or(0);
    let seconds = report.samples.last().map_or(0.0, |s| s.at.as_secs_f64());
    let leaks = report.leaks(tolerance);
    let _ = write!(
        table,
        "\n{seconds:.0} s, {} samples, {} MCP sessions, {} calls right, {} failed, at most {} \
         workers; {}",
        report.samples.len(),
        report.sessions,
        report.calls_right,
        report.calls_failed,
        most_workers,
        if leaks.is_empty() {
            "flat within tolerance".to_owned()
        } else {
            format!("LEAK: {}", leaks.join("; "))
        }
    );
    if !report.failures.is_empty() {
        let _ = write!(table, "\nfirst failures: {}", report.failures.join("; "));
    }
    table
}
