//! The subcommands that attach to a bus: `serve`, `exec` and `catalogue`, and the options they
//! share (which bus, how to log in, sandbox limits, an optional config file).
//!
//! Precedence: command-line flag, then environment variable (`CODEMODE_*`), then the config
//! file (`--config`, else `platform::default_config_file`; TOML), then the default, layered in
//! one place (`crate::settings`). Mistakes in any of them are usage errors (exit code 2).
//! Secrets are read from flags or the environment only, never from the config file, so it can
//! be shared.

use std::{io::Read as _, net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use codemode::{
    catalogue::ListRequest,
    mock_bus::{MockBus, MockBusConfig, MockBusHandle},
    on_bus::serve_on_bus,
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions, render_outcome},
};
use codemode_adapters::{
    Bus, BusError, TlsConfig,
    fdc3::{Fdc3Bus, Fdc3Config},
    ioconnect::{IoConnectBus, IoConnectConfig},
};
use codemode_protocol::gw3::Authentication;

use crate::{
    exit::usage,
    settings::{ConfigFile, Settings},
};
use serde::Deserialize;

mod scaling;

/// Which wire protocol the bus speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Dialect {
    /// io.Connect Desktop's gateway (GW3 over WebSocket).
    Ioconnect,
    /// An FDC3 2.2 Desktop Agent (Web Connection Protocol + DACP over WebSocket).
    Fdc3,
}

