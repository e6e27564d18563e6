//! Benchmarks that print tables (`codemode bench …`). Speed and memory targets live here, not in
//! timed tests that flake on a busy machine. Each measurement repeats and reports the median
//! with the min–max range.
//!
//! - [`discovery`]: how long a fresh client needs to see the whole catalogue of N apps on the
//!   mock bus — the raw GW3 bootstrap (hello, join, every `peer-added`/`methods-added`, the
//!   join's `success`) against the io.Connect adapter's full connect (the same bootstrap plus
//!   folding it into the catalogue and reading the declared apps).
//! - [`tokens`]: scripted transcripts of four tasks in classic tool calling and in code mode,
//!   built from real tool results of the mock bus and counted with o200k_base and cl100k_base
//!   ([`render_tokens`], [`render_tokens_svg`]; [`seed_comparison`] for the demo).
//! - [`perf`]: execute round trips, bus calls from snippets against the real `@interopio/core`
//!   client, discovery on the mock bus and the real gateway, `gather` throughput, peak RSS and
//!   the interpreter against monty, the sandbox's per-call cost, the catalogue's build and
//!   one-app update ([`render_perf`]).

mod catalogue_speed;
mod chart;
mod discovery;
mod perf;
mod stats;
mod tokens;

pub use self::{
    discovery::{DiscoveryRow, discovery, discovery_at, render_discovery},
    perf::{CRUNCH_SNIPPET, PerfConfig, PerfReport, PerfRow, perf, render_perf},
    stats::Summary,
    tokens::{
        ArmPair, ArmTokens, BLOCK_FRAMING_TOKENS, CODE_MODE_INSTRUCTIONS, Comparison, Encoding,
        PREAMBLE_TOKENS, SYSTEM_PROMPT, Scenario, TokenRow, TokensConfig, code_mode_tools, compare,
        render_comparison, render_tokens, render_tokens_svg, seed_comparison, tokens,
    },
};

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The mock bus did not start.
    #[error("starting the mock bus: {0}")]
    MockBus(#[from] crate::mock_bus::MockBusError),
    /// The adapter failed.
    #[error("bus: {0}")]
    Bus(#[from] codemode_adapters::BusError),
    /// The raw client failed.
    #[error("raw client: {0}")]
    Raw(String),
    /// The Code Mode service did not start.
    #[error("starting Code Mode: {0}")]
    Service(#[from] crate::service::ServiceError),
    /// The sandbox pool could not start a worker.
    #[error("sandbox: {0}")]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// A helper process (the real gateway fixture, a standalone mock bus) failed.
    #[error("helper process: {0}")]
    Fixture(String),
    /// A scripted scenario did not go as scripted (the bus data or catalogue changed).
    #[error("scenario {0}")]
    Scenario(String),
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
    let bus = crate::mock_bus::MockBus::start(config).await?;
    let adapter = codemode_adapters::ioconnect::IoConnectBus::connect(
        codemode_adapters::ioconnect::IoConnectConfig::new(
            bus.url(),
            codemode_protocol::gw3::Authentication::secret("bench", "bench"),
        ),
    )
    .await?;
    Ok((bus, adapter))
}

/// How many synthetic apps make a mock bus of about `methods` methods: they carry 3.45 methods
/// each on average (2,900 apps and the samples: 10,020 methods).
fn synthetic_apps_for(methods: usize) -> usize {
    methods.saturating_mul(100) / 345
}
