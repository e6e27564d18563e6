//! Deterministic, made-up business data for the sample apps: advisers, clients, instruments,
//! holdings, notes and tasks. Generated at start-up from a fixed seed, so every run (and every
//! test) sees the same records: `c-001` is always Amelia Reid, adviser M Carter.
//!
//! The first twenty clients match the real-gateway fixture (`tests/fixtures/ioconnect`), so the
//! same contract assertions hold against both buses. Dates are `#T42_DATE#<ms>` strings, as
//! io.Connect clients put them on the wire.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use codemode_protocol::dates::format_t42_date;

/// The valuation timestamp of every snapshot: 2025-01-31T16:30:00Z.
pub const AS_OF_MS: i64 = 1_738_341_000_000;

/// How many CRM clients are generated.
pub const CLIENT_COUNT: usize = 480;

const DAY_MS: i64 = 86_400_000;

/// A small deterministic PRNG (SplitMix64): the same seed always yields the same sequence.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            return 0;
        }
        let bound = bound as u64;
        usize::try_from(self.next_u64() % bound).unwrap_or(0)
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        #[expect(
            clippy::cast_precision_loss,
            reason = "53 random bits fit an f64 exactly"
        )]
        let value = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        value
    }

    /// One element of `items` (`None` when empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// Every named collection the sample apps read and write, keyed by dataset name.
pub fn sample_datasets() -> BTreeMap<String, Vec<Value>> {
    let advisers = advisers();
    let clients = clients();
    let instruments = instruments();
    let holdings = holdings(&clients, &instruments);
    let mut datasets = BTreeMap::new();
    datasets.insert("crm.advisers".to_owned(), advisers);
    datasets.insert("portfolio.holdings".to_owned(), holdings);
    datasets.insert("notes.notes".to_owned(), notes());
    datasets.insert("tasks.tasks".to_owned(), tasks());
    datasets.insert("crm.clients".to_owned(), clients);
    datasets.insert("marketdata.instruments".to_owned(), instruments);
    datasets
}

const ADVISERS: &[(&str, &str, &str)] = &[
    ("M Carter", "Private Clients", "London"),
    ("J Patel", "Private Clients", "London"),
    ("S Okafor", "Wealth Planning", "Manchester"),
    ("L Nguyen", "Wealth Planning", "Edinburgh"),
    ("R Alvarez", "International", "Madrid"),
    ("K Schmidt", "International", "Frankfurt"),
    ("A Dubois", "International", "Paris"),
    ("T Nakamura", "Institutional", "London"),
    ("E Rossi", "Family Office", "Milan"),
    ("H Lindqvist", "Family Office", "Stockholm"),
    ("P O'Brien", "Private Clients", "Dublin"),
    ("D Kowalski", "Wealth Planning", "Warsaw"),
];

fn advisers() -> Vec<Value> {
    ADVISERS
        .iter()
        .enumerate()
        .map(|(index, (name, team, office))| {
            json!({
                "id": format!("a-{:02}", index + 1),
                "name": name,
                "email": format!("{}@northbridge-wealth.example", slug(name)),
                "phone": format!("+44 20 7946 {:04}", 9000 + index),
                "team": team,
                "office": office,
            })
        })
        .collect()
}

/// The real-gateway fixture's first clients and their advisers (indices into `ADVISERS`).
const FIXTURE_CLIENTS: &[(&str, usize)] = &[
    ("Amelia Reid", 0),
    ("Oliver Grant", 1),
    ("Isla Morgan", 0),
    ("Noah Fletcher", 2),
    ("Ava Sinclair", 3),
    ("Leo Hartley", 0),
    ("Mia Donovan", 1),
    ("Arthur Pike", 2),
    ("Freya Lawson", 3),
    ("Theo Marsh", 1),
    ("Ivy Chandler", 0),
    ("Jack Whitmore", 2),
    ("Grace Ellison", 3),
    ("Oscar Bell", 1),
    ("Ruby Ashford", 2),
    ("Henry Quinn", 0),
    ("Lily Ramsay", 3),
    ("George Tanner", 1),
    ("Evie Holloway", 2),
    ("Harry Osei", 3),
];

