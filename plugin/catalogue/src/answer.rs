//! The search page that answers in one step: `list_python_definitions(query=…)` ranks the
//! functions and shows the top hits with what a snippet needs (typed signature, first sentence,
//! the keys of the result), the next ones as names, under a small token budget the page states.
//!
//! - **Ranking** ([`PythonCatalogue::ranked_hits`]): BM25 over the search pieces, exact names
//!   first; functions that are the same template served by several apps (same local name, same
//!   signature text, same description) collapse into one hit that names the others, so three
//!   billing apps do not take the three top places.
//! - **Detail** ([`Detail`]): `names` (names only), `signatures` (the default: the top
//!   [`TOP_CARDS`] hits as cards, the rest as names), `stubs` (the top hits' full typed stubs,
//!   as `get_python_definitions` gives them).
//!
//! The page is counted exactly and trimmed from the end until it fits its budget.

use std::{collections::BTreeSet, fmt::Write as _, sync::Arc};

use serde::{Deserialize, Serialize};

use super::{
    ListPage, PythonCatalogue,
    function::Kind,
    render::{FnView, cut_words, one_line, ordered_structs, py_str, type_text},
    types::{PyType, StructDef},
};

/// How many hits get a card (signature, summary, result keys) by default.
pub const TOP_CARDS: usize = 3;
/// The default budget of a search page (tokens, o200k_base).
pub const SEARCH_PAGE_BUDGET: usize = 600;
/// Most names listed after the cards.
const MAX_NAMES: usize = 12;
/// Most TypedDicts spelled out per card.
const MAX_TYPES_PER_CARD: usize = 3;
/// Most fields spelled out per TypedDict.
const MAX_FIELDS: usize = 14;
/// Longest summary in a card (characters).
const CARD_SUMMARY_CHARS: usize = 160;
/// Most other namespaces named for a collapsed hit.
const MAX_ALSO: usize = 3;

/// How much a search page shows of each hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    /// Qualified names only, as many as fit.
    Names,
    /// The top hits with typed signatures, summaries and result keys; the rest as names.
    #[default]
    Signatures,
    /// The top hits' full typed stubs (what `get_python_definitions` returns).
    Stubs,
}

impl Detail {
    /// Parses `names` / `signatures` / `stubs` (case-insensitive, `stub`/`signature`/`name`
    /// too); the error says which values exist.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "names" | "name" => Ok(Self::Names),
            "signatures" | "signature" | "" => Ok(Self::Signatures),
            "stubs" | "stub" => Ok(Self::Stubs),
            other => Err(format!(
                "detail must be \"names\", \"signatures\" or \"stubs\", got {:?}.",
                cut_words(other, 40)
            )),
        }
    }

    /// `names` / `signatures` / `stubs`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Names => "names",
            Self::Signatures => "signatures",
            Self::Stubs => "stubs",
        }
    }
}

/// One ranked hit: a function, and the same template in other namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedHit {
    /// The qualified name shown.
    pub qualified: String,
    /// Qualified names of identical functions served elsewhere (same local name, signature
    /// and description).
    pub also: Vec<String>,
}

/// A hit with its function id, before rendering.
struct Hit {
    id: u32,
    also: Vec<String>,
}

impl PythonCatalogue {
    /// The functions matching `query`, best first, identical templates collapsed (see the
    /// module docs): the order a search page shows them in.
    pub fn ranked_hits(&self, query: &str) -> Vec<RankedHit> {
        self.collapsed(self.ranked(query, |_| true))
            .into_iter()
            .filter_map(|hit| {
                Some(RankedHit {
                    qualified: self.slots.get(&hit.id)?.qualified.clone(),
                    also: hit.also,
                })
            })
            .collect()
    }

