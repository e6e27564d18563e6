//! Speed and memory of Code Mode (`codemode bench perf`), each against its target.
//!
//! - peak RSS of a Code Mode process serving a 10,000-method catalogue with its worker pool
//!   (the mock bus runs in a child process so it is not counted);
//! - warm `execute` round trip, in-process and over MCP HTTP (when the MCP module is built);
//! - bus calls per second from one snippet with `gather` on the mock bus;
//! - on the real gateway (`tests/fixtures/ioconnect`, needs node): one bus call from a snippet
//!   against the real `@interopio/core` client invoking the same method on the same gateway in
//!   the same run, and discovery time against apps next to the raw bootstrap;
//! - interpreter speed against the `monty` crate on the same snippet (feature `monty`).
//!
//! Every figure is the median with the min–max range over repeated runs.

use std::{
    fmt::Write as _,
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use codemode_adapters::{
    Bus, CallOptions, Target,
    ioconnect::{IoConnectBus, IoConnectConfig},
};
use codemode_protocol::gw3::Authentication;
use rmcp::{
    ServiceExt as _, model::CallToolRequestParams, transport::StreamableHttpClientTransport,
};
use serde_json::{Map, Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use super::{BenchError, DiscoveryRow, Summary, discovery, discovery_at, render_discovery};
use crate::process_memory::{process_memory, worker_memory};
use crate::{
    catalogue::ListRequest,
    mcp::{McpHttpOptions, start_http},
    mock_bus::MockBusConfig,
    sandbox::{Limits, SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions, render_outcome},
};

/// The snippet timed against monty (pure Python: build, filter and sum 1,000 rows).
pub use crate::sandbox_speed::CRUNCH_SNIPPET;

/// What [`perf`] measures.
#[derive(Debug, Clone)]
pub struct PerfConfig {
    /// How to start sandbox workers (`codemode sandbox-worker`).
    pub worker: WorkerCommand,
    /// How to start a standalone mock bus (`codemode mock-bus`), for the memory measurement;
    /// `--listen 127.0.0.1:0 --apps N` is appended.
    pub mock_bus: WorkerCommand,
    /// Repetitions of every timed measurement.
    pub runs: usize,
    /// Methods in the catalogue of the memory measurement.
    pub rss_methods: usize,
    /// Synthetic app counts of the discovery measurement.
    pub discovery_apps: Vec<usize>,
    /// The io.Connect fixture (`tests/fixtures/ioconnect`); `None` skips the real gateway.
    pub fixture: Option<PathBuf>,
    /// Only these sections (empty: all): `memory`, `mock-bus`, `gateway`, `discovery`,
    /// `catalogue`, `overhead`, `interpreter`.
    pub only: Vec<String>,
}

impl PerfConfig {
    fn runs_section(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|only| only == section)
    }
}

/// One measured figure against its target.
#[derive(Debug, Clone)]
pub struct PerfRow {
    /// What was measured.
    pub measurement: String,
    /// The figure (median with min–max, or a value).
    pub result: String,
    /// The target, if the issue sets one.
    pub target: String,
    /// Whether the target is met (`None`: no target, or not measured).
    pub met: Option<bool>,
    /// How it was measured, or why it was skipped.
    pub note: String,
}

/// Everything [`perf`] measured.
#[derive(Debug, Clone, Default)]
pub struct PerfReport {
    /// The figures against their targets.
    pub rows: Vec<PerfRow>,
    /// Discovery on the mock bus.
    pub discovery_mock: Vec<DiscoveryRow>,
    /// Discovery on the real gateway (empty when skipped; see the rows' notes).
    pub discovery_real: Vec<DiscoveryRow>,
}

/// Runs every measurement. Parts that cannot run here (no node, no fixture) become rows with
/// a note instead of failing the whole run.
pub async fn perf(config: &PerfConfig) -> Result<PerfReport, BenchError> {
    let runs = config.runs.max(3);
    let mut report = PerfReport::default();
    // First, while this process is still small: its peak RSS is the measurement.
    if config.runs_section("memory") {
        report.rows.extend(memory(config).await?);
    }
    if config.runs_section("mock-bus") {
        report.rows.extend(mock_bus_timings(config, runs).await?);
    }
    if config.runs_section("gateway") {
        match real_gateway(config, runs).await {
            Ok(rows) => report.rows.extend(rows),
            Err(why) => report.rows.push(skipped(
                "bus call from a snippet vs. @interopio/core on the real gateway",
                "snippet ≤ 1.0× the JS client",
                &why,
            )),
        }
    }
    if config.runs_section("discovery") {
        report.discovery_mock = discovery(&config.discovery_apps, runs).await?;
        for row in &report.discovery_mock {
            report.rows.push(catalogue_ready_row("mock bus", row));
        }
        match real_discovery(config, runs).await {
            Ok(rows) => {
                for row in &rows {
                    report.rows.push(catalogue_ready_row("real gateway", row));
                }
                report.discovery_real = rows;
            }
            Err(why) => report.rows.push(skipped(
                "discovery on the real gateway",
                "catalogue ready ≤ 1.2× raw bootstrap",
                &why,
            )),
        }
    }
    if config.runs_section("catalogue") {
        report
            .rows
            .extend(super::catalogue_speed::catalogue_speed(config.rss_methods, runs).await?);
    }
    if config.runs_section("overhead") {
        report.rows.push(call_overhead(config, runs).await);
    }
    if config.runs_section("interpreter") {
        report.rows.extend(interpreter(config, runs).await);
    }
    Ok(report)
}

/// The report as Markdown: the targets table, then both discovery tables.
pub fn render_perf(report: &PerfReport) -> String {
    let mut text = String::from(
        "| measurement | result: median (min–max) | target | met | how |\n|---|---|---|---|---|\n",
    );
    for row in &report.rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        let _ = writeln!(
            text,
            "| {} | {} | {} | {met} | {} |",
            row.measurement, row.result, row.target, row.note
        );
    }
    if !report.discovery_mock.is_empty() {
        text.push_str("\nDiscovery on the mock bus:\n\n");
        text.push_str(&render_discovery(&report.discovery_mock));
    }
    if !report.discovery_real.is_empty() {
        text.push_str(
            "\nDiscovery on the real gateway (`@glue42/gateway-web` + `@interopio` filler apps, \
             3–5 methods each):\n\n",
        );
        text.push_str(&render_discovery(&report.discovery_real));
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Memory

async fn memory(config: &PerfConfig) -> Result<Vec<PerfRow>, BenchError> {
    let apps = super::synthetic_apps_for(config.rss_methods);
    let mut child = Command::new(&config.mock_bus.program)
        .args(&config.mock_bus.args)
        .args(["--listen", "127.0.0.1:0", "--apps", &apps.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| BenchError::Fixture {
            reason: format!("starting the mock bus: {error}"),
        })?;
    let url = first_line(&mut child, Duration::from_mins(2)).await?;
    let measured = memory_at(config, url.trim()).await;
    let _ = child.kill().await;
    measured
}

async fn memory_at(config: &PerfConfig, url: &str) -> Result<Vec<PerfRow>, BenchError> {
    let adapter = IoConnectBus::connect(IoConnectConfig::new(
        url,
        Authentication::secret("bench", "bench"),
    ))
    .await?;
    let methods = adapter.catalogue().methods.len();
    let sandbox = SandboxConfig::new(config.worker.clone());
    let workers = sandbox.workers;
    let service = CodeMode::new(Arc::new(adapter), CodeModeConfig::new(sandbox))?;
    service.warm_up().await?;
    // Use it as a model would: list, search, stubs, snippets on every worker.
    let _ = service.list(&ListRequest::default());
    let _ = service.list(&ListRequest {
        query: Some("client risk exposure report".into()),
        ..ListRequest::default()
    });
    let _ = service.get(&[
        "crm.get_clients".to_owned(),
        "portfolio.get_holdings".to_owned(),
    ]);
    let snippet = "clients = crm.get_clients(adviser='M Carter')['clients']\n\
                   books = gather(*[portfolio.get_holdings(client_id=c['id']) for c in clients])\n\
                   result = sum(len(b['holdings']) for b in books)";
    let (first, second) = tokio::join!(
        service.execute(snippet, ExecuteOptions::default()),
        service.execute(snippet, ExecuteOptions::default())
    );
    if !first.ok || !second.ok {
        return Err(BenchError::Scenario {
            what: format!("memory snippet failed: {}", render_outcome(&first)),
        });
    }
    let own = process_memory(Path::new("/proc/self"));
    let children = worker_memory();
    service.bus().close().await;
    let target_bytes = 64 * 1024 * 1024;
    let mut rows = vec![PerfRow {
        measurement: format!(
            "peak RSS of the Code Mode process, {} methods",
            super::tokens::thousands(methods)
        ),
        result: format!(
            "{} peak (VmHWM), {} now (VmRSS)",
            mebibytes(own.peak),
            mebibytes(own.now)
        ),
        target: "≤ 64 MiB".into(),
        met: Some(own.peak <= target_bytes),
        note: "adapter + live catalogue + pool, after list, search, get and two snippets; the \
               mock bus runs in a child process"
            .into(),
    }];
    let worker_peak: u64 = children.iter().map(|child| child.peak).sum();
    rows.push(PerfRow {
        measurement: format!(
            "worker pool RSS ({} of {workers} workers seen)",
            children.len()
        ),
        result: format!(
            "{} peak in total ({} each)",
            mebibytes(worker_peak),
            children
                .iter()
                .map(|child| mebibytes(child.peak))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        target: "–".into(),
        met: None,
        note: "VmHWM of each `sandbox-worker` child process".into(),
    });
    let worst_unshared = children
        .iter()
        .map(|child| child.unshared)
        .max()
        .unwrap_or(0);
    rows.push(PerfRow {
        measurement: "unshared memory of an idle warm worker (USS)".into(),
        result: format!(
            "{} at most ({}; private dirty {})",
            mebibytes(worst_unshared),
            children
                .iter()
                .map(|child| mebibytes(child.unshared))
                .collect::<Vec<_>>()
                .join(", "),
            children
                .iter()
                .map(|child| mebibytes(child.private_dirty))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        target: "≤ 24 MiB each".into(),
        met: (!children.is_empty()).then_some(worst_unshared <= 24 * 1024 * 1024),
        note: "Private_Clean + Private_Dirty of each `sandbox-worker` child's \
               /proc/<pid>/smaps_rollup after the snippets, with the catalogue's functions \
               installed; what one more worker adds"
            .into(),
    });
    rows.push(PerfRow {
        measurement: "process + worker pool".into(),
        result: mebibytes(own.peak + worker_peak),
        target: "≤ 64 MB (if read as the total)".into(),
        met: Some(own.peak + worker_peak <= target_bytes),
        note: "sum of the peaks".into(),
    });
    Ok(rows)
}

#[expect(
    clippy::cast_precision_loss,
    reason = "memory sizes are far below 2^52"
)]
fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

// ---------------------------------------------------------------------------------------------
// Mock bus timings

async fn mock_bus_timings(config: &PerfConfig, runs: usize) -> Result<Vec<PerfRow>, BenchError> {
    // 10,000 calls in flight at once are more replies than the default per-connection queue
    // (1,024 batches) holds before the bus drops the reader as a slow consumer.
    let (bus, adapter) = super::attached_mock_bus(MockBusConfig {
        outbound_queue: 16_384,
        ..MockBusConfig::default()
    })
    .await?;
    let mut sandbox = SandboxConfig::new(config.worker.clone());
    sandbox.limits = Limits {
        max_bus_calls: 20_000,
        ..Limits::default()
    };
    let service = Arc::new(CodeMode::new(
        Arc::new(adapter),
        CodeModeConfig::new(sandbox),
    )?);
    service.warm_up().await?;
    let mut rows = Vec::new();

    let trivial = timed("result = 1 + 1", runs.max(200), 20, || async {
        let outcome = service
            .execute("result = 1 + 1", ExecuteOptions::default())
            .await;
        outcome.ok
    })
    .await?;
    rows.push(PerfRow {
        measurement: "warm execute round trip, in-process (`result = 1 + 1`)".into(),
        result: trivial.render(),
        target: "≤ 1 ms p50".into(),
        met: Some(trivial.median <= Duration::from_millis(1)),
        note: format!(
            "`CodeMode::execute` on a warm pool of 2 workers, {} runs",
            trivial.runs
        ),
    });
    rows.push(mcp_http_row(&service, runs.max(200)).await);

    for calls in [1_000_usize, 10_000] {
        let snippet = format!(
            "found = gather(*[crm.get_client(client_id='c-001') for i in range({calls})])\n\
             result = len(found)"
        );
        let summary = timed(&snippet, runs, 1, || async {
            let outcome = service.execute(&snippet, ExecuteOptions::default()).await;
            outcome.ok && outcome.result == json!(calls)
        })
        .await?;
        rows.push(PerfRow {
            measurement: format!(
                "bus calls per second, one snippet, `gather` of {} calls (mock bus)",
                super::tokens::thousands(calls)
            ),
            result: format!(
                "{} calls/s ({}–{}); run {}",
                rate(calls, summary.median),
                rate(calls, summary.max),
                rate(calls, summary.min),
                summary.render()
            ),
            target: "≥ 10,000 calls/s".into(),
            met: Some(calls_per_second(calls, summary.median) >= 10_000.0),
            note: "`CRM.GetClient` through the adapter and the in-process mock bus (outbound \
                   queue raised to 16,384 batches: with the default 1,024 a gather of 10,000 \
                   overflows it and the bus drops the client as a slow consumer)"
                .into(),
        });
    }
    service.bus().close().await;
    bus.shutdown().await;
    Ok(rows)
}

/// Warm execute over MCP streamable HTTP, measured with rmcp's own client (reqwest) against
/// the real server on a loopback port.
async fn mcp_http_row(service: &Arc<CodeMode>, runs: usize) -> PerfRow {
    const MEASUREMENT: &str = "warm execute round trip over MCP HTTP (`result = 1 + 1`)";
    const TARGET: &str = "≤ 2 ms p50";
    let options = McpHttpOptions {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        ..McpHttpOptions::default()
    };
    let server = match start_http(Arc::clone(service), options).await {
        Ok(server) => server,
        Err(error) => return skipped(MEASUREMENT, TARGET, &error.to_string()),
    };
    // rmcp's reqwest client takes the process's rustls provider (this build has only `ring`).
    codemode_adapters::tls::install_default_crypto_provider();
    let client = match ().serve(StreamableHttpClientTransport::from_uri(server.url())).await {
        Ok(client) => client,
        Err(error) => {
            let _ = server.shutdown().await;
            return skipped(MEASUREMENT, TARGET, &format!("MCP client: {error}"));
        }
    };
    let mut arguments = Map::new();
    arguments.insert("code".into(), json!("result = 1 + 1"));
    let measured = timed(MEASUREMENT, runs, 20, || async {
        client
            .call_tool(
                CallToolRequestParams::new("execute_python_code").with_arguments(arguments.clone()),
            )
            .await
            .is_ok_and(|result| result.is_error != Some(true))
    })
    .await;
    let _ = client.cancel().await;
    let _ = server.shutdown().await;
    match measured {
        Ok(summary) => PerfRow {
            measurement: MEASUREMENT.into(),
            result: summary.render(),
            target: TARGET.into(),
            met: Some(summary.median <= Duration::from_millis(2)),
            note: format!(
                "`tools/call` from rmcp's streamable HTTP client (reqwest) to `codemode::mcp` on \
                 127.0.0.1, one session, {} calls",
                summary.runs
            ),
        },
        Err(error) => skipped(MEASUREMENT, TARGET, &error.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// The real gateway

/// A running `node run.js`; killed on drop.
struct Fixture {
    child: Child,
    url: String,
    authentication: Authentication,
}

impl Fixture {
    async fn start(dir: &Path, filler: usize) -> Result<Self, String> {
        let mut command = Command::new("node");
        command
            .current_dir(dir)
            .arg("run.js")
            .args(["--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if filler > 0 {
            command.args(["--filler", &filler.to_string()]);
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("starting `node run.js`: {error}"))?;
        let line = first_line(&mut child, Duration::from_mins(5))
            .await
            .map_err(|error| error.to_string())?;
        let ready: Value = serde_json::from_str(line.trim())
            .map_err(|error| format!("the fixture's ready line `{line}`: {error}"))?;
        let text = |key: &str, default: &str| {
            ready
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        Ok(Self {
            url: text("url", ""),
            authentication: Authentication::secret(
                text("user", "codemode-test"),
                text("secret", "secret"),
            ),
            child,
        })
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Why the real gateway cannot be used here, if it cannot.
fn fixture_dir(config: &PerfConfig) -> Result<&Path, String> {
    let dir = config
        .fixture
        .as_deref()
        .ok_or_else(|| "skipped: no fixture directory given".to_owned())?;
    if !dir.join("run.js").is_file() {
        return Err(format!("skipped: {} has no run.js", dir.display()));
    }
    if !dir.join("node_modules/@interopio/core").is_dir() {
        return Err(format!(
            "skipped: the fixture's npm packages are missing (run {}/install.sh)",
            dir.display()
        ));
    }
    match std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => Ok(dir),
        _ => Err("skipped: node is not installed".to_owned()),
    }
}

async fn real_gateway(config: &PerfConfig, runs: usize) -> Result<Vec<PerfRow>, String> {
    let dir = fixture_dir(config)?;
    let fixture = Fixture::start(dir, 0).await?;
    let measured = real_gateway_at(config, dir, &fixture, runs).await;
    fixture.stop().await;
    measured
}

async fn real_gateway_at(
    config: &PerfConfig,
    dir: &Path,
    fixture: &Fixture,
    runs: usize,
) -> Result<Vec<PerfRow>, String> {
    const CALLS: usize = 200;
    const GATHERED: usize = 1_000;
    let adapter = IoConnectBus::connect(IoConnectConfig::new(
        fixture.url.clone(),
        fixture.authentication.clone(),
    ))
    .await
    .map_err(|error| error.to_string())?;
    let mut sandbox = SandboxConfig::new(config.worker.clone());
    sandbox.workers = 1;
    sandbox.limits.max_bus_calls = 5_000;
    let service = CodeMode::new(Arc::new(adapter), CodeModeConfig::new(sandbox))
        .map_err(|error| error.to_string())?;
    service.warm_up().await.map_err(|error| error.to_string())?;

    // A snippet calling one after another.
    let sequential = format!(
        "for i in range({CALLS}):\n    found = crm.get_client(client_id='c-001')\nresult = found['client']['name']"
    );
    let warm = service
        .execute(&sequential, ExecuteOptions::default())
        .await;
    if !warm.ok {
        return Err(format!(
            "the snippet failed on the real gateway: {}",
            render_outcome(&warm)
        ));
    }
    let snippet = timed("a snippet of sequential calls", runs, 0, || async {
        service
            .execute(&sequential, ExecuteOptions::default())
            .await
            .ok
    })
    .await
    .map_err(|error| error.to_string())?
    .per(CALLS);

    // The adapter alone, for the split between sandbox and bus.
    let bus = Arc::clone(service.bus());
    let mut arguments = Map::new();
    arguments.insert("clientId".into(), json!("c-001"));
    let adapter_only = timed("adapter calls", runs, 1, || async {
        for _ in 0..CALLS {
            if bus
                .invoke_one(
                    "CRM.GetClient",
                    arguments.clone(),
                    &Target::Best,
                    CallOptions::default(),
                )
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    })
    .await
    .map_err(|error| error.to_string())?
    .per(CALLS);

    let js = js_client(dir, fixture, CALLS, runs, false).await?;
    let ratio = snippet.median.as_secs_f64() / js.median.as_secs_f64().max(f64::EPSILON);
    let mut rows = vec![
        PerfRow {
            measurement: "one bus call from a snippet, real gateway (`CRM.GetClient`)".into(),
            result: format!("{} per call", snippet.render()),
            target: "≤ the JS client".into(),
            met: Some(ratio <= 1.0),
            note: format!(
                "{CALLS} sequential calls per snippet, per-call average of each run; ratio to \
                 @interopio/core: {ratio:.2}×"
            ),
        },
        PerfRow {
            measurement: "one bus call, real @interopio/core client, same gateway".into(),
            result: format!("{} per call", js.render()),
            target: "–".into(),
            met: None,
            note: format!(
                "`io.interop.invoke` ×{CALLS} one after another (`bench-invoke.js`, node)"
            ),
        },
        PerfRow {
            measurement: "one bus call, Rust adapter alone, same gateway".into(),
            result: format!("{} per call", adapter_only.render()),
            target: "–".into(),
            met: None,
            note: "`Bus::invoke_one` without the sandbox".into(),
        },
    ];

    let gathered = format!(
        "found = gather(*[crm.get_client(client_id='c-001') for i in range({GATHERED})])\nresult = len(found)"
    );
    let snippet_gather = timed("a gather on the real gateway", runs, 1, || async {
        service
            .execute(&gathered, ExecuteOptions::default())
            .await
            .ok
    })
    .await
    .map_err(|error| error.to_string())?;
    let js_gather = js_client(dir, fixture, GATHERED, runs, true).await?;
    rows.push(PerfRow {
        measurement: format!("bus calls per second, `gather` of {GATHERED}, real gateway"),
        result: format!(
            "snippet {} calls/s; @interopio/core `Promise.all` {} calls/s",
            rate(GATHERED, snippet_gather.median),
            rate(
                GATHERED,
                js_gather
                    .median
                    .saturating_mul(u32::try_from(GATHERED).unwrap_or(1))
            )
        ),
        target: "–".into(),
        met: None,
        note: "the same method, both clients on one gateway".into(),
    });
    service.bus().close().await;
    Ok(rows)
}

/// Runs `bench-invoke.js`; returns the per-call time of each run.
async fn js_client(
    dir: &Path,
    fixture: &Fixture,
    calls: usize,
    runs: usize,
    parallel: bool,
) -> Result<Summary, String> {
    let login = fixture.authentication.login.clone().unwrap_or_default();
    let secret = fixture.authentication.secret.clone().unwrap_or_default();
    let mut command = Command::new("node");
    command
        .current_dir(dir)
        .arg("bench-invoke.js")
        .args(["--url", &fixture.url, "--user", &login, "--secret", &secret])
        .args([
            "--method",
            "CRM.GetClient",
            "--args",
            r#"{"clientId":"c-001"}"#,
        ])
        .args(["--calls", &calls.to_string(), "--runs", &runs.to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if parallel {
        command.arg("--parallel");
    }
    let output = tokio::time::timeout(Duration::from_mins(5), command.output())
        .await
        .map_err(|_| "bench-invoke.js took over 5 minutes".to_owned())?
        .map_err(|error| format!("running bench-invoke.js: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|line| !line.trim().is_empty());
    let answer: Value = line
        .and_then(|line| serde_json::from_str(line).ok())
        .ok_or_else(|| format!("bench-invoke.js printed no JSON: {stdout}"))?;
    let per_call: Vec<Duration> = answer
        .get("runs")
        .and_then(Value::as_array)
        .map(|runs| {
            runs.iter()
                .filter_map(Value::as_f64)
                .map(|ms| Duration::from_secs_f64(ms / 1000.0))
                .collect()
        })
        .unwrap_or_default();
    if per_call.is_empty() {
        return Err(format!("bench-invoke.js failed: {answer}"));
    }
    Ok(Summary::of(&per_call))
}

async fn real_discovery(config: &PerfConfig, runs: usize) -> Result<Vec<DiscoveryRow>, String> {
    let dir = fixture_dir(config)?;
    let mut rows = Vec::new();
    for &apps in &config.discovery_apps {
        let fixture = Fixture::start(dir, apps).await?;
        let row = discovery_at(&fixture.url, &fixture.authentication, apps, runs).await;
        fixture.stop().await;
        rows.push(row.map_err(|error| error.to_string())?);
    }
    Ok(rows)
}

fn catalogue_ready_row(bus: &str, row: &DiscoveryRow) -> PerfRow {
    let ratio = row.catalogue_ratio();
    PerfRow {
        measurement: format!(
            "catalogue ready vs. raw bootstrap, {bus}, {} synthetic apps ({} methods)",
            super::tokens::thousands(row.apps),
            super::tokens::thousands(row.methods)
        ),
        result: format!(
            "{:.2}× ({} vs. {})",
            ratio,
            super::stats::millis(row.catalogue.median),
            super::stats::millis(row.raw.median)
        ),
        target: "≤ 1.2×".into(),
        met: Some(ratio <= 1.2),
        note: "adapter connect + Python catalogue build over a raw hello + join".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// The interpreter

async fn interpreter(config: &PerfConfig, runs: usize) -> Vec<PerfRow> {
    let runs = runs.max(20);
    let mut rows = Vec::new();
    let engine = tokio::task::spawn_blocking(move || rustpython_in_process(runs)).await;
    let rustpython = match &engine {
        Ok(Ok(summary)) => Some(*summary),
        _ => None,
    };
    match engine {
        Ok(Ok(summary)) => rows.push(PerfRow {
            measurement: "interpreter: RustPython in-process, crunch snippet".into(),
            result: summary.render(),
            target: "–".into(),
            met: None,
            note: "compile + run on one warm engine (1,000 rows built, filtered, summed)".into(),
        }),
        Ok(Err(why)) => rows.push(skipped("interpreter: RustPython in-process", "–", &why)),
        Err(error) => rows.push(skipped(
            "interpreter: RustPython in-process",
            "–",
            &error.to_string(),
        )),
    }
    let mut sandbox = SandboxConfig::new(config.worker.clone());
    sandbox.workers = 1;
    let pool = crate::sandbox::Sandbox::new(sandbox);
    if pool.warm_up().await.is_ok() {
        let functions = crate::sandbox::FunctionSet::empty();
        let host: Arc<dyn crate::sandbox::HostCalls> = Arc::new(NoHost);
        if let Ok(summary) = timed("the crunch snippet", runs, 3, || async {
            pool.execute(CRUNCH_SNIPPET, &functions, Arc::clone(&host))
                .await
                .ok
        })
        .await
        {
            rows.push(PerfRow {
                measurement: "interpreter: RustPython through the warm pool, crunch snippet".into(),
                result: summary.render(),
                target: "–".into(),
                met: None,
                note: "the same snippet as an `execute` round trip (IPC included)".into(),
            });
        }
    }
    let (monty, monty_summary) = monty_row(runs).await;
    rows.push(monty);
    rows.push(match (rustpython, monty_summary) {
        (Some(rustpython), Some(monty)) => {
            let ratio = rustpython.median.as_secs_f64() / monty.median.as_secs_f64().max(1e-9);
            PerfRow {
                measurement: "interpreter: RustPython over monty, crunch snippet".into(),
                result: format!("{ratio:.2}×"),
                target: "≤ 1.5×".into(),
                met: Some(ratio <= 1.5),
                note: "ratio of the in-process medians above, same source, same run".into(),
            }
        }
        _ => skipped(
            "interpreter: RustPython over monty, crunch snippet",
            "≤ 1.5×",
            "needs both interpreters' timings (see the rows above)",
        ),
    });
    rows
}

/// The cost of one bus call inside a snippet beyond the bus round trip: a snippet making 100
/// calls to a host that answers at once, against the same loop without calls.
async fn call_overhead(config: &PerfConfig, runs: usize) -> PerfRow {
    const MEASUREMENT: &str = "one bus call inside a snippet, beyond the bus round trip";
    const TARGET: &str = "≤ 50 µs";
    let mut sandbox = SandboxConfig::new(config.worker.clone());
    sandbox.workers = 1;
    let pool = crate::sandbox::Sandbox::new(sandbox);
    if let Err(error) = pool.warm_up().await {
        return skipped(MEASUREMENT, TARGET, &error.to_string());
    }
    match crate::sandbox_speed::measure(&pool, runs.max(50)).await {
        Ok(report) => PerfRow {
            measurement: MEASUREMENT.into(),
            result: format!("{:.1} µs", report.call_overhead_us),
            target: TARGET.into(),
            met: Some(report.call_overhead_us <= 50.0),
            note: format!(
                "(median of 100 calls to an instant host − median of the same loop without calls) \
                 / 100, through the warm pool, {} runs each; trivial round trip on the same pool \
                 {:.0} µs p50",
                report.iterations, report.trivial_p50_us
            ),
        },
        Err(why) => skipped(MEASUREMENT, TARGET, &why),
    }
}

/// A host that has no functions (the crunch snippet calls none).
pub(crate) struct NoHost;

#[async_trait::async_trait]
impl crate::sandbox::HostCalls for NoHost {
    async fn call(
        &self,
        _call: crate::sandbox::HostCall,
    ) -> Result<Value, crate::sandbox::HostCallError> {
        Ok(Value::Null)
    }
}

/// A port for snippets that make no bus calls.
struct NoPort;

impl crate::sandbox::HostPort for NoPort {
    fn start(
        &mut self,
        _ticket: u64,
        _call: &crate::sandbox::HostCall,
    ) -> Result<(), crate::sandbox::PortClosed> {
        Err(crate::sandbox::PortClosed)
    }

    fn next_completion(
        &mut self,
        _timeout: Duration,
    ) -> Result<Option<crate::sandbox::Completion>, crate::sandbox::PortClosed> {
        Err(crate::sandbox::PortClosed)
    }
}

fn rustpython_in_process(runs: usize) -> Result<Summary, String> {
    let mut engine = crate::sandbox::Engine::new(
        &crate::sandbox::engine::EngineOptions::default(),
        Box::new(NoPort),
    )
    .map_err(|error| error.to_string())?;
    let mut samples = Vec::with_capacity(runs);
    for run in 0..runs + 3 {
        let request = crate::sandbox::RunRequest {
            run_id: u64::try_from(run).unwrap_or(u64::MAX - 1) + 1,
            source: CRUNCH_SNIPPET.to_owned(),
            limits: Limits::default(),
            keep_state: false,
        };
        let started = Instant::now();
        let report = engine.run(&request);
        let elapsed = started.elapsed();
        if !report.outcome.ok {
            return Err(format!(
                "the crunch snippet failed: {:?}",
                report.outcome.error
            ));
        }
        if run >= 3 {
            samples.push(elapsed);
        }
    }
    Ok(Summary::of(&samples))
}

#[cfg(feature = "monty")]
async fn monty_row(runs: usize) -> (PerfRow, Option<Summary>) {
    match tokio::task::spawn_blocking(move || monty_crunch(runs)).await {
        Ok(Ok(summary)) => (
            PerfRow {
                measurement: "interpreter: monty 0.0.23 in-process, crunch snippet".into(),
                result: summary.render(),
                target: "–".into(),
                met: None,
                note: "`MontyRun::new` (parse) + `run`, no limits, the same source".into(),
            },
            Some(summary),
        ),
        Ok(Err(why)) => (skipped("interpreter: monty", "–", &why), None),
        Err(error) => (skipped("interpreter: monty", "–", &error.to_string()), None),
    }
}

#[cfg(feature = "monty")]
fn monty_crunch(runs: usize) -> Result<Summary, String> {
    let source = format!("{CRUNCH_SNIPPET}\nresult\n");
    let mut samples = Vec::with_capacity(runs);
    for run in 0..runs + 3 {
        let started = Instant::now();
        let program =
            monty::MontyRun::new(source.clone(), "crunch.py", Vec::new(), Default::default())
                .map_err(|error| format!("monty rejected the snippet: {error:?}"))?;
        program
            .run_no_limits(Vec::new())
            .map_err(|error| format!("monty failed: {error:?}"))?;
        if run >= 3 {
            samples.push(started.elapsed());
        }
    }
    Ok(Summary::of(&samples))
}

#[cfg(not(feature = "monty"))]
#[expect(clippy::unused_async, reason = "the same signature as the monty build")]
async fn monty_row(_runs: usize) -> (PerfRow, Option<Summary>) {
    (
        skipped(
            "interpreter: monty, crunch snippet",
            "–",
            "not compiled in: build with `--features monty` (monty 0.0.23 is the last release \
             that builds on rustc 1.95; 1.x needs 1.96)",
        ),
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// Helpers

impl Summary {
    /// The summary of per-item times when each sample timed `items` items.
    fn per(self, items: usize) -> Self {
        let items = u32::try_from(items.max(1)).unwrap_or(u32::MAX);
        Self {
            median: self.median / items,
            min: self.min / items,
            max: self.max / items,
            runs: self.runs,
        }
    }
}

/// Times `runs` calls of `run` after `warm_up` untimed ones; fails if any run reports false.
async fn timed<F, Fut>(
    what: &str,
    runs: usize,
    warm_up: usize,
    mut run: F,
) -> Result<Summary, BenchError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..warm_up {
        if !run().await {
            return Err(BenchError::Scenario {
                what: format!("a warm-up run of `{what}` failed"),
            });
        }
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let ok = run().await;
        samples.push(started.elapsed());
        if !ok {
            return Err(BenchError::Scenario {
                what: format!("a timed run of `{what}` failed"),
            });
        }
    }
    Ok(Summary::of(&samples))
}

async fn first_line(child: &mut Child, within: Duration) -> Result<String, BenchError> {
    let stdout = child.stdout.take().ok_or_else(|| BenchError::Fixture {
        reason: "no stdout".into(),
    })?;
    let mut lines = BufReader::new(stdout).lines();
    match tokio::time::timeout(within, lines.next_line()).await {
        Ok(Ok(Some(line))) => {
            // Keep reading stdout in the background so the child never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok(line)
        }
        Ok(Ok(None)) => Err(BenchError::Fixture {
            reason: "the child exited before its ready line".into(),
        }),
        Ok(Err(error)) => Err(BenchError::Fixture {
            reason: error.to_string(),
        }),
        Err(_) => Err(BenchError::Fixture {
            reason: format!("no ready line within {} s", within.as_secs()),
        }),
    }
}

fn calls_per_second(calls: usize, elapsed: Duration) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "call counts are small")]
    let calls = calls as f64;
    calls / elapsed.as_secs_f64().max(f64::EPSILON)
}

fn rate(calls: usize, elapsed: Duration) -> String {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive rate far below 2^63"
    )]
    let per_second = calls_per_second(calls, elapsed).round() as usize;
    super::tokens::thousands(per_second)
}

fn skipped(measurement: &str, target: &str, why: &str) -> PerfRow {
    PerfRow {
        measurement: measurement.to_owned(),
        result: "not measured".into(),
        target: target.to_owned(),
        met: None,
        note: why.to_owned(),
    }
}