const FIRST_NAMES: &[&str] = &[
    "Sophie",
    "Daniel",
    "Chloe",
    "Samuel",
    "Hannah",
    "Lucas",
    "Emily",
    "Thomas",
    "Olivia",
    "James",
    "Charlotte",
    "William",
    "Matilda",
    "Benjamin",
    "Zara",
    "Edward",
    "Alice",
    "Felix",
    "Rosie",
    "Max",
    "Priya",
    "Ravi",
    "Aisha",
    "Omar",
    "Mei",
    "Kenji",
    "Elena",
    "Marco",
    "Ingrid",
    "Lars",
    "Camille",
    "Hugo",
    "Lena",
    "Jonas",
    "Sofia",
    "Mateo",
    "Niamh",
    "Cian",
    "Anya",
    "Piotr",
];

const LAST_NAMES: &[&str] = &[
    "Bennett", "Clarke", "Hughes", "Patel", "Khan", "Wright", "Walsh", "Turner", "Cooper",
    "Edwards", "Fischer", "Moreau", "Bianchi", "Jensen", "Novak", "Silva", "Murphy", "Kelly",
    "Brennan", "Tanaka", "Chen", "Singh", "Haddad", "Larsen", "Weber", "Laurent", "Romano",
    "Costa", "Nowak", "Berg", "Sharma", "Ahmed", "Lindgren", "Meyer", "Dupont", "Ferrari",
];

const CITIES: &[(&str, &str, &str, &str)] = &[
    ("London", "United Kingdom", "GBP", "+44 20"),
    ("Manchester", "United Kingdom", "GBP", "+44 161"),
    ("Edinburgh", "United Kingdom", "GBP", "+44 131"),
    ("Bristol", "United Kingdom", "GBP", "+44 117"),
    ("Dublin", "Ireland", "EUR", "+353 1"),
    ("Paris", "France", "EUR", "+33 1"),
    ("Frankfurt", "Germany", "EUR", "+49 69"),
    ("Madrid", "Spain", "EUR", "+34 91"),
    ("Milan", "Italy", "EUR", "+39 02"),
    ("Stockholm", "Sweden", "SEK", "+46 8"),
    ("Zurich", "Switzerland", "CHF", "+41 44"),
    ("New York", "United States", "USD", "+1 212"),
    ("Singapore", "Singapore", "SGD", "+65"),
    ("Warsaw", "Poland", "PLN", "+48 22"),
];

const RISK_PROFILES: &[&str] = &[
    "Conservative",
    "Moderate",
    "Balanced",
    "Growth",
    "Aggressive",
];

fn segment_for(aum: f64) -> &'static str {
    if aum >= 25_000_000.0 {
        "UHNW"
    } else if aum >= 5_000_000.0 {
        "HNW"
    } else if aum >= 1_000_000.0 {
        "Affluent"
    } else {
        "Mass Affluent"
    }
}

