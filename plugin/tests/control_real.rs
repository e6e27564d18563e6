//! On-bus approval on the real open-source io.Connect gateway: the sample approver
//! (`samples/approver/approver.js`, a real `@interopio/desktop` client) serves
//! `CodeMode.Approval.Request`; a snippet's write it approves goes out to the real app, one it
//! declines is an `ApprovalDeniedError` the snippet catches.

use std::{process::Stdio, sync::Arc, time::Duration};

use codemode::{
    control::{
        ApproveClass, BUS_APPROVAL_METHOD, BusApprover, Policy, PolicyConfig, PolicyOverrides,
        PolicyStore, SessionControl,
    },
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions, render_outcome},
};
use codemode_adapters::ioconnect::IoConnectBus;
use codemode_tests::{GatewayOptions, RealGateway, ioconnect_fixture_dir, repo_root};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_interopio_approver_on_the_bus_approves_one_write_and_declines_another() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let mut approver = tokio::process::Command::new("node")
        .arg(repo_root().join("samples/approver/approver.js"))
        .args([
            "--url",
            &gateway.url,
            "--user",
            &gateway.user,
            "--secret",
            &gateway.secret,
        ])
        .args(["--approve", "Slow.*"])
        .env("NODE_PATH", ioconnect_fixture_dir().join("node_modules"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts the sample approver");
    let mut lines = BufReader::new(approver.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(Duration::from_mins(1), lines.next_line())
        .await
        .expect("the approver is ready within 60 s")
        .expect("reads")
        .expect("a ready line");
    assert_eq!(
        serde_json::from_str::<Value>(&ready).expect("json"),
        json!({"ready": true})
    );

    let adapter = IoConnectBus::connect(gateway.adapter_config())
        .await
        .expect("adapter connects");
    let mut sandbox = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    sandbox.workers = 1;
    let mut config = CodeModeConfig::new(sandbox);
    config.policy = Some(Arc::new(PolicyStore::fixed(
        Policy::new(
            PolicyConfig {
                approve: ApproveClass::Writes,
                ..PolicyConfig::default()
            },
            &PolicyOverrides::default(),
        )
        .expect("policy"),
    )));
    let service = CodeMode::new(Arc::new(adapter), config).expect("service");
    let options = ExecuteOptions {
        control: SessionControl {
            approver: Some(Arc::new(BusApprover::new(
                Arc::clone(service.bus()),
                BUS_APPROVAL_METHOD,
                Duration::from_secs(20),
            ))),
            pii: None,
            session: "real-gateway".to_owned(),
        },
        ..ExecuteOptions::default()
    };
    let snippet = "waited = slow.wait(ms=5)['waited']\ntry:\n    echo.ping(text='hi')\n    pinged = 'sent'\nexcept ApprovalDeniedError as error:\n    pinged = [error.reason_uri, str(error)]\nresult = {'waited': waited, 'pinged': pinged}";
    let outcome = service.execute(snippet, options).await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(
        outcome.result["waited"], 5,
        "the approved write reached the real app"
    );
    assert_eq!(
        outcome.result["pinged"][0], "declined",
        "{}",
        outcome.result
    );
    let message = outcome.result["pinged"][1].as_str().unwrap_or_default();
    assert!(
        message.contains("SampleApprover rule") && message.contains("not on the approve list"),
        "{message}"
    );

    let mut decisions = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a decision line")
            .expect("reads")
            .expect("a line");
        decisions.push(serde_json::from_str::<Value>(&line).expect("json"));
    }
    assert_eq!(decisions[0]["function"], "slow.wait");
    assert_eq!(decisions[0]["approved"], true);
    assert_eq!(decisions[1]["function"], "echo.ping");
    assert_eq!(decisions[1]["approved"], false);
    service.bus().close().await;
    drop(approver.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(5), approver.wait()).await;
    gateway.stop();
}