/// Which bus and how to log in. Global, so that `codemode catalogue list --mock-bus` works as
/// well as `codemode catalogue --mock-bus list`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BusArgs {
    /// Bus WebSocket URL, ws:// or wss://.
    #[arg(long, global = true, env = "CODEMODE_BUS_URL", help_heading = "Bus")]
    pub(crate) bus: Option<String>,
    /// Bus dialect.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "CODEMODE_DIALECT",
        help_heading = "Bus"
    )]
    pub(crate) dialect: Option<Dialect>,
    /// Start the embedded mock bus (sample apps) and attach to it instead of `--bus`.
    #[arg(
        long,
        global = true,
        conflicts_with = "bus",
        env = "CODEMODE_MOCK_BUS",
        help_heading = "Bus"
    )]
    pub(crate) mock_bus: bool,
    /// Synthetic apps on the embedded mock bus.
    #[arg(
        long,
        global = true,
        default_value_t = 0,
        requires = "mock_bus",
        env = "CODEMODE_MOCK_APPS",
        help_heading = "Bus"
    )]
    pub(crate) mock_apps: usize,
    /// io.Connect login name.
    #[arg(long, global = true, env = "CODEMODE_USER", help_heading = "Login")]
    pub(crate) user: Option<String>,
    /// io.Connect secret (password) for `--user`.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_SECRET",
        hide_env_values = true,
        help_heading = "Login"
    )]
    pub(crate) secret: Option<String>,
    /// io.Connect gateway token (from `create-token` or io.Connect Desktop).
    #[arg(
        long,
        global = true,
        env = "CODEMODE_GATEWAY_TOKEN",
        hide_env_values = true,
        help_heading = "Login"
    )]
    pub(crate) gateway_token: Option<String>,
    /// io.Connect access token (an OAuth/OIDC token the gateway validates).
    #[arg(
        long,
        global = true,
        env = "CODEMODE_ACCESS_TOKEN",
        hide_env_values = true,
        help_heading = "Login"
    )]
    pub(crate) access_token: Option<String>,
    /// Application name codemode announces on the bus.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_APPLICATION",
        help_heading = "Login"
    )]
    pub(crate) application: Option<String>,
    /// FDC3: the identity URL codemode presents to the Desktop Agent.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_FDC3_IDENTITY_URL",
        help_heading = "Login"
    )]
    pub fdc3_identity_url: Option<String>,
    /// FDC3: an App Directory URL (or file path) for declared intents and context types.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_FDC3_APP_DIRECTORY",
        help_heading = "Bus"
    )]
    pub fdc3_app_directory: Option<String>,
    /// Extra trusted CA certificates (a PEM file) for `wss://` buses and `https://` App
    /// Directories, besides the system's trust store.
    #[arg(long, global = true, env = "CODEMODE_CA_FILE", help_heading = "Bus")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Timeout of one bus call, in seconds.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_CALL_TIMEOUT_SECONDS",
        help_heading = "Limits"
    )]
    pub(crate) call_timeout_seconds: Option<f64>,
    /// Wall-time limit of one snippet, in seconds.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_TIMEOUT_SECONDS",
        help_heading = "Limits"
    )]
    pub(crate) timeout_seconds: Option<f64>,
    /// The longest wall time a caller may ask for with `timeout_seconds`, in seconds.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_MAX_TIMEOUT_SECONDS",
        help_heading = "Limits"
    )]
    pub(crate) max_timeout_seconds: Option<f64>,
    /// Memory limit of one snippet, in MiB.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_MEMORY_MIB",
        help_heading = "Limits"
    )]
    pub(crate) memory_mib: Option<u64>,
    /// Bus calls one snippet may make.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_MAX_BUS_CALLS",
        help_heading = "Limits"
    )]
    pub(crate) max_bus_calls: Option<u32>,
    /// Worker processes kept warm for snippets (one snippet each at a time).
    #[arg(long, global = true, env = "CODEMODE_WORKERS", help_heading = "Limits")]
    pub(crate) workers: Option<usize>,
    #[command(flatten)]
    pub(crate) pool: scaling::PoolArgs,
    /// Append one JSON line per snippet (code, outcome, bus calls) to this file.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_AUDIT_LOG",
        help_heading = "Logging"
    )]
    pub(crate) audit_log: Option<PathBuf>,
    /// A TOML config file with any of: bus, dialect, user, application, fdc3_identity_url,
    /// fdc3_app_directory, ca_file, call_timeout_seconds, timeout_seconds, max_timeout_seconds, memory_mib,
    /// max_bus_calls, workers, max_workers, spare_workers, max_queued,
    /// shrink_idle_after_seconds, max_snippet_sessions, audit_log, mcp, listen,
    /// allowed_origins, max_sessions, session_idle_timeout_seconds, and a [policy] section (reloaded
    /// when the file changes; see samples/config/policy.toml). Default: %APPDATA%\codemode\codemode.toml
    /// on Windows, $XDG_CONFIG_HOME/codemode/codemode.toml elsewhere, when it exists.
    #[arg(long, global = true, env = "CODEMODE_CONFIG", help_heading = "Config")]
    pub(crate) config: Option<PathBuf>,
    /// Refuse every call that writes, before it reaches the bus.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_READ_ONLY",
        help_heading = "Policy"
    )]
    pub(crate) read_only: bool,
    /// Which calls need a person's approval, by class (default: the config's, or none).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "CODEMODE_REQUIRE_APPROVAL",
        help_heading = "Policy"
    )]
    pub(crate) require_approval: Option<codemode::control::ApproveClass>,
    /// Hide methods matching this glob (repeatable), e.g. `CRM.Set*`.
    #[arg(
        long,
        global = true,
        env = "CODEMODE_DENY_METHOD",
        value_delimiter = ',',
        help_heading = "Policy"
    )]
    pub(crate) deny_method: Vec<String>,
    /// Show only the apps matching these globs (repeatable).
    #[arg(
        long,
        global = true,
        env = "CODEMODE_ALLOW_APP",
        value_delimiter = ',',
        help_heading = "Policy"
    )]
    pub(crate) allow_app: Vec<String>,
}

/// MCP transports of `codemode serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum McpTransport {
    /// JSON-RPC over stdin/stdout (the assistant starts codemode).
    Stdio,
    /// Streamable HTTP on `--listen`.
    Http,
    /// No MCP: only the Code Mode methods on the bus.
    None,
}

/// A connected bus and the service over it; keeps the embedded mock bus alive if one was
/// started.
pub(crate) struct Attached {
    /// The service.
    pub(crate) service: Arc<CodeMode>,
    /// The embedded mock bus, if `--mock-bus`.
    pub(crate) mock_bus: Option<MockBusHandle>,
    /// The layered settings, for subcommand-specific keys.
    pub(crate) settings: Settings,
}

impl Attached {
    /// Leaves the bus and stops the embedded mock bus.
    pub(crate) async fn close(self) {
        self.service.bus().close().await;
        if let Some(bus) = self.mock_bus {
            bus.shutdown().await;
        }
    }
}

