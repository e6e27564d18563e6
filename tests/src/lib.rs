//! Fixtures for codemode's integration tests.
//!
//! [`RealGateway`] runs the real open-source GW3 gateway (`@glue42/gateway-web`) behind a `ws`
//! server on 127.0.0.1 with real `@interopio/*` apps (`tests/fixtures/ioconnect/run.js`);
//! [`probe`] asks a real `@interopio/desktop` client what it sees, as a reference oracle;
//! [`tls`] puts a TLS-terminating proxy with a test CA's certificate in front of either.
//! Node processes exit when their stdin closes, so a crashed test run leaves no orphans.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test fixtures fail loudly and early"
)]

pub mod raw;
pub mod tls;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{OnceLock, mpsc},
    time::Duration,
};

use codemode_adapters::ioconnect::IoConnectConfig;
use codemode_protocol::gw3::Authentication;
use serde_json::Value;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The folder of the io.Connect fixture (gateway host, apps, probe).
pub fn ioconnect_fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/ioconnect")
}

/// Installs the fixture's npm packages once per test process (no-op when present).
pub fn ensure_node_packages() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let status = Command::new("bash")
            .arg(ioconnect_fixture_dir().join("install.sh"))
            .status()
            .expect("run tests/fixtures/ioconnect/install.sh");
        assert!(
            status.success(),
            "installing the fixture's npm packages failed"
        );
    });
}

/// How to start a [`RealGateway`].
#[derive(Debug, Clone, Default)]
pub struct GatewayOptions {
    /// Extra synthetic apps.
    pub filler: usize,
    /// A fixed port (for restart tests); a free one when `None`.
    pub port: Option<u16>,
    /// Only the gateway, no apps.
    pub gateway_only: bool,
}

/// A running real gateway with its apps; killed on drop.
pub struct RealGateway {
    child: Child,
    _stdin: Option<ChildStdin>,
    /// `ws://127.0.0.1:P/gw`.
    pub url: String,
    /// The port.
    pub port: u16,
    /// The user the apps logged in as (log in as the same user to see them).
    pub user: String,
    /// A secret the gateway accepts.
    pub secret: String,
}

