//! Shared by the MCP tests: a Code Mode service over the embedded mock bus, and the snippets
//! every client runs.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]
#![allow(dead_code, reason = "each test binary uses a part")]

use std::{sync::Arc, time::Duration};

use codemode::{
    mock_bus::{MockBus, MockBusConfig, MockBusHandle},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig},
};
use codemode_adapters::ioconnect::{IoConnectBus, IoConnectConfig};
use codemode_protocol::gw3::Authentication;

/// The seed question as one snippet: "who is Amelia Reid's adviser?".
pub const ADVISER_SNIPPET: &str =
    "result = crm.get_clients(name_contains='Amelia Reid')['clients'][0]['adviser']";

/// Fails on its second line with an IndexError.
pub const FAILING_SNIPPET: &str = "names = ['Amelia Reid']\nsecond = names[3]\nresult = second";

/// The line the failure must quote.
pub const FAILING_LINE: &str = "second = names[3]";

/// Never ends on its own.
pub const ENDLESS_SNIPPET: &str = "while True:\n    pass";

/// Exactly three bus calls, one after another.
pub const THREE_CALLS_SNIPPET: &str = "a = crm.get_clients(name_contains='Amelia Reid')\n\
    b = crm.get_clients(adviser='M Carter')\n\
    c = crm.get_clients(name_contains='Reid')\n\
    result = len(b['clients'])";

/// A mock bus and a Code Mode service over it; the bus stops when this is dropped.
pub struct Fixture {
    /// The embedded bus.
    pub bus: MockBusHandle,
    /// The service the MCP server wraps.
    pub service: Arc<CodeMode>,
}

impl Fixture {
    /// The sample apps plus `synthetic_apps` generated ones, one sandbox worker.
    pub async fn start(synthetic_apps: usize) -> Self {
        Self::start_with(synthetic_apps, None).await
    }

    /// The sample apps under `policy`, one sandbox worker.
    pub async fn start_with_policy(policy: Arc<codemode::control::PolicyStore>) -> Self {
        Self::start_with(0, Some(policy)).await
    }

    async fn start_with(
        synthetic_apps: usize,
        policy: Option<Arc<codemode::control::PolicyStore>>,
    ) -> Self {
        let bus = MockBus::start(MockBusConfig {
            synthetic_apps,
            ..MockBusConfig::default()
        })
        .await
        .expect("mock bus starts");
        let adapter = IoConnectBus::connect(IoConnectConfig::new(
            bus.url(),
            Authentication::secret("tester", "secret"),
        ))
        .await
        .expect("adapter connects");
        let mut sandbox = SandboxConfig::new(WorkerCommand::new(
            env!("CARGO_BIN_EXE_codemode"),
            ["sandbox-worker"],
        ));
        sandbox.workers = 1;
        let mut config = CodeModeConfig::new(sandbox);
        config.call_timeout = Duration::from_secs(5);
        config.policy = policy;
        let service = CodeMode::new(Arc::new(adapter), config).expect("service starts");
        Self {
            bus,
            service: Arc::new(service),
        }
    }

    /// Stops the bus.
    pub async fn stop(self) {
        self.bus.shutdown().await;
    }
}
