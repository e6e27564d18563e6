//! The native host of the snippet engine: each snippet runs in a worker process that holds one
//! `codemode-engine` interpreter, and the pool on the plugin side spawns, feeds, times out,
//! kills, respawns and recycles those workers, relaying their bus calls to a [`HostCalls`]. This
//! is where the platform lives — processes, pipes, rlimits, signals — so the engine does not
//! have to; a browser host (Web Worker) or a Windows host sits beside it, not inside it. It must
//! not depend on the adapters or the catalogue: bus calls leave through [`HostCalls`] and
//! token counts come in as a counting function ([`SandboxConfig::count_tokens`]).
//!
//! # Layout
//! - [`wire`]: the line-JSON frames between the plugin and a worker;
//! - [`worker`]: the worker process (`codemode sandbox-worker`): rlimits, a deadline
//!   watchdog, one engine on a dedicated thread;
//! - [`heap_cap`]: the capped, counting global allocator (the portable memory cap);
//! - [`pool`]: the plugin side: [`Sandbox`] and its stateful [`Session`]s;
//! - `schedule`: the pool's slots and its fair, bounded queue of waiting runs;
//! - [`clock`]: a run's wall-time clock, stopped while the plugin waits for a person;
//! - `windows` (Windows only): a job object per worker, no console window;
//!
//! The engine's types are re-exported, so a host needs only this crate.

pub mod clock;
mod exit;
pub mod heap_cap;
pub mod pool;
mod schedule;
#[cfg(windows)]
mod windows;
pub mod wire;
pub mod worker;

pub use clock::{PauseClock, PauseGuard};
pub use codemode_engine::{
    CallRecord, ClockPause, Completion, Engine, ErrorPhase, FunctionSet, FunctionSpec, HostCall,
    HostCallError, HostCalls, HostErrorKind, HostPort, LimitHit, LimitKind, Limits, MAX_TIMEOUT,
    Outcome, ParamKind, ParamSpec, PortClosed, RunRequest, SnippetError, engine, host, limits,
    outcome, parse_timeout_seconds, preflight, render, spec,
};
#[cfg(windows)]
pub use codemode_winjob::JobReport;
pub use pool::{
    CountTokens, RunScope, Sandbox, SandboxConfig, SandboxError, Session, WorkerCommand,
};
