//! Search quality: task phrasings over the sample and synthetic apps, each with the function it
//! needs, searched in the live catalogue of the mock bus exactly as `list_python_definitions`
//! ranks them (identical templates of several apps collapsed into one hit). Reports recall@1,
//! recall@3 (the hits a search page shows with signatures) and the mean reciprocal rank.
//!
//! A wanted name is a qualified name (`crm.get_clients`) or a namespace-suffix pattern
//! (`*_treasury.get_cash_position`: any app's treasury template), since the synthetic apps serve
//! the same templates under many prefixes and no phrasing can tell them apart.

use std::fmt::Write as _;

use codemode_adapters::Bus as _;

use crate::{
    BenchError, attached_mock_bus,
    catalogue::{CatalogueConfig, PythonCatalogue, RankedHit},
    mock_bus::MockBusConfig,
};

/// (task phrasing, the function it needs).
pub const PHRASES: &[(&str, &str)] = &[
    // Sample apps.
    ("client adviser", "crm.get_clients"),
    ("who is a client's adviser", "crm.get_clients"),
    ("find clients by name", "crm.get_clients"),
    (
        "clients of an adviser by assets under management",
        "crm.get_clients",
    ),
    ("largest clients aum", "crm.get_clients"),
    ("client by id", "crm.get_client"),
    ("look up one client record", "crm.get_client"),
    ("client email address lookup", "crm.find_client_by_email"),
    ("list advisers team office", "crm.get_advisers"),
    ("which advisers work in an office", "crm.get_advisers"),
    ("client holdings market value", "portfolio.get_holdings"),
    (
        "positions in a client's portfolio",
        "portfolio.get_holdings",
    ),
    ("who holds this stock", "portfolio.get_holders"),
    ("clients holding an instrument", "portfolio.get_holders"),
    ("quote for a symbol", "market_data.get_quote"),
    ("bid ask last price volume", "market_data.get_quote"),
    (
        "search instruments by sector",
        "market_data.search_instruments",
    ),
    ("stream live prices", "market_data.subscribe"),
    ("show price chart", "charts.show_chart"),
    ("add a note about a client", "notes.add_note"),
    ("read notes for a client", "notes.get_notes"),
    ("create follow-up task", "tasks.create_task"),
    ("open tasks assigned to me", "tasks.get_tasks"),
    ("open the portfolio of a client", "intents.view_portfolio"),
    ("view contact in crm", "intents.view_contact"),
    ("call a contact", "intents.start_call"),
    ("view chart intent instrument", "intents.view_chart"),
    ("raise an intent", "raise_intent"),
    ("which apps handle an intent", "find_intents"),
    ("echo test", "diagnostics.echo"),
    // Synthetic apps (any app's template).
    ("net exposure by asset class", "*_risk.get_exposure"),
    ("value at risk of a portfolio", "*_risk.get_va_r"),
    ("stress test scenario P&L", "*_risk.run_stress_test"),
    ("risk limit breaches", "*_risk.get_limit_breaches"),
    ("option greeks", "*_risk.get_greeks"),
    (
        "counterparty credit exposure",
        "*_risk.get_counterparty_exposure",
    ),
    ("pre-trade compliance check", "*_compliance.check_trade"),
    ("surveillance alerts", "*_compliance.get_alerts"),
    ("restricted list", "*_compliance.get_restricted_list"),
    ("kyc status of a client", "*_compliance.get_kyc_status"),
    ("cancel a working order", "*_blotter.cancel_order"),
    ("order fills executions", "*_blotter.get_executions"),
    ("amend order quantity limit price", "*_blotter.amend_order"),
    ("analyst ratings price target", "*_research.get_ratings"),
    ("earnings calendar", "*_research.get_earnings_calendar"),
    ("fx spot rate currency pair", "*_fx.get_spot_rate"),
    ("forward points tenor", "*_fx.get_forward_points"),
    ("bond yield price", "*_fixed_income.get_bond_price"),
    ("yield curve", "*_fixed_income.get_yield_curve"),
    ("modified duration convexity", "*_fixed_income.get_duration"),
    ("cash balances per account", "*_treasury.get_cash_position"),
    ("transfer cash between accounts", "*_treasury.book_transfer"),
    ("onboarding case checklist", "*_onboarding.get_case"),
    (
        "request documents from client",
        "*_onboarding.request_documents",
    ),
    ("end of day closing prices history", "*_pricing.get_history"),
    ("unpaid invoices of a client", "*_billing.get_invoices"),
    ("estimate fees for a period", "*_billing.calculate_fees"),
    ("margin calls", "*_collateral.get_margin_calls"),
    ("news headlines for a symbol", "*_news.get_headlines"),
    ("news sentiment", "*_news.get_sentiment"),
    (
        "portfolio performance vs benchmark",
        "*_reporting.get_performance",
    ),
    (
        "generate client statement",
        "*_reporting.generate_statement",
    ),
    ("send a chat message", "*_chat.send_message"),
];

