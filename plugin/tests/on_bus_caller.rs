//! A bus caller that leaves stops its snippet (issue 17, item 1: "on-bus caller leaving"):
//! an io.Connect peer invokes `CodeMode.ExecutePythonCode` on the real gateway
//! (tests/fixtures/ioconnect) with an endless snippet and disconnects; codemode sees its
//! `peer-removed`, cancels the invocation, and the worker is free again at once instead of at
//! the snippet's 60 s timeout.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use codemode::{
    on_bus::{EXECUTE_METHOD, serve_on_bus},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig},
};
use codemode_adapters::{Bus as _, CallOptions, Invoke as _, Target, ioconnect::IoConnectBus};
use codemode_tests::{GatewayOptions, RealGateway};
use serde_json::{Map, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_caller_leaving_the_gateway_stops_its_snippet_and_frees_the_worker() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let bus = IoConnectBus::connect(gateway.adapter_config())
        .await
        .expect("codemode connects to the real gateway");
    let mut sandbox = SandboxConfig::new(WorkerCommand::new(
        env!("CARGO_BIN_EXE_codemode"),
        ["sandbox-worker"],
    ));
    sandbox.workers = 1;
    let service = Arc::new(
        CodeMode::new(Arc::new(bus), CodeModeConfig::new(sandbox)).expect("service starts"),
    );
    service.warm_up().await.expect("the worker starts");
    serve_on_bus(Arc::clone(&service))
        .await
        .expect("the CodeMode.* methods are registered");

    let mut caller_config = gateway.adapter_config();
    caller_config.application = "LeavingCaller".to_owned();
    let caller = Arc::new(
        IoConnectBus::connect(caller_config)
            .await
            .expect("the caller connects"),
    );
    let mut arguments = Map::new();
    arguments.insert("code".into(), json!("while True:\n    pass"));
    arguments.insert("timeoutSeconds".into(), json!(60));
    let invoking = {
        let caller = Arc::clone(&caller);
        tokio::spawn(async move {
            caller
                .invoke_one(
                    EXECUTE_METHOD,
                    arguments,
                    &Target::Best,
                    CallOptions {
                        timeout: Duration::from_secs(90),
                        wait_for_method: Duration::from_secs(20),
                        ..CallOptions::default()
                    },
                )
                .await
        })
    };
    let started = Instant::now();
    while service.sandbox().load().0 == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the snippet never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(service.sandbox().stats().cancelled, 0, "still running");

    let left = Instant::now();
    caller.close().await;
    invoking.abort();
    while service.sandbox().stats().cancelled == 0 {
        assert!(
            left.elapsed() < Duration::from_secs(5),
            "the snippet still runs 5 s after its caller left (it would hold the worker for \
             60 s): {:?}",
            service.sandbox().stats()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stopped_after = left.elapsed();
    let freed = Instant::now();
    while service.sandbox().load().0 != 0 {
        assert!(
            freed.elapsed() < Duration::from_secs(2),
            "the worker is free"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "caller left → snippet cancelled in {stopped_after:?}, worker free {:?} later",
        freed.elapsed()
    );
    assert_eq!(
        service.sandbox().stats().killed,
        0,
        "stopped without a kill"
    );
    service.shutdown();
    service.bus().close().await;
    gateway.stop();
}