/// Connects to the bus described by `args` and builds the service over it.
pub(crate) async fn attach(args: &BusArgs) -> anyhow::Result<Attached> {
    let settings = Settings::resolve(args, ConfigFile::load(args.config.as_deref())?)?;
    let mock_bus = if args.mock_bus {
        if settings.dialect == Dialect::Fdc3 {
            return Err(usage(
                "the embedded mock bus speaks io.Connect's GW3; drop --dialect fdc3",
            ));
        }
        let bus = MockBus::start(MockBusConfig {
            synthetic_apps: args.mock_apps,
            ..MockBusConfig::default()
        })
        .await
        .context("starting the embedded mock bus")?;
        tracing::info!(url = %bus.url(), apps = bus.apps().len(), "embedded mock bus ready");
        Some(bus)
    } else {
        None
    };
    let url = match &mock_bus {
        Some(bus) => Some(bus.url()),
        None => settings.bus_url.clone(),
    };
    let tls = match &settings.ca_file {
        Some(path) => TlsConfig::with_ca_file(path).map_err(|error| usage(error.to_string()))?,
        None => TlsConfig::platform(),
    };
    let bus: Arc<dyn Bus> = match settings.dialect {
        Dialect::Ioconnect => {
            let authentication = if let Some(token) = &args.gateway_token {
                Authentication::gateway_token(token.clone())
            } else if let Some(token) = &args.access_token {
                Authentication::access_token(token.clone())
            } else {
                // The gateway's default authenticator takes any secret; a real deployment sets
                // one with --secret or CODEMODE_SECRET.
                Authentication::secret(
                    settings.user.clone(),
                    args.secret.clone().unwrap_or_else(|| "codemode".to_owned()),
                )
            };
            let mut adapter = IoConnectConfig::new(
                url.clone()
                    .unwrap_or_else(|| settings.defaults.ioconnect_url.clone()),
                authentication,
            );
            if mock_bus.is_none() {
                let launched = adapter
                    .apply_environment()
                    .context("reading io.Connect Desktop's starting context")?;
                if launched {
                    tracing::info!(
                        "launched by io.Connect Desktop: using its gateway URL and token"
                    );
                    if let Some(url) = &url {
                        adapter.url.clone_from(url);
                    }
                }
            }
            if let Some(name) = &settings.application {
                adapter.application.clone_from(name);
            }
            adapter.call_timeout = settings.call_timeout;
            adapter.tls = tls;
            tracing::info!(url = %adapter.url, "connecting to the io.Connect gateway");
            Arc::new(
                IoConnectBus::connect(adapter.clone())
                    .await
                    .with_context(|| {
                        format!("connecting to the io.Connect gateway at {}", adapter.url)
                    })?,
            )
        }
        Dialect::Fdc3 => {
            let Some(url) = url else {
                return Err(usage(
                    "--dialect fdc3 needs --bus ws://HOST:PORT/ (the Desktop Agent's WebSocket)",
                ));
            };
            let mut adapter = Fdc3Config::new(url.clone(), settings.fdc3_identity_url.clone());
            adapter
                .app_directory
                .clone_from(&settings.fdc3_app_directory);
            adapter.message_timeout = settings.call_timeout.min(adapter.message_timeout);
            adapter.tls = tls;
            tracing::info!(%url, "connecting to the FDC3 Desktop Agent");
            Arc::new(
                Fdc3Bus::connect(adapter)
                    .await
                    .with_context(|| format!("connecting to the FDC3 Desktop Agent at {url}"))?,
            )
        }
    };
    let catalogue = bus.catalogue();
    tracing::info!(
        dialect = bus.dialect(),
        methods = catalogue.methods.len(),
        intents = catalogue.intents.len(),
        "catalogue ready"
    );

    let worker = WorkerCommand::current_exe().context("locating the codemode executable")?;
    let mut sandbox = SandboxConfig::new(worker);
    sandbox.workers = settings.workers;
    args.pool.apply(&settings.file, &mut sandbox)?;
    sandbox.limits = settings.limits.clone();
    let mut service_config = CodeModeConfig::new(sandbox);
    service_config.call_timeout = settings.call_timeout;
    service_config.max_timeout = settings.max_timeout;
    service_config.audit_log.clone_from(&settings.audit_log);
    let overrides = codemode::control::PolicyOverrides {
        read_only: args.read_only,
        approve: args.require_approval,
        deny_methods: args.deny_method.clone(),
        allow_apps: args.allow_app.clone(),
    };
    service_config.policy = Some(Arc::new(
        codemode::control::PolicyStore::from_file(settings.config_path.clone(), overrides)
            // The file in use, `--config` or the platform's default: its [policy] applies.
            .context("reading the policy")?,
    ));
    let service = CodeMode::new(bus, service_config).context("starting Code Mode")?;
    Ok(Attached {
        service: Arc::new(service),
        mock_bus,
        settings,
    })
}