fn clients() -> Vec<Value> {
    let mut rng = SeededRng::new(0xC0DE_C11E);
    let mut emails = BTreeSet::new();
    let mut clients = Vec::with_capacity(CLIENT_COUNT);
    for index in 0..CLIENT_COUNT {
        let number = index + 1;
        let (name, adviser) = if let Some((name, adviser)) = FIXTURE_CLIENTS.get(index) {
            ((*name).to_owned(), *adviser)
        } else {
            let first = rng.pick(FIRST_NAMES).copied().unwrap_or("Alex");
            let last = rng.pick(LAST_NAMES).copied().unwrap_or("Smith");
            (format!("{first} {last}"), rng.below(ADVISERS.len()))
        };
        let adviser_name = ADVISERS.get(adviser).map_or("M Carter", |entry| entry.0);
        let (city, country, currency, dial) = if index < FIXTURE_CLIENTS.len() {
            CITIES
                .first()
                .copied()
                .unwrap_or(("London", "United Kingdom", "GBP", "+44 20"))
        } else {
            rng.pick(CITIES)
                .copied()
                .unwrap_or(("London", "United Kingdom", "GBP", "+44 20"))
        };
        let aum = if index < FIXTURE_CLIENTS.len() {
            let step = f64::from(u32::try_from((number * 7919) % 40).unwrap_or(0));
            ((250_000.0 + step * 61_250.25) * 100.0).round() / 100.0
        } else {
            // Log-uniform between 150k and 120m, rounded to cents.
            let exponent = 5.176 + rng.unit() * 2.903;
            (10f64.powf(exponent) * 100.0).round() / 100.0
        };
        let mut email = format!("{}@example.com", slug(&name));
        if !emails.insert(email.clone()) {
            email = format!("{}.{number}@example.com", slug(&name));
            emails.insert(email.clone());
        }
        let phone = if index < FIXTURE_CLIENTS.len() {
            format!("+44 20 7946 {number:04}")
        } else {
            format!(
                "{dial} {:04} {:04}",
                1000 + rng.below(9000),
                rng.below(10_000)
            )
        };
        let since_days = i64::try_from(365 + rng.below(16 * 365)).unwrap_or(365);
        let status = match rng.below(20) {
            0 => "Prospect",
            1 => "Dormant",
            _ => "Active",
        };
        clients.push(json!({
            "id": format!("c-{number:03}"),
            "name": name,
            "adviser": adviser_name,
            "email": email,
            "phone": phone,
            "segment": segment_for(aum),
            "aum": aum,
            "currency": currency,
            "riskProfile": rng.pick(RISK_PROFILES).copied().unwrap_or("Balanced"),
            "city": city,
            "country": country,
            "status": status,
            "clientSince": format_t42_date(AS_OF_MS - since_days * DAY_MS),
        }));
    }
    clients
}

