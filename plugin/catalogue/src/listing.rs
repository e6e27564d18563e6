//! `list_python_definitions`: compact lines grouped by namespace, optionally searched or
//! filtered, paged with a cursor so that every page fits its token budget.
//!
//! A page is the header, as many lines as fit, and a footer that says how to get the next page
//! and — on the first page of a long listing — how to narrow it (search words or a namespace,
//! with the largest namespaces named). Token counts are exact: the finished page is counted
//! again and trimmed until it fits.

use std::{collections::BTreeMap, fmt::Write as _};

use serde::{Deserialize, Serialize};

use super::{
    PythonCatalogue,
    answer::Detail,
    context_api, group_of,
    names::{NameKind, snake_ident},
    render::{cut_words, one_line, py_str},
    search::edit_distance,
};

/// Smallest page budget honoured (smaller requests are raised to it).
const MIN_PAGE_BUDGET: usize = 256;
/// Past this many namespaces the narrowing hint names families (`rates_*`) instead.
const FAMILY_THRESHOLD: usize = 40;
/// Longest single line, in tokens (longer lines are cut).
const MAX_LINE_TOKENS: usize = 96;

/// The arguments of `list_python_definitions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRequest {
    /// Search words (ranked with BM25 over names, descriptions, arguments, apps, intents and
    /// context types).
    #[serde(default)]
    pub query: Option<String>,
    /// Only this namespace (`crm`, `intents`; the bus prefix `CRM` works too).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Where to continue, from a previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Overrides the configured page budget (tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_budget: Option<usize>,
    /// How much a search shows of each hit (default: signatures for the top hits, names for
    /// the rest; see [`Detail`]). Ignored without a query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// One page of the listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListPage {
    /// The text for the model.
    pub text: String,
    /// The cursor of the next page, if any.
    pub next_cursor: Option<String>,
    /// How many functions match the request in total.
    pub matches: usize,
    /// How many are on this page.
    pub shown: usize,
    /// The page's size in tokens.
    pub tokens: usize,
}

/// A namespace filter: one namespace, or a family (`rates_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum NamespaceFilter {
    /// Exactly this namespace.
    Exact(String),
    /// Every namespace starting with this prefix.
    Prefix(String),
}

impl NamespaceFilter {
    /// Whether a listing group passes.
    fn matches(&self, group: &str) -> bool {
        match self {
            Self::Exact(ns) => group == ns,
            Self::Prefix(prefix) => group.starts_with(prefix.as_str()),
        }
    }

    /// Where matching groups start in the sorted listing.
    fn start(&self) -> &str {
        match self {
            Self::Exact(text) | Self::Prefix(text) => text,
        }
    }

    /// False once the sorted listing has passed every matching group.
    fn may_follow(&self, group: &str) -> bool {
        group.starts_with(self.start())
    }

    /// How the filter reads in text (`crm`, `rates_*`).
    fn label(&self) -> String {
        match self {
            Self::Exact(ns) => ns.clone(),
            Self::Prefix(prefix) => format!("{prefix}*"),
        }
    }
}

/// One listed function on a page.
struct Item {
    /// Its listing group (namespace).
    group: String,
    /// Its line.
    line: String,
}