/// `codemode serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) bus: BusArgs,
    /// MCP transport.
    #[arg(long, value_enum, env = "CODEMODE_MCP", help_heading = "MCP")]
    pub(crate) mcp: Option<McpTransport>,
    /// HTTP listen address for `--mcp http`.
    #[arg(long, env = "CODEMODE_LISTEN", help_heading = "MCP")]
    pub(crate) listen: Option<SocketAddr>,
    #[command(flatten)]
    pub(crate) sessions: scaling::McpSessionArgs,
    /// Bearer token HTTP clients must send (`Authorization: Bearer …`).
    #[arg(
        long,
        env = "CODEMODE_BEARER_TOKEN",
        hide_env_values = true,
        help_heading = "MCP"
    )]
    pub(crate) bearer_token: Option<String>,
    /// Extra `Origin` allowed on HTTP (localhost origins always are); repeatable.
    #[arg(
        long = "allowed-origin",
        env = "CODEMODE_ALLOWED_ORIGINS",
        value_delimiter = ',',
        help_heading = "MCP"
    )]
    pub(crate) allowed_origins: Vec<String>,
    /// Do not register CodeMode.ListPythonDefinitions / GetPythonDefinitions /
    /// ExecutePythonCode on the bus.
    #[arg(
        long,
        conflicts_with = "bus_methods",
        env = "CODEMODE_NO_BUS_METHODS",
        help_heading = "MCP"
    )]
    pub(crate) no_bus_methods: bool,
    /// Require the CodeMode.* bus methods: fail when the bus cannot serve methods (FDC3).
    /// Without either flag they are registered where the bus can serve methods and skipped
    /// (with a log line) where it cannot.
    #[arg(long, env = "CODEMODE_BUS_METHODS", help_heading = "MCP")]
    pub(crate) bus_methods: bool,
}

/// `codemode exec`.
#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    #[command(flatten)]
    pub(crate) bus: BusArgs,
    /// The snippet: a Python file, or `-` for stdin.
    pub(crate) file: PathBuf,
    /// Print the structured outcome as JSON instead of text.
    #[arg(long, env = "CODEMODE_EXEC_JSON")]
    pub(crate) json: bool,
    /// Approve every call that needs approval (for scripts); default: ask on the terminal.
    #[arg(long, conflicts_with = "deny", env = "CODEMODE_EXEC_APPROVE")]
    pub(crate) approve: bool,
    /// Decline every call that needs approval (for scripts).
    #[arg(long, env = "CODEMODE_EXEC_DENY")]
    pub(crate) deny: bool,
}

/// `codemode catalogue`.
#[derive(Debug, Args)]
pub(crate) struct CatalogueArgs {
    #[command(flatten)]
    pub(crate) bus: BusArgs,
    #[command(subcommand)]
    pub(crate) what: CatalogueCommand,
}

