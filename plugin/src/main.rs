//! The `codemode` command line.
//!
//! One subcommand per entry point; each parses its flags into the library's configuration and
//! runs it until Ctrl-C. Logs go to stderr (`RUST_LOG`, default `info`); stdout carries only
//! machine-readable lines (the mock bus prints its URL once it is ready).

mod cli;
mod demo;
mod platform;

use std::{ffi::OsString, net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

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
    /// Run a benchmark and print its table (discovery, tokens, perf; `codemode bench --help`).
    ///
    /// The benchmarks are a separate executable, `codemode-bench`, found next to this one, so
    /// the product carries none of their clients.
    #[command(disable_help_flag = true)]
    Bench {
        /// The benchmark and its flags, passed to `codemode-bench`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
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
    codemode::logging::init_stderr("info");
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
            Command::Bench { args } => run_bench(args).await,
        }
    });
    // Dropping the runtime would wait for every blocking task, such as a read of stdin that
    // never returns (MCP over stdio after Ctrl-C or SIGTERM): give them a moment, then exit.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    outcome
}

/// How long the process waits for its tasks to finish after its work is done.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// `codemode bench …`: runs `codemode-bench …` from this executable's folder and exits with
/// its status.
async fn run_bench(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("locating the codemode executable")?;
    let bench = exe.with_file_name(format!("codemode-bench{}", std::env::consts::EXE_SUFFIX));
    if !bench.is_file() {
        anyhow::bail!(
            "the benchmarks are a separate executable and {} does not exist; build it with \
             `cargo build --release -p codemode-bench` (or run `cargo run --release -p \
             codemode-bench -- …`)",
            bench.display()
        );
    }
    let status = tokio::process::Command::new(&bench)
        .args(&args)
        .status()
        .await
        .with_context(|| format!("running {}", bench.display()))?;
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
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
