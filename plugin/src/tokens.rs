//! The token economy of Code Mode against classic tool calling, counted on scripted
//! transcripts (no model in the loop). `codemode demo` shows the seed scenario's comparison;
//! `codemode bench tokens` (crate `codemode-bench`) plays every scenario at several sizes.
//!
//! Each [`Scenario`] is played twice over the same bus:
//! - **classic**: every catalogue method (and every intent) is an MCP tool whose JSON input
//!   schema is derived from its `accepts` signature; all of them are sent with every request,
//!   and every full tool result stays in the history;
//! - **code mode**: the three Code Mode tools; the transcript holds the list page, the stubs
//!   fetched, the snippet and only what the snippet's run returned ([`render_outcome`]).
//!
//! Every tool result is real: classic calls are invoked on the bus through the adapter,
//! snippets run through [`CodeMode::execute`], and the list page and stubs come from the live
//! catalogue. The two arms must reach the same answer (checked), and the final answer text is
//! the same in both, so only the way there differs.
//!
//! # Accounting (fixed, the same for both arms)
//! For request `r`: input = [`PREAMBLE_TOKENS`] + system prompt + tool definitions + user
//! message + everything the earlier turns added (assistant blocks and tool results), plus
//! [`BLOCK_FRAMING_TOKENS`] per content block; output = the assistant blocks of turn `r` (tool
//! calls as name + minified JSON arguments, so a snippet is output). Tool definitions are
//! serialized as minified `{name, description, input_schema}` JSON (the Anthropic shape,
//! without `$schema` or output schemas). Counted with o200k_base and cl100k_base
//! (`tiktoken-rs`, ranks compiled in).

use std::{fmt::Write as _, sync::Arc, time::Duration};

use codemode_adapters::{
    Bus, CallOptions, IntentInfo, IntentRequest, IntentTarget, MethodInfo, Target,
};
use codemode_protocol::signature::{Param, SigType, parse_signature};
use serde_json::{Map, Value, json};

use crate::{
    Error,
    catalogue::ListRequest,
    mock_bus::{MockBus, MockBusConfig, MockBusHandle},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions, render_outcome},
};

/// Starts an in-process mock bus with `config` and attaches the io.Connect adapter to it.
pub async fn attached_mock_bus(
    config: MockBusConfig,
) -> Result<(MockBusHandle, codemode_adapters::ioconnect::IoConnectBus), Error> {
    let bus = MockBus::start(config).await?;
    let adapter = codemode_adapters::ioconnect::IoConnectBus::connect(
        codemode_adapters::ioconnect::IoConnectConfig::new(
            bus.url(),
            codemode_protocol::gw3::Authentication::secret("bench", "bench"),
        ),
    )
    .await?;
    Ok((bus, adapter))
}

/// The provider's hidden tool-use preamble, counted in every request of both arms (Anthropic
/// documents 346 tokens for `tool_choice` auto on current models).
pub const PREAMBLE_TOKENS: usize = 346;

/// Framing per content block (user text, tool call, tool result, answer).
pub const BLOCK_FRAMING_TOKENS: usize = 4;

/// The system prompt of both arms.
pub const SYSTEM_PROMPT: &str = "You are an assistant on a wealth manager's desktop. Answer \
    with the tools, which reach the desktop's apps; be brief.";

/// The adviser the scenarios ask about (`c-001` Amelia Reid's adviser in the sample data).
const ADVISER: &str = "M Carter";

/// How many clients the fan-out scenario aggregates at most.
const FAN_OUT: usize = 50;

/// One scripted task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// "Who is Amelia Reid's adviser?": one lookup.
    Seed,
    /// The top 5 clients of an adviser by assets, then an intent raised for the first.
    MultiStep,
    /// The holdings of an adviser's 50 largest clients, aggregated by instrument.
    FanOut,
    /// The seed question where the first attempt fails (a name passed as a client id) and the
    /// second succeeds.
    Retry,
}

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Self; 4] = [Self::Seed, Self::MultiStep, Self::FanOut, Self::Retry];

    /// The short name used in tables and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::MultiStep => "multi-step",
            Self::FanOut => "fan-out",
            Self::Retry => "retry",
        }
    }

    /// What the user asks.
    pub fn question(self) -> String {
        match self {
            Self::Seed | Self::Retry => "Who is Amelia Reid's adviser?".to_owned(),
            Self::MultiStep => format!(
                "Which are {ADVISER}'s five largest clients by assets under management? Open \
                 the portfolio of the largest one."
            ),
            Self::FanOut => format!(
                "Across the holdings of {ADVISER}'s {FAN_OUT} largest clients, what is the \
                 total market value per instrument?"
            ),
        }
    }
}

