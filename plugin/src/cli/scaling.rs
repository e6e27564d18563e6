//! Flags for how much work runs and waits at once: the sandbox pool (`--max-workers`,
//! `--spare-workers`, `--max-queued`, `--shrink-idle-after-seconds`, `--max-snippet-sessions`)
//! and the MCP HTTP sessions (`--max-sessions`, `--session-idle-timeout-seconds`).
//!
//! Each flag has its `CODEMODE_*` variable and config-file key, with the usual precedence (flag,
//! variable, file, default). The help shows each default as read from the code
//! ([`SandboxConfig::new`], [`McpHttpOptions::default`]), so help and behaviour cannot disagree.

use std::fmt::Display;

use clap::Args;
use codemode::{
    mcp::McpHttpOptions,
    sandbox::{SandboxConfig, WorkerCommand},
};

use crate::exit::usage;
use crate::settings::{ConfigFile, seconds};

/// The sandbox pool's sizes. Global, like the other limits, so `exec` and `catalogue` take them.
#[derive(Debug, Clone, Args)]
pub(crate) struct PoolArgs {
    #[arg(long, global = true, env = "CODEMODE_MAX_WORKERS", help_heading = "Limits",
          help = with_default(
              "Snippets running at once at most (one worker process each); the pool grows to \
               this many when every warm worker is busy",
              pool_defaults().max_workers))]
    pub(crate) max_workers: Option<usize>,
    #[arg(long, global = true, env = "CODEMODE_SPARE_WORKERS", help_heading = "Limits",
          help = with_default(
              "Idle workers kept started while below --max-workers, so a new caller does not \
               wait for a worker behind long snippets",
              pool_defaults().spare_workers))]
    pub(crate) spare_workers: Option<usize>,
    #[arg(long, global = true, env = "CODEMODE_MAX_QUEUED", help_heading = "Limits",
          help = with_default(
              "Snippets waiting for a worker at most; past it a snippet fails at once with a \
               busy error",
              pool_defaults().max_queued))]
    pub(crate) max_queued: Option<usize>,
    #[arg(long, global = true, env = "CODEMODE_SHRINK_IDLE_AFTER_SECONDS",
          help_heading = "Limits",
          help = with_default(
              "Workers above --workers that stay idle this many seconds are stopped",
              pool_defaults().shrink_idle_after.as_secs_f64()))]
    pub(crate) shrink_idle_after_seconds: Option<f64>,
    #[arg(long, global = true, env = "CODEMODE_MAX_SNIPPET_SESSIONS", help_heading = "Limits",
          help = with_default(
              "Snippet sessions (`session` argument: variables kept between calls) open at \
               once; each holds a worker of its own",
              pool_defaults().max_sessions))]
    pub(crate) max_snippet_sessions: Option<usize>,
}

/// The MCP HTTP session limits of `codemode serve`.
#[derive(Debug, Clone, Args)]
pub(crate) struct McpSessionArgs {
    #[arg(long, env = "CODEMODE_MAX_SESSIONS", help_heading = "MCP",
          help = with_default(
              "MCP HTTP sessions open at once; a new one past it gets 503 until one closes or \
               expires",
              McpHttpOptions::default().max_sessions))]
    pub(crate) max_sessions: Option<usize>,
    #[arg(long, env = "CODEMODE_SESSION_IDLE_TIMEOUT_SECONDS", help_heading = "MCP",
          help = with_default(
              "An MCP HTTP session with no request for this many seconds is closed",
              McpHttpOptions::default().session_idle_timeout.as_secs_f64()))]
    pub(crate) session_idle_timeout_seconds: Option<f64>,
}

impl PoolArgs {
    /// Applies the flags, else the config file's keys, to `sandbox`; a zero where a run needs
    /// room is a usage error.
    pub(crate) fn apply(
        &self,
        config: &ConfigFile,
        sandbox: &mut SandboxConfig,
    ) -> anyhow::Result<()> {
        if let Some(value) = self.max_workers.or(config.max_workers) {
            sandbox.max_workers = at_least_one(value, "--max-workers")?;
        }
        if let Some(value) = self.spare_workers.or(config.spare_workers) {
            sandbox.spare_workers = value;
        }
        if let Some(value) = self.max_queued.or(config.max_queued) {
            sandbox.max_queued = value;
        }
        if let Some(value) = self
            .shrink_idle_after_seconds
            .or(config.shrink_idle_after_seconds)
        {
            sandbox.shrink_idle_after = seconds(value, "--shrink-idle-after-seconds")?;
        }
        if let Some(value) = self.max_snippet_sessions.or(config.max_snippet_sessions) {
            sandbox.max_sessions = value;
        }
        if sandbox.max_workers < sandbox.workers {
            return Err(usage(format!(
                "--max-workers ({}) is below --workers ({}): the pool cannot keep more workers \
                 warm than it may run",
                sandbox.max_workers, sandbox.workers
            )));
        }
        Ok(())
    }
}

impl McpSessionArgs {
    /// Applies the flags, else the config file's keys, to the HTTP server's options.
    pub(crate) fn apply(
        &self,
        config: &ConfigFile,
        options: &mut McpHttpOptions,
    ) -> anyhow::Result<()> {
        if let Some(value) = self.max_sessions.or(config.max_sessions) {
            options.max_sessions = at_least_one(value, "--max-sessions")?;
        }
        if let Some(value) = self
            .session_idle_timeout_seconds
            .or(config.session_idle_timeout_seconds)
        {
            options.session_idle_timeout = seconds(value, "--session-idle-timeout-seconds")?;
        }
        Ok(())
    }
}

/// The pool's defaults, read from the pool itself (the tokenizer behind them loads lazily).
fn pool_defaults() -> SandboxConfig {
    SandboxConfig::new(WorkerCommand::new("codemode", ["sandbox-worker"]))
}

/// `text` with the default appended the way clap shows its own: `text [default: value]`.
fn with_default(text: &str, value: impl Display) -> String {
    format!("{text} [default: {value}]")
}

fn at_least_one(value: usize, flag: &str) -> anyhow::Result<usize> {
    if value == 0 {
        return Err(usage(format!("{flag} must be at least 1")));
    }
    Ok(value)
}
