//! The `codemode-bench` command line (also reached as `codemode bench …`): one subcommand per
//! benchmark, each printing its Markdown table. It also offers, hidden, the sandbox worker and
//! a standalone mock bus, so the benchmarks can start both from this executable.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use codemode::{
    mock_bus::{MockBus, MockBusConfig},
    sandbox::WorkerCommand,
};
use codemode_bench::{self as bench, Scenario, TokensConfig};

/// Benchmarks of codemode that print tables: discovery, tokens, perf, python.
#[derive(Debug, Parser)]
#[command(name = "codemode-bench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Discovery time against catalogue size on the mock bus (raw bootstrap vs. the adapter).
    Discovery(DiscoveryArgs),
    /// Tokens of scripted tasks: classic tool calling vs. code mode, on the mock bus.
    Tokens(TokensArgs),
    /// Speed and memory against the targets (mock bus, real gateway when node is present).
    Perf(PerfArgs),
    /// Python at data size in the sandbox against CPython (`python3`), same run.
    Python(PythonArgs),
    /// Search quality: recall@3 and MRR of task phrasings, on the mock bus's catalogue.
    Ranking(RankingArgs),
    /// Load and soak `codemode serve --mock-bus --mcp http`: lost or wrong answers, RSS and
    /// open files of the process and its workers over time.
    Soak(SoakArgs),
    /// Fuzz every decoder of outside input for a while; prints executions and panics per target.
    Fuzz(FuzzArgs),
    /// The sandbox worker process (started by the benchmarks; speaks line-JSON on stdio).
    #[command(hide = true)]
    SandboxWorker,
    /// A standalone mock bus that prints its URL (started by the memory benchmark).
    #[command(hide = true)]
    MockBus(MockBusArgs),
}

/// Flags of `codemode bench discovery`.
#[derive(Debug, Args)]
struct DiscoveryArgs {
    /// Synthetic app counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    apps: Vec<usize>,
    /// Repetitions per size.
    #[arg(long, default_value_t = 7)]
    runs: usize,
}

/// Flags of the hidden mock bus.
#[derive(Debug, Args)]
struct MockBusArgs {
    /// Address to listen on (port 0 for a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Number of synthetic apps to add to the sample apps.
    #[arg(long, default_value_t = 0)]
    apps: usize,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if matches!(cli.command, Command::SandboxWorker) {
        // The worker owns its process: no runtime, no logging on its protocol pipes.
        return Ok(codemode::sandbox::worker::run_worker_stdio());
    }
    // rmcp logs every error answer it sends at `warn`; the fuzz target's rejected tool
    // arguments are tens of thousands of those, and the benches report their own failures.
    codemode::logging::init_stderr("warn,rmcp::service=error");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Discovery(args) => run_discovery(args).await,
            Command::Tokens(args) => run_tokens(args).await,
            Command::Perf(args) => run_perf(args).await,
            Command::Python(args) => run_python(args).await,
            Command::Ranking(args) => run_ranking(args).await,
            Command::Fuzz(args) => run_fuzz(args).await,
            Command::Soak(args) => run_soak(args).await,
            Command::MockBus(args) => run_mock_bus(args).await,
            Command::SandboxWorker => Ok(()),
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    outcome.map(|()| ExitCode::SUCCESS)
}

/// Runs the discovery benchmark and prints its table.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_discovery(args: DiscoveryArgs) -> anyhow::Result<()> {
    let rows = bench::discovery(&args.apps, args.runs)
        .await
        .context("running the discovery benchmark")?;
    println!("{}", bench::render_discovery(&rows));
    Ok(())
}

/// Runs a mock bus until Ctrl-C, after printing its URL on stdout.
#[expect(
    clippy::print_stdout,
    reason = "the URL line on stdout is the mock bus's ready signal"
)]
async fn run_mock_bus(args: MockBusArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    let bus = MockBus::start(MockBusConfig {
        listen: Some(args.listen),
        synthetic_apps: args.apps,
        ..MockBusConfig::default()
    })
    .await
    .context("starting the mock bus")?;
    println!("{}", bus.url());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    bus.shutdown().await;
    Ok(())
}

/// Flags of `codemode bench ranking`.
#[derive(Debug, Args)]
struct RankingArgs {
    /// Synthetic app counts (the eight sample apps run besides them).
    #[arg(long, value_delimiter = ',', default_value = "0,10,300")]
    apps: Vec<usize>,
}

/// Runs the ranking benchmark and prints its table.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_ranking(args: RankingArgs) -> anyhow::Result<()> {
    let rows = bench::ranking(&args.apps)
        .await
        .context("running the ranking benchmark")?;
    println!("{}", bench::render_ranking(&rows));
    Ok(())
}

/// Flags of `codemode bench tokens`.
#[derive(Debug, Args)]
struct TokensArgs {
    /// Synthetic app counts (the eight sample apps run besides them).
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    apps: Vec<usize>,
    /// CRM client counts (explore is played up to 10,000 clients).
    #[arg(long, value_delimiter = ',', default_value = "10,1000,100000")]
    clients: Vec<usize>,
    /// Scenarios to play (seed, multi-step, fan-out, retry, explore).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "seed,multi-step,fan-out,retry,explore"
    )]
    scenarios: Vec<String>,
    /// Also write the chart of the results to this SVG file.
    #[arg(long)]
    svg: Option<PathBuf>,
}