/// A tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// o200k_base (GPT-4o and later): the primary count.
    O200k,
    /// cl100k_base (GPT-4, GPT-3.5).
    Cl100k,
}

impl Encoding {
    /// Tokens of `text` (no special tokens).
    pub fn count(self, text: &str) -> usize {
        match self {
            Self::O200k => tiktoken_rs::o200k_base_singleton().count_ordinary(text),
            Self::Cl100k => tiktoken_rs::cl100k_base_singleton().count_ordinary(text),
        }
    }

    /// `o200k_base` / `cl100k_base`.
    pub fn label(self) -> &'static str {
        match self {
            Self::O200k => "o200k_base",
            Self::Cl100k => "cl100k_base",
        }
    }
}

/// The token bill of one arm of one scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArmTokens {
    /// Model requests (one per assistant turn).
    pub requests: usize,
    /// Tools offered.
    pub tools: usize,
    /// Tokens of the tool definitions (sent with every request).
    pub tool_definitions: usize,
    /// Input tokens over all requests.
    pub input: usize,
    /// Output tokens over all requests (tool calls, snippets, the answer).
    pub output: usize,
    /// The context at the end (the last request's input plus its output).
    pub context: usize,
}

impl ArmTokens {
    /// Input plus output.
    pub fn total(&self) -> usize {
        self.input + self.output
    }
}

/// Both arms under one tokenizer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArmPair {
    /// Classic tool calling.
    pub classic: ArmTokens,
    /// Code mode.
    pub code_mode: ArmTokens,
}

impl ArmPair {
    /// The share of the classic total code mode saves (negative when it costs more).
    pub fn saving(&self) -> f64 {
        1.0 - fraction(self.code_mode.total(), self.classic.total())
    }

    /// Classic total over the code mode total ("×3.2 fewer").
    pub fn factor(&self) -> f64 {
        fraction(self.classic.total(), self.code_mode.total())
    }
}

/// One scenario played in both arms over one bus, counted with both tokenizers.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The scenario.
    pub scenario: Scenario,
    /// Counted with o200k_base.
    pub o200k: ArmPair,
    /// Counted with cl100k_base.
    pub cl100k: ArmPair,
    /// The answer both arms gave.
    pub answer: String,
}

/// One row of the token table: a scenario at one bus size.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Synthetic apps on the bus (the eight sample apps come on top).
    pub apps: usize,
    /// CRM clients in the sample data.
    pub clients: usize,
    /// The comparison.
    pub comparison: Comparison,
}

/// What [`tokens`] measures.
#[derive(Debug, Clone)]
pub struct TokensConfig {
    /// Synthetic app counts.
    pub apps: Vec<usize>,
    /// CRM client counts.
    pub clients: Vec<usize>,
    /// The scenarios to play.
    pub scenarios: Vec<Scenario>,
    /// How to start sandbox workers (`codemode sandbox-worker`).
    pub worker: WorkerCommand,
}

/// Plays every scenario at every (apps, clients) size on a fresh mock bus.
pub async fn tokens(config: &TokensConfig) -> Result<Vec<TokenRow>, Error> {
    let mut rows = Vec::new();
    for &apps in &config.apps {
        for &clients in &config.clients {
            let (bus, adapter) = attached_mock_bus(MockBusConfig {
                synthetic_apps: apps,
                crm_clients: clients,
                ..MockBusConfig::default()
            })
            .await?;
            let mut sandbox = SandboxConfig::new(config.worker.clone());
            sandbox.workers = 1;
            let service = CodeMode::new(Arc::new(adapter), CodeModeConfig::new(sandbox))?;
            service.warm_up().await?;
            let mut outcome = Ok(());
            for &scenario in &config.scenarios {
                match compare(&service, scenario).await {
                    Ok(comparison) => rows.push(TokenRow {
                        apps,
                        clients,
                        comparison,
                    }),
                    Err(error) => {
                        outcome = Err(error);
                        break;
                    }
                }
            }
            service.bus().close().await;
            bus.shutdown().await;
            outcome?;
        }
    }
    Ok(rows)
}

/// The seed scenario ("who is Amelia Reid's adviser?") in both arms on `service`'s bus, e.g.
/// for `codemode demo`. The bus must run the sample CRM; render with [`render_comparison`].
pub async fn seed_comparison(service: &CodeMode) -> Result<Comparison, Error> {
    compare(service, Scenario::Seed).await
}

