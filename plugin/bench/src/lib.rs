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

mod catalogue_speed;
mod chart;
mod discovery;
mod perf;
mod process_memory;
mod python_speed;
mod ranking;
pub mod sandbox_speed;
mod stats;

// The product's modules under their old paths, so the benchmarks read as before the split.
pub(crate) use codemode::{catalogue, mcp, mock_bus, sandbox, service};

pub use self::{
    chart::render_tokens_svg,
    discovery::{DiscoveryRow, discovery, discovery_at, render_discovery},
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
