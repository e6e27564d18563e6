//! A mock bus with realistic write methods (an order ticket's `PlaceOrder`, the CRM's
//! `SetAdviser`) and a Code Mode service under a policy read from a real config file.
#![allow(dead_code, reason = "each test binary uses a part")]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use codemode::{
    control::{PolicyOverrides, PolicyStore},
    mock_bus::{MockBus, MockBusConfig, MockBusHandle},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig},
};
use codemode_adapters::{
    Bus, CallOptions, Target,
    ioconnect::{IoConnectBus, IoConnectConfig},
};
use codemode_protocol::gw3::Authentication;
use serde_json::{Map, Value, json};

/// The order ticket app: places orders (a write) and lists them (a read).
const ORDER_TICKET: &str = r#"{
  "name": "OrderTicket",
  "title": "Order Ticket",
  "description": "Places equity orders for clients.",
  "allowMultiple": false,
  "running": true,
  "methods": [
    {
      "name": "OrderTicket.PlaceOrder",
      "displayName": "Place order",
      "description": "Places an order and returns it with its id.",
      "accepts": "String symbol, String side, Int quantity, String? clientEmail, String? note",
      "returns": "Composite: { String id, String symbol, String side, Int quantity, String? clientEmail, String? note } order",
      "behaviour": { "kind": "append", "dataset": "orders.orders", "resultKey": "order", "idPrefix": "o-", "required": ["symbol", "side", "quantity"] }
    },
    {
      "name": "OrderTicket.GetOrders",
      "displayName": "Get orders",
      "description": "Lists the orders placed so far.",
      "accepts": "",
      "returns": "Composite: { String id, String symbol, String side, Int quantity, String? clientEmail, String? note }[] orders",
      "behaviour": { "kind": "query", "dataset": "orders.orders", "resultKey": "orders", "filters": [] }
    }
  ]
}"#;

/// A mock bus, a service over it and the files of one test.
pub struct Env {
    /// The bus.
    pub bus: MockBusHandle,
    /// The service under the policy.
    pub service: Arc<CodeMode>,
    /// The config file holding the `[policy]` section.
    pub config: PathBuf,
    /// The audit log.
    pub audit: PathBuf,
    /// A direct connection to the bus, outside codemode (to see what really arrived).
    pub probe: IoConnectBus,
}

impl Env {
    /// Starts everything; `policy` is the text of the config file.
    pub async fn start(name: &str, policy: &str) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("control-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        let apps = dir.join("apps");
        std::fs::create_dir_all(&apps).expect("test dir");
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/apps");
        for entry in std::fs::read_dir(&samples).expect("samples/apps") {
            let path = entry.expect("entry").path();
            let Some(file) = path.file_name() else {
                continue;
            };
            std::fs::copy(&path, apps.join(file)).expect("copy a sample app");
        }
        let crm_path = apps.join("crm.json");
        let mut crm: Value =
            serde_json::from_str(&std::fs::read_to_string(&crm_path).expect("crm.json"))
                .expect("crm.json parses");
        crm["methods"].as_array_mut().expect("methods").push(json!({
            "name": "CRM.SetAdviser",
            "displayName": "Set adviser",
            "description": "Moves a client to another adviser.",
            "accepts": "String clientId, String adviser",
            "returns": "String clientId, String adviser",
            "behaviour": { "kind": "echo" }
        }));
        std::fs::write(&crm_path, crm.to_string()).expect("write crm.json");
        std::fs::write(apps.join("orderticket.json"), ORDER_TICKET).expect("order ticket");
        let config = dir.join("codemode.toml");
        std::fs::write(&config, policy).expect("config file");
        let audit = dir.join("audit.jsonl");

        let bus = MockBus::start(MockBusConfig {
            samples_dir: Some(apps),
            ..MockBusConfig::default()
        })
        .await
        .expect("mock bus starts");
        let adapter = connect(&bus).await;
        let mut sandbox = SandboxConfig::new(WorkerCommand::new(
            env!("CARGO_BIN_EXE_codemode"),
            ["sandbox-worker"],
        ));
        sandbox.workers = 2;
        let mut service_config = CodeModeConfig::new(sandbox);
        service_config.call_timeout = Duration::from_secs(10);
        service_config.audit_log = Some(audit.clone());
        service_config.policy = Some(Arc::new(
            PolicyStore::from_file(Some(config.clone()), PolicyOverrides::default())
                .expect("the policy parses"),
        ));
        let service =
            Arc::new(CodeMode::new(Arc::new(adapter), service_config).expect("service starts"));
        let probe = connect(&bus).await;
        Self {
            bus,
            service,
            config,
            audit,
            probe,
        }
    }

    /// Calls `method` directly on the bus (not through codemode).
    pub async fn probe(&self, method: &str, arguments: Value) -> Value {
        let arguments: Map<String, Value> = match arguments {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let bus: &dyn Bus = &self.probe;
        bus.invoke_one(method, arguments, &Target::Best, CallOptions::default())
            .await
            .expect("the probe call succeeds")
    }

    /// The orders the order ticket holds, as the bus has them.
    pub async fn orders(&self) -> Vec<Value> {
        self.probe("OrderTicket.GetOrders", json!({}))
            .await
            .get("orders")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// The audit log's text.
    pub fn audit_text(&self) -> String {
        std::fs::read_to_string(&self.audit).unwrap_or_default()
    }

    /// Stops the bus.
    pub async fn stop(self) {
        self.service.bus().close().await;
        self.probe.close().await;
        self.bus.shutdown().await;
    }
}

async fn connect(bus: &MockBusHandle) -> IoConnectBus {
    IoConnectBus::connect(IoConnectConfig::new(
        bus.url(),
        Authentication::secret("tester", "secret"),
    ))
    .await
    .expect("adapter connects")
}
