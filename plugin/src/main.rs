//! The `codemode` command line.
//!
//! One subcommand per entry point; each parses its flags into the library's configuration and
//! runs it until Ctrl-C. Logs go to stderr (`RUST_LOG`, default `info`); stdout carries only
//! machine-readable lines (the mock bus prints its URL once it is ready).

mod bench_cli;
mod cli;
mod demo;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use codemode::mock_bus::{MockBus, MockBusConfig, synthetic};

/// Code Mode for desktop interop buses.
#[derive(Debug, Parser)]
#[command(name = "codemode", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Code Mode: MCP (stdio or streamable HTTP) and the CodeMode.* methods on the bus.
    Serve(cli::ServeArgs),
    /// Run the one-command demo on the embedded mock bus (samples + 300 synthetic apps).
    Demo(demo::DemoArgs),
    /// Run one snippet against the bus and print its outcome.
    Exec(cli::ExecArgs),
    /// Print the Python API: list, search, get stubs, or the whole module.
    Catalogue(cli::CatalogueArgs),
    /// Run the mock bus standalone: an io.Connect-compatible gateway with sample apps.
    MockBus(MockBusArgs),
    /// The sandbox worker process (started by codemode itself; speaks line-JSON on stdio).
    #[command(hide = true)]
    SandboxWorker,
    /// Run a benchmark and print its table.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Discovery time against catalogue size on the mock bus (raw bootstrap vs. the adapter).
    Discovery(DiscoveryArgs),
    /// Tokens of scripted tasks: classic tool calling vs. code mode, on the mock bus.
    Tokens(bench_cli::TokensArgs),
    /// Speed and memory against the targets (mock bus, real gateway when node is present).
    Perf(bench_cli::PerfArgs),
}

#[derive(Debug, Args)]
struct DiscoveryArgs {
    /// Synthetic app counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    apps: Vec<usize>,
    /// Repetitions per size.
    #[arg(long, default_value_t = 7)]
    runs: usize,
}

#[derive(Debug, Args)]
struct MockBusArgs {
    /// Address to listen on (use port 0 for a free port).
    #[arg(long, default_value = "127.0.0.1:8385")]
    listen: SocketAddr,
    /// Number of synthetic apps to add to the sample apps.
    #[arg(long, default_value_t = 0)]
    apps: usize,
    /// Seed of the synthetic apps (the same seed and count give the same apps).
    #[arg(long, default_value_t = synthetic::DEFAULT_SEED)]
    seed: u64,
    /// Owner of the apps: only clients logged in as this user see them (default: everyone).
    #[arg(long)]
    user: Option<String>,
    /// Directory of app definitions (`*.json`) to use instead of the built-in samples.
    #[arg(long)]
    samples: Option<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if matches!(cli.command, Command::SandboxWorker) {
        // The worker owns its process: no runtime, no logging on its protocol pipes.
        return Ok(codemode::sandbox::worker::run_worker_stdio());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cli::run_serve(args).await.map(|()| ExitCode::SUCCESS),
            Command::Demo(args) => demo::run_demo(args).await.map(|()| ExitCode::SUCCESS),
            Command::Exec(args) => cli::run_exec(args).await.map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }),
            Command::Catalogue(args) => cli::run_catalogue(args).await.map(|()| ExitCode::SUCCESS),
            Command::SandboxWorker => Ok(ExitCode::SUCCESS),
            Command::MockBus(args) => run_mock_bus(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench(BenchCommand::Discovery(args)) => {
                run_bench_discovery(args).await.map(|()| ExitCode::SUCCESS)
            }
            Command::Bench(BenchCommand::Tokens(args)) => bench_cli::run_tokens(args)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Bench(BenchCommand::Perf(args)) => {
                bench_cli::run_perf(args).await.map(|()| ExitCode::SUCCESS)
            }
        }
    });
    // Dropping the runtime would wait for every blocking task, such as a read of stdin that
    // never returns (MCP over stdio after Ctrl-C or SIGTERM): give them a moment, then exit.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    outcome
}

/// How long the process waits for its tasks to finish after its work is done.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
async fn run_bench_discovery(args: DiscoveryArgs) -> anyhow::Result<()> {
    let rows = codemode::bench::discovery(&args.apps, args.runs)
        .await
        .context("running the discovery benchmark")?;
    println!("{}", codemode::bench::render_discovery(&rows));
    Ok(())
}

async fn run_mock_bus(args: MockBusArgs) -> anyhow::Result<()> {
    let mut signals = cli::ShutdownSignals::listen();
    let config = MockBusConfig {
        listen: Some(args.listen),
        synthetic_apps: args.apps,
        synthetic_seed: args.seed,
        user: args.user,
        samples_dir: args.samples,
        ..MockBusConfig::default()
    };
    let bus = MockBus::start(config)
        .await
        .context("starting the mock bus")?;
    print_ready_line(&bus.url());
    let signal = signals.recv().await;
    tracing::info!("{signal}: shutting down");
    bus.shutdown().await;
    Ok(())
}

#[expect(
    clippy::print_stdout,
    reason = "the URL line on stdout is the mock bus's ready signal for scripts and tests"
)]
fn print_ready_line(url: &str) {
    use std::io::Write as _;
    println!("{url}");
    let _ = std::io::stdout().flush();
}