const INSTRUMENTS: &[(&str, &str, &str, &str, &str, f64)] = &[
    ("AAPL", "Apple Inc.", "NASDAQ", "USD", "Technology", 189.84),
    (
        "MSFT",
        "Microsoft Corp.",
        "NASDAQ",
        "USD",
        "Technology",
        415.5,
    ),
    ("NVDA", "NVIDIA Corp.", "NASDAQ", "USD", "Technology", 122.4),
    (
        "AMZN",
        "Amazon.com Inc.",
        "NASDAQ",
        "USD",
        "Consumer Discretionary",
        186.3,
    ),
    (
        "GOOGL",
        "Alphabet Inc. Class A",
        "NASDAQ",
        "USD",
        "Communication Services",
        171.2,
    ),
    (
        "TSLA",
        "Tesla Inc.",
        "NASDAQ",
        "USD",
        "Consumer Discretionary",
        242.75,
    ),
    (
        "JPM",
        "JPMorgan Chase & Co.",
        "NYSE",
        "USD",
        "Financials",
        198.6,
    ),
    (
        "JNJ",
        "Johnson & Johnson",
        "NYSE",
        "USD",
        "Health Care",
        152.9,
    ),
    ("XOM", "Exxon Mobil Corp.", "NYSE", "USD", "Energy", 113.1),
    (
        "KO",
        "Coca-Cola Co.",
        "NYSE",
        "USD",
        "Consumer Staples",
        62.8,
    ),
    (
        "VOD.L",
        "Vodafone Group plc",
        "LSE",
        "GBP",
        "Communication Services",
        0.7012,
    ),
    (
        "HSBA.L",
        "HSBC Holdings plc",
        "LSE",
        "GBP",
        "Financials",
        6.485,
    ),
    ("BP.L", "BP plc", "LSE", "GBP", "Energy", 4.9125),
    (
        "ULVR.L",
        "Unilever plc",
        "LSE",
        "GBP",
        "Consumer Staples",
        39.87,
    ),
    (
        "AZN.L",
        "AstraZeneca plc",
        "LSE",
        "GBP",
        "Health Care",
        118.2,
    ),
    ("SHEL.L", "Shell plc", "LSE", "GBP", "Energy", 28.15),
    ("GSK.L", "GSK plc", "LSE", "GBP", "Health Care", 16.42),
    ("BARC.L", "Barclays plc", "LSE", "GBP", "Financials", 2.134),
    ("RIO.L", "Rio Tinto plc", "LSE", "GBP", "Materials", 51.6),
    (
        "LSEG.L",
        "London Stock Exchange Group plc",
        "LSE",
        "GBP",
        "Financials",
        96.4,
    ),
    (
        "NESN.SW",
        "Nestle SA",
        "SIX",
        "CHF",
        "Consumer Staples",
        96.12,
    ),
    ("NOVN.SW", "Novartis AG", "SIX", "CHF", "Health Care", 91.3),
    (
        "ROG.SW",
        "Roche Holding AG",
        "SIX",
        "CHF",
        "Health Care",
        246.8,
    ),
    ("SAP.DE", "SAP SE", "XETRA", "EUR", "Technology", 171.3),
    ("SIE.DE", "Siemens AG", "XETRA", "EUR", "Industrials", 178.6),
    ("ALV.DE", "Allianz SE", "XETRA", "EUR", "Financials", 262.1),
    (
        "MC.PA",
        "LVMH Moet Hennessy Louis Vuitton",
        "Euronext Paris",
        "EUR",
        "Consumer Discretionary",
        712.4,
    ),
    (
        "TTE.PA",
        "TotalEnergies SE",
        "Euronext Paris",
        "EUR",
        "Energy",
        61.9,
    ),
    (
        "AIR.PA",
        "Airbus SE",
        "Euronext Paris",
        "EUR",
        "Industrials",
        142.7,
    ),
    (
        "ASML.AS",
        "ASML Holding NV",
        "Euronext Amsterdam",
        "EUR",
        "Technology",
        874.1,
    ),
    (
        "INGA.AS",
        "ING Groep NV",
        "Euronext Amsterdam",
        "EUR",
        "Financials",
        15.84,
    ),
    (
        "SAN.MC",
        "Banco Santander SA",
        "BME",
        "EUR",
        "Financials",
        4.52,
    ),
    (
        "ENEL.MI",
        "Enel SpA",
        "Borsa Italiana",
        "EUR",
        "Utilities",
        6.71,
    ),
    (
        "VOLV-B.ST",
        "Volvo AB B",
        "Nasdaq Stockholm",
        "SEK",
        "Industrials",
        281.4,
    ),
    (
        "7203.T",
        "Toyota Motor Corp.",
        "TSE",
        "JPY",
        "Consumer Discretionary",
        2874.0,
    ),
    (
        "D05.SI",
        "DBS Group Holdings Ltd",
        "SGX",
        "SGD",
        "Financials",
        36.2,
    ),
];

fn instruments() -> Vec<Value> {
    let mut rng = SeededRng::new(0x1257_2025);
    INSTRUMENTS
        .iter()
        .map(|(symbol, name, exchange, currency, sector, price)| {
            let change = (rng.unit() - 0.5) * 0.04;
            let previous = round_to(price / (1.0 + change), 4);
            let spread = (price * 0.0004).max(0.0001);
            let volume = 100_000 + rng.below(25_000_000);
            json!({
                "symbol": symbol,
                "name": name,
                "exchange": exchange,
                "currency": currency,
                "sector": sector,
                "last": price,
                "bid": round_to(price - spread / 2.0, 4),
                "ask": round_to(price + spread / 2.0, 4),
                "previousClose": previous,
                "changePercent": round_to(change * 100.0, 2),
                "volume": volume,
                "asOf": format_t42_date(AS_OF_MS),
            })
        })
        .collect()
}

