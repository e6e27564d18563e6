//! `codemode demo`: Code Mode end to end in one command, on the embedded mock bus.
//!
//! It starts the mock bus with the sample apps and 300 synthetic ones, attaches to it like any
//! io.Connect client, and walks the three steps a model takes for "who is Amelia Reid's
//! adviser?" (list → get → execute), then a multi-step task, then the token comparison with
//! classic tool calling. Everything runs for real: the listing, stubs and answers below come
//! from the live catalogue and real bus calls.

use std::{fmt::Write as _, sync::Arc, time::Instant};

use anyhow::Context as _;
use clap::Args;
use codemode::{
    catalogue::ListRequest,
    mock_bus::{MockBus, MockBusConfig},
    sandbox::{SandboxConfig, WorkerCommand},
    service::{CodeMode, CodeModeConfig, ExecuteOptions, render_outcome},
};
use codemode_adapters::{
    Bus,
    ioconnect::{IoConnectBus, IoConnectConfig},
};
use codemode_protocol::gw3::Authentication;

/// `codemode demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Synthetic apps on the mock bus, besides the samples.
    #[arg(long, default_value_t = 300, env = "CODEMODE_DEMO_APPS")]
    pub(crate) apps: usize,
}

/// The snippet of the seed question.
const SEED_SNIPPET: &str = "\
found = crm.get_clients(name_contains=\"Amelia Reid\")
result = found[\"clients\"][0][\"adviser\"]";

/// The multi-step task: filter, rank, raise an intent for the best match.
const MULTI_STEP_SNIPPET: &str = "\
clients = crm.get_clients(adviser=\"M Carter\", status=\"Active\")[\"clients\"]
top = sorted(clients, key=lambda c: c[\"aum\"], reverse=True)[:5]
best = top[0]
shown = intents.view_portfolio({\"type\": \"fdc3.contact\", \"name\": best[\"name\"],
                                \"id\": {\"email\": best[\"email\"]}})
result = {
    \"top5\": [f\"{c['name']} ({c['currency']} {c['aum']:,.0f})\" for c in top],
    \"portfolio_shown_for\": shown[\"client\"],
}";

/// What the user is looking at: the instrument on their channel.
const CONTEXT_SNIPPET: &str = "\
channels.join(\"Red\")
looking_at = channels.get_context()
result = {\"channel\": channels.current()[\"id\"], \"looking_at\": looking_at}";

/// A short look at live data: five price ticks from the sample Market Data app's stream.
const STREAM_SNIPPET: &str = "\
ticks = market_data.subscribe(symbol=\"AAPL\", max_items=5, seconds=5)
result = [f\"{t['symbol']} {t['last']:.2f}\" for t in ticks]";

/// Runs the demo and prints it.
#[expect(
    clippy::print_stdout,
    reason = "the walk-through is the command's output"
)]
pub(crate) async fn run_demo(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let bus = MockBus::start(MockBusConfig {
        synthetic_apps: args.apps,
        ..MockBusConfig::default()
    })
    .await
    .context("starting the embedded mock bus")?;
    let adapter = IoConnectBus::connect(IoConnectConfig::new(
        bus.url(),
        Authentication::secret("demo", "demo"),
    ))
    .await
    .context("attaching to the mock bus")?;
    let adapter: Arc<dyn Bus> = Arc::new(adapter);
    let snapshot = adapter.catalogue();
    let worker = WorkerCommand::current_exe().context("locating the codemode executable")?;
    let mut sandbox = SandboxConfig::new(worker);
    sandbox.workers = 1;
    let service = CodeMode::new(Arc::clone(&adapter), CodeModeConfig::new(sandbox))
        .context("starting Code Mode")?;
    service
        .warm_up()
        .await
        .context("starting the sandbox worker")?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "codemode demo — Code Mode on an embedded io.Connect-compatible bus\n\
         bus: {} ({} apps: the samples + {} synthetic), {} methods, {} intents → {} Python functions; ready in {} ms\n",
        bus.url(),
        bus.apps().len(),
        args.apps,
        snapshot.methods.len(),
        snapshot.intents.len(),
        service.function_count(),
        started.elapsed().as_millis(),
    );
    out.push_str(&heading("Task 1: \"Who is Amelia Reid's adviser?\""));

    let request = ListRequest {
        query: Some("client adviser".to_owned()),
        ..ListRequest::default()
    };
    let page = service.list(&request);
    let _ = writeln!(
        out,
        "Step 1 — list_python_definitions(query=\"client adviser\"): {} matches, {} tokens on this page. Excerpt:\n",
        page.matches, page.tokens
    );
    out.push_str(&indent(&excerpt(&page.text, 14)));

    let _ = writeln!(
        out,
        "\nThe page's top hits carry typed signatures and result keys, so no \
         get_python_definitions round trip is needed.\n\nStep 2 — execute_python_code:\n"
    );
    out.push_str(&indent(SEED_SNIPPET));
    let outcome = service
        .execute(SEED_SNIPPET, ExecuteOptions::default())
        .await;
    let _ = writeln!(out, "\n→ {}", render_outcome(&outcome).trim_end());
    let answer = outcome.result.as_str().unwrap_or_default().to_owned();
    let _ = writeln!(
        out,
        "\nAnswer: {}\n",
        if outcome.ok {
            answer.as_str()
        } else {
            "(the snippet failed)"
        }
    );

    out.push_str(&heading(
        "Task 2: \"Top 5 active clients of M Carter by assets; show the best one's portfolio\"",
    ));
    out.push_str(&indent(MULTI_STEP_SNIPPET));
    let outcome = service
        .execute(MULTI_STEP_SNIPPET, ExecuteOptions::default())
        .await;
    let multi_step_ok = outcome.ok;
    let _ = writeln!(out, "\n→ {}", render_outcome(&outcome).trim_end());
    let _ = writeln!(
        out,
        "\nOne snippet, {} bus calls, run on this machine; only the answer above goes back to the model.\n",
        outcome.calls.len()
    );

    out.push_str(&heading(
        "Task 3: \"What is the user looking at?\" (the FDC3 context on their channel)",
    ));
    out.push_str(&indent(CONTEXT_SNIPPET));
    let outcome = service
        .execute(CONTEXT_SNIPPET, ExecuteOptions::default())
        .await;
    let _ = writeln!(out, "\n→ {}\n", render_outcome(&outcome).trim_end());
    let context_ok = outcome.ok && outcome.result["looking_at"]["type"] == "fdc3.instrument";

    out.push_str(&heading(
        "Task 4: \"Show me the last few AAPL ticks\" (a stream, closed when collected)",
    ));
    out.push_str(&indent(STREAM_SNIPPET));
    let outcome = service
        .execute(STREAM_SNIPPET, ExecuteOptions::default())
        .await;
    let _ = writeln!(out, "\n→ {}\n", render_outcome(&outcome).trim_end());
    let stream_ok = outcome.ok
        && outcome
            .result
            .as_array()
            .is_some_and(|ticks| ticks.len() == 5);

    out.push_str(&heading("Tokens: classic tool calling vs. Code Mode"));
    let tokens = token_table(&service).await;
    match &tokens {
        Ok(table) => out.push_str(table),
        Err(error) => {
            let _ = writeln!(out, "(token comparison unavailable: {error})");
        }
    }
    let _ = writeln!(
        out,
        "\nDone in {:.1} s. Next: `codemode serve --mock-bus --mcp http` and point an MCP client at it \
         (see samples/mcp/), or `codemode serve` on an io.Connect Desktop.",
        started.elapsed().as_secs_f64()
    );
    print!("{out}");
    adapter.close().await;
    bus.shutdown().await;
    if answer != "M Carter" {
        anyhow::bail!("the demo's first task did not find M Carter");
    }
    if !multi_step_ok {
        anyhow::bail!("the demo's multi-step task failed (see its outcome above)");
    }
    if !context_ok {
        anyhow::bail!("the demo's context task did not read the instrument on the Red channel");
    }
    if !stream_ok {
        anyhow::bail!("the demo's stream task did not collect five ticks");
    }
    tokens.context("the demo's token comparison could not be measured")?;
    Ok(())
}

fn heading(title: &str) -> String {
    format!("{title}\n{}\n", "─".repeat(title.chars().count().min(100)))
}

fn indent(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let _ = writeln!(out, "    {line}");
    }
    out
}

fn excerpt(text: &str, lines: usize) -> String {
    let total = text.lines().count();
    let mut out: String = text.lines().take(lines).collect::<Vec<_>>().join("\n");
    if total > lines {
        let _ = write!(out, "\n    … ({} more lines)", total - lines);
    }
    out
}

/// The seed scenario's token comparison at demo size, measured now from the live catalogue and
/// the real tool results (the same transcripts as `codemode bench tokens`).
async fn token_table(service: &CodeMode) -> Result<String, codemode::Error> {
    codemode::tokens::seed_comparison(service)
        .await
        .map(|comparison| codemode::tokens::render_comparison(&comparison))
}
