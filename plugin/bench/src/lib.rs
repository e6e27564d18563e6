//! Benchmarks that print tables (`codemode-bench …`, also reached as `codemode bench …`). Speed
//! and memory targets live here, not in timed tests that flake on a busy machine. Each
//! measurement repeats and reports the median with the min–max range. This crate sits above the
//! product (`codemode`) and holds everything only benchmarks need — rmcp's client, a reqwest
//! for it, the monty interpreter (feature `monty`) — so the product binary links none of it.
//! Nothing below it may depend on it.
//!
//! - [`discovery`]: how long a fresh client needs to see the whole catalogue of N apps on the
//!   mock bus — the raw GW3 bootstrap (hello, join, every `peer-added`/`methods-added`, the
//!   join's `success`) against the io.Connect adapter's full connect (the same bootstrap plus
//!   folding it into the catalogue and reading the declared apps).
//! - [`tokens`]: scripted transcripts of four tasks in classic tool calling and in code mode
//!   (the comparison itself lives in `codemode::tokens`, because the demo shows it);
//!   [`render_tokens_svg`] charts them.
//! - [`perf`]: execute round trips, bus calls from snippets against the real `@interopio/core`
//!   client, discovery on the mock bus and the real gateway, `gather` throughput, peak RSS and
//!   the interpreter against monty, the sandbox's per-call cost, the catalogue's build and
//!   one-app update ([`render_perf`]).
//! - [`python_speed`]: Python at data size (sort, `re.findall`, JSON, group-by over 100,000
//!   rows) in the sandbox and in CPython, same run ([`render_python_speed`]).
//! - [`ranking`]: search quality — recall@1, recall@3 and MRR of task phrasings over the
//!   sample and synthetic apps ([`render_ranking`]).
//! - `sandbox_speed`: the sandbox pool alone, with a host that answers at once.
//! - [`soak_serve`]: 50 MCP clients × 10 bus calls against `codemode serve --mock-bus --mcp
//!   http`, then a soak that checks the process's and its workers' memory and open files stay
//!   flat (the same code runs in the product's tests for 60 s).
//! - [`fuzz`]: property targets for every decoder of outside input (GW3 and FDC3 frames, the
//!   signature grammar, the worker pipes, MCP tool arguments), run briefly by the tests and for
//!   as long as asked by `codemode bench fuzz --seconds N` ([`render_fuzz`]).

mod catalogue_speed;
mod chart;
mod discovery;
pub mod fuzz;
mod perf;
mod process_memory;
mod python_speed;
mod ranking;
pub mod sandbox_speed;
mod soak;
mod stats;

// The product's modules under their old paths, so the benchmarks read as before the split.
pub(crate) use codemode::{catalogue, mcp, mock_bus, sandbox, service};

pub use self::{
    chart::render_tokens_svg,
    discovery::{DiscoveryRow, discovery, discovery_at, render_discovery},
    fuzz::{TargetReport, fuzz, render_fuzz},
    perf::{CRUNCH_SNIPPET, PerfConfig, PerfReport, PerfRow, perf, render_perf},
    python_speed::{PythonSpeedRow, python_speed, render_python_speed},
    ranking::{PHRASES, RankingRow, rank_phrases, ranking, render_ranking},
    stats::Summary,
};
pub use codemode::tokens::{
    self, ArmPair, ArmTokens, BLOCK_FRAMING_TOKENS, CODE_MODE_INSTRUCTIONS, Comparison, Encoding,
    PREAMBLE_TOKENS, SYSTEM_PROMPT, Scenario, TokenRow, TokensConfig, code_mode_tools, compare,
    render_comparison, render_tokens, seed_comparison,
};

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The mock bus did not start.
    #[error("starting the mock bus: {0}")]
    MockBus(#[from] crate::mock_bus::MockBusError),
    /// The adapter failed.
    #[error("bus: {0}")]
    Bus(#[from] codemode_adapters::BusError),
    /// The raw client failed.
    #[error("raw client: {reason}")]
    Raw {
        /// What went wrong.
        reason: String,
    },
    /// The sandbox pool could not start a worker.
    #[error("sandbox: {0}")]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// The product failed (the service did not start, a token comparison failed).
    #[error("{0}")]
    Product(#[from] codemode::Error),
    /// A helper process (the real gateway fixture, a standalone mock bus) failed.
    #[error("helper process: {reason}")]
    Fixture {
        /// What went wrong.
        reason: String,
    },
    /// A measurement did not go as scripted (the bus data or catalogue changed).
    #[error("scenario {what}")]
    Scenario {
        /// What did not match.
        what: String,
    },
}

/// Starts an in-process mock bus with `config` and attaches the io.Connect adapter to it.
async fn attached_mock_bus(
    config: crate::mock_bus::MockBusConfig,
) -> Result<
    (
        crate::mock_bus::MockBusHandle,
        codemode_adapters::ioconnect::IoConnectBus,
    ),
    BenchError,
> {
    Ok(tokens::attached_mock_bus(config).await?)
}

/// Plays every scenario at every size (see [`codemode::tokens::tokens`]).
pub async fn tokens(config: &TokensConfig) -> Result<Vec<TokenRow>, BenchError> {
    Ok(codemode::tokens::tokens(config).await?)
}

/// How many synthetic apps make a mock bus of about `methods` methods: they carry 3.45 methods
/// each on average (2,900 apps and the samples: 10,020 methods).
fn synthetic_apps_for(methods: usize) -> usize {
    methods.saturating_mul(100) / 345
}

/// `codemode bench soak`: the load (`clients` × 10 calls, each answer checked against its own
/// input), then `duration` of soak against one `codemode serve --mock-bus --mcp http` started
/// from `codemode`. Returns the tables and whether everything held (no call lost or wrong, no
/// growth past the default tolerance).
pub async fn soak_serve(
    codemode: &std::path::Path,
    duration: std::time::Duration,
    clients: usize,
) -> Result<(String, bool), BenchError> {
    let server = soak::ServeProcess::start(codemode, &[])
        .await
        .map_err(|reason| BenchError::Fixture { reason })?;
    let load = soak::load(&server.url, clients, 10).await;
    let tolerance = soak::Tolerance::default();
    let report = soak::soak(
        &server,
        clients.min(8),
        duration,
        std::time::Duration::from_secs(1),
    )
    .await;
    server.stop().await;
    let held = load.wrong.is_empty()
        && load.lost.is_empty()
        && load.right == load.sent
        && report.calls_failed == 0
        && report.leaks(tolerance).is_empty();
    let mut text = format!(
        "Load: {clients} MCP HTTP clients × 10 bus calls: {} sent, {} right, {} wrong, {} lost, \
         in {:.1} s.\n",
        load.sent,
        load.right,
        load.wrong.len(),
        load.lost.len(),
        load.elapsed.as_secs_f64()
    );
    for problem in load.wrong.iter().chain(&load.lost).take(5) {
        let _ = std::fmt::Write::write_fmt(&mut text, format_args!("  {problem}\n"));
    }
    text.push('\n');
    text.push_str(&soak::render_soak(&report, tolerance));
    Ok((text, held))
}