/// The ranking quality at one catalogue size.
#[derive(Debug, Clone)]
pub struct RankingRow {
    /// Synthetic apps besides the samples.
    pub apps: usize,
    /// Functions in the catalogue.
    pub functions: usize,
    /// Phrasings whose function exists at this size.
    pub phrases: usize,
    /// Share found first.
    pub recall_at_1: f64,
    /// Share found among the first three (the cards of a search page).
    pub recall_at_3: f64,
    /// Mean reciprocal rank (0 when not in the first 20).
    pub mrr: f64,
    /// Phrasings missed at 3, with the rank found (if any).
    pub misses: Vec<(String, String, Option<usize>)>,
}

/// Whether `hit` is (or collapses) the wanted function.
fn matches(hit: &RankedHit, wanted: &str) -> bool {
    std::iter::once(&hit.qualified)
        .chain(&hit.also)
        .any(|name| match wanted.strip_prefix('*') {
            Some(suffix) => name
                .split_once('.')
                .is_some_and(|(ns, local)| format!("{ns}.{local}").ends_with(suffix)),
            None => name == wanted,
        })
}

/// Measures the phrase set at every size in `apps`.
pub async fn ranking(apps: &[usize]) -> Result<Vec<RankingRow>, BenchError> {
    let mut rows = Vec::new();
    for &count in apps {
        let (bus, adapter) = attached_mock_bus(MockBusConfig {
            synthetic_apps: count,
            ..MockBusConfig::default()
        })
        .await?;
        let catalogue = PythonCatalogue::build(&adapter.catalogue(), CatalogueConfig::default());
        adapter.close().await;
        bus.shutdown().await;
        rows.push(rank_phrases(&catalogue, count));
    }
    Ok(rows)
}

/// Scores [`PHRASES`] against one catalogue (phrasings whose function is absent are skipped).
pub fn rank_phrases(catalogue: &PythonCatalogue, apps: usize) -> RankingRow {
    let mut found = (0usize, 0usize, 0.0f64, 0usize);
    let mut misses = Vec::new();
    for &(phrase, wanted) in PHRASES {
        let local = wanted.rsplit('.').next().unwrap_or(wanted);
        if !catalogue
            .ranked_hits(local)
            .iter()
            .any(|hit| matches(hit, wanted))
        {
            continue;
        }
        found.3 += 1;
        let hits = catalogue.ranked_hits(phrase);
        let rank = hits
            .iter()
            .take(20)
            .position(|hit| matches(hit, wanted))
            .map(|index| index + 1);
        if rank == Some(1) {
            found.0 += 1;
        }
        if rank.is_some_and(|rank| rank <= 3) {
            found.1 += 1;
        } else {
            misses.push((phrase.to_owned(), wanted.to_owned(), rank));
        }
        #[expect(clippy::cast_precision_loss, reason = "ranks below 20")]
        if let Some(rank) = rank {
            found.2 += 1.0 / rank as f64;
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "counts below 100")]
    let share = |n: usize| n as f64 / found.3.max(1) as f64;
    #[expect(clippy::cast_precision_loss, reason = "counts below 100")]
    let mrr = found.2 / found.3.max(1) as f64;
    RankingRow {
        apps,
        functions: catalogue.function_count(),
        phrases: found.3,
        recall_at_1: share(found.0),
        recall_at_3: share(found.1),
        mrr,
        misses,
    }
}

/// The Markdown table of [`ranking`], with the misses listed under it.
pub fn render_ranking(rows: &[RankingRow]) -> String {
    let mut text = String::from(
        "| synthetic apps | functions | phrasings | recall@1 | recall@3 | MRR |\n\
         |---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            row.apps, row.functions, row.phrases, row.recall_at_1, row.recall_at_3, row.mrr
        );
    }
    for row in rows {
        for (phrase, wanted, rank) in &row.misses {
            let _ = writeln!(
                text,
                "\nmissed at {} apps: {phrase:?} → {wanted} ({})",
                row.apps,
                rank.map_or_else(|| "not in the first 20".to_owned(), |r| format!("rank {r}"))
            );
        }
    }
    text.push_str(
        "\nRanked as list_python_definitions ranks a query (identical templates of several apps \
         collapsed); recall@3 counts the hits a search page shows with signatures.\n",
    );
    text
}
