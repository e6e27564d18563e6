//! Logging for codemode's executables: tracing to stderr, as text or JSON lines, and the
//! OpenTelemetry layer next to it when spans are exported ([`crate::telemetry`]).
//!
//! Stdout is never used: it carries MCP on stdio, the mock bus's ready line and benchmark tables.
//! `RUST_LOG` wins when set; otherwise the level comes from `-v`/`-q` ([`LogOptions::verbosity`]).
//! Colour only on a terminal: piped stderr lands in log files (io.Connect Desktop's, MCP
//! clients'), where escape codes are noise.

use tracing_subscriber::{
    EnvFilter, Layer, Registry, layer::SubscriberExt as _, util::SubscriberInitExt as _,
};

/// A layer of the process's subscriber (log lines, OpenTelemetry), with its own filter.
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

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
    init(EnvFilter::new(default_filter), LogFormat::Text, None);
}

/// Sends tracing to stderr as `options` say (`RUST_LOG` still wins when set and valid).
pub fn init_with(options: LogOptions) {
    init(
        EnvFilter::new(options.default_filter()),
        options.format,
        None,
    );
}

/// [`init_with`], plus `telemetry` (the OpenTelemetry layer), which has its own filter: the
/// log level does not decide which spans are exported.
pub fn init_with_telemetry(options: LogOptions, telemetry: Option<BoxedLayer>) {
    init(
        EnvFilter::new(options.default_filter()),
        options.format,
        telemetry,
    );
}

fn init(fallback: EnvFilter, format: LogFormat, telemetry: Option<BoxedLayer>) {
    let filter = EnvFilter::try_from_default_env().unwrap_or(fallback);
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let lines: BoxedLayer = match format {
        LogFormat::Text => lines
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => lines.json().with_ansi(false).with_filter(filter).boxed(),
    };
    let layers: Vec<BoxedLayer> = std::iter::once(lines).chain(telemetry).collect();
    tracing_subscriber::registry().with(layers).init();
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
