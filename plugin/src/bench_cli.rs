//! `codemode bench tokens` and `codemode bench perf`: flags and printing around
//! [`codemode::bench`].

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use codemode::{
    bench::{self, Scenario, TokensConfig},
    sandbox::WorkerCommand,
};

/// Flags of `codemode bench tokens`.
#[derive(Debug, Args)]
pub(crate) struct TokensArgs {
    /// Synthetic app counts (the eight sample apps run besides them).
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    apps: Vec<usize>,
    /// CRM client counts.
    #[arg(long, value_delimiter = ',', default_value = "10,1000,100000")]
    clients: Vec<usize>,
    /// Scenarios to play (seed, multi-step, fan-out, retry).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "seed,multi-step,fan-out,retry"
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
pub(crate) async fn run_tokens(args: TokensArgs) -> anyhow::Result<()> {
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
        worker: WorkerCommand::current_exe().context("locating the codemode executable")?,
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

/// Flags of `codemode bench perf`.
#[derive(Debug, Args)]
pub(crate) struct PerfArgs {
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
}

/// Runs the performance benchmark and prints its Markdown tables.
#[expect(
    clippy::print_stdout,
    reason = "the benchmark's table is the command's output"
)]
pub(crate) async fn run_perf(args: PerfArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating the codemode executable")?;
    let fixture = if args.no_gateway {
        None
    } else {
        Some(args.fixture.unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ioconnect")
        }))
    };
    let config = bench::PerfConfig {
        worker: WorkerCommand::new(&exe, ["sandbox-worker"]),
        mock_bus: WorkerCommand::new(&exe, ["mock-bus"]),
        runs: args.runs,
        rss_methods: args.rss_methods,
        discovery_apps: args.apps,
        fixture,
    };
    let report = bench::perf(&config)
        .await
        .context("running the performance benchmark")?;
    println!("{}", bench::render_perf(&report));
    Ok(())
}
