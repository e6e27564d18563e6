//! Config layering in one place: default < config file < `CODEMODE_*` variable < flag.
//!
//! clap folds variables into the flags (a flag wins over its variable), so [`Settings::resolve`]
//! layers the result over the config file and the defaults. The defaults are read from the
//! library's own configuration types ([`Defaults::current`]), and `--help` shows them from the
//! same values ([`document_defaults`]): no default is written twice.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use codemode::{
    mcp::McpHttpOptions,
    sandbox::{Limits, MAX_TIMEOUT, SandboxConfig, WorkerCommand},
};
use codemode_adapters::{CallOptions, ioconnect::IoConnectConfig};
use codemode_protocol::gw3::Authentication;
use serde::Deserialize;

use crate::{
    cli::{BusArgs, Dialect, McpTransport, ServeArgs},
    exit::usage,
};

/// The config file (every key optional; no secrets).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    bus: Option<String>,
    dialect: Option<Dialect>,
    user: Option<String>,
    application: Option<String>,
    fdc3_identity_url: Option<String>,
    fdc3_app_directory: Option<String>,
    ca_file: Option<PathBuf>,
    call_timeout_seconds: Option<f64>,
    timeout_seconds: Option<f64>,
    max_timeout_seconds: Option<f64>,
    memory_mib: Option<u64>,
    max_bus_calls: Option<u32>,
    workers: Option<usize>,
    pub(crate) max_workers: Option<usize>,
    pub(crate) spare_workers: Option<usize>,
    pub(crate) max_queued: Option<usize>,
    pub(crate) shrink_idle_after_seconds: Option<f64>,
    pub(crate) max_snippet_sessions: Option<usize>,
    audit_log: Option<PathBuf>,
    /// `serve`: MCP HTTP sessions open at once.
    pub(crate) max_sessions: Option<usize>,
    /// `serve`: idle MCP HTTP sessions are closed after this long.
    pub(crate) session_idle_timeout_seconds: Option<f64>,
    /// `serve`: MCP transport.
    mcp: Option<McpTransport>,
    /// `serve`: HTTP listen address.
    listen: Option<SocketAddr>,
    /// `serve`: extra allowed `Origin`s.
    #[serde(default)]
    allowed_origins: Vec<String>,
    /// The policy; read (and re-read on change) by the policy store itself.
    #[expect(
        dead_code,
        reason = "accepted here, parsed by codemode::control::PolicyStore"
    )]
    policy: Option<toml::Table>,
}

impl ConfigFile {
    /// Reads `path` (TOML).
    pub(crate) fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing the config file {}", path.display()))
    }

    /// `--config`, else the platform's default file when it exists, else nothing; returns the
    /// file's path too (its `[policy]` is re-read from there). A file that cannot be read or
    /// parsed is a usage error.
    pub(crate) fn load(explicit: Option<&Path>) -> anyhow::Result<(Option<PathBuf>, Self)> {
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(crate::platform::default_config_file);
        let file = match &path {
            Some(path) => Self::read(path).map_err(|error| usage(format!("{error:#}")))?,
            None => Self::default(),
        };
        Ok((path, file))
    }
}

/// What applies when neither a flag, a variable nor the config file says otherwise, read from
/// the library's configuration types.
#[derive(Debug, Clone)]
pub(crate) struct Defaults {
    dialect: Dialect,
    /// io.Connect Desktop's local gateway.
    pub(crate) ioconnect_url: String,
    /// The login name when `$USER`/`%USERNAME%` say nothing.
    user: String,
    application: String,
    fdc3_identity_url: String,
    call_timeout: Duration,
    limits: Limits,
    workers: usize,
    max_timeout: Duration,
    mcp: McpTransport,
    listen: SocketAddr,
}

impl Defaults {
    /// The defaults of this build.
    pub(crate) fn current() -> Self {
        let ioconnect = IoConnectConfig::new(String::new(), Authentication::default());
        let sandbox = SandboxConfig::new(WorkerCommand::new(PathBuf::new(), [""; 0]));
        Self {
            dialect: Dialect::Ioconnect,
            ioconnect_url: "ws://127.0.0.1:8385/gw".to_owned(),
            user: "codemode".to_owned(),
            application: ioconnect.application,
            fdc3_identity_url: "https://codemode.local/".to_owned(),
            call_timeout: CallOptions::default().timeout,
            limits: sandbox.limits,
            workers: sandbox.workers,
            max_timeout: MAX_TIMEOUT,
            mcp: McpTransport::Stdio,
            listen: McpHttpOptions::default().listen,
        }
    }