/// Runs the token benchmark and prints its Markdown tables.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_tokens(args: TokensArgs) -> anyhow::Result<()> {
    let scenarios = args
        .scenarios
        .iter()
        .map(|name| {
            Scenario::ALL
                .into_iter()
                .find(|scenario| scenario.label() == name.trim())
                .with_context(|| format!("unknown scenario `{name}`"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = TokensConfig {
        apps: args.apps,
        clients: args.clients,
        scenarios,
        worker: WorkerCommand::current_exe().context("locating the codemode-bench executable")?,
    };
    let rows = bench::tokens(&config)
        .await
        .context("running the token benchmark")?;
    println!("{}", bench::render_tokens(&rows));
    if let Some(path) = args.svg {
        std::fs::write(&path, bench::render_tokens_svg(&rows))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Flags of `codemode bench python`.
#[derive(Debug, Args)]
struct PythonArgs {
    /// Repetitions of every snippet (the table shows the median).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Only the rows whose name contains this text.
    #[arg(long)]
    only: Option<String>,
}

/// Runs the Python-at-data-size benchmark and prints its Markdown table.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_python(args: PythonArgs) -> anyhow::Result<()> {
    let worker = WorkerCommand::current_exe().context("locating the codemode-bench executable")?;
    let rows = bench::python_speed(worker, args.runs, args.only.as_deref())
        .await
        .context("running the Python speed benchmark")?;
    println!("{}", bench::render_python_speed(&rows));
    Ok(())
}

/// Flags of `codemode bench perf`.
#[derive(Debug, Args)]
struct PerfArgs {
    /// Repetitions of every timed measurement (at least 3).
    #[arg(long, default_value_t = 9)]
    runs: usize,
    /// Methods in the catalogue of the memory measurement.
    #[arg(long, default_value_t = 10_000)]
    rss_methods: usize,
    /// Synthetic app counts of the discovery measurement (mock bus and real gateway).
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    apps: Vec<usize>,
    /// The io.Connect fixture (real gateway + @interopio apps; needs node and its npm
    /// packages); default: the repository's `tests/fixtures/ioconnect`.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// Skip the real gateway.
    #[arg(long)]
    no_gateway: bool,
    /// Run only these sections (default: all): memory, mock-bus, gateway, discovery,
    /// catalogue, overhead, interpreter.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

/// Runs the performance benchmark and prints its Markdown tables.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_perf(args: PerfArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating the codemode-bench executable")?;
    let fixture = if args.no_gateway {
        None
    } else {
        Some(args.fixture.unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ioconnect")
        }))
    };
    let config = bench::PerfConfig {
        worker: WorkerCommand::new(&exe, ["sandbox-worker"]),
        mock_bus: WorkerCommand::new(&exe, ["mock-bus"]),
        runs: args.runs,
        rss_methods: args.rss_methods,
        discovery_apps: args.apps,
        fixture,
        only: args.only,
    };
    let report = bench::perf(&config)
        .await
        .context("running the performance benchmark")?;
    println!("{}", bench::render_perf(&report));
    Ok(())
}

/// Flags of `codemode bench fuzz`.
#[derive(Debug, Args)]
struct FuzzArgs {
    /// Total running time, shared equally by the targets.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
}

/// Runs every fuzz target and prints their table; fails when anything panicked or broke a
/// property.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_fuzz(args: FuzzArgs) -> anyhow::Result<()> {
    let total = std::time::Duration::try_from_secs_f64(args.seconds)
        .context("--seconds must be a non-negative number")?;
    let worker = WorkerCommand::current_exe().context("locating the codemode-bench executable")?;
    let reports = bench::fuzz(total, worker)
        .await
        .context("running the fuzz targets")?;
    println!("{}", bench::render_fuzz(&reports));
    if reports.iter().any(|report| !report.clean()) {
        anyhow::bail!("a fuzz target found a panic or a broken property (table above)");
    }
    Ok(())
}

/// Flags of `codemode bench soak`.
#[derive(Debug, Args)]
struct SoakArgs {
    /// How long the soak runs after the load.
    #[arg(long, default_value_t = 300.0)]
    seconds: f64,
    /// Concurrent MCP clients of the load (the soak keeps up to 8 of them busy).
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// The codemode executable to serve; default: `codemode` next to this executable.
    #[arg(long)]
    codemode: Option<PathBuf>,
}

/// Runs the load and the soak and prints their tables; fails when an answer was lost or wrong
/// or something grew.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_soak(args: SoakArgs) -> anyhow::Result<()> {
    let duration = std::time::Duration::try_from_secs_f64(args.seconds)
        .context("--seconds must be a non-negative number")?;
    let codemode = match args.codemode {
        Some(path) => path,
        None => std::env::current_exe()
            .context("locating the codemode-bench executable")?
            .with_file_name(format!("codemode{}", std::env::consts::EXE_SUFFIX)),
    };
    let (text, held) = bench::soak_serve(&codemode, duration, args.clients)
        .await
        .context("running the soak")?;
    println!("{text}");
    if !held {
        anyhow::bail!("the load lost or garbled answers, or the soak saw growth (above)");
    }
    Ok(())
}
