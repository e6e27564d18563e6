//! The `codemode` command line.
//!
//! One subcommand per entry point; each parses its flags into the library's configuration and
//! runs it until Ctrl-C. Logs go to stderr (`RUST_LOG`, default `info`); stdout carries only
//! machine-readable lines (the mock bus prints its URL once it is ready).

mod cli;
mod demo;
mod exit;
mod platform;
mod settings;

use std::{ffi::OsString, net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{
    ArgAction, Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum,
};

use codemode::mock_bus::{MockBus, MockBusConfig, synthetic};

/// Code Mode for desktop interop buses.
#[derive(Debug, Parser)]
#[command(name = "codemode", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More log detail on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = ArgAction::Count, help_heading = "Logging")]
    verbose: u8,
    /// Less log detail on stderr (-q warnings, -qq errors only).
    #[arg(short, long, global = true, action = ArgAction::Count, help_heading = "Logging",
          conflicts_with = "verbose")]
    quiet: u8,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormatArg::Text,
          env = "CODEMODE_LOG_FORMAT", help_heading = "Logging")]
    log_format: LogFormatArg,
    /// Export the snippet and bus-call spans over OTLP/HTTP to this collector, e.g.
    /// http://localhost:4318 (spans go to <URL>/v1/traces). Off unless this or
    /// OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; see
    /// docs/telemetry.md.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "CODEMODE_OTLP_ENDPOINT",
        help_heading = "Logging"
    )]
    otlp_endpoint: Option<String>,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormatArg {
    /// Human-readable lines (coloured only on a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

impl Cli {
    fn log_options(&self) -> codemode::logging::LogOptions {
        codemode::logging::LogOptions {
            verbosity: i8::try_from(i16::from(self.verbose) - i16::from(self.quiet)).unwrap_or(0),
            format: match self.log_format {
                LogFormatArg::Text => codemode::logging::LogFormat::Text,
                LogFormatArg::Json => codemode::logging::LogFormat::Json,
            },
        }
    }
}

/// Examples and exit codes, after the flags in `codemode --help`.
const AFTER_HELP: &str = "\
Examples:
  codemode demo                                  the one-command demo on the mock bus
  codemode serve --mcp stdio                     MCP for an assistant that starts codemode
  codemode serve --mcp http --bearer-token T     MCP on http://127.0.0.1:8765/mcp
  codemode exec snippet.py --bus ws://127.0.0.1:8385/gw
  codemode catalogue --mock-bus search \"client adviser\"
  codemode completions bash > ~/.local/share/bash-completion/completions/codemode

Every flag also reads a CODEMODE_* variable (see each subcommand's --help), and a config file
(--config, or codemode/codemode.toml under %APPDATA% on Windows, $XDG_CONFIG_HOME or ~/.config
elsewhere). Precedence: flag, variable, file, default.

Exit codes:
  0  success
  1  the snippet failed (codemode exec)
  2  usage: a bad flag, value or config file
  3  the bus is unreachable, refused the connection, or authentication failed
  4  internal error";

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Code Mode: MCP (stdio or streamable HTTP) and the CodeMode.* methods on the bus.
    Serve(cli::ServeArgs),
    /// Run the one-command demo on the embedded mock bus (samples + 300 synthetic apps).
    Demo(demo::DemoArgs),
    /// Run one snippet against the bus and print its outcome.
    Exec(cli::ExecArgs),
    /// Print the Python API: list, search, get stubs, or the whole module.
    Catalogue(cli::CatalogueArgs),
    /// Run the mock bus standalone: an io.Connect-compatible gateway with sample apps.
    MockBus(MockBusArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// The sandbox worker process (started by codemode itself; speaks line-JSON on stdio).
    #[command(hide = true)]
    SandboxWorker,
    /// Run a benchmark and print its table (discovery, tokens, perf; `codemode bench --help`).
    ///
    /// The benchmarks are a separate executable, `codemode-bench`, found next to this one, so
    /// the product carries none of their clients.
    #[command(disable_help_flag = true)]
    Bench {
        /// The benchmark and its flags, passed to `codemode-bench`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

#[derive(Debug, Args)]
struct MockBusArgs {
    /// Address to listen on (use port 0 for a free port).
    #[arg(
        long,
        default_value = "127.0.0.1:8385",
        env = "CODEMODE_MOCK_BUS_LISTEN"
    )]
    listen: SocketAddr,
    /// Number of synthetic apps to add to the sample apps.
    #[arg(long, default_value_t = 0, env = "CODEMODE_MOCK_APPS")]
    apps: usize,
    /// Seed of the synthetic apps (the same seed and count give the same apps).
    #[arg(long, default_value_t = synthetic::DEFAULT_SEED, env = "CODEMODE_MOCK_SEED")]
    seed: u64,
    /// Owner of the apps: only clients logged in as this user see them (default: everyone).
    #[arg(long, env = "CODEMODE_MOCK_BUS_USER")]
    user: Option<String>,
    /// Directory of app definitions (`*.json`) to use instead of the built-in samples.
    #[arg(long, env = "CODEMODE_MOCK_SAMPLES")]
    samples: Option<PathBuf>,
}

/// Parses the command line; `--help` shows each default from the values the settings use.
fn parse_cli() -> Cli {
    let matches = settings::document_defaults(Cli::command()).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

fn main() -> ExitCode {
    let cli = parse_cli();
    match cli.command {
        // The worker owns its process: no runtime, no logging on its protocol pipes.
        Command::SandboxWorker => return codemode::sandbox::worker::run_worker_stdio(),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut settings::document_defaults(Cli::command()),
                "codemode",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    // HTTP clients that build their own TLS setup (the OTLP exporter, rmcp's client in
    // `bench`) use the process's rustls provider; the build has only `ring`.
    codemode_adapters::tls::install_default_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return exit::report(&anyhow::Error::new(error).context("starting the async runtime"));
        }
    };
    let telemetry_options = codemode::telemetry::TelemetryOptions {
        otlp_endpoint: cli.otlp_endpoint.clone(),
    };
    let (telemetry, telemetry_layer) =
        match codemode::telemetry::Telemetry::start(&telemetry_options, runtime.handle().clone()) {
            Ok(started) => started.unzip(),
            Err(error) => return exit::report(&exit::usage(error.to_string())),
        };
    codemode::logging::init_with_telemetry(cli.log_options(), telemetry_layer);
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cli::run_serve(args).await.map(|()| ExitCode::SUCCESS),
            Command::Demo(args) => demo::run_demo(args).await.map(|()| ExitCode::SUCCESS),
            Command::Exec(args) => cli::run_exec(args).await.map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(exit::SNIPPET_FAILED)
                }
            }),
            Command::Catalogue(args) => cli::run_catalogue(args).await.map(|()| ExitCode::SUCCESS),
            Command::SandboxWorker | Command::Completions { .. } => Ok(ExitCode::SUCCESS),
            Command::MockBus(args) => run_mock_bus(args).await.map(|()| ExitCode::SUCCESS),
            Command::Bench { args } => run_bench(args).await,
        }
    });
    // The last spans go out on the runtime, which is still running its tasks.
    if let Some(telemetry) = telemetry {
        telemetry.shutdown();
    }
    // Dropping the runtime would wait for every blocking task, such as a read of stdin that
    // never returns (MCP over stdio after Ctrl-C or SIGTERM): give them a moment, then exit.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    outcome.unwrap_or_else(|error| exit::report(&error))
}