    /// `(argument id, default as shown in --help)` for every flag whose default is not clap's
    /// own.
    fn help_notes(&self) -> Vec<(&'static str, String)> {
        let mib = self.limits.memory_bytes / (1024 * 1024);
        vec![
            (
                "bus",
                format!(
                    "{}, or the URL io.Connect Desktop hands over in _GD_STARTING_CONTEXT_",
                    self.ioconnect_url
                ),
            ),
            ("dialect", dialect_name(self.dialect).to_owned()),
            (
                "user",
                format!("$USER, or %USERNAME% on Windows, else {}", self.user),
            ),
            ("application", self.application.clone()),
            ("fdc3_identity_url", self.fdc3_identity_url.clone()),
            ("call_timeout_seconds", seconds_text(self.call_timeout)),
            ("timeout_seconds", seconds_text(self.limits.wall_time)),
            ("max_timeout_seconds", seconds_text(self.max_timeout)),
            ("memory_mib", mib.to_string()),
            ("max_bus_calls", self.limits.max_bus_calls.to_string()),
            ("workers", self.workers.to_string()),
            ("mcp", transport_name(self.mcp).to_owned()),
            ("listen", self.listen.to_string()),
        ]
    }
}

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ioconnect => "ioconnect",
        Dialect::Fdc3 => "fdc3",
    }
}

fn transport_name(transport: McpTransport) -> &'static str {
    match transport {
        McpTransport::Stdio => "stdio",
        McpTransport::Http => "http",
        McpTransport::None => "none",
    }
}

fn seconds_text(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{}", duration.as_secs())
    } else {
        format!("{seconds}")
    }
}

/// Appends `[default: …]` to the help of every flag in [`Defaults::help_notes`], wherever a
/// subcommand (or its subcommands) has it.
pub(crate) fn document_defaults(command: clap::Command) -> clap::Command {
    let notes = Defaults::current().help_notes();
    annotate(command, &notes)
}