fn holdings(clients: &[Value], instruments: &[Value]) -> Vec<Value> {
    let mut rng = SeededRng::new(0x0401_D1A6);
    let mut holdings = Vec::new();
    for client in clients {
        let Some(client_id) = client.get("id").and_then(Value::as_str) else {
            continue;
        };
        let aum = client
            .get("aum")
            .and_then(Value::as_f64)
            .unwrap_or(500_000.0);
        let count = 2 + rng.below(7);
        let mut chosen = BTreeSet::new();
        for position in 0..count {
            let index = rng.below(instruments.len());
            if !chosen.insert(index) {
                continue;
            }
            let Some(instrument) = instruments.get(index) else {
                continue;
            };
            let price = instrument
                .get("last")
                .and_then(Value::as_f64)
                .unwrap_or(1.0);
            let budget = aum * (0.03 + rng.unit() * 0.12);
            let quantity = (budget / price).floor().max(1.0);
            let minutes = i64::try_from(position).unwrap_or(0);
            holdings.push(json!({
                "clientId": client_id,
                "symbol": instrument.get("symbol").cloned().unwrap_or(Value::Null),
                "name": instrument.get("name").cloned().unwrap_or(Value::Null),
                "quantity": quantity,
                "price": price,
                "marketValue": round_to(quantity * price, 2),
                "currency": instrument.get("currency").cloned().unwrap_or(Value::Null),
                "asOf": format_t42_date(AS_OF_MS - minutes * 60_000),
            }));
        }
    }
    holdings
}

fn notes() -> Vec<Value> {
    let seeds = [
        (
            "c-001",
            "M Carter",
            "Discussed rebalancing towards global equities; client comfortable with moderate drawdowns.",
            vec!["review", "allocation"],
        ),
        (
            "c-001",
            "M Carter",
            "Amelia asked for an ESG screen on the technology holdings before the next review.",
            vec!["esg"],
        ),
        (
            "c-003",
            "M Carter",
            "Isla is selling a property in Q2; expect a large cash inflow to invest.",
            vec!["cashflow"],
        ),
        (
            "c-002",
            "J Patel",
            "Annual suitability review booked; send the risk questionnaire beforehand.",
            vec!["review", "compliance"],
        ),
        (
            "c-004",
            "S Okafor",
            "Prefers phone calls after 5pm. Interested in pension consolidation.",
            vec!["preferences", "pension"],
        ),
        (
            "c-005",
            "L Nguyen",
            "Requested a breakdown of fees charged in the last tax year.",
            vec!["fees"],
        ),
    ];
    seeds
        .iter()
        .enumerate()
        .map(|(index, (client, author, text, tags))| {
            let days = i64::try_from(index).unwrap_or(0) * 3 + 1;
            json!({
                "id": format!("n-{:04}", index + 1),
                "clientId": client,
                "author": author,
                "text": text,
                "tags": tags,
                "createdAt": format_t42_date(AS_OF_MS - days * DAY_MS),
            })
        })
        .collect()
}

fn tasks() -> Vec<Value> {
    let seeds = [
        (
            "Send updated risk questionnaire",
            "c-002",
            "J Patel",
            5,
            "open",
        ),
        (
            "Prepare ESG screen of tech holdings",
            "c-001",
            "M Carter",
            7,
            "open",
        ),
        (
            "Call about cash inflow from property sale",
            "c-003",
            "M Carter",
            14,
            "open",
        ),
        (
            "Collect pension transfer forms",
            "c-004",
            "S Okafor",
            10,
            "in progress",
        ),
        (
            "Fee breakdown for last tax year",
            "c-005",
            "L Nguyen",
            -2,
            "done",
        ),
    ];
    seeds
        .iter()
        .enumerate()
        .map(|(index, (title, client, assignee, due_in_days, status))| {
            json!({
                "id": format!("t-{:04}", index + 1),
                "title": title,
                "clientId": client,
                "assignee": assignee,
                "due": format_t42_date(AS_OF_MS + i64::from(*due_in_days) * DAY_MS),
                "status": status,
                "createdAt": format_t42_date(AS_OF_MS - 2 * DAY_MS),
            })
        })
        .collect()
}

fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('.') {
            slug.push('.');
        }
    }
    slug.trim_matches('.').to_owned()
}

fn round_to(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}
