//! Benchmarks that print tables (`codemode bench …`). Speed and memory targets live here, not in
//! timed tests that flake on a busy machine. Each measurement repeats and reports the median
//! with the min–max range.
//!
//! - [`discovery`]: how long a fresh client needs to see the whole catalogue of N apps on the
//!   mock bus — the raw GW3 bootstrap (hello, join, every `peer-added`/`methods-added`, the
//!   join's `success`) against the io.Connect adapter's full connect (the same bootstrap plus
//!   folding it into the catalogue and reading the declared apps).

mod discovery;
mod stats;

pub use self::{
    discovery::{DiscoveryRow, discovery, render_discovery},
    stats::Summary,
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
}