    /// Collapses identical templates, keeping the best-ranked one of each.
    fn collapsed(&self, ids: Vec<u32>) -> Vec<Hit> {
        let mut hits: Vec<Hit> = Vec::new();
        let mut keys: foldhash::HashMap<String, usize> = foldhash::HashMap::default();
        for id in ids {
            let Some(view) = self.view(id) else { continue };
            let key = if view.function.namespace.is_empty() {
                view.qualified.to_owned()
            } else {
                format!(
                    "{}({}){}",
                    view.local(),
                    view.params(None),
                    view.function.description.as_deref().unwrap_or("")
                )
            };
            if let Some(&index) = keys.get(&key) {
                if let Some(hit) = hits.get_mut(index) {
                    hit.also.push(view.qualified.to_owned());
                }
            } else {
                keys.insert(key, hits.len());
                hits.push(Hit {
                    id,
                    also: Vec::new(),
                });
            }
        }
        hits
    }

    /// The search page for `query` among `candidates` (ranked ids), from `offset`.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, in the listing, passes what it parsed"
    )]
    pub(crate) fn answer_page(
        &self,
        query: &str,
        namespace: Option<&str>,
        candidates: Vec<u32>,
        offset: usize,
        note: &str,
        detail: Detail,
        budget: usize,
    ) -> ListPage {
        let hits = self.collapsed(candidates);
        let matches = hits.len();
        let offset = offset.min(matches);
        let rest = hits.get(offset..).unwrap_or(&[]);
        let cards = match detail {
            Detail::Names => 0,
            Detail::Signatures | Detail::Stubs => TOP_CARDS.min(rest.len()),
        };
        let mut shown_names = rest.len().saturating_sub(cards).min(MAX_NAMES);
        if detail == Detail::Names {
            shown_names = rest.len().min(MAX_NAMES * 4);
        }
        let mut cards = cards;
        loop {
            let shown = cards + shown_names;
            let end = offset + shown;
            let next_cursor = (end < matches).then(|| format!("v{}:{end}", self.version));
            let text = self.compose_answer(
                query,
                namespace,
                rest,
                (cards, shown_names),
                (offset, matches),
                note,
                detail,
                budget,
                next_cursor.as_deref(),
            );
            let tokens = self.counter.count(&text);
            if tokens <= budget || (cards <= 1 && shown_names == 0) {
                return ListPage {
                    text,
                    next_cursor,
                    matches,
                    shown,
                    tokens,
                };
            }
            if shown_names > 0 {
                shown_names -= 1;
            } else {
                cards -= 1;
            }
        }
    }

    /// The page text with `cards` cards and `names` names after them.
    #[expect(
        clippy::too_many_arguments,
        reason = "the page's parts, computed by the caller's trimming loop"
    )]
    fn compose_answer(
        &self,
        query: &str,
        namespace: Option<&str>,
        hits: &[Hit],
        (cards, names): (usize, usize),
        (offset, matches): (usize, usize),
        note: &str,
        detail: Detail,
        budget: usize,
        next_cursor: Option<&str>,
    ) -> String {
        let mut text = format!(
            "Search {}{}: {matches} matches, best first (catalogue v{}; page ≤ {budget} tokens).\n",
            py_str(&cut_words(&one_line(query), 80)),
            namespace
                .map(|ns| format!(" in namespace {ns}"))
                .unwrap_or_default(),
            self.version,
        );
        if !note.is_empty() {
            text.push_str(note.trim_end());
            text.push('\n');
        }
        let shown_cards: Vec<&Hit> = hits.iter().take(cards).collect();
        if detail == Detail::Stubs && !shown_cards.is_empty() {
            let wanted: Vec<String> = shown_cards
                .iter()
                .filter_map(|hit| self.slots.get(&hit.id).map(|slot| slot.qualified.clone()))
                .collect();
            let stubs = self.get(&wanted);
            text.push('\n');
            text.push_str(&stubs.text);
            if !stubs.text.ends_with('\n') {
                text.push('\n');
            }
            for hit in &shown_cards {
                if let Some(also) = also_line(&hit.also) {
                    let name = self.slots.get(&hit.id).map_or("", |s| s.qualified.as_str());
                    let _ = writeln!(text, "# {name}: {also}");
                }
            }
        } else {
            let mut typed: BTreeSet<String> = BTreeSet::new();
            for hit in &shown_cards {
                text.push('\n');
                text.push_str(&self.card(hit, &mut typed));
            }
        }
        let listed: Vec<String> = hits
            .iter()
            .skip(cards)
            .take(names)
            .filter_map(|hit| {
                let name = self.slots.get(&hit.id)?.qualified.clone();
                Some(if hit.also.is_empty() {
                    name
                } else {
                    format!("{name} (+{})", hit.also.len())
                })
            })
            .collect();
        if !listed.is_empty() {
            let label = if cards == 0 { "Matches" } else { "Also" };
            let _ = writeln!(text, "\n{label}: {}.", listed.join(", "));
        }
        let end = offset + cards + names;
        if let Some(cursor) = next_cursor {
            let _ = writeln!(
                text,
                "{end} of {matches} shown; more: cursor={}, or other words.",
                py_str(cursor)
            );
        }
        if detail == Detail::Signatures && cards > 0 {
            text.push_str(
                "Call them in execute_python_code as shown; full stubs: detail=\"stubs\".\n",
            );
        } else if detail == Detail::Names {
            text.push_str("Signatures: detail=\"signatures\"; stubs: get_python_definitions.\n");
        }
        text
    }

    /// One card: the typed signature, the first sentence, the result's keys (each TypedDict
    /// once per page: `typed` holds those already spelled out).
    fn card(&self, hit: &Hit, typed: &mut BTreeSet<String>) -> String {
        let Some(view) = self.view(hit.id) else {
            return String::new();
        };
        let f = view.function;
        let mut out = String::new();
        let extra = f.takes_target().then_some("target=\"best\"");
        let ret = type_text(&f.returns, view.registry);
        let _ = write!(out, "{}({})", view.qualified, view.params(extra));
        if !matches!(f.kind, Kind::Intent { .. }) {
            let _ = write!(out, " -> {ret}");
        }
        out.push('\n');
        let summary = cut_words(&view.summary(), CARD_SUMMARY_CHARS);
        if !summary.is_empty() {
            let _ = writeln!(out, "  {summary}");
        }
        let mut roots: Vec<Arc<StructDef>> = Vec::new();
        f.returns.collect_structs(&mut roots);
        let mut shapes: Vec<String> = Vec::new();
        for (name, def) in ordered_structs(&roots, view.registry).into_iter().rev() {
            if shapes.len() >= MAX_TYPES_PER_CARD {
                break;
            }
            if typed.insert(name.clone()) {
                shapes.push(format!("{name} = {}", shape(&def, &view)));
            }
        }
        if !shapes.is_empty() {
            let _ = writeln!(out, "  {}", shapes.join("; "));
        }
        if matches!(f.kind, Kind::Intent { .. } | Kind::RaiseIntent) {
            let _ = writeln!(out, "  e.g. {}", view.example());
        }
        if let Some(also) = also_line(&hit.also) {
            let _ = writeln!(out, "  {also}");
        }
        out
    }
}