/// Plays `scenario` in both arms on `service`'s bus and counts both transcripts.
pub async fn compare(service: &CodeMode, scenario: Scenario) -> Result<Comparison, Error> {
    let tools = ClassicTools::of(service.bus().as_ref());
    let (classic, code_mode, answer) = match scenario {
        Scenario::Seed => seed(service, &tools, false).await?,
        Scenario::Retry => seed(service, &tools, true).await?,
        Scenario::MultiStep => multi_step(service, &tools).await?,
        Scenario::FanOut => fan_out(service, &tools).await?,
    };
    let pair = |encoding| ArmPair {
        classic: classic.count(encoding),
        code_mode: code_mode.count(encoding),
    };
    Ok(Comparison {
        scenario,
        o200k: pair(Encoding::O200k),
        cl100k: pair(Encoding::Cl100k),
        answer,
    })
}

/// A small Markdown table of one comparison (both arms, o200k_base, cl100k_base saving).
pub fn render_comparison(comparison: &Comparison) -> String {
    let mut text = format!(
        "Tokens for \"{}\" (o200k_base; {} preamble + {} per block in both arms):\n\n\
         | | tools | tool definitions | requests | input | output | total | final context |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
        comparison.scenario.question(),
        PREAMBLE_TOKENS,
        BLOCK_FRAMING_TOKENS,
    );
    for (label, arm) in [
        ("classic tool calling", comparison.o200k.classic),
        ("code mode", comparison.o200k.code_mode),
    ] {
        let _ = writeln!(
            text,
            "| {label} | {} | {} | {} | {} | {} | {} | {} |",
            arm.tools,
            thousands(arm.tool_definitions),
            arm.requests,
            thousands(arm.input),
            thousands(arm.output),
            thousands(arm.total()),
            thousands(arm.context),
        );
    }
    let _ = writeln!(
        text,
        "\nCode mode: {:.1}× fewer tokens ({} saved; cl100k_base: {:.1}×, {}). Answer: {}",
        comparison.o200k.factor(),
        percent(comparison.o200k.saving()),
        comparison.cl100k.factor(),
        percent(comparison.cl100k.saving()),
        comparison.answer,
    );
    text
}

/// The Markdown tables of [`tokens`]: one row per scenario and size, then the tool surfaces.
pub fn render_tokens(rows: &[TokenRow]) -> String {
    let mut text = String::from(
        "| scenario | synthetic apps | tools (classic) | clients | classic in / out | classic total | code mode in / out | code mode total | saving | factor | saving (cl100k) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let pair = row.comparison.o200k;
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} / {} | {} | {} / {} | {} | {} | {:.1}× | {} |",
            row.comparison.scenario.label(),
            thousands(row.apps),
            thousands(pair.classic.tools),
            thousands(row.clients),
            thousands(pair.classic.input),
            thousands(pair.classic.output),
            thousands(pair.classic.total()),
            thousands(pair.code_mode.input),
            thousands(pair.code_mode.output),
            thousands(pair.code_mode.total()),
            percent(pair.saving()),
            pair.factor(),
            percent(row.comparison.cl100k.saving()),
        );
    }
    text.push_str(
        "\n| synthetic apps | classic: tools | classic: definitions (o200k / cl100k) | code mode: tools | code mode: definitions (o200k / cl100k) |\n\
         |---:|---:|---:|---:|---:|\n",
    );
    let mut seen = Vec::new();
    for row in rows {
        if seen.contains(&row.apps) {
            continue;
        }
        seen.push(row.apps);
        let (o200k, cl100k) = (row.comparison.o200k, row.comparison.cl100k);
        let _ = writeln!(
            text,
            "| {} | {} | {} / {} | {} | {} / {} |",
            thousands(row.apps),
            thousands(o200k.classic.tools),
            thousands(o200k.classic.tool_definitions),
            thousands(cl100k.classic.tool_definitions),
            o200k.code_mode.tools,
            thousands(o200k.code_mode.tool_definitions),
            thousands(cl100k.code_mode.tool_definitions),
        );
    }
    let _ = write!(
        text,
        "\nTokens are o200k_base unless marked; in = Σ input over all requests, out = Σ output. \
         Every request carries a {PREAMBLE_TOKENS}-token tool-use preamble, the system prompt, \
         the tool definitions (minified `{{name, description, input_schema}}` JSON) and the \
         history; each content block adds {BLOCK_FRAMING_TOKENS}. The eight sample apps run \
         besides the synthetic ones.\n"
    );
    text
}

