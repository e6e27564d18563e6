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

mod classic;
mod explore;
mod scenarios;

use std::{fmt::Write as _, sync::Arc};

use crate::{
    Error,
    mock_bus::{MockBus, MockBusConfig, MockBusHandle},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig},
};

pub use self::{
    classic::thousands,
    scenarios::{CODE_MODE_INSTRUCTIONS, code_mode_tools},
};
use self::{
    classic::{ClassicTools, fraction, percent},
    scenarios::{fan_out, multi_step, seed},
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
    /// A two-turn exploration: look at every client (too large to send: code mode keeps it in
    /// a session as `_r1` and shows a preview), then answer from it. Played up to
    /// [`EXPLORE_MAX_CLIENTS`] clients.
    Explore,
}

/// The largest CRM the explore scenario is played on. Its first snippet holds every client in
/// the worker: 100,000 client records exceed the default 256 MiB memory limit (`MemoryError`),
/// which is the right answer for the sandbox and no token count for the benchmark.
pub const EXPLORE_MAX_CLIENTS: usize = 10_000;

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Self; 5] = [
        Self::Seed,
        Self::MultiStep,
        Self::FanOut,
        Self::Retry,
        Self::Explore,
    ];

    /// The short name used in tables and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::MultiStep => "multi-step",
            Self::FanOut => "fan-out",
            Self::Retry => "retry",
            Self::Explore => "explore",
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
            Self::Explore => "Which adviser has the most client assets, and who are their three \
                 largest clients?"
                .to_owned(),
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
                if scenario == Scenario::Explore && clients > EXPLORE_MAX_CLIENTS {
                    tracing::info!(
                        clients,
                        "explore not played: its snippet holds every client, over the memory \
                         limit at this size"
                    );
                    continue;
                }
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
        Scenario::Explore => explore::explore(service, &tools).await?,
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
