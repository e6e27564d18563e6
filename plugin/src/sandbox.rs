//! Sandboxed snippet execution: the model's Python snippet runs on RustPython, with bus methods
//! and intents as ordinary functions, inside a pool of worker processes.
//!
//! # Layers
//! - The **core** does no I/O, so it can later compile to wasm32:
//!   - [`spec`]: the neutral description of callable functions ([`FunctionSpec`]) that the
//!     catalogue produces and the sandbox turns into Python namespaces;
//!   - [`limits`]: [`Limits`] with their defaults;
//!   - [`outcome`]: the serde-serialisable [`Outcome`] of a run;
//!   - [`host`]: what a bus call looks like to the sandbox ([`HostCall`], [`HostCallError`]);
//!   - [`preflight`]: parses a snippet, checks every catalogue call before anything runs, and
//!     rewrites `gather(...)` and top-level `await` so calls run concurrently;
//!   - [`engine`]: one long-lived hardened interpreter; runs a snippet against a [`HostPort`].
//! - The **process guard** on top:
//!   - [`wire`]: the line-JSON frames between the plugin and a worker;
//!   - [`worker`]: the worker process (`codemode sandbox-worker`): rlimits, a deadline
//!     watchdog, one engine on a dedicated thread;
//!   - [`pool`]: the plugin side: [`Sandbox`] spawns, feeds, times out, kills, respawns and
//!     recycles workers, and serves their bus calls through [`HostCalls`];
//!   - [`bench`]: measurements for the benchmark.
//!
//! # Trust model
//! RustPython has no sandbox of its own: the import allowlist and the removed builtins are
//! hygiene. The boundary is what is compiled in (no file, network, process or environment
//! access exists in the worker's interpreter) plus the worker process (rlimits, hard kill,
//! empty environment). A worker is one trust domain: a snippet that reaches for interpreter
//! internals (dunder attributes, attribute stores, `setattr`…) is allowed to run, but its
//! worker is recycled afterwards, so nothing it did can reach a later snippet.

pub mod bench;
pub mod engine;
pub mod host;
pub mod limits;
pub mod outcome;
pub mod pool;
pub mod preflight;
pub mod spec;
pub mod wire;
pub mod worker;

pub use engine::{Completion, Engine, HostPort, PortClosed, RunRequest};
pub use host::{HostCall, HostCallError, HostCalls, HostErrorKind};
pub use limits::{LimitKind, Limits};
pub use outcome::{CallRecord, ErrorPhase, LimitHit, Outcome, SnippetError};
pub use pool::{Sandbox, SandboxConfig, SandboxError, Session, WorkerCommand};
pub use spec::{FunctionSet, FunctionSpec, ParamKind, ParamSpec};
