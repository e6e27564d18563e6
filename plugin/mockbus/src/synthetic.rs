//! A deterministic generator of synthetic finance-desktop apps, so catalogue size and discovery
//! can be measured at 10, 100 or 1,000 apps.
//!
//! [`generate_apps`] with the same `count` and `seed` always returns the same apps, and a smaller
//! `count` returns a prefix of a larger one. Each app gets 3–7 methods drawn from its business
//! area (risk, compliance, FX, research, …) with realistic names, descriptions and signatures,
//! including the loose real-world forms of doc §8 (`composite party`,
//! `Composite:Client{string clientId}`, `String? x`, arrays, `DateTime`). About one app in five
//! handles an intent, and about one in ten is declared but not running.

use serde_json::{Map, Value, json};

use super::{
    apps::{AppSpec, IntentSpec, MethodSpec},
    behaviour::Behaviour,
    data::SeededRng,
};

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 0x5EED_C0DE;

/// `count` synthetic apps generated from `seed`.
pub fn generate_apps(count: usize, seed: u64) -> Vec<AppSpec> {
    let names = app_names(count, seed);
    names
        .into_iter()
        .enumerate()
        .map(|(index, (brand, area))| {
            let mut rng = SeededRng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            build_app(index, brand, area, &mut rng)
        })
        .collect()
}

