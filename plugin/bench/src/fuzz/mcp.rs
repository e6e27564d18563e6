//! The `mcp-tool-arguments` target: `tools/call` with arguments of any shape, sent by rmcp's
//! client to the real MCP HTTP server over a Code Mode service on the mock bus.
//!
//! Every call must be answered — a tool result or a JSON-RPC error — and the server must still
//! serve a known-good call at the end. Snippets in `code` run in real workers, so this target
//! is slower per case than the decoders.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use proptest::{
    collection::vec,
    prelude::{Just, any, prop_oneof},
    sample::select,
    strategy::{BoxedStrategy, Strategy},
};
use rmcp::{
    ServiceError, ServiceExt as _, model::CallToolRequestParams,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Map, Value, json};

use super::{Budget, TargetReport, drive, strategies};
use crate::{
    BenchError,
    mcp::{McpHttpOptions, start_http},
    mock_bus::MockBusConfig,
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig},
};

/// The three tools and one that does not exist.
const TOOLS: &[&str] = &[
    "list_python_definitions",
    "get_python_definitions",
    "execute_python_code",
    "no_such_tool",
];

/// Runs the target within `budget`, starting workers with `worker`.
pub async fn mcp_tool_arguments(
    budget: Budget,
    worker: WorkerCommand,
) -> Result<TargetReport, BenchError> {
    let (bus, adapter) = crate::attached_mock_bus(MockBusConfig::default()).await?;
    let mut sandbox = SandboxConfig::new(worker);
    sandbox.workers = 1;
    sandbox.limits.wall_time = Duration::from_secs(5);
    let service = Arc::new(CodeMode::new(
        Arc::new(adapter),
        CodeModeConfig::new(sandbox),
    )?);
    let options = McpHttpOptions {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        ..McpHttpOptions::default()
    };
    let server = start_http(Arc::clone(&service), options).await?;
    codemode_adapters::tls::install_default_crypto_provider();
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(server.url()))
            .await
            .map_err(|error| BenchError::Scenario {
                what: format!("MCP client did not connect: {error}"),
            })?;
    let client = Arc::new(client);
    let runtime = tokio::runtime::Handle::current();
    let calls = Arc::clone(&client);
    let mut report = tokio::task::spawn_blocking(move || {
        drive(
            "mcp-tool-arguments",
            tool_call(),
            |(tool, arguments)| {
                let request = CallToolRequestParams::new(tool).with_arguments(arguments);
                match runtime.block_on(calls.call_tool(request)) {
                    Ok(_) | Err(ServiceError::McpError(_)) => Ok(()),
                    Err(error) => Err(format!("the server did not answer: {error}")),
                }
            },
            budget,
        )
    })
    .await
    .map_err(|error| BenchError::Scenario {
        what: format!("the MCP fuzz thread failed: {error}"),
    })?;
    let mut arguments = Map::new();
    arguments.insert(
        "code".into(),
        json!("result = diagnostics.echo(text='still here')"),
    );
    let still_serving = client
        .call_tool(CallToolRequestParams::new("execute_python_code").with_arguments(arguments))
        .await
        .is_ok_and(|result| result.is_error != Some(true));
    if !still_serving {
        report.violations += 1;
        report
            .first_failure
            .get_or_insert_with(|| "the server stopped serving good calls".into());
    }
    if let Ok(client) = Arc::try_unwrap(client) {
        let _ = client.cancel().await;
    }
    let _ = server.shutdown().await;
    service.shutdown();
    service.bus().close().await;
    bus.shutdown().await;
    Ok(report)
}

/// A tool name and its arguments: known keys with plausible or arbitrary values, and unknown
/// keys.
fn tool_call() -> BoxedStrategy<(String, Map<String, Value>)> {
    let key = select(
        &[
            "query",
            "namespace",
            "cursor",
            "detail",
            "names",
            "code",
            "timeout_seconds",
            "session",
            "reset",
            "unknown",
        ][..],
    );
    let field = key.prop_flat_map(|key| (Just(key), field_value(key)));
    (select(TOOLS), vec(field, 0..5))
        .prop_map(|(tool, fields)| {
            let arguments = fields
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect();
            (tool.to_owned(), arguments)
        })
        .boxed()
}

/// A value for `key`: half the time one of the right type, else anything.
fn field_value(key: &'static str) -> BoxedStrategy<Value> {
    let typed: BoxedStrategy<Value> = match key {
        "code" => prop_oneof![
            select(
                &[
                    "result = 1 + 1",
                    "result = diagnostics.echo(text='x')",
                    "result = crm.get_clients(name_contains='Reid')",
                    "crm.get_clients(nope=1)",
                    "import os",
                    "def f(:\n",
                    "raise MethodNotFoundError('x')",
                    "print('a' * 100000)",
                ][..]
            )
            .prop_map(Value::from),
            strategies::short_text().prop_map(Value::from),
        ]
        .boxed(),
        "timeout_seconds" => prop_oneof![
            any::<f64>().prop_map(Value::from),
            (-5i64..700).prop_map(Value::from),
            Just(json!("10")),
        ]
        .boxed(),
        "session" => prop_oneof![
            any::<bool>().prop_map(Value::from),
            strategies::short_text().prop_map(Value::from),
        ]
        .boxed(),
        "names" => vec(
            prop_oneof![
                Just("crm.get_clients".to_owned()),
                Just("intents.view_chart".to_owned()),
                strategies::short_text(),
            ],
            0..4,
        )
        .prop_map(Value::from)
        .boxed(),
        "detail" => select(&["names", "signatures", "stubs", "all", ""][..])
            .prop_map(Value::from)
            .boxed(),
        "reset" => any::<bool>().prop_map(Value::from).boxed(),
        _ => strategies::short_text().prop_map(Value::from).boxed(),
    };
    prop_oneof![typed, strategies::json_value()].boxed()
}