// ---------------------------------------------------------------------------------------------
// Transcripts

/// One assistant content block.
#[derive(Debug, Clone)]
enum Block {
    /// A tool call: the tool's name and its minified JSON arguments.
    ToolUse { name: String, arguments: String },
    /// The final answer.
    Text(String),
}

impl Block {
    fn tokens(&self, encoding: Encoding) -> usize {
        BLOCK_FRAMING_TOKENS
            + match self {
                Self::ToolUse { name, arguments } => {
                    encoding.count(name) + encoding.count(arguments)
                }
                Self::Text(text) => encoding.count(text),
            }
    }
}

/// One model request's output and the tool results that follow it.
#[derive(Debug, Clone, Default)]
struct Turn {
    output: Vec<Block>,
    results: Vec<String>,
}

/// A whole scripted conversation of one arm.
#[derive(Debug, Clone)]
struct Transcript {
    /// How many tools are offered.
    tools: usize,
    /// Their serialized definitions.
    definitions: String,
    /// Server instructions added to the system prompt (code mode's MCP server sends some).
    instructions: String,
    /// The user's question.
    user: String,
    /// The turns, the last one being the answer.
    turns: Vec<Turn>,
}

impl Transcript {
    fn new(tools: usize, definitions: String, scenario: Scenario) -> Self {
        Self {
            tools,
            definitions,
            instructions: String::new(),
            user: scenario.question(),
            turns: Vec::new(),
        }
    }

    /// Adds a turn of tool calls with their results.
    fn calls(&mut self, calls: Vec<(Block, String)>) {
        let (output, results) = calls.into_iter().unzip();
        self.turns.push(Turn { output, results });
    }

    /// Adds one tool call with its result.
    fn call(&mut self, call: (Block, String)) {
        self.calls(vec![call]);
    }

    /// Ends with the answer.
    fn answer(&mut self, answer: &str) {
        self.turns.push(Turn {
            output: vec![Block::Text(answer.to_owned())],
            results: Vec::new(),
        });
    }

