//! Logging for codemode's executables: tracing to stderr, as text or JSON lines.
//!
//! Stdout is never used: it carries MCP on stdio, the mock bus's ready line and benchmark tables.
//! `RUST_LOG` wins when set; otherwise the level comes from `-v`/`-q` ([`LogOptions::verbosity`]).
//! Colour only on a terminal: piped stderr lands in log files (io.Connect Desktop's, MCP
//! clients'), where escape codes are noise.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

/// What the command line asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// `-v` count minus `-q` count: 0 is `info`, 1 `debug`, 2+ `trace`, -1 `warn`, -2- `error`.
    pub verbosity: i8,
    /// Text or JSON.
    pub format: LogFormat,
}

impl LogOptions {
    /// The filter used when `RUST_LOG` is unset.
    pub fn default_filter(self) -> &'static str {
        match self.verbosity {
            i8::MIN..=-2 => "error",
            -1 => "warn",
            0 => "info",
            1 => "debug",
            2..=i8::MAX => "trace",
        }
    }
}

/// Sends tracing to stderr with `RUST_LOG`'s filter, or `default_filter` when it is unset or
/// invalid, as text.
pub fn init_stderr(default_filter: &str) {
    init(EnvFilter::new(default_filter), LogFormat::Text);
}

/// Sends tracing to stderr as `options` say (`RUST_LOG` still wins when set and valid).
pub fn init_with(options: LogOptions) {
    init(EnvFilter::new(options.default_filter()), options.format);
}

fn init(fallback: EnvFilter, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or(fallback);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_to_levels() {
        let level = |verbosity| {
            LogOptions {
                verbosity,
                format: LogFormat::Text,
            }
            .default_filter()
        };
        assert_eq!(level(0), "info");
        assert_eq!(level(1), "debug");
        assert_eq!(level(5), "trace");
        assert_eq!(level(-1), "warn");
        assert_eq!(level(-3), "error");
    }
}
