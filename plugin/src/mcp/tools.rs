//! The rmcp handler: three tools over one [`CodeMode`] service.
//!
//! Descriptions and argument docs are the whole `tools/list` answer, which every model request
//! carries again, so they are short; the long explanations live in the tool answers themselves
//! (the listing footer, the stub docstrings, the error text).

use std::sync::Arc;

use codemode_adapters::TraceContext;
use rmcp::{
    ErrorData, Peer, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CacheScope, CallToolResult, CompleteRequestParams, CompleteResult, ContentBlock,
        GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
        ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
        ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, RequestMetaObject,
        ResultType, ServerConfig,
    },
    service::{NotificationContext, RequestContext},
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::control::{ElicitationApprover, annotate_tools, instructions_note, session_name};
use super::{
    capabilities, completion,
    notify::{RunNotifier, SessionLogLevel},
    presentation, prompts, resources,
};
use crate::{
    catalogue::{Detail, ListRequest},
    control::{PiiSession, SessionControl},
    sandbox::parse_timeout_seconds,
    service::{CodeMode, ExecuteOptions, render_outcome},
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
    /// true, a name, or the id an answer gave: keeps variables between calls.
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
    /// The client this handler serves (one per session), for fair queueing of its snippets.
    client: Arc<str>,
    /// This session's PII placeholders (in memory only).
    pii: Arc<PiiSession>,
    /// This session's name in approval requests and the audit log.
    session: String,
    /// The level this session's client chose for `notifications/message`.
    log_level: SessionLogLevel,
    /// Cancelled when this handler is dropped (its session ended): stops the session's tasks.
    session_ended: CancellationToken,
    _end_session_on_drop: Arc<DropGuard>,
}

/// Numbers the MCP clients (sessions) of this process.
static NEXT_CLIENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// The PII placeholders of the request's client. 2026-07-28 has no sessions (every request
    /// may reach a new handler): its placeholders live as long as the service.
    fn pii_for(&self, context: &RequestContext<RoleServer>) -> Arc<PiiSession> {
        if context
            .protocol_version()
            .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28)
        {
            self.service.shared_pii()
        } else {
            Arc::clone(&self.pii)
        }
    }
}

#[tool_router]
impl McpServer {
    /// A handler over `service`; serve it with `rmcp::ServiceExt::serve` on any transport.
    pub fn new(service: Arc<CodeMode>) -> Self {
        let client = NEXT_CLIENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session_ended = CancellationToken::new();
        Self {
            service,
            sessions: Arc::new(ClientSessions::new(SessionLimits::default())),
            tool_router: Self::tool_router(),
            client: format!("mcp-{client}").into(),
            pii: Arc::new(PiiSession::new()),
            session: session_name(),
            log_level: SessionLogLevel::default(),
            _end_session_on_drop: Arc::new(session_ended.clone().drop_guard()),
            session_ended,
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
                crate::catalogue::NO_NAMES_GIVEN,
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
        context: RequestContext<RoleServer>,
        Parameters(ExecuteArgs {
            code,
            timeout_seconds,
            session,
            reset,
        }): Parameters<ExecuteArgs>,
    ) -> CallToolResult {
        let timeout = match timeout_seconds.map(parse_timeout_seconds).transpose() {
            Ok(timeout) => timeout,
            Err(message) => return CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        let session = match SessionRequest::parse(session.as_ref(), reset) {
            Ok(session) => session,
            Err(message) => return CallToolResult::error(vec![ContentBlock::text(message)]),
        };
        // An HTTP request without an MCP session (the 2026-07-28 protocol) may reach a fresh
        // handler each time: its snippet sessions live in the service, by id.
        let stateless = context
            .extensions
            .get::<axum::http::request::Parts>()
            .is_some_and(|parts| !parts.headers.contains_key("mcp-session-id"));
        let notifier = RunNotifier::start(
            peer.clone(),
            meta.get_progress_token(),
            self.log_level.for_request(&meta),
        );
        let options = ExecuteOptions {
            timeout,
            observer: notifier.as_ref().map(RunNotifier::observer),
            client: Some(self.client.to_string()),
            // rmcp cancels the token on `notifications/cancelled` and when the session ends
            // (closed, deleted, expired, or the server shutting down).
            cancel: Some(context.ct.clone()),
            control: SessionControl {
                approver: Some(Arc::new(ElicitationApprover { peer })),
                pii: Some(self.pii_for(&context)),
                session: self.session.clone(),
            },
            // SEP-414: the client's W3C trace context in `_meta`.
            trace_parent: meta
                .get_traceparent()
                .and_then(|parent| TraceContext::new(parent, meta.get_tracestate())),
        };
        let (outcome, note) = match &session {
            Some(request) if stateless => {
                let run = self
                    .service
                    .session_handles()
                    .execute(&self.service, request, &code, options)
                    .await;
                (run.outcome, run.note)
            }
            Some(request) => {
                let run = self
                    .sessions
                    .execute(&self.service, request, &code, options)
                    .await;
                (run.outcome, run.note)
            }
            None => (self.service.execute(&code, options).await, String::new()),
        };
        if let Some(notifier) = notifier {
            notifier.finish(&outcome).await;
        }
        // The text is what a model reads; structuredContent is the same outcome for programs.
        let mut text = render_outcome(&outcome);
        if !note.is_empty() {
            text.push_str(&note);
            text.push('\n');
        }
        let content = vec![ContentBlock::text(text)];
        let mut result = if outcome.ok {
            CallToolResult::success(content)
        } else {
            CallToolResult::error(content)
        };
        result.structured_content = Some(presentation::structured(&outcome));
        result
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(capabilities())
            .with_server_info(Implementation::new("codemode", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "{INSTRUCTIONS}{}",
                instructions_note(&self.service.policy())
            ))
    }

    /// The tools in the order they are used (rmcp's default sorts them by name).
    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools: Vec<_> = self
            .tool_router
            .list_all()
            .into_iter()
            .map(presentation::decorate)
            .collect();
        annotate_tools(&mut tools, &self.service.policy());
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

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.tool_router
            .get(name)
            .cloned()
            .map(presentation::decorate)
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        resources::watch_catalogue(&self.service, context.peer, self.session_ended.clone());
    }

    #[expect(
        deprecated,
        reason = "logging/setLevel is deprecated by SEP-2577 for 2026-07-28 clients, and is what \
                  every 2025 client uses"
    )]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.log_level.set(request.level);
        Ok(())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut listed = resources::list(&self.service);
        listed
            .resources
            .push(super::context::current_context_resource());
        Ok(listed)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri == super::context::CURRENT_CONTEXT_URI {
            let pii = self.pii_for(&context);
            return super::context::read_current(&self.service, &request.uri, &pii)
                .await
                .map(Into::into);
        }
        resources::read(&self.service, &request.uri).map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(prompts::list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        prompts::get(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        Ok(completion::complete(&self.service, &request))
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Regression: `parse_timeout` clamped to the default 600 s cap before the service applied
    /// the configured one, so `--max-timeout-seconds 1200` had no effect over MCP.
    #[test]
    fn timeout_seconds_is_not_clamped_before_the_configured_cap() {
        assert_eq!(parse_timeout_seconds(1_200.0), Ok(Duration::from_mins(20)));
        assert_eq!(parse_timeout_seconds(0.5), Ok(Duration::from_millis(500)));
        assert!(parse_timeout_seconds(-1.0).is_err());
        assert!(parse_timeout_seconds(f64::NAN).is_err());
    }
}