    fn count(&self, encoding: Encoding) -> ArmTokens {
        let tool_definitions = encoding.count(&self.definitions);
        let fixed = PREAMBLE_TOKENS
            + encoding.count(SYSTEM_PROMPT)
            + encoding.count(&self.instructions)
            + tool_definitions
            + encoding.count(&self.user)
            + BLOCK_FRAMING_TOKENS;
        let mut history = 0;
        let mut input = 0;
        let mut output = 0;
        for turn in &self.turns {
            input += fixed + history;
            let produced: usize = turn.output.iter().map(|block| block.tokens(encoding)).sum();
            output += produced;
            history += produced;
            history += turn
                .results
                .iter()
                .map(|result| encoding.count(result) + BLOCK_FRAMING_TOKENS)
                .sum::<usize>();
        }
        ArmTokens {
            requests: self.turns.len(),
            tools: self.tools,
            tool_definitions,
            input,
            output,
            context: fixed + history,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// (classic transcript, code mode transcript, the answer).
type Played = (Transcript, Transcript, String);

async fn seed(service: &CodeMode, tools: &ClassicTools, retry: bool) -> Result<Played, Error> {
    let scenario = if retry {
        Scenario::Retry
    } else {
        Scenario::Seed
    };
    let bus = service.bus().as_ref();
    let mut classic = tools.transcript(scenario);
    if retry {
        // The same slip in both arms: the client's name passed as its id.
        let (call, failed) = tools
            .invoke(bus, "CRM.GetClient", json!({"clientId": "Amelia Reid"}))
            .await?;
        if failed.is_ok() {
            return Err(mismatch(scenario, "CRM.GetClient by name should fail"));
        }
        classic.call(call);
    }
    let (call, found) = tools
        .invoke(
            bus,
            "CRM.GetClients",
            json!({"nameContains": "Amelia Reid"}),
        )
        .await?;
    classic.call(call);
    let adviser = found
        .ok()
        .as_ref()
        .and_then(|value| value.pointer("/clients/0/adviser"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| mismatch(scenario, "CRM.GetClients found no Amelia Reid"))?;
    let answer = format!("Amelia Reid's adviser is {adviser}.");
    classic.answer(&answer);

    let mut code = code_transcript(scenario);
    code.call(list(service, "client adviser"));
    let wanted: &[&str] = if retry {
        &["crm.get_client", "crm.get_clients"]
    } else {
        &["crm.get_clients"]
    };
    code.call(get(service, scenario, wanted)?);
    if retry {
        let (call, outcome) = execute(
            service,
            "result = crm.get_client(client_id='Amelia Reid')['client']['adviser']",
        )
        .await;
        if outcome.ok {
            return Err(mismatch(scenario, "the first snippet should fail"));
        }
        code.call(call);
    }
    let (call, outcome) = execute(
        service,
        "found = crm.get_clients(name_contains='Amelia Reid')['clients']\n\
         result = found[0]['adviser']",
    )
    .await;
    expect_result(scenario, &outcome.result, &json!(adviser), outcome.ok)?;
    code.call(call);
    code.answer(&answer);
    Ok((classic, code, answer))
}

async fn multi_step(service: &CodeMode, tools: &ClassicTools) -> Result<Played, Error> {
    let scenario = Scenario::MultiStep;
    let bus = service.bus().as_ref();
    let mut classic = tools.transcript(scenario);
    let (call, found) = tools
        .invoke(bus, "CRM.GetClients", json!({"adviser": ADVISER}))
        .await?;
    classic.call(call);
    let top = largest_clients(found.ok().as_ref(), 5);
    let first = top
        .first()
        .ok_or_else(|| mismatch(scenario, "the adviser has no clients"))?;
    let context = json!({"type": "fdc3.contact", "name": first.name, "id": {"clientId": first.id}});
    let (call, shown) = tools.raise(bus, "ViewPortfolio", context).await?;
    if shown.is_err() {
        return Err(mismatch(scenario, "raising ViewPortfolio failed"));
    }
    classic.call(call);
    let mut answer = format!("{ADVISER}'s largest clients by assets under management:\n");
    for (rank, client) in top.iter().enumerate() {
        let _ = writeln!(
            answer,
            "{}. {} ({}): {} {}",
            rank + 1,
            client.name,
            client.id,
            thousands_f64(client.aum),
            client.currency
        );
    }
    let _ = write!(answer, "I opened {}'s portfolio.", first.name);
    classic.answer(&answer);

    let mut code = code_transcript(scenario);
    code.call(list(service, "clients adviser assets open portfolio"));
    code.call(get(
        service,
        scenario,
        &["crm.get_clients", "intents.view_portfolio"],
    )?);
    let (call, outcome) = execute(
        service,
        &format!(
            "clients = crm.get_clients(adviser={ADVISER:?})['clients']\n\
             top = sorted(clients, key=lambda c: c['aum'], reverse=True)[:5]\n\
             first = top[0]\n\
             intents.view_portfolio({{'type': 'fdc3.contact', 'name': first['name'], 'id': {{'clientId': first['id']}}}})\n\
             for c in top:\n    print(c['id'], c['name'], c['aum'], c['currency'])\n\
             result = 'opened the portfolio of ' + first['name']"
        ),
    )
    .await;
    expect_result(
        scenario,
        &outcome.result,
        &json!(format!("opened the portfolio of {}", first.name)),
        outcome.ok,
    )?;
    for client in &top {
        if !outcome.printed.contains(&client.id) {
            return Err(mismatch(scenario, "the snippet printed other clients"));
        }
    }
    code.call(call);
    code.answer(&answer);
    Ok((classic, code, answer))
}

async fn fan_out(service: &CodeMode, tools: &ClassicTools) -> Result<Played, Error> {
    let scenario = Scenario::FanOut;
    let bus = service.bus().as_ref();
    let mut classic = tools.transcript(scenario);
    let (call, found) = tools
        .invoke(bus, "CRM.GetClients", json!({"adviser": ADVISER}))
        .await?;
    classic.call(call);
    let top = largest_clients(found.ok().as_ref(), FAN_OUT);
    let mut calls = Vec::new();
    let mut totals: Vec<(String, f64)> = Vec::new();
    for client in &top {
        // One assistant turn with parallel tool calls, as current APIs allow.
        let (call, book) = tools
            .invoke(bus, "Portfolio.GetHoldings", json!({"clientId": client.id}))
            .await?;
        calls.push(call);
        let holdings = book
            .ok()
            .and_then(|book| book.get("holdings").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        for holding in holdings {
            let symbol = holding.get("symbol").and_then(Value::as_str).unwrap_or("");
            let value = holding
                .get("marketValue")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            match totals.iter_mut().find(|(known, _)| known == symbol) {
                Some((_, total)) => *total += value,
                None => totals.push((symbol.to_owned(), value)),
            }
        }
    }
    classic.calls(calls);
    totals.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut answer = format!(
        "Across the holdings of {ADVISER}'s {} largest clients ({} instruments), the largest \
         totals by market value are: ",
        top.len(),
        totals.len()
    );
    let largest: Vec<String> = totals
        .iter()
        .take(5)
        .map(|(symbol, total)| format!("{symbol} {}", thousands_f64(total.round())))
        .collect();
    answer.push_str(&largest.join(", "));
    answer.push('.');
    classic.answer(&answer);

    let mut code = code_transcript(scenario);
    code.call(list(service, "client holdings portfolio market value"));
    code.call(get(
        service,
        scenario,
        &["crm.get_clients", "portfolio.get_holdings"],
    )?);
    let (call, outcome) = execute(
        service,
        &format!(
            "clients = crm.get_clients(adviser={ADVISER:?})['clients']\n\
             top = sorted(clients, key=lambda c: c['aum'], reverse=True)[:{FAN_OUT}]\n\
             books = gather(*[portfolio.get_holdings(client_id=c['id']) for c in top])\n\
             totals = {{}}\n\
             for book in books:\n    for h in book['holdings']:\n        totals[h['symbol']] = totals.get(h['symbol'], 0.0) + h['marketValue']\n\
             ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)\n\
             result = {{'clients': len(top), 'instruments': len(ranked), 'largest': [[s, round(v)] for s, v in ranked[:5]]}}"
        ),
    )
    .await;
    let expected = json!({
        "clients": top.len(),
        "instruments": totals.len(),
        "largest": totals.iter().take(5).map(|(symbol, total)| json!([symbol, total.round()])).collect::<Vec<_>>(),
    });
    if !outcome.ok
        || outcome.result.get("instruments") != expected.get("instruments")
        || outcome.result.pointer("/largest/0/0") != expected.pointer("/largest/0/0")
    {
        return Err(mismatch(
            scenario,
            &format!(
                "the snippet's totals differ: {} vs {expected}",
                render_outcome(&outcome)
            ),
        ));
    }
    code.call(call);
    code.answer(&answer);
    Ok((classic, code, answer))
}

// ---------------------------------------------------------------------------------------------
// Code mode's side

fn code_transcript(scenario: Scenario) -> Transcript {
    let definitions = code_mode_tools();
    let mut transcript = Transcript::new(
        definitions.as_array().map_or(0, Vec::len),
        definitions.to_string(),
        scenario,
    );
    CODE_MODE_INSTRUCTIONS.clone_into(&mut transcript.instructions);
    transcript
}

fn list(service: &CodeMode, query: &str) -> (Block, String) {
    let page = service.list(&ListRequest {
        query: Some(query.to_owned()),
        ..ListRequest::default()
    });
    (
        tool_use("list_python_definitions", &json!({"query": query})),
        page.text,
    )
}

fn get(service: &CodeMode, scenario: Scenario, names: &[&str]) -> Result<(Block, String), Error> {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let definitions = service.get(&names);
    if !definitions.unknown.is_empty() {
        return Err(mismatch(
            scenario,
            &format!("unknown functions: {:?}", definitions.unknown),
        ));
    }
    Ok((
        tool_use("get_python_definitions", &json!({"names": names})),
        definitions.text,
    ))
}

async fn execute(service: &CodeMode, code: &str) -> ((Block, String), crate::sandbox::Outcome) {
    let outcome = service.execute(code, ExecuteOptions::default()).await;
    (
        (
            tool_use("execute_python_code", &json!({"code": code})),
            render_outcome(&outcome),
        ),
        outcome,
    )
}

fn expect_result(scenario: Scenario, got: &Value, wanted: &Value, ok: bool) -> Result<(), Error> {
    if ok && got == wanted {
        Ok(())
    } else {
        Err(mismatch(
            scenario,
            &format!("the snippet returned {got}, expected {wanted}"),
        ))
    }
}

/// The three Code Mode tools as the MCP server lists them (name, description, input schema;
/// `$schema` and `title` stripped). A test compares this copy with the server's `tools/list`.
pub fn code_mode_tools() -> Value {
    json!([
        {
            "name": "list_python_definitions",
            "description": "List the Python functions for desktop apps, one line each. Search with query, filter by namespace, page with cursor.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "query": {"description": "Search words, e.g. \"client adviser\".", "type": ["string", "null"], "default": null},
                    "namespace": {"description": "Only this namespace, e.g. \"crm\".", "type": ["string", "null"], "default": null},
                    "cursor": {"description": "next_cursor of the previous page.", "type": ["string", "null"], "default": null}
                }
            }
        },
        {
            "name": "get_python_definitions",
            "description": "Get typed Python stubs (signatures, docs, result types) for functions by qualified name.",
            "input_schema": {
                "type": "object",
                "required": ["names"],
                "properties": {
                    "names": {"description": "Qualified names, e.g. crm.get_clients.", "type": "array", "items": {"type": "string"}}
                }
            }
        },
        {
            "name": "execute_python_code",
            "description": "Run a Python snippet on the device with those functions. Returns `result`, printed output and a summary of bus calls.",
            "input_schema": {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"description": "Python source.", "type": "string"},
                    "timeout_seconds": {"description": "Wall-time limit in seconds (default: the server's, 30 unless configured).", "type": ["number", "null"], "format": "double", "default": null}
                }
            }
        }
    ])
}

