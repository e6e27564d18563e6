//! The rmcp handler: three tools over one [`CodeMode`] service.
//!
//! Descriptions and argument docs are the whole `tools/list` answer, which every model request
//! carries again, so they are short; the long explanations live in the tool answers themselves
//! (the listing footer, the stub docstrings, the error text).

use std::{sync::Arc, time::Duration};

use rmcp::{
    ErrorData, Peer, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CacheScope, CallToolResult, ContentBlock, Implementation, ListToolsResult,
        PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ProtocolVersion,
        RequestMetaObject, ResultType, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::{
    bridge::CallReport,
    catalogue::{Detail, ListRequest},
    service::{CodeMode, ExecuteOptions, MAX_TIMEOUT, render_outcome},
    sessions::{ClientSessions, SessionLimits, SessionRequest},
};

/// What the server tells the client about the three steps (sent once per session).
/// The server instructions, which clients add to the system prompt.
pub const INSTRUCTIONS: &str = "Desktop apps' methods and intents are Python functions. \
1) list_python_definitions(query=...) finds them; top hits come with typed signatures and \
result keys, enough to write the call. \
2) get_python_definitions gives full stubs if you need more. \
3) execute_python_code runs one snippet on the device: do every call and filter there, \
then assign `result` or print(); only that comes back.";

/// Progress notifications queued per snippet before new ones are dropped (best effort).
const PROGRESS_QUEUE: usize = 256;

/// Arguments of `list_python_definitions`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
struct ListArgs {
    /// Search words, e.g. "client adviser".
    #[serde(default)]
    query: Option<String>,
    /// Only this namespace, e.g. "crm".
    #[serde(default)]
    namespace: Option<String>,
    /// next_cursor of the previous page.
    #[serde(default)]
    cursor: Option<String>,
    /// names, signatures (default) or stubs.
    #[serde(default)]
    detail: Option<String>,
}

/// Arguments of `get_python_definitions`.
#[derive(Debug, Deserialize, JsonSchema)]
struct GetArgs {
    /// Qualified names, e.g. crm.get_clients.
    names: Vec<String>,
}

/// Arguments of `execute_python_code`.
#[derive(Debug, Deserialize, JsonSchema)]
struct ExecuteArgs {
    /// Python source.
    code: String,
    /// Wall-time limit in seconds (default: the server's, 30 unless configured).
    #[serde(default)]
    timeout_seconds: Option<f64>,
    /// true (or a name) keeps variables between calls.
    #[serde(default)]
    session: Option<serde_json::Value>,
    /// Clear the session's variables first.
    #[serde(default)]
    reset: bool,
}

/// The MCP handler: cheap to clone (one per HTTP session), all clones share one [`CodeMode`].
#[derive(Clone)]
pub struct McpServer {
    service: Arc<CodeMode>,
    /// This client's snippet sessions (one handler per client: never shared across clients).
    sessions: Arc<ClientSessions>,
    tool_router: ToolRouter<Self>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

#[tool_router]
impl McpServer {
    /// A handler over `service`; serve it with `rmcp::ServiceExt::serve` on any transport.
    pub fn new(service: Arc<CodeMode>) -> Self {
        Self {
            service,
            sessions: Arc::new(ClientSessions::new(SessionLimits::default())),
            tool_router: Self::tool_router(),
        }
    }

    /// Step 1: the listing page, searched or filtered.
    #[tool(
        name = "list_python_definitions",
        description = "Search the Python functions for desktop apps: top hits with typed signatures, the rest by name. Filter by namespace, page with cursor.",
        annotations(read_only_hint = true)
    )]
    async fn list_python_definitions(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> CallToolResult {
        let detail = match args.detail.as_deref().map(Detail::parse).transpose() {
            Ok(detail) => detail,
            Err(message) => return CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        let request = ListRequest {
            query: args.query,
            namespace: args.namespace,
            cursor: args.cursor,
            token_budget: None,
            detail,
        };
        let service = Arc::clone(&self.service);
        match tokio::task::spawn_blocking(move || service.list(&request)).await {
            Ok(page) => {
                tracing::debug!(
                    matches = page.matches,
                    shown = page.shown,
                    tokens = page.tokens,
                    "list_python_definitions"
                );
                CallToolResult::success(vec![ContentBlock::text(page.text)])
            }
            Err(error) => unavailable("list_python_definitions", &error),
        }
    }

    /// Step 2: typed stubs for the names the model will call.
    #[tool(
        name = "get_python_definitions",
        description = "Get typed Python stubs (signatures, docs, result types) for functions by qualified name.",
        annotations(read_only_hint = true)
    )]
    async fn get_python_definitions(
        &self,
        Parameters(GetArgs { names }): Parameters<GetArgs>,
    ) -> CallToolResult {
        if names.is_empty() {
            return CallToolResult::error(vec![ContentBlock::text(
                "names is empty: pass qualified names from list_python_definitions, e.g. [\"crm.get_clients\"].",
            )]);
        }
        let service = Arc::clone(&self.service);
        match tokio::task::spawn_blocking(move || service.get(&names)).await {
            Ok(definitions) => {
                tracing::debug!(
                    found = definitions.found.len(),
                    unknown = definitions.unknown.len(),
                    omitted = definitions.omitted.len(),
                    tokens = definitions.tokens,
                    "get_python_definitions"
                );
                let content = vec![ContentBlock::text(definitions.text)];
                if definitions.found.is_empty() {
                    CallToolResult::error(content)
                } else {
                    CallToolResult::success(content)
                }
            }
            Err(error) => unavailable("get_python_definitions", &error),
        }
    }

    /// Step 3: run a snippet; bus calls are reported as progress while it runs.
    #[tool(
        name = "execute_python_code",
        description = "Run a Python snippet on the device with those functions. Returns `result`, printed output and a summary of bus calls."
    )]
    async fn execute_python_code(
        &self,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        Parameters(ExecuteArgs {
            code,
            timeout_seconds,
            session,
            reset,
        }): Parameters<ExecuteArgs>,
    ) -> CallToolResult {
        let timeout = match timeout_seconds.map(parse_timeout).transpose() {
            Ok(timeout) => timeout,
            Err(message) => return CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        let session = match SessionRequest::parse(session.as_ref(), reset) {
            Ok(session) => session,
            Err(message) => return CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        let progress = meta
            .get_progress_token()
            .map(|token| ProgressForwarder::start(peer, token));
        let options = ExecuteOptions {
            timeout,
            observer: progress.as_ref().map(ProgressForwarder::observer),
        };
        let (outcome, note) = match &session {
            Some(request) => {
                let run = self
                    .sessions
                    .execute(&self.service, request, &code, options)
                    .await;
                (run.outcome, run.note)
            }
            None => (self.service.execute(&code, options).await, String::new()),
        };
        if let Some(progress) = progress {
            progress.finish().await;
        }
        let mut text = render_outcome(&outcome);
        if !note.is_empty() {
            text.push_str(&note);
            text.push('\n');
        }
        if outcome.ok {
            CallToolResult::success(vec![ContentBlock::text(text)])
        } else {
            CallToolResult::error(vec![ContentBlock::text(text)])
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("codemode", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    /// The tools in the order they are used (rmcp's default sorts them by name).
    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools = self.tool_router.list_all();
        tools.sort_by_key(|tool| TOOL_ORDER.iter().position(|name| *name == tool.name));
        let cacheable = context
            .protocol_version()
            .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28);
        Ok(ListToolsResult {
            result_type: Some(ResultType::COMPLETE),
            meta: None,
            next_cursor: None,
            ttl_ms: cacheable.then_some(0),
            cache_scope: cacheable.then_some(CacheScope::Public),
            tools,
        })
    }
}

/// The three steps, in order.
const TOOL_ORDER: [&str; 3] = [
    "list_python_definitions",
    "get_python_definitions",
    "execute_python_code",
];

/// A tool error for a catalogue operation whose blocking task died (a panic in the catalogue).
fn unavailable(tool: &str, error: &tokio::task::JoinError) -> CallToolResult {
    tracing::error!(tool, %error, "catalogue task failed");
    CallToolResult::error(vec![ContentBlock::text(
        "The catalogue is unavailable; try again.",
    )])
}

/// `timeout_seconds` as a duration; the service caps it at [`MAX_TIMEOUT`].
fn parse_timeout(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && seconds > 0.0 {
        Ok(
            Duration::try_from_secs_f64(seconds.min(MAX_TIMEOUT.as_secs_f64()))
                .unwrap_or(MAX_TIMEOUT),
        )
    } else {
        Err(format!(
            "timeout_seconds must be a positive number of seconds (at most {}), got {seconds}.",
            MAX_TIMEOUT.as_secs()
        ))
    }
}

/// Turns the sandbox's synchronous per-call reports into MCP progress notifications, in order.
///
/// The observer runs on whatever thread finished the bus call and must not block, so it only
/// queues; one task sends. [`Self::finish`] drains the queue before the tool answers, so every
/// notification reaches the client ahead of the result.
struct ProgressForwarder {
    queue: mpsc::Sender<Option<CallReport>>,
    task: tokio::task::JoinHandle<()>,
}

impl ProgressForwarder {
    fn start(peer: Peer<RoleServer>, token: ProgressToken) -> Self {
        let (queue, mut reports) = mpsc::channel::<Option<CallReport>>(PROGRESS_QUEUE);
        let task = tokio::spawn(async move {
            let mut calls = 0_u32;
            while let Some(Some(report)) = reports.recv().await {
                calls += 1;
                let param = ProgressNotificationParam::new(token.clone(), f64::from(calls))
                    .with_message(progress_message(&report));
                if let Err(error) = peer.notify_progress(param).await {
                    tracing::debug!(%error, "progress notification not delivered");
                }
            }
        });
        Self { queue, task }
    }

    fn observer(&self) -> crate::bridge::CallObserver {
        let queue = self.queue.clone();
        Arc::new(move |report: &CallReport| {
            if queue.try_send(Some(report.clone())).is_err() {
                tracing::debug!(function = %report.function, "progress queue full; dropped");
            }
        })
    }

    /// Sends the end marker after every queued report and waits until all are sent.
    async fn finish(self) {
        if self.queue.send(None).await.is_ok()
            && let Err(error) = self.task.await
        {
            tracing::warn!(%error, "progress task failed");
        }
    }
}

/// "crm.get_clients: ok in 12 ms (2.1 kB)" or "crm.get_client: failed in 3 ms: <error>".
fn progress_message(report: &CallReport) -> String {
    let ms = report.elapsed.as_secs_f64() * 1_000.0;
    match &report.error {
        None => format!(
            "{}: ok in {ms:.0} ms ({} bytes)",
            report.function, report.result_bytes
        ),
        Some(error) => format!("{}: failed in {ms:.0} ms: {error}", report.function),
    }
}
