//! Logging for codemode's executables: tracing to stderr, filtered by `RUST_LOG`.
//!
//! Stdout is never used: it carries MCP on stdio, the mock bus's ready line and benchmark tables.

use tracing_subscriber::EnvFilter;

/// Sends tracing to stderr with `RUST_LOG`'s filter, or `default_filter` when it is unset or
/// invalid. Colour only on a terminal: piped stderr lands in log files (io.Connect Desktop's,
/// MCP clients'), where escape codes are noise.
pub fn init_stderr(default_filter: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