/// The instructions the MCP server sends at initialization, which clients add to the system
/// prompt: counted in every code-mode request.
pub use crate::mcp::INSTRUCTIONS as CODE_MODE_INSTRUCTIONS;

// ---------------------------------------------------------------------------------------------
// Classic side

/// Every method and intent of a catalogue as a classic MCP tool.
struct ClassicTools {
    /// Method or intent name → tool name.
    names: Vec<(String, String)>,
    /// The serialized definitions.
    definitions: String,
}

impl ClassicTools {
    fn of(bus: &dyn Bus) -> Self {
        let catalogue = bus.catalogue();
        let mut names: Vec<(String, String)> = Vec::new();
        let mut tools = Vec::new();
        let mut taken = std::collections::BTreeSet::new();
        for method in &catalogue.methods {
            if names.iter().any(|(known, _)| known == &method.name) {
                // A second signature of the same name: one tool takes either.
                continue;
            }
            let tool = unique_tool_name(&method.name, &mut taken);
            tools.push(method_tool(&tool, method));
            names.push((method.name.clone(), tool));
        }
        for intent in &catalogue.intents {
            let tool = unique_tool_name(&format!("raise_{}", intent.name), &mut taken);
            tools.push(intent_tool(&tool, intent));
            names.push((intent_key(&intent.name), tool));
        }
        Self {
            names,
            definitions: Value::Array(tools).to_string(),
        }
    }

