//! codemode in the browser: the catalogue and the snippet engine compiled to
//! `wasm32-unknown-unknown`, run inside a dedicated Web Worker, answering
//! `listPythonDefinitions`, `getPythonDefinitions` and `executePythonCode` with the desktop
//! tools' texts. The page (see `js/`) owns the bus client (io.Connect Browser / Glue42, an FDC3
//! `DesktopAgent`, or a generic `{methods, invoke}` pair) and performs each call a snippet
//! makes; the worker reaches the page only through one narrow host-call import ([`wasm`]:
//! `start`, `poll`, `wait`), which JSPI lets synchronous Python block on.
//!
//! It may depend on the catalogue, the engine and the protocol's plain data, and (on wasm32
//! only) on wasm-bindgen and js-sys; never on the adapters, tokio, the sandbox's processes or
//! the product crate. Everything but [`wasm`] is plain Rust and is tested natively.
//!
//! # Layout
//! - [`model`]: the page's description of the bus → the neutral catalogue;
//! - [`calls`]: a snippet's call planned as a page request, and the page's replies;
//! - [`core`]: the three operations over one catalogue and one engine, through a [`Bridge`];
//! - [`wasm`] (wasm32 only): the exports and the host-call import.

pub mod calls;
pub mod core;
pub mod model;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub mod wasm;

pub use crate::core::{Answer, Bridge, Core, ListArgs, Stopped};

/// Why the worker could not do what the page asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine could not start or install the catalogue's functions.
    #[error(transparent)]
    Engine(#[from] codemode_engine::EngineError),
    /// The page sent JSON that does not have the expected shape.
    #[error("the page sent invalid {what}: {source}")]
    Json {
        /// What was being read.
        what: &'static str,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// An operation arrived while a run was still in progress (the worker runs one at a time).
    #[error("the sandbox worker is busy with another operation")]
    Busy,
    /// `start` was not called.
    #[error("the sandbox worker was not started")]
    NotStarted,
}