/// `{clients: list[Client], total?: int}`, with at most [`MAX_FIELDS`] keys.
fn shape(def: &StructDef, view: &FnView<'_>) -> String {
    let mut fields: Vec<String> = def
        .fields
        .iter()
        .take(MAX_FIELDS)
        .map(|field| {
            let ty = match &field.ty {
                PyType::Tuple(inner) => view.registry.name_of(inner),
                other => type_text(other, view.registry),
            };
            format!(
                "{}{}: {ty}",
                field.key,
                if field.required { "" } else { "?" }
            )
        })
        .collect();
    if def.fields.len() > MAX_FIELDS {
        fields.push(format!("… {} more", def.fields.len() - MAX_FIELDS));
    }
    format!("{{{}}}", fields.join(", "))
}

/// "also in cobalt_billing, ember_billing +27" for a collapsed hit.
fn also_line(also: &[String]) -> Option<String> {
    if also.is_empty() {
        return None;
    }
    let namespaces: Vec<&str> = also
        .iter()
        .take(MAX_ALSO)
        .map(|name| name.rsplit_once('.').map_or(name.as_str(), |(ns, _)| ns))
        .collect();
    let more = also.len().saturating_sub(MAX_ALSO);
    Some(format!(
        "same function in {}{}",
        namespaces.join(", "),
        if more > 0 {
            format!(" +{more}")
        } else {
            String::new()
        }
    ))
}