    fn transcript(&self, scenario: Scenario) -> Transcript {
        Transcript::new(self.names.len(), self.definitions.clone(), scenario)
    }

    fn tool(&self, key: &str) -> Result<&str, Error> {
        self.names
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, tool)| tool.as_str())
            .ok_or_else(|| Error::Scenario {
                scenario: "setup",
                what: format!("the bus has no `{key}`"),
            })
    }

    /// Calls `method` on the bus; the tool result is its JSON, or the error's text.
    async fn invoke(
        &self,
        bus: &dyn Bus,
        method: &str,
        arguments: Value,
    ) -> Result<((Block, String), Result<Value, String>), Error> {
        let tool = self.tool(method)?;
        let call = tool_use(tool, &arguments);
        let arguments = match arguments {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let outcome = bus
            .invoke_one(method, arguments, &Target::Best, CallOptions::default())
            .await
            .map_err(|error| error.to_string());
        let text = match &outcome {
            Ok(value) => value.to_string(),
            Err(error) => format!("Error: {error}"),
        };
        Ok(((call, text), outcome))
    }

    /// Raises `intent` with `context`; the tool result is the resolution's JSON.
    async fn raise(
        &self,
        bus: &dyn Bus,
        intent: &str,
        context: Value,
    ) -> Result<((Block, String), Result<Value, String>), Error> {
        let tool = self.tool(&intent_key(intent))?;
        let call = tool_use(tool, &json!({"context": context}));
        let outcome = bus
            .raise_intent(IntentRequest {
                intent: intent.to_owned(),
                context,
                target: IntentTarget::default(),
                timeout: Duration::from_secs(30),
            })
            .await
            .map(|resolution| serde_json::to_value(resolution).unwrap_or_default())
            .map_err(|error| error.to_string());
        let text = match &outcome {
            Ok(value) => value.to_string(),
            Err(error) => format!("Error: {error}"),
        };
        Ok(((call, text), outcome))
    }
}

fn intent_key(intent: &str) -> String {
    format!("intent:{intent}")
}