struct Area {
    name: &'static str,
    purpose: &'static str,
    methods: &'static [Template],
    intents: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

/// `(method suffix, description, accepts, returns, object types)`.
type Template = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const BRANDS: &[&str] = &[
    "Atlas",
    "Beacon",
    "Cobalt",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Onyx",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Tidal",
    "Umbra",
    "Vertex",
    "Willow",
    "Xenon",
    "Yarrow",
    "Zenith",
    "Aurora",
    "Bastion",
    "Cascade",
    "Dynamo",
    "Equinox",
    "Fathom",
    "Glacier",
    "Horizon",
    "Ironbark",
    "Jetstream",
    "Kestrel",
    "Lodestar",
    "Monarch",
    "Northstar",
    "Orchid",
    "Paragon",
    "Quasar",
    "Sterling",
    "Trident",
    "Vanguard",
    "Westgate",
    "Polaris",
];

const AREAS: &[Area] = &[
    Area {
        name: "Risk",
        purpose: "market and credit risk analytics for the trading desks",
        methods: &[
            (
                "GetExposure",
                "Returns the current net exposure of a portfolio, broken down by asset class and currency.",
                "String portfolioId, String? asOfDate",
                "Composite: { String assetClass, String currency, Double netExposure, Double grossExposure }[] exposures, DateTime calculatedAt",
                &["Portfolio"],
            ),
            (
                "GetVaR",
                "Computes historical value-at-risk for a portfolio at the given confidence level and horizon.",
                "String portfolioId, Double? confidence, Int? horizonDays",
                "Double var, Double expectedShortfall, String currency, DateTime asOf",
                &["Portfolio"],
            ),
            (
                "RunStressTest",
                "Runs a named stress scenario against a portfolio and returns the projected P&L impact.",
                "String portfolioId, String scenario",
                "Composite: { String scenario, Double pnlImpact, Double pnlImpactPct } result",
                &["Portfolio", "Scenario"],
            ),
            (
                "GetLimitBreaches",
                "Lists risk limit breaches raised since the given time, optionally for one desk.",
                "DateTime? since, String? desk",
                "Composite: { String limitId, String desk, Double utilisation, Double limit, DateTime breachedAt }[] breaches",
                &["Limit"],
            ),
            (
                "GetGreeks",
                "Returns option greeks for a position.",
                "Composite:Position{String positionId, String? book}",
                "Double delta, Double gamma, Double vega, Double theta, Double rho",
                &["Position"],
            ),
            (
                "GetCounterpartyExposure",
                "Returns the credit exposure to a counterparty across all books.",
                "composite party",
                "Double currentExposure, Double potentialFutureExposure, String rating",
                &["Counterparty"],
            ),
        ],
        intents: &[("ViewRisk", "fdc3.portfolio", "View risk", "risk.summary")],
    },
    Area {
        name: "Compliance",
        purpose: "pre- and post-trade compliance checks and surveillance alerts",
        methods: &[
            (
                "CheckTrade",
                "Runs pre-trade compliance rules against a proposed order and returns any violations.",
                "Composite: { String clientId, String symbol, String side, Double quantity, Double? limitPrice } order",
                "Bool approved, Composite: { String ruleId, String severity, String message }[] violations",
                &["Order"],
            ),
            (
                "GetAlerts",
                "Lists open surveillance alerts, newest first.",
                "String? status, String? assignee, Int? limit",
                "Composite: { String alertId, String type, String status, String assignee, DateTime raisedAt }[] alerts",
                &["Alert"],
            ),
            (
                "GetRestrictedList",
                "Returns the instruments currently on the restricted list.",
                "",
                "String[] symbols, DateTime updatedAt",
                &["Instrument"],
            ),
            (
                "AcknowledgeAlert",
                "Marks a surveillance alert as reviewed with a comment.",
                "String alertId, String comment",
                "String status",
                &["Alert"],
            ),
            (
                "GetKycStatus",
                "Returns the know-your-customer status of a client.",
                "Composite:Client{string clientId}",
                "String kycStatus, DateTime? reviewDue, String[] missingDocuments",
                &["Client"],
            ),
        ],
        intents: &[(
            "ViewAlert",
            "compliance.alert",
            "Open alert",
            "compliance.alert",
        )],
    },
    Area {
        name: "Blotter",
        purpose: "the trade blotter: orders, executions and allocations",
        methods: &[
            (
                "GetOrders",
                "Lists orders for a trader or client, optionally filtered by status.",
                "String? trader, String? clientId, String? status",
                "Composite: { String orderId, String symbol, String side, Double quantity, Double filled, String status, DateTime createdAt }[] orders",
                &["Order"],
            ),
            (
                "GetExecutions",
                "Lists executions (fills) of an order.",
                "String orderId",
                "Composite: { String execId, Double price, Double quantity, String venue, DateTime executedAt }[] executions",
                &["Order", "Execution"],
            ),
            (
                "CancelOrder",
                "Requests cancellation of a working order.",
                "String orderId, String? reason",
                "String status, DateTime requestedAt",
                &["Order"],
            ),
            (
                "AmendOrder",
                "Amends the quantity or limit price of a working order.",
                "String orderId, Double? quantity, Double? limitPrice",
                "String status",
                &["Order"],
            ),
            (
                "GetAllocations",
                "Returns the account allocations of a block trade.",
                "composite: order, composite: [] trades",
                "Composite: { String account, Double quantity, Double averagePrice }[] allocations",
                &["Order", "Allocation"],
            ),
        ],
        intents: &[("ViewOrder", "fdc3.order", "Show order", "blotter.order")],
    },
    Area {
        name: "Research",
        purpose: "equity research notes, ratings and price targets",
        methods: &[
            (
                "GetRatings",
                "Returns analyst ratings and price targets for an instrument.",
                "String symbol",
                "Composite: { String analyst, String rating, Double priceTarget, DateTime publishedAt }[] ratings, Double consensusTarget",
                &["Instrument"],
            ),
            (
                "SearchReports",
                "Searches research reports by keyword, sector and date.",
                "String? keyword, String? sector, DateTime? from, DateTime? to",
                "Composite: { String reportId, String title, String author, String sector, DateTime publishedAt }[] reports",
                &["Report"],
            ),
            (
                "GetReport",
                "Returns the summary and key points of one research report.",
                "String reportId",
                "Composite: { String reportId, String title, String summary, String[] keyPoints } report",
                &["Report"],
            ),
            (
                "GetCoverage",
                "Lists the instruments an analyst covers.",
                "String analyst",
                "String[] symbols",
                &["Instrument"],
            ),
            (
                "GetEarningsCalendar",
                "Returns upcoming earnings dates for a list of symbols.",
                "String[] symbols",
                "Composite:Earnings{String symbol, DateTime date, Double? epsEstimate}[]",
                &["Instrument"],
            ),
        ],
        intents: &[(
            "ViewResearch",
            "fdc3.instrument",
            "Research for instrument",
            "research.summary",
        )],
    },
    Area {
        name: "FX",
        purpose: "foreign exchange pricing, forwards and hedging",
        methods: &[
            (
                "GetSpotRate",
                "Returns the indicative spot rate for a currency pair.",
                "String pair",
                "Double bid, Double ask, Double mid, DateTime asOf",
                &["CurrencyPair"],
            ),
            (
                "GetForwardPoints",
                "Returns forward points for a currency pair and tenor.",
                "String pair, String tenor",
                "Double forwardPoints, Double outright, DateTime valueDate",
                &["CurrencyPair"],
            ),
            (
                "RequestQuote",
                "Requests a firm quote for an FX trade.",
                "String pair, String side, Double notional, String? tenor",
                "Composite: { String quoteId, Double rate, DateTime expiresAt } quote",
                &["Quote"],
            ),
            (
                "GetHedgeRatio",
                "Suggests a hedge ratio for the currency exposure of a portfolio.",
                "String portfolioId, String baseCurrency",
                "Double hedgeRatio, Tuple: { String currency, Double amount } notional",
                &["Portfolio"],
            ),
            (
                "GetCrossRates",
                "Returns a matrix of cross rates for the given currencies.",
                "String[] currencies",
                "Composite:Symbol{String symbol, Double bid, Double ask}[]",
                &["CurrencyPair"],
            ),
        ],
        intents: &[(
            "ViewQuote",
            "fdc3.instrument",
            "Quote instrument",
            "fx.quote",
        )],
    },
    Area {
        name: "FixedIncome",
        purpose: "bond pricing, yield curves and credit analytics",
        methods: &[
            (
                "GetBondPrice",
                "Returns clean and dirty prices and yield for a bond.",
                "String isin, DateTime? settlementDate",
                "Double cleanPrice, Double dirtyPrice, Double yieldToMaturity, Double accruedInterest",
                &["Bond"],
            ),
            (
                "GetYieldCurve",
                "Returns the yield curve points for a currency.",
                "String currency, String? curveType",
                "Composite: { String tenor, Double yield }[] points, DateTime asOf",
                &["Curve"],
            ),
            (
                "GetDuration",
                "Computes modified duration and convexity of a bond.",
                "String isin",
                "Double modifiedDuration, Double convexity",
                &["Bond"],
            ),
            (
                "SearchBonds",
                "Searches bonds by issuer, currency and maturity range.",
                "String? issuer, String? currency, DateTime? maturityFrom, DateTime? maturityTo, Double? minCoupon",
                "Composite: { String isin, String issuer, Double coupon, DateTime maturity, String rating }[] bonds",
                &["Bond"],
            ),
            (
                "GetCreditSpread",
                "Returns the credit spread of an issuer over the benchmark curve.",
                "String issuer, String? tenor",
                "Double spreadBps, String benchmark",
                &["Issuer"],
            ),
        ],
        intents: &[(
            "ViewInstrument",
            "fdc3.instrument",
            "Bond details",
            "fi.bond",
        )],
    },
    Area {
        name: "Treasury",
        purpose: "cash positions, liquidity and funding",
        methods: &[
            (
                "GetCashPosition",
                "Returns cash balances per account and currency.",
                "String? entity, String? currency",
                "Composite: { String account, String currency, Double balance, DateTime valueDate }[] balances",
                &["Account"],
            ),
            (
                "GetLiquidityForecast",
                "Forecasts net liquidity over the coming days.",
                "String entity, Int days",
                "Composite: { DateTime date, Double inflow, Double outflow, Double net }[] forecast",
                &["Entity"],
            ),
            (
                "BookTransfer",
                "Books an internal cash transfer between two accounts.",
                "String fromAccount, String toAccount, Double amount, String currency, DateTime? valueDate",
                "String transferId, String status",
                &["Transfer"],
            ),
            (
                "GetFundingRates",
                "Returns overnight and term funding rates.",
                "String currency",
                "Double overnight, Double oneWeek, Double oneMonth, Double threeMonths",
                &["Rate"],
            ),
        ],
        intents: &[],
    },
    Area {
        name: "Onboarding",
        purpose: "client onboarding cases and document collection",
        methods: &[
            (
                "GetCases",
                "Lists onboarding cases, optionally by stage or owner.",
                "String? stage, String? owner",
                "Composite: { String caseId, String clientName, String stage, String owner, DateTime openedAt }[] cases",
                &["Case"],
            ),
            (
                "GetCase",
                "Returns one onboarding case with its checklist.",
                "String caseId",
                "Composite: { String caseId, String clientName, String stage, Composite: { String item, Bool done }[] checklist } case",
                &["Case"],
            ),
            (
                "RequestDocuments",
                "Sends a document request to the client of a case.",
                "String caseId, String[] documents, String? message",
                "String requestId, DateTime sentAt",
                &["Case", "Document"],
            ),
            (
                "AdvanceStage",
                "Moves a case to its next stage once the checklist is complete.",
                "String caseId",
                "String stage",
                &["Case"],
            ),
        ],
        intents: &[(
            "StartOnboarding",
            "fdc3.contact",
            "Start onboarding",
            "onboarding.case",
        )],
    },
    Area {
        name: "Pricing",
        purpose: "real-time and end-of-day instrument pricing",
        methods: &[
            (
                "GetPrice",
                "Returns the latest price of an instrument.",
                "String symbol",
                "Double last, Double bid, Double ask, String currency, DateTime asOf",
                &["Instrument"],
            ),
            (
                "GetHistory",
                "Returns end-of-day closing prices between two dates.",
                "String symbol, DateTime from, DateTime to",
                "Composite: { DateTime date, Double close, Double volume }[] history",
                &["Instrument"],
            ),
            (
                "GetIntraday",
                "Returns intraday bars at the given interval in minutes.",
                "String symbol, Int? intervalMinutes",
                "Composite: { DateTime time, Double open, Double high, Double low, Double close }[] bars",
                &["Instrument"],
            ),
            (
                "GetBatchPrices",
                "Returns last prices for many symbols at once.",
                "String[] symbols",
                "Composite:Symbol{String symbol, Double bid, Double ask}[]",
                &["Instrument"],
            ),
        ],
        intents: &[("ViewChart", "fdc3.instrument", "Price chart", "charts.view")],
    },
    Area {
        name: "Billing",
        purpose: "client fees, invoices and billing schedules",
        methods: &[
            (
                "GetInvoices",
                "Lists invoices of a client, optionally unpaid only.",
                "String clientId, Bool? unpaidOnly",
                "Composite: { String invoiceId, Double amount, String currency, String status, DateTime issuedAt, DateTime? paidAt }[] invoices",
                &["Invoice"],
            ),
            (
                "GetFeeSchedule",
                "Returns the fee schedule that applies to a client.",
                "String clientId",
                "Composite: { String feeType, Double rateBps, Double? minimum }[] fees",
                &["Client"],
            ),
            (
                "CalculateFees",
                "Estimates fees for a client for a period.",
                "String clientId, DateTime from, DateTime to",
                "Double total, String currency, Composite: { String feeType, Double amount }[] breakdown",
                &["Client"],
            ),
        ],
        intents: &[],
    },
    Area {
        name: "Collateral",
        purpose: "margin calls and collateral management",
        methods: &[
            (
                "GetMarginCalls",
                "Lists margin calls by status and counterparty.",
                "String? status, String? counterparty",
                "Composite: { String callId, String counterparty, Double amount, String currency, String status, DateTime dueAt }[] calls",
                &["MarginCall"],
            ),
            (
                "GetEligibleCollateral",
                "Lists the collateral eligible under an agreement, with haircuts.",
                "String agreementId",
                "Composite: { String isin, String description, Double haircutPct }[] eligible",
                &["Agreement"],
            ),
            (
                "PledgeCollateral",
                "Pledges collateral against a margin call.",
                "String callId, Composite: { String isin, Double nominal }[] pieces",
                "String status, Double coveredAmount",
                &["MarginCall"],
            ),
            (
                "GetAgreement",
                "Returns the terms of a collateral agreement.",
                "composite agreement",
                "Composite: { String agreementId, String counterparty, Double threshold, Double minimumTransfer } terms",
                &["Agreement"],
            ),
        ],
        intents: &[],
    },
    Area {
        name: "News",
        purpose: "market news and company announcements",
        methods: &[
            (
                "GetHeadlines",
                "Returns the latest headlines, optionally for one symbol or topic.",
                "String? symbol, String? topic, Int? limit",
                "Composite: { String storyId, String headline, String source, DateTime publishedAt }[] headlines",
                &["Story"],
            ),
            (
                "GetStory",
                "Returns the full text of a news story.",
                "String storyId",
                "Composite: { String storyId, String headline, String body, String[] symbols, DateTime publishedAt } story",
                &["Story"],
            ),
            (
                "GetSentiment",
                "Returns a news sentiment score for a symbol over recent days.",
                "String symbol, Int? days",
                "Double score, Int stories, String trend",
                &["Instrument"],
            ),
        ],
        intents: &[(
            "ViewNews",
            "fdc3.instrument",
            "News for instrument",
            "news.headlines",
        )],
    },
    Area {
        name: "Reporting",
        purpose: "client reporting and performance statements",
        methods: &[
            (
                "GetPerformance",
                "Returns portfolio performance over a period against its benchmark.",
                "String portfolioId, DateTime from, DateTime to",
                "Double returnPct, Double benchmarkReturnPct, Double volatilityPct, Composite: { DateTime date, Double value }[] series",
                &["Portfolio"],
            ),
            (
                "GenerateStatement",
                "Generates a client statement document for a period.",
                "String clientId, DateTime periodEnd, String? format",
                "String documentId, String status",
                &["Client", "Document"],
            ),
            (
                "GetScheduledReports",
                "Lists the reports scheduled for a client.",
                "String clientId",
                "Composite: { String reportId, String name, String frequency, DateTime nextRun }[] reports",
                &["Client"],
            ),
        ],
        intents: &[],
    },
    Area {
        name: "Chat",
        purpose: "secure messaging with colleagues and clients",
        methods: &[
            (
                "SendMessage",
                "Sends a message to a person or a room.",
                "String to, String text, String[]? attachments",
                "String messageId, DateTime sentAt",
                &["Message"],
            ),
            (
                "GetRooms",
                "Lists the chat rooms the user belongs to.",
                "String? nameContains",
                "Composite: { String roomId, String name, Int members, Int unread }[] rooms",
                &["Room"],
            ),
            (
                "GetHistory",
                "Returns recent messages of a room.",
                "String roomId, Int? limit",
                "Composite: { String from, String text, DateTime sentAt }[] messages",
                &["Room"],
            ),
        ],
        intents: &[(
            "StartChat",
            "fdc3.contact",
            "Chat with contact",
            "chat.room",
        )],
    },
];

fn app_names(count: usize, seed: u64) -> Vec<(&'static str, &'static Area)> {
    let mut combos: Vec<(&'static str, &'static Area)> = BRANDS
        .iter()
        .flat_map(|brand| AREAS.iter().map(move |area| (*brand, area)))
        .collect();
    let mut rng = SeededRng::new(seed);
    // Fisher–Yates with the seeded generator.
    for index in (1..combos.len()).rev() {
        let other = rng.below(index + 1);
        combos.swap(index, other);
    }
    if combos.is_empty() {
        return Vec::new();
    }
    (0..count)
        .filter_map(|index| combos.get(index % combos.len()).copied())
        .collect()
}

fn build_app(index: usize, brand: &str, area: &Area, rng: &mut SeededRng) -> AppSpec {
    let round = index / (BRANDS.len() * AREAS.len());
    let suffix = if round == 0 {
        String::new()
    } else {
        (round + 1).to_string()
    };
    let name = format!("{brand}{}{suffix}", area.name);
    let title = format!(
        "{brand} {}{}",
        spaced(area.name),
        if suffix.is_empty() {
            String::new()
        } else {
            format!(" {suffix}")
        }
    );
    let mut templates: Vec<&Template> = area.methods.iter().collect();
    for position in (1..templates.len()).rev() {
        let other = rng.below(position + 1);
        templates.swap(position, other);
    }
    let wanted = (3 + rng.below(5)).min(templates.len());
    let methods = templates
        .into_iter()
        .take(wanted)
        .map(
            |(suffix, description, accepts, returns, object_types)| MethodSpec {
                name: format!("{name}.{suffix}"),
                display_name: Some(spaced(suffix)),
                description: Some((*description).to_owned()),
                accepts: Some((*accepts).to_owned()),
                returns: Some((*returns).to_owned()),
                object_types: object_types.iter().map(|ty| (*ty).to_owned()).collect(),
                streaming: false,
                latency_ms: 0,
                behaviour: Behaviour::Sample,
            },
        )
        .collect();
    let intents = match rng.pick(area.intents) {
        Some((intent, context, display, result_type)) if rng.below(5) == 0 => {
            let mut result = Map::new();
            result.insert("handledBy".into(), Value::String(name.clone()));
            result.insert("intent".into(), Value::String((*intent).to_owned()));
            result.insert("contextType".into(), Value::String("{type}".into()));
            vec![IntentSpec {
                name: (*intent).to_owned(),
                display_name: Some(format!("{display} in {title}")),
                contexts: vec![(*context).to_owned()],
                result_type: Some((*result_type).to_owned()),
                latency_ms: 0,
                behaviour: Behaviour::Template {
                    result: Value::Object(result),
                    missing: Some("The intent context has no type".into()),
                },
            }]
        }
        _ => Vec::new(),
    };
    AppSpec {
        description: Some(format!("{title}: {}.", area.purpose)),
        title: Some(title),
        allow_multiple: rng.below(4) != 0,
        running: rng.below(10) != 0,
        methods,
        intents,
        name,
    }
}

/// `FixedIncome` → `Fixed Income`.
fn spaced(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut previous_lower = false;
    for character in text.chars() {
        if character.is_uppercase() && previous_lower {
            out.push(' ');
        }
        previous_lower = character.is_lowercase() || character.is_ascii_digit();
        out.push(character);
    }
    out
}

/// A JSON summary of generated apps (name, methods, intents), for logs and tests.
pub fn summary(apps: &[AppSpec]) -> Value {
    Value::Array(
        apps.iter()
            .map(|app| {
                json!({
                    "name": app.name,
                    "running": app.running,
                    "methods": app.methods.iter().map(|method| method.name.clone()).collect::<Vec<_>>(),
                    "intents": app.intents.iter().map(|intent| intent.name.clone()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