/// What `codemode catalogue` prints.
#[derive(Debug, Subcommand)]
pub(crate) enum CatalogueCommand {
    /// One page of `list_python_definitions` (names and one-liners).
    List {
        /// Only this namespace (`crm`, `intents`…).
        #[arg(long, env = "CODEMODE_NAMESPACE")]
        namespace: Option<String>,
        /// Continue from a previous page's cursor.
        #[arg(long, env = "CODEMODE_CURSOR")]
        cursor: Option<String>,
    },
    /// Relevance-ranked search over names, descriptions, arguments, intents and context types.
    Search {
        /// The search words.
        query: String,
        /// Only this namespace.
        #[arg(long, env = "CODEMODE_NAMESPACE")]
        namespace: Option<String>,
    },
    /// Full typed stubs (`get_python_definitions`).
    Get {
        /// Functions, namespaces, types or wire names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// The whole generated Python module.
    Module,
}

/// Runs `codemode exec`; returns whether the snippet succeeded.
#[expect(clippy::print_stdout, reason = "the outcome is the command's output")]
pub(crate) async fn run_exec(args: ExecArgs) -> anyhow::Result<bool> {
    let code = if args.file.as_os_str() == "-" {
        let mut code = String::new();
        std::io::stdin()
            .read_to_string(&mut code)
            .map_err(|error| usage(format!("reading the snippet from stdin: {error}")))?;
        code
    } else {
        std::fs::read_to_string(&args.file).map_err(|error| {
            usage(format!(
                "reading the snippet {}: {error}",
                args.file.display()
            ))
        })?
    };
    let attached = attach(&args.bus).await?;
    let approver: Arc<dyn codemode::control::Approver> = if args.approve || args.deny {
        Arc::new(codemode::control::FixedApprover {
            approve: args.approve,
        })
    } else {
        Arc::new(codemode::control::TerminalApprover::default())
    };
    let options = ExecuteOptions {
        control: codemode::control::SessionControl {
            approver: Some(approver),
            pii: None,
            session: "exec".to_owned(),
        },
        ..ExecuteOptions::default()
    };
    let outcome = attached.service.execute(&code, options).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", render_outcome(&outcome));
    }
    attached.close().await;
    Ok(outcome.ok)
}

/// Runs `codemode catalogue`.
#[expect(
    clippy::print_stdout,
    reason = "the catalogue text is the command's output"
)]
pub(crate) async fn run_catalogue(args: CatalogueArgs) -> anyhow::Result<()> {
    let attached = attach(&args.bus).await?;
    let service = &attached.service;
    let text = match args.what {
        CatalogueCommand::List { namespace, cursor } => {
            let page = service.list(&ListRequest {
                namespace,
                cursor,
                ..ListRequest::default()
            });
            page.text
        }
        CatalogueCommand::Search { query, namespace } => {
            service
                .list(&ListRequest {
                    query: Some(query),
                    namespace,
                    ..ListRequest::default()
                })
                .text
        }
        CatalogueCommand::Get { names } => service.get(&names).text,
        CatalogueCommand::Module => service.module_source(),
    };
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    attached.close().await;
    Ok(())
}

/// Runs `codemode serve` until Ctrl-C (or, on stdio, until the client closes stdin). The bus
/// is left cleanly (FDC3: `WCP6Goodbye`) however serving ends.
pub(crate) async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let attached = attach(&args.bus).await?;
    // After attaching (Ctrl-C still ends a slow connect), before any ready line.
    let mut signals = ShutdownSignals::listen();
    let served = serve_attached(&args, &attached, &mut signals).await;
    // Snippets still running (bus callers, a stdio client) stop now rather than at their
    // deadline; their workers are freed before the bus closes.
    attached.service.shutdown();
    attached.close().await;
    served
}

async fn serve_attached(
    args: &ServeArgs,
    attached: &Attached,
    signals: &mut ShutdownSignals,
) -> anyhow::Result<()> {
    let service = Arc::clone(&attached.service);
    if let Err(error) = service.warm_up().await {
        tracing::warn!(%error, "sandbox workers did not start ahead of time; they start on the first snippet");
    }
    let transport = attached.settings.mcp_transport(args);
    let on_bus = if args.no_bus_methods {
        false
    } else {
        register_bus_methods(
            &service,
            args.bus_methods || transport == McpTransport::None,
        )
        .await?
    };
    match transport {
        McpTransport::Stdio => {
            tracing::info!("serving MCP on stdio");
            tokio::select! {
                served = codemode::mcp::serve_stdio(Arc::clone(&service)) => {
                    served.context("serving MCP on stdio")?;
                }
                signal = signals.recv() => tracing::info!("{signal}: shutting down"),
            }
        }
        McpTransport::Http => {
            let mut options = attached.settings.http_options(args);
            args.sessions.apply(&attached.settings.file, &mut options)?;
            serve_http_until_shutdown(Arc::clone(&service), options, signals).await?;
        }
        McpTransport::None => {
            if !on_bus {
                return Err(usage(
                    "--mcp none serves only the CodeMode.* bus methods, and --no-bus-methods turns them off: nothing to serve",
                ));
            }
            tracing::info!(
                "no MCP transport; serving the Code Mode methods on the bus until Ctrl-C or SIGTERM"
            );
            let signal = signals.recv().await;
            tracing::info!("{signal}: shutting down");
        }
    }
    Ok(())
}

