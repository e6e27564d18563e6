//! codemode: Code Mode for desktop interop buses.
//!
//! The `codemode` binary is a thin CLI over this library.
//!
//! # Layout
//! - [`bench`]: benchmarks that print tables (`codemode bench`).
//! - [`catalogue`]: the typed Python API over the bus, disclosed progressively (no I/O).
//! - [`sandbox`]: snippets on RustPython in worker processes.
//! - [`bridge`]: the catalogue's call map as sandbox functions, performed on the bus.
//! - [`service`]: the three Code Mode operations over one bus, catalogue and pool.
//! - [`mcp`]: the MCP server (rmcp) offering those operations as tools, over stdio and HTTP.
//! - [`mock_bus`]: an embedded io.Connect-compatible GW3 gateway with realistic sample apps,
//!   synthetic apps at scale and fault knobs. It is the default bus of `codemode demo`, the
//!   fixture of fast tests and a way to try codemode without io.Connect Desktop.

pub mod bench;
pub mod bridge;
pub mod catalogue;
pub mod mcp;
pub mod mock_bus;
pub mod on_bus;
pub mod sandbox;
pub mod service;