impl RealGateway {
    /// Starts the fixture and waits for its ready line (every app registered).
    pub fn start(options: &GatewayOptions) -> Self {
        ensure_node_packages();
        let dir = ioconnect_fixture_dir();
        let log_dir = repo_root().join("target/fixture-logs");
        std::fs::create_dir_all(&log_dir).expect("create target/fixture-logs");
        let log_path = log_dir.join(format!("ioconnect-{}.log", uuid::Uuid::new_v4().simple()));
        let log = std::fs::File::create(&log_path).expect("create fixture log");
        let mut command = Command::new("node");
        command
            .current_dir(&dir)
            .arg("run.js")
            .arg("--port")
            .arg(options.port.unwrap_or(0).to_string());
        if options.filler > 0 {
            command.arg("--filler").arg(options.filler.to_string());
        }
        if options.gateway_only {
            command.arg("--gateway-only");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start node tests/fixtures/ioconnect/run.js (is node installed?)");
        let ready = read_ready_line(&mut child, &log_path);
        let port = u16::try_from(ready["port"].as_u64().expect("ready.port")).expect("port");
        Self {
            _stdin: child.stdin.take(),
            child,
            url: ready["url"]
                .as_str()
                .map_or_else(|| format!("ws://127.0.0.1:{port}/gw"), str::to_owned),
            port,
            user: ready["user"].as_str().unwrap_or("codemode-test").to_owned(),
            secret: ready["secret"].as_str().unwrap_or("secret").to_owned(),
        }
    }

    /// An adapter configuration that logs in as the apps' user, with quick reconnects.
    pub fn adapter_config(&self) -> IoConnectConfig {
        let mut config = IoConnectConfig::new(
            self.url.clone(),
            Authentication::secret(self.user.clone(), self.secret.clone()),
        );
        config.reconnect_initial_delay = Duration::from_millis(100);
        config.reconnect_max_delay = Duration::from_millis(500);
        config
    }

    /// Kills the gateway and every app, and waits for them to exit.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RealGateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One real gateway with the standard apps, shared by the read-only tests of this process.
pub fn shared_gateway() -> &'static RealGateway {
    static SHARED: OnceLock<RealGateway> = OnceLock::new();
    SHARED.get_or_init(|| RealGateway::start(&GatewayOptions::default()))
}

/// Serialises tests that change what [`shared_gateway`] shows (registering methods) with
/// tests that compare two views of it taken at different moments. Hold the guard for the
/// whole test; it is an async lock, so holding it across `.await` blocks no runtime thread,
/// and a test that panics releases it.
pub async fn shared_gateway_lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Runs the real `@interopio/desktop` probe client against `gateway` and returns its JSON
/// answer (`methods`, `intents`, `invoke NAME ARGS [TARGET]`, `raise INTENT CONTEXT`).
pub fn probe(gateway: &RealGateway, args: &[&str]) -> Value {
    probe_url(&gateway.url, &gateway.user, args)
}

/// [`probe`] against any bus URL, logged in as `user`.
pub fn probe_url(url: &str, user: &str, args: &[&str]) -> Value {
    ensure_node_packages();
    let output = Command::new("node")
        .current_dir(ioconnect_fixture_dir())
        .arg("probe.js")
        .args(["--url", url, "--user", user])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run probe.js");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|error| {
        panic!(
            "probe {args:?} printed no JSON ({error}); stdout: {stdout}; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The folder of the FDC3 fixture (the FINOS reference Desktop Agent and handler apps).
pub fn fdc3_fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/fdc3")
}

/// A running FINOS reference Desktop Agent (`@finos/fdc3-web-impl`) with its handler apps;
/// killed on drop. Every frame codemode sends is validated against the official schemas and
/// logged to [`ReferenceAgent::validation_log`].
pub struct ReferenceAgent {
    child: Child,
    _stdin: Option<ChildStdin>,
    /// `ws://127.0.0.1:P/`.
    pub url: String,
    /// The identity URL of codemode's App Directory record.
    pub identity_url: String,
    /// The agent's App Directory (`GET /v2/apps`).
    pub appd_url: String,
    /// One JSON line per frame received from codemode: `{type, valid, errors}`.
    pub validation_log: PathBuf,
}

impl ReferenceAgent {
    /// Starts the agent with a heartbeat every `heartbeat_ms` and waits for its ready line.
    pub fn start(heartbeat_ms: u64) -> Self {
        static INSTALLED: OnceLock<()> = OnceLock::new();
        INSTALLED.get_or_init(|| {
            let status = Command::new("bash")
                .arg(fdc3_fixture_dir().join("install.sh"))
                .status()
                .expect("run tests/fixtures/fdc3/install.sh");
            assert!(
                status.success(),
                "installing the FDC3 fixture's npm packages failed"
            );
        });
        let log_dir = repo_root().join("target/fixture-logs");
        std::fs::create_dir_all(&log_dir).expect("create target/fixture-logs");
        let id = uuid::Uuid::new_v4().simple().to_string();
        let log_path = log_dir.join(format!("fdc3-{id}.log"));
        let validation_log = log_dir.join(format!("fdc3-{id}-validation.jsonl"));
        let log = std::fs::File::create(&log_path).expect("create fixture log");
        let mut child = Command::new("node")
            .current_dir(fdc3_fixture_dir())
            .args(FDC3_FIXTURE_COMMAND)
            .args(["--port", "0", "--heartbeat-ms", &heartbeat_ms.to_string()])
            .arg("--validation-log")
            .arg(&validation_log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start the FDC3 fixture (is node installed?)");
        let ready = read_ready_line(&mut child, &log_path);
        Self {
            _stdin: child.stdin.take(),
            child,
            url: ready["url"].as_str().expect("ready.url").to_owned(),
            identity_url: ready["identityUrl"]
                .as_str()
                .expect("ready.identityUrl")
                .to_owned(),
            appd_url: ready["appdUrl"].as_str().expect("ready.appdUrl").to_owned(),
            validation_log,
        }
    }

    /// Every validation record so far.
    pub fn validations(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.validation_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

impl Drop for ReferenceAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The node arguments that start the FDC3 fixture (before its own options).
const FDC3_FIXTURE_COMMAND: &[&str] = &["run.js"];

fn read_ready_line(child: &mut Child, log_path: &Path) -> Value {
    let stdout = child.stdout.take().expect("fixture stdout");
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        match lines_rx.recv_timeout(Duration::from_mins(3)) {
            Ok(line) => {
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && value["ready"] == true
                {
                    return value;
                }
            }
            Err(error) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                panic!("the fixture never became ready ({error}); its log:\n{log}");
            }
        }
    }
}
