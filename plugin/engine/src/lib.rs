//! The snippet engine: runs one Python snippet on a hardened RustPython interpreter, with bus
//! methods and intents as ordinary functions that call out through a host interface
//! ([`HostPort`]) and produce a serialisable [`Outcome`]. It is the core every host embeds — the
//! native worker processes (`codemode-sandbox`) today, a Web Worker in the browser later — so it
//! does no I/O of its own: no files, sockets, processes or environment, and it builds for
//! `wasm32-unknown-unknown`. It must not depend on the adapters, on tokio, on the catalogue or on
//! any platform crate; bus errors and token counts cross its boundary as plain values
//! ([`HostCallError`], a counting function).
//!
//! # Layout
//! - [`spec`]: the neutral description of callable functions ([`FunctionSpec`]) that the product
//!   builds from the catalogue's call map and the engine turns into Python namespaces;
//! - [`limits`]: [`Limits`] with their defaults;
//! - [`outcome`]: the serde-serialisable [`Outcome`] of a run, and the caps on its size;
//! - [`host`]: what a bus call looks like to the engine ([`HostCall`], [`HostCallError`]) and
//!   the async side that performs them ([`HostCalls`]);
//! - [`preflight`]: parses a snippet, checks every catalogue call before anything runs, and
//!   rewrites `gather(...)` and top-level `await` so calls run concurrently;
//! - [`preview`]: the structural preview of a large session result kept by reference (`_r1`);
//! - [`render`]: the text a model reads for an [`Outcome`] (the same on every host);
//! - [`engine`]: one long-lived hardened interpreter; runs a snippet against a [`HostPort`].
//!
//! # Trust model
//! RustPython has no sandbox of its own: the import allowlist and the removed builtins are
//! hygiene. The boundary is what is compiled in (no file, network, process or environment
//! access exists in this interpreter) plus what the host adds around it (for the native host:
//! a worker process with rlimits, a hard kill and an empty environment). A snippet that reaches
//! for interpreter internals is allowed to run, but the host recycles its interpreter afterwards
//! ([`Completion`] says so), so nothing it did can reach a later snippet.

pub mod engine;
pub mod host;
pub mod limits;
pub mod outcome;
pub mod preflight;
pub mod preview;
pub mod render;
pub mod spec;

pub use engine::{ClockPause, Completion, Engine, EngineError, HostPort, PortClosed, RunRequest};
pub use host::{HostCall, HostCallError, HostCalls, HostErrorKind};
pub use limits::{LimitKind, Limits, MAX_TIMEOUT, parse_timeout_seconds};
pub use outcome::{CallRecord, ErrorPhase, LimitHit, Outcome, SnippetError};
pub use spec::{FunctionSet, FunctionSpec, ParamKind, ParamSpec};