/// Registers the CodeMode.* methods on the bus; returns whether they are served. A bus that
/// cannot serve methods (an FDC3 Desktop Agent has intents only) is skipped with one log
/// line, unless `required` (`--bus-methods`, or `--mcp none` where they are all there is).
async fn register_bus_methods(service: &Arc<CodeMode>, required: bool) -> anyhow::Result<bool> {
    match serve_on_bus(Arc::clone(service)).await {
        Ok(()) => {
            tracing::info!("CodeMode.* methods registered on the bus");
            Ok(true)
        }
        Err(BusError::Unsupported { operation, dialect }) if !required => {
            tracing::info!(
                "not registering the CodeMode.* bus methods: {operation} is not supported on {dialect}; serving Code Mode over MCP only"
            );
            Ok(false)
        }
        Err(error @ BusError::Unsupported { .. }) => Err(anyhow::Error::new(error).context(
            "the CodeMode.* bus methods were asked for (--bus-methods or --mcp none), but this bus cannot serve methods; use --mcp stdio or --mcp http",
        )),
        Err(error) => {
            Err(anyhow::Error::new(error).context("registering the Code Mode methods on the bus"))
        }
    }
}

/// Ctrl-C (SIGINT) and SIGTERM (what io.Connect Desktop, systemd and process managers send),
/// listened for from the moment this is created: create it before printing a ready line, or a
/// signal sent right after that line can be lost (a process started with SIGINT ignored, as
/// background jobs of a non-interactive shell are, would drop it).
pub(crate) struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    windows: crate::platform::WindowsSignals,
}

impl ShutdownSignals {
    /// Starts listening. A signal that cannot be listened for is logged and left out.
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(listener) => Some(listener),
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for {name}");
                    None
                }
            };
            Self {
                interrupt: listen(SignalKind::interrupt(), "Ctrl-C (SIGINT)"),
                terminate: listen(SignalKind::terminate(), "SIGTERM"),
            }
        }
        #[cfg(windows)]
        {
            Self {
                windows: crate::platform::WindowsSignals::listen(),
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            Self {}
        }
    }

    /// Waits for either signal and names the one that came.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn next(listener: Option<&mut tokio::signal::unix::Signal>) {
                match listener {
                    Some(listener) => {
                        if listener.recv().await.is_none() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = next(self.interrupt.as_mut()) => "Ctrl-C",
                () = next(self.terminate.as_mut()) => "SIGTERM",
            }
        }
        #[cfg(windows)]
        {
            self.windows.recv().await
        }
        #[cfg(not(any(unix, windows)))]
        {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::warn!(%error, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}

/// Serves MCP over HTTP until Ctrl-C or SIGTERM; prints the endpoint URL on stdout once it
/// listens.
async fn serve_http_until_shutdown(
    service: Arc<CodeMode>,
    options: codemode::mcp::McpHttpOptions,
    signals: &mut ShutdownSignals,
) -> anyhow::Result<()> {
    let server = codemode::mcp::start_http(service, options)
        .await
        .context("starting the MCP HTTP server")?;
    let url = format!("http://{}/mcp", server.local_addr());
    tracing::info!(%url, "serving MCP over streamable HTTP");
    print_ready_line(&url);
    let signal = signals.recv().await;
    tracing::info!("{signal}: shutting down");
    server
        .shutdown()
        .await
        .context("stopping the MCP HTTP server")?;
    Ok(())
}

#[expect(
    clippy::print_stdout,
    reason = "the endpoint line on stdout is the ready signal for scripts and tests"
)]
fn print_ready_line(line: &str) {
    use std::io::Write as _;
    println!("{line}");
    let _ = std::io::stdout().flush();
}