fn annotate(command: clap::Command, notes: &[(&'static str, String)]) -> clap::Command {
    let mut command = command;
    for (id, note) in notes {
        if command.get_arguments().any(|arg| arg.get_id() == id) {
            command = command.mut_arg(*id, |arg| {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                let long_help = arg.get_long_help().map(ToString::to_string);
                let arg = arg.help(format!("{help} [default: {note}]"));
                match long_help {
                    Some(long_help) => arg.long_help(format!("{long_help}\n\n[default: {note}]")),
                    None => arg,
                }
            });
        }
    }
    command.mut_subcommands(|sub| annotate(sub, notes))
}

/// Every bus and sandbox setting of `serve`, `exec` and `catalogue`, after layering.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Which wire protocol.
    pub(crate) dialect: Dialect,
    /// The bus URL a flag, variable or the file gave (the default depends on how codemode was
    /// started, so it is applied when connecting).
    pub(crate) bus_url: Option<String>,
    /// io.Connect login name.
    pub(crate) user: String,
    /// io.Connect application name, if not the adapter's default.
    pub(crate) application: Option<String>,
    /// FDC3 identity URL.
    pub(crate) fdc3_identity_url: String,
    /// FDC3 App Directory.
    pub(crate) fdc3_app_directory: Option<String>,
    /// Extra trusted CA certificates (PEM) for `wss://` and `https://`.
    pub(crate) ca_file: Option<PathBuf>,
    /// Timeout of one bus call.
    pub(crate) call_timeout: Duration,
    /// Limits of one snippet.
    pub(crate) limits: Limits,
    /// Warm workers.
    pub(crate) workers: usize,
    /// The longest wall time a caller may ask for.
    pub(crate) max_timeout: Duration,
    /// Audit log file.
    pub(crate) audit_log: Option<PathBuf>,
    /// The config file in use (`--config` or the platform's default), if any.
    pub(crate) config_path: Option<PathBuf>,
    /// The defaults the others were layered over.
    pub(crate) defaults: Defaults,
    /// The config file, for `serve`'s keys.
    pub(crate) file: ConfigFile,
}

impl Settings {
    /// Layers `args` (flags and variables) over `file` over the defaults; a value out of range
    /// is a usage error naming its flag.
    pub(crate) fn resolve(
        args: &BusArgs,
        (config_path, file): (Option<PathBuf>, ConfigFile),
    ) -> anyhow::Result<Self> {
        let defaults = Defaults::current();
        let duration = |flag: Option<f64>, from_file: Option<f64>, name: &str, default| {
            flag.or(from_file)
                .map_or(Ok(default), |value| seconds(value, name))
        };
        let mut limits = defaults.limits.clone();
        limits.wall_time = duration(
            args.timeout_seconds,
            file.timeout_seconds,
            "--timeout-seconds",
            limits.wall_time,
        )?;
        if let Some(mib) = args.memory_mib.or(file.memory_mib) {
            limits.memory_bytes = mib.saturating_mul(1024 * 1024);
        }
        if let Some(calls) = args.max_bus_calls.or(file.max_bus_calls) {
            limits.max_bus_calls = calls;
        }
        Ok(Self {
            dialect: args.dialect.or(file.dialect).unwrap_or(defaults.dialect),
            bus_url: args.bus.clone().or_else(|| file.bus.clone()),
            user: args
                .user
                .clone()
                .or_else(|| file.user.clone())
                .or_else(crate::platform::default_user)
                .unwrap_or_else(|| defaults.user.clone()),
            application: args
                .application
                .clone()
                .or_else(|| file.application.clone()),
            fdc3_identity_url: args
                .fdc3_identity_url
                .clone()
                .or_else(|| file.fdc3_identity_url.clone())
                .unwrap_or_else(|| defaults.fdc3_identity_url.clone()),
            fdc3_app_directory: args
                .fdc3_app_directory
                .clone()
                .or_else(|| file.fdc3_app_directory.clone()),
            ca_file: args.ca_file.clone().or_else(|| file.ca_file.clone()),
            call_timeout: duration(
                args.call_timeout_seconds,
                file.call_timeout_seconds,
                "--call-timeout-seconds",
                defaults.call_timeout,
            )?,
            limits,
            workers: args
                .workers
                .or(file.workers)
                .unwrap_or(defaults.workers)
                .max(1),
            max_timeout: duration(
                args.max_timeout_seconds,
                file.max_timeout_seconds,
                "--max-timeout-seconds",
                defaults.max_timeout,
            )?,
            audit_log: args.audit_log.clone().or_else(|| file.audit_log.clone()),
            config_path,
            defaults,
            file,
        })
    }

    /// `serve`'s MCP transport.
    pub(crate) fn mcp_transport(&self, args: &ServeArgs) -> McpTransport {
        args.mcp.or(self.file.mcp).unwrap_or(self.defaults.mcp)
    }

    /// `serve --mcp http`'s listen address and allowed origins (flags and file together).
    pub(crate) fn http_options(&self, args: &ServeArgs) -> McpHttpOptions {
        let mut options = McpHttpOptions {
            listen: args
                .listen
                .or(self.file.listen)
                .unwrap_or(self.defaults.listen),
            bearer_token: args.bearer_token.clone(),
            ..McpHttpOptions::default()
        };
        options.allowed_origins.clone_from(&args.allowed_origins);
        options
            .allowed_origins
            .extend(self.file.allowed_origins.iter().cloned());
        options
    }
}

pub(crate) fn seconds(value: f64, what: &str) -> anyhow::Result<Duration> {
    if !value.is_finite() || value <= 0.0 {
        return Err(usage(format!(
            "{what} must be a positive number of seconds, not {value}"
        )));
    }
    Duration::try_from_secs_f64(value).map_err(|_| usage(format!("{what} is too large")))
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser};

    use super::*;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        bus: BusArgs,
    }

    fn parse(flags: &[&str]) -> BusArgs {
        let mut argv = vec!["probe"];
        argv.extend_from_slice(flags);
        Probe::try_parse_from(argv).map_or_else(|error| panic!("{error}"), |probe| probe.bus)
    }

    fn file(toml: &str) -> ConfigFile {
        toml::from_str(toml).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn with_nothing_set_the_library_defaults_apply() {
        let settings = Settings::resolve(&parse(&[]), (None, ConfigFile::default()))
            .unwrap_or_else(|error| panic!("{error}"));
        let library = SandboxConfig::new(WorkerCommand::new("w", [""; 0]));
        assert_eq!(settings.limits.wall_time, library.limits.wall_time);
        assert_eq!(settings.limits.memory_bytes, library.limits.memory_bytes);
        assert_eq!(settings.workers, library.workers);
        assert_eq!(settings.call_timeout, CallOptions::default().timeout);
        assert_eq!(settings.max_timeout, MAX_TIMEOUT);
        assert_eq!(settings.dialect, Dialect::Ioconnect);
    }

    #[test]
    fn the_file_overrides_a_default_and_a_flag_overrides_the_file() {
        let from_file = file("timeout_seconds = 12\nworkers = 3\nmemory_mib = 64\n");
        let settings = Settings::resolve(&parse(&["--timeout-seconds", "5"]), (None, from_file))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(settings.limits.wall_time, Duration::from_secs(5));
        assert_eq!(settings.workers, 3);
        assert_eq!(settings.limits.memory_bytes, 64 * 1024 * 1024);
    }

    #[test]
    fn a_bad_duration_is_a_usage_error_naming_its_flag() {
        let error = Settings::resolve(
            &parse(&["--timeout-seconds=-1"]),
            (None, ConfigFile::default()),
        )
        .err()
        .map(|error| format!("{error:#}"))
        .unwrap_or_default();
        assert!(error.contains("--timeout-seconds"), "{error}");
        let error = Settings::resolve(&parse(&[]), (None, file("call_timeout_seconds = 0\n")))
            .err()
            .map(|error| format!("{error:#}"))
            .unwrap_or_default();
        assert!(error.contains("--call-timeout-seconds"), "{error}");
    }

    #[test]
    fn help_shows_each_default_from_the_values_resolve_uses() {
        let defaults = Defaults::current();
        let mut command = document_defaults(Probe::command());
        let help = command.render_long_help().to_string();
        for (id, note) in defaults.help_notes() {
            if ["mcp", "listen"].contains(&id) {
                continue; // `serve` flags, not in BusArgs
            }
            assert!(help.contains(&format!("[default: {note}]")), "{id}: {help}");
        }
        let settings = Settings::resolve(&parse(&[]), (None, ConfigFile::default()))
            .unwrap_or_else(|error| panic!("{error}"));
        assert!(help.contains(&format!(
            "[default: {}]",
            seconds_text(settings.limits.wall_time)
        )));
    }
}