/// A tool name clients accept (`^[A-Za-z0-9_-]{1,64}$`), unique within the set.
fn unique_tool_name(wanted: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let base: String = wanted
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

fn method_tool(tool: &str, method: &MethodInfo) -> Value {
    let signature = parse_signature(method.input_signature.as_deref().unwrap_or(""));
    let description = method
        .description
        .clone()
        .or_else(|| method.display_name.clone())
        .unwrap_or_else(|| method.name.clone());
    json!({
        "name": tool,
        "description": description,
        "input_schema": object_schema(&signature.params),
    })
}

fn intent_tool(tool: &str, intent: &IntentInfo) -> Value {
    let mut apps: Vec<&str> = intent
        .handlers
        .iter()
        .map(|handler| handler.application.as_str())
        .collect();
    apps.dedup();
    let contexts = intent.context_types();
    json!({
        "name": tool,
        "description": format!(
            "Raises the FDC3 intent {} (handled by {}) with a context of type {}.",
            intent.name,
            apps.join(", "),
            contexts.join(" or "),
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "context": {
                    "type": "object",
                    "description": "The FDC3 context: `type` plus its fields (e.g. `name`, `id`).",
                    "properties": {"type": {"type": "string", "enum": contexts}},
                    "required": ["type"],
                },
                "app": {"type": "string", "description": "Only this handler app."},
            },
            "required": ["context"],
        },
    })
}

/// A JSON schema of an object with these parameters.
fn object_schema(params: &[Param]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (index, param) in params.iter().enumerate() {
        let name = param
            .name
            .clone()
            .unwrap_or_else(|| format!("arg{}", index + 1));
        let mut schema = type_schema(&param.ty);
        if let (Some(description), Value::Object(map)) = (&param.description, &mut schema) {
            map.insert("description".into(), Value::String(description.clone()));
        }
        if !param.optional {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema);
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    Value::Object(schema)
}

fn type_schema(ty: &SigType) -> Value {
    match ty {
        SigType::Bool => json!({"type": "boolean"}),
        SigType::Int | SigType::Long => json!({"type": "integer"}),
        SigType::Double => json!({"type": "number"}),
        SigType::String => json!({"type": "string"}),
        SigType::DateTime => json!({"type": "string", "format": "date-time"}),
        SigType::Composite {
            fields: Some(fields),
            ..
        } => object_schema(fields),
        SigType::Composite { fields: None, .. } => json!({"type": "object"}),
        SigType::Array { item } => json!({"type": "array", "items": type_schema(item)}),
        SigType::Any { .. } => json!({}),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn tool_use(name: &str, arguments: &Value) -> Block {
    Block::ToolUse {
        name: name.to_owned(),
        arguments: arguments.to_string(),
    }
}

fn mismatch(scenario: Scenario, what: &str) -> Error {
    Error::Scenario {
        scenario: scenario.label(),
        what: what.to_owned(),
    }
}

/// A client as the scenarios need it.
#[derive(Debug, Clone)]
struct ClientLine {
    id: String,
    name: String,
    aum: f64,
    currency: String,
}

/// The `count` clients with the most assets in a `CRM.GetClients` result (stable for ties,
/// as Python's `sorted`).
fn largest_clients(result: Option<&Value>, count: usize) -> Vec<ClientLine> {
    let mut clients: Vec<ClientLine> = result
        .and_then(|value| value.get("clients"))
        .and_then(Value::as_array)
        .map(|clients| {
            clients
                .iter()
                .map(|client| ClientLine {
                    id: text_field(client, "id"),
                    name: text_field(client, "name"),
                    aum: client.get("aum").and_then(Value::as_f64).unwrap_or(0.0),
                    currency: text_field(client, "currency"),
                })
                .collect()
        })
        .unwrap_or_default();
    clients.sort_by(|a, b| b.aum.total_cmp(&a.aum));
    clients.truncate(count);
    clients
}

fn text_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[expect(
    clippy::cast_precision_loss,
    reason = "token counts are far below 2^52"
)]
fn fraction(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// `12,345`.
pub fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `1,234,567.89` (two decimals unless whole).
fn thousands_f64(value: f64) -> String {
    let text = format!("{:.2}", value.abs());
    let (integer, decimals) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    for (index, digit) in integer.chars().enumerate() {
        if index > 0 && (integer.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if decimals != "00" {
        out.push('.');
        out.push_str(decimals);
    }
    out
}

/// `97.3 %`.
fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}