/// How long the process waits for its tasks to finish after its work is done.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// `codemode bench …`: runs `codemode-bench …` from this executable's folder and exits with
/// its status.
async fn run_bench(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("locating the codemode executable")?;
    let bench = exe.with_file_name(format!("codemode-bench{}", std::env::consts::EXE_SUFFIX));
    if !bench.is_file() {
        anyhow::bail!(
            "the benchmarks are a separate executable and {} does not exist; build it with \
             `cargo build --release -p codemode-bench` (or run `cargo run --release -p \
             codemode-bench -- …`)",
            bench.display()
        );
    }
    let status = tokio::process::Command::new(&bench)
        .args(&args)
        .status()
        .await
        .with_context(|| format!("running {}", bench.display()))?;
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
}

async fn run_mock_bus(args: MockBusArgs) -> anyhow::Result<()> {
    let mut signals = cli::ShutdownSignals::listen();
    let config = MockBusConfig {
        listen: Some(args.listen),
        synthetic_apps: args.apps,
        synthetic_seed: args.seed,
        user: args.user,
        samples_dir: args.samples,
        ..MockBusConfig::default()
    };
    let bus = MockBus::start(config)
        .await
        .context("starting the mock bus")?;
    print_ready_line(&bus.url());
    let signal = signals.recv().await;
    tracing::info!("{signal}: shutting down");
    bus.shutdown().await;
    Ok(())
}

#[expect(
    clippy::print_stdout,
    reason = "the URL line on stdout is the mock bus's ready signal for scripts and tests"
)]
fn print_ready_line(url: &str) {
    use std::io::Write as _;
    println!("{url}");
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    /// Every flag of every subcommand reads a `CODEMODE_*` variable, except the ones a variable
    /// would make no sense for (help, version, and -v/-q, which RUST_LOG covers).
    #[test]
    fn every_flag_has_a_codemode_variable() {
        fn check(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if ["help", "version", "verbose", "quiet"].contains(&long) {
                    continue;
                }
                let named = arg
                    .get_env()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("CODEMODE_"));
                if !named {
                    missing.push(format!("{path} --{long}"));
                }
            }
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        check(&Cli::command(), "codemode", &mut missing);
        assert!(
            missing.is_empty(),
            "flags without a CODEMODE_* variable: {missing:?}"
        );
    }
}
