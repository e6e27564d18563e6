//! codemode: Code Mode for desktop interop buses — the product. It ties a bus adapter, the
//! catalogue, the snippet engine's native host and the front ends together: the bridge turns a
//! snippet's calls into bus calls, the service runs the three Code Mode operations, and MCP, the
//! on-bus methods and the CLI serve them. The layers below it (`codemode-protocol`,
//! `codemode-adapters`, `codemode-catalogue`, `codemode-engine`, `codemode-sandbox`,
//! `codemode-mockbus`) must never depend on it; benchmarks live above it (`codemode-bench`), so
//! nothing here may depend on them.
//!
//! # Layout
//! - [`versions`]: immutable catalogue versions and the one updater that publishes them.
//! - [`functions`]: a version's call map as the sandbox's function set.
//! - [`bridge`]: a snippet's calls performed on the bus, through one version's call map.
//! - [`link_status`]: whether the bus is connected, so a stale catalogue says so.
//! - [`stream_calls`]: a snippet's call to a streaming method (subscribe, collect, close).
//! - [`service`]: the three Code Mode operations over one bus, catalogue and pool.
//! - [`sessions`]: a client's stateful snippet sessions (`execute_python_code(session=…)`).
//! - [`session_handles`]: sessions by id for clients without a connection (stateless MCP).
//! - [`mcp`]: the MCP server (rmcp) offering those operations as tools, over stdio and HTTP.
//! - [`on_bus`]: the same operations as `CodeMode.*` methods on the bus.
//! - [`control`]: policy, approval of single calls, PII tokenization and the audit log.
//! - [`logging`]: tracing to stderr for the executables.
//! - [`telemetry`]: OpenTelemetry export of the snippet and bus-call spans, and trace context
//!   from callers and to the apps a snippet calls.
//! - [`tokens`]: what a task costs in tokens with Code Mode against classic tool calling (the
//!   demo shows it; `codemode bench tokens` sweeps it).
//! - [`catalogue`], [`sandbox`], [`mock_bus`]: the crates below, under the names the product
//!   uses for them.

mod error;

pub mod bridge;
pub mod context_calls;
pub mod control;
pub mod functions;
pub mod link_status;
pub mod logging;
pub mod mcp;
pub mod on_bus;
pub mod service;
pub mod session_handles;
pub mod sessions;
pub mod stream_calls;
pub mod telemetry;
pub mod tokens;
pub mod versions;

pub use crate::error::Error;
pub use codemode_catalogue as catalogue;
pub use codemode_mockbus as mock_bus;
pub use codemode_sandbox as sandbox;