impl PythonCatalogue {
    /// One page of `list_python_definitions`.
    pub fn list(&self, request: &ListRequest) -> ListPage {
        let budget = request
            .token_budget
            .unwrap_or(self.config.page_token_budget)
            .max(MIN_PAGE_BUDGET);
        let query = request
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty());
        let namespace = match request
            .namespace
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            None => None,
            Some(wanted) => match self.resolve_namespace(wanted) {
                Ok(found) => Some(found),
                Err(close) => return self.no_namespace_page(wanted, &close, budget),
            },
        };

        let candidates: Vec<u32> = match (query, &namespace) {
            (Some(q), Some(filter)) => self.ranked(q, |group| filter.matches(group)),
            (Some(q), None) => self.ranked(q, |_| true),
            (None, Some(filter)) => self
                .ordered
                .range((filter.start().to_owned(), String::new())..)
                .take_while(|((group, _), _)| filter.may_follow(group))
                .filter(|((group, _), _)| filter.matches(group))
                .map(|(_, id)| *id)
                .collect(),
            (None, None) => self.ordered.values().copied().collect(),
        };
        let matches = candidates.len();

        let (offset, mut note) = self.parse_cursor(request.cursor.as_deref());
        if let Some(q) = query {
            let label = namespace.as_ref().map(NamespaceFilter::label);
            let budget = request
                .token_budget
                .unwrap_or(self.config.search_token_budget)
                .max(MIN_PAGE_BUDGET);
            if !candidates.is_empty() {
                return self.answer_page(
                    q,
                    label.as_deref(),
                    candidates,
                    offset,
                    &note,
                    request.detail.unwrap_or_default(),
                    budget,
                );
            }
        }
        let offset = offset.min(matches);
        if offset == matches && matches > 0 {
            note.push_str("No more results past this cursor. ");
        }

        let label = namespace.as_ref().map(NamespaceFilter::label);
        let header = self.page_header(query, label.as_deref(), matches, &note);
        if matches == 0 {
            let text = self.empty_page(&header, query, label.as_deref(), budget);
            let tokens = self.counter.count(&text);
            return ListPage {
                text,
                next_cursor: None,
                matches,
                shown: 0,
                tokens,
            };
        }

        let first_page = offset == 0;
        let header_tokens = self.counter.count(&header);
        // Room for the footer with the largest numbers it can show.
        let reserve = |hint: &str| {
            let estimate = footer(
                Some(&format!("v{}:{matches}", self.version)),
                query,
                label.as_deref(),
                matches,
                matches,
                matches,
                hint,
                first_page.then_some("namespace.some_function_name"),
            );
            header_tokens + self.counter.count(&estimate) + 4
        };
        let mut hint = String::new();
        let mut items = self.fill(
            candidates.get(offset..).unwrap_or(&[]),
            budget,
            reserve(&hint),
        );
        if offset + items.len() < matches && first_page && query.is_none() && namespace.is_none() {
            hint = self.narrow_hint(budget / 4);
            items = self.fill(
                candidates.get(offset..).unwrap_or(&[]),
                budget,
                reserve(&hint),
            );
        }

        // Compose, count exactly, trim until it fits.
        loop {
            let shown = items.len();
            let end = offset + shown;
            let next_cursor = (end < matches).then(|| format!("v{}:{end}", self.version));
            let example = items
                .first()
                .and_then(|item| item.line.split('(').next())
                .map(str::to_owned);
            let mut text = header.clone();
            text.push_str(&self.compose(&items));
            text.push_str(&footer(
                next_cursor.as_deref(),
                query,
                label.as_deref(),
                offset + 1,
                end,
                matches,
                &hint,
                if first_page { example.as_deref() } else { None },
            ));
            let tokens = self.counter.count(&text);
            if tokens <= budget || items.len() <= 1 {
                return ListPage {
                    text,
                    next_cursor,
                    matches,
                    shown,
                    tokens,
                };
            }
            items.pop();
        }
    }

    /// As many listing lines of `candidates` as fit in `budget` after `used` tokens.
    fn fill(&self, candidates: &[u32], budget: usize, mut used: usize) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        let mut groups_seen: Vec<String> = Vec::new();
        for &id in candidates {
            let Some(view) = self.view(id) else {
                continue;
            };
            let line = self.fit_line(view.listing_line());
            let group = group_of(view.qualified).to_owned();
            let new_group = !groups_seen.contains(&group);
            let mut cost = self.counter.count(&line) + 1;
            if new_group {
                cost += self.counter.count(&self.group_header(&group)) + 1;
            }
            if used + cost > budget && !items.is_empty() {
                break;
            }
            used += cost;
            if new_group {
                groups_seen.push(group.clone());
            }
            items.push(Item { group, line });
        }
        items
    }

    /// Finds the namespace a user means: exact, the snake_case of a bus prefix, ignoring
    /// case, or a family written `prefix*`.
    fn resolve_namespace(&self, wanted: &str) -> Result<NamespaceFilter, Vec<String>> {
        if let Some(prefix) = wanted.strip_suffix('*') {
            let prefix = prefix.to_ascii_lowercase();
            if self.namespaces.keys().any(|ns| ns.starts_with(&prefix)) {
                return Ok(NamespaceFilter::Prefix(prefix));
            }
        }
        if self.namespaces.contains_key(wanted) {
            return Ok(NamespaceFilter::Exact(wanted.to_owned()));
        }
        let snake = snake_ident(wanted, NameKind::Namespace);
        if self.namespaces.contains_key(&snake) {
            return Ok(NamespaceFilter::Exact(snake));
        }
        let lower = wanted.to_ascii_lowercase();
        if let Some(found) = self
            .namespaces
            .keys()
            .find(|ns| ns.trim_end_matches('_') == lower.trim_end_matches('_'))
        {
            return Ok(NamespaceFilter::Exact(found.clone()));
        }
        let snake_chars: Vec<char> = snake.chars().collect();
        let mut close: Vec<(usize, &String)> = self
            .namespaces
            .keys()
            .filter_map(|ns| edit_distance(&snake_chars, ns, 3).map(|d| (d, ns)))
            .collect();
        close.sort();
        Err(close
            .into_iter()
            .take(5)
            .map(|(_, ns)| ns.clone())
            .collect())
    }

    /// Decodes `v<version>:<offset>`; a cursor from another version continues at the same
    /// position with a note.
    fn parse_cursor(&self, cursor: Option<&str>) -> (usize, String) {
        let Some(cursor) = cursor.map(str::trim).filter(|c| !c.is_empty()) else {
            return (0, String::new());
        };
        let parsed = cursor
            .strip_prefix('v')
            .and_then(|rest| rest.split_once(':'))
            .and_then(|(version, offset)| {
                Some((version.parse::<u64>().ok()?, offset.parse::<usize>().ok()?))
            });
        match parsed {
            Some((version, offset)) if version == self.version => (offset, String::new()),
            Some((version, offset)) => (
                offset,
                format!(
                    "The catalogue changed since that cursor (v{version} → v{}); continuing at the same position. ",
                    self.version
                ),
            ),
            None => (
                0,
                "That cursor is not valid; starting from the beginning. ".to_owned(),
            ),
        }
    }

    /// The first line(s) of a page.
    fn page_header(
        &self,
        query: Option<&str>,
        namespace: Option<&str>,
        matches: usize,
        note: &str,
    ) -> String {
        let version = self.version;
        let mut header = match (query, namespace) {
            (Some(q), ns) => format!(
                "Search {}{}: {matches} matches, best first (catalogue v{version}).\n",
                py_str(&cut_words(&one_line(q), 80)),
                ns.map(|ns| format!(" in namespace {ns}"))
                    .unwrap_or_default()
            ),
            (None, Some(ns)) => {
                format!("Namespace {ns}: {matches} functions (catalogue v{version}).\n")
            }
            (None, None) => format!(
                "Python API (catalogue v{version}): {} functions in {} namespaces, {} intents.\n",
                self.slots.len(),
                self.namespaces.len(),
                self.intent_slots.len()
            ),
        };
        if !note.is_empty() {
            header.push_str(note.trim_end());
            header.push('\n');
        }
        header
    }

    /// The lines, grouped by namespace in order of first appearance.
    fn compose(&self, items: &[Item]) -> String {
        let mut groups: Vec<&str> = Vec::new();
        for item in items {
            if !groups.contains(&item.group.as_str()) {
                groups.push(&item.group);
            }
        }
        let mut text = String::new();
        for group in groups {
            text.push('\n');
            text.push_str(&self.group_header(group));
            text.push('\n');
            for item in items.iter().filter(|item| item.group == group) {
                text.push_str(&item.line);
                text.push('\n');
            }
        }
        text
    }

    /// `# crm — CRM · 3 functions`.
    fn group_header(&self, group: &str) -> String {
        let Some(stats) = self.namespaces.get(group) else {
            return format!("# {group}");
        };
        if group == "intents" {
            return format!(
                "# intents — {} intents, plus raise_intent, raise_for_context and find_intents",
                self.intent_slots.len()
            );
        }
        if group == context_api::CHANNELS {
            return "# channels — what the user is looking at: user channels and the FDC3 contexts on them".to_owned();
        }
        let mut apps: Vec<(&String, &usize)> =
            stats.apps.iter().map(|(app, count)| (app, count)).collect();
        apps.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let mut names: Vec<String> = apps
            .iter()
            .take(3)
            .map(|(app, _)| cut_words(&one_line(app), 40))
            .collect();
        if apps.len() > 3 {
            names.push(format!("+{}", apps.len() - 3));
        }
        let noun = if stats.functions == 1 {
            "function"
        } else {
            "functions"
        };
        if names.is_empty() {
            format!("# {group} — {} {noun}", stats.functions)
        } else {
            format!(
                "# {group} — {} · {} {noun}",
                names.join(", "),
                stats.functions
            )
        }
    }

    /// How to narrow the listing, naming the largest namespaces (or, past
    /// [`FAMILY_THRESHOLD`] namespaces, namespace families such as `rates_*`) within
    /// `max_tokens`.
    fn narrow_hint(&self, max_tokens: usize) -> String {
        let mut entries: Vec<(String, usize)> = Vec::new();
        let families = self.namespaces.len() > FAMILY_THRESHOLD;
        if families {
            let mut by_family: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
            for (ns, stats) in &self.namespaces {
                let family = ns.split_once('_').map_or(ns.as_str(), |(first, _)| first);
                let entry = by_family.entry(family).or_insert((0, 0));
                entry.0 += 1;
                entry.1 += stats.functions;
            }
            for (family, (namespaces, functions)) in by_family {
                let label = if namespaces == 1 {
                    format!("{family} ({functions} functions)")
                } else {
                    format!("{family}_* ({namespaces} namespaces, {functions} functions)")
                };
                entries.push((label, functions));
            }
        } else {
            for (ns, stats) in &self.namespaces {
                entries.push((format!("{ns} {}", stats.functions), stats.functions));
            }
        }
        entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut text = format!(
            "Narrow it: query=\"words\" ranks by names, descriptions, arguments, apps, intents and context types; namespace=\"name\" lists one namespace, namespace=\"prefix_*\" a family. {} ({}, largest first): ",
            if families {
                "Namespace families"
            } else {
                "Namespaces"
            },
            entries.len()
        );
        let mut shown = 0usize;
        for (label, _) in &entries {
            let piece = format!("{}{label}", if shown == 0 { "" } else { ", " });
            let rest = entries.len() - shown - 1;
            let tail = if rest > 0 {
                format!(", … and {rest} more.")
            } else {
                ".".to_owned()
            };
            if shown > 0 && self.counter.count(&format!("{text}{piece}{tail}")) > max_tokens {
                break;
            }
            text.push_str(&piece);
            shown += 1;
        }
        let rest = entries.len() - shown;
        if rest > 0 {
            let _ = write!(text, ", … and {rest} more.");
        } else {
            text.push('.');
        }
        text
    }

    /// The page when nothing matches.
    fn empty_page(
        &self,
        header: &str,
        query: Option<&str>,
        namespace: Option<&str>,
        budget: usize,
    ) -> String {
        let mut text = header.to_owned();
        if let Some(q) = query {
            let close = self.suggestions(q, 5);
            if close.is_empty() {
                text.push_str("No function matches.");
            } else {
                let _ = write!(
                    text,
                    "No function matches. Closest names: {}.",
                    close.join(", ")
                );
            }
            if namespace.is_some() {
                text.push_str(" Try again without namespace=.");
            }
            text.push('\n');
        }
        let hint = self.narrow_hint(budget / 2);
        text.push_str(&hint);
        text.push('\n');
        text
    }

    /// The page for an unknown namespace.
    fn no_namespace_page(&self, wanted: &str, close: &[String], budget: usize) -> ListPage {
        let mut text = format!(
            "No namespace {} (catalogue v{}).",
            py_str(&cut_words(&one_line(wanted), 60)),
            self.version
        );
        if !close.is_empty() {
            let _ = write!(text, " Closest: {}.", close.join(", "));
        }
        text.push('\n');
        text.push_str(&self.narrow_hint(budget / 2));
        text.push('\n');
        let tokens = self.counter.count(&text);
        ListPage {
            text,
            next_cursor: None,
            matches: 0,
            shown: 0,
            tokens,
        }
    }

    /// Cuts a line that is too long in tokens (hostile names or descriptions).
    fn fit_line(&self, line: String) -> String {
        let mut line = line;
        for _ in 0..8 {
            let tokens = self.counter.count(&line);
            if tokens <= MAX_LINE_TOKENS {
                return line;
            }
            let chars = line.chars().count();
            let keep = chars * MAX_LINE_TOKENS * 9 / (tokens * 10);
            line = cut_words(&line, keep.max(8));
        }
        line
    }
}

/// The end of a page: next cursor, position, how to narrow, how to get stubs.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site composes every page's footer"
)]
fn footer(
    next_cursor: Option<&str>,
    query: Option<&str>,
    namespace: Option<&str>,
    first: usize,
    last: usize,
    matches: usize,
    hint: &str,
    example: Option<&str>,
) -> String {
    let mut text = String::from("\n");
    if let Some(cursor) = next_cursor {
        let mut call = format!("cursor={}", py_str(cursor));
        if let Some(q) = query {
            let _ = write!(call, ", query={}", py_str(&cut_words(&one_line(q), 80)));
        }
        if let Some(ns) = namespace {
            let _ = write!(call, ", namespace={}", py_str(ns));
        }
        let _ = writeln!(
            text,
            "Showing {first}–{last} of {matches}. Next page: list_python_definitions({call})."
        );
        if !hint.is_empty() {
            text.push_str(hint);
            text.push('\n');
        }
    } else if first > 1 {
        let _ = writeln!(text, "Showing {first}–{last} of {matches} (end).");
    }
    if let Some(example) = example {
        let _ = writeln!(
            text,
            "Typed stubs: get_python_definitions(names=[{}, ...]).",
            py_str(example)
        );
    }
    text
}
