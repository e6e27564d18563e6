//! The typed Python API over the bus, disclosed progressively: **list** (names and one-liners,
//! searchable, paged within a token budget) → **get** (typed stubs for the chosen few) →
//! execute (the sandbox uses the [`CallMap`]).
//!
//! Input is the adapters' neutral [`Catalogue`] snapshot; output is Python text and call specs.
//! Nothing here does I/O (no files, sockets, clocks or environment), so it can be compiled to
//! wasm32 later. [`PythonCatalogue::update`] diffs a new snapshot against the previous one and
//! only rebuilds what changed; the result equals a fresh build of the same snapshot.
//!
//! # Shape of the API
//! - `CRM.GetClients` → `crm.get_clients(*, adviser: str | None = None, …) -> GetClientsResult`:
//!   one namespace class per dotted prefix (or per app for undotted names), snake_case,
//!   keyword-only arguments, wire names kept in the call map.
//! - Same name and signatures on several servers → one function with `target=` (`"best"`,
//!   `"all"` → `list[ServerResult]`, or an identity filter such as `{"application": "CRM"}`).
//! - Intents → `intents.view_chart(context: Instrument, *, app=None, instance=None)`, plus
//!   `raise_intent(name, context, target=None)` and `find_intents(name=None, context_type=None)`.
//! - Composites → TypedDicts; FDC3 2.2 context types come from the official schemas.
//!
//! # Use
//! - MCP server: keep one [`PythonCatalogue`]; on every bus catalogue change call
//!   [`PythonCatalogue::update`] with the new snapshot (debounce as you like; an unchanged
//!   snapshot costs one pass over it) or [`PythonCatalogue::update_partial`] when the changed
//!   names are known. Answer `list_python_definitions` with [`PythonCatalogue::list`] and
//!   `get_python_definitions` with [`PythonCatalogue::get`] (both return text plus structure).
//! - Sandbox: run [`PythonCatalogue::module_source`] once per version and install the real
//!   `_codemode_call(name, arguments)`; resolve `name` with [`PythonCatalogue::lookup`] (or a
//!   [`CallMap`] snapshot), rename arguments to their wire names, drop `None` optionals, map
//!   `target`, encode `datetime`s, and raise `MethodNotFoundError` with [`Departed::message`]
//!   for functions whose app left ([`PythonCatalogue::departed`] lists them, so pre-flight can
//!   say so before a run; [`PythonCatalogue::stamp_departed`] adds when). `find_intents` is answered by
//!   [`PythonCatalogue::find_intents`] without a bus call.
//!
//! # Layout
//! - `names`: identifiers from hostile names and the collision-free name table.
//! - `types`: Python types from signatures and the TypedDict registry.
//! - `function`: one function per method variant or intent.
//! - `render`: Python text (escaping, stubs, docstrings, examples, listing lines).
//! - `search`: the incremental BM25 index.
//! - `live`: full and partial updates.
//! - `listing` / `definitions`: the two disclosure steps; `answer`: the search page that
//!   answers in one step (ranked, typed top hits); `module`: the whole module.
//! - `functions` (feature `engine`): the call map as the snippet engine's function set.
//! - `callmap`: the public call map types; `tokens`: token counting; `fdc3`: context types.

mod answer;
mod callmap;
mod context_api;
mod definitions;
mod fdc3;
mod function;
#[cfg(feature = "engine")]
pub mod functions;
mod listing;
mod live;
mod module;
mod names;
mod render;
mod search;
mod tokens;
mod types;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use codemode_protocol::model::{Catalogue, IntentInfo, MethodInfo};

/// A streaming method's function takes this argument: how many items to collect.
pub const STREAM_ITEMS_ARG: &str = "max_items";
/// A streaming method's function takes this argument: how long to collect, in seconds.
pub const STREAM_SECONDS_ARG: &str = "seconds";
/// Items a stream collects when `max_items` is not given.
pub const STREAM_DEFAULT_ITEMS: u64 = 100;
/// The most items one stream collection keeps, whatever `max_items` says.
pub const STREAM_MAX_ITEMS: u64 = 1_000;
/// Seconds a stream collects when `seconds` is not given.
pub const STREAM_DEFAULT_SECONDS: u32 = 5;
use foldhash::HashMap;
use serde_json::{Value, json};

pub use self::{
    answer::{Detail, RankedHit, SEARCH_PAGE_BUDGET, TOP_CARDS},
    callmap::{ArgSpec, CallKind, CallMap, CallSpec, ContextOp, Departed, Lookup, ServerRef},
    definitions::{Definitions, NO_NAMES_GIVEN, UnknownName},
    listing::{ListPage, ListRequest},
    tokens::{O200k, TokenCounter},
};
use self::{
    function::{Function, Kind},
    names::NameTable,
    render::FnView,
    search::Index,
    types::TypeRegistry,
};

/// Tunables of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueConfig {
    /// Token budget of one `list_python_definitions` page (o200k_base; at least 256).
    pub page_token_budget: usize,
    /// Token budget of one search page (`list_python_definitions` with a query; at least 256).
    pub search_token_budget: usize,
    /// Token budget of one `get_python_definitions` answer (at least 512).
    pub definitions_token_budget: usize,
    /// How many departed functions are remembered for "no longer available" errors.
    pub departed_memory: usize,
}

impl Default for CatalogueConfig {
    fn default() -> Self {
        Self {
            page_token_budget: 2_000,
            search_token_budget: answer::SEARCH_PAGE_BUDGET,
            definitions_token_budget: 8_000,
            departed_memory: 4_096,
        }
    }
}

/// A known change to part of the bus, for [`PythonCatalogue::update_partial`].
#[derive(Debug, Clone, Copy)]
pub struct CatalogueDelta<'a> {
    /// The bus generation after the change.
    pub generation: u64,
    /// Wire method names whose variants may have changed (added, changed or removed).
    pub method_names: &'a [String],
    /// The current variants of those names (any order; other names are ignored).
    pub methods: &'a [MethodInfo],
    /// Intent names that may have changed.
    pub intent_names: &'a [String],
    /// The current versions of those intents (absent: removed).
    pub intents: &'a [IntentInfo],
}

/// What [`PythonCatalogue::update`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateStats {
    /// The catalogue version now (the snapshot's generation).
    pub version: u64,
    /// Functions added (new or changed methods and intents).
    pub added: usize,
    /// Functions removed (gone or changed).
    pub removed: usize,
    /// Functions kept as they were.
    pub unchanged: usize,
    /// Functions whose Python name changed because of a collision elsewhere.
    pub renamed: usize,
}

/// The Python API of one bus, kept in step with its catalogue snapshots. `Clone` copies it
/// whole, so an updater can publish a version and go on changing its own copy.
#[derive(Clone)]
pub struct PythonCatalogue {
    /// Tunables.
    config: CatalogueConfig,
    /// Counts page tokens.
    counter: Arc<dyn TokenCounter>,
    /// Seeds method fingerprints (per catalogue, so crafted collisions cannot be planned).
    hasher: foldhash::quality::RandomState,
    /// The snapshot generation last applied.
    version: u64,
    /// Methods of the last snapshot, grouped by wire name, sorted by name.
    method_groups: Vec<MethodGroup>,
    /// Intents of the last snapshot, sorted by name.
    intent_slots: Vec<IntentSlot>,
    /// Live functions by id (boxed: the table keeps spare room, and a function is large).
    slots: HashMap<u32, Box<Slot>>,
    /// The next function id (ids are never reused).
    next_id: u32,
    /// Candidate → resolved names.
    names: NameTable,
    /// TypedDict naming.
    registry: TypeRegistry,
    /// Search.
    index: Index,
    /// (namespace, sort key) → id: the listing order.
    ordered: BTreeMap<(String, String), u32>,
    /// Qualified Python name → id.
    by_name: HashMap<String, u32>,
    /// Namespace → counts (functions, and functions per app).
    namespaces: BTreeMap<String, NamespaceStats>,
    /// Recently removed functions by qualified name, with the sequence number of the record.
    departed: HashMap<String, (u64, Departed)>,
    /// Records oldest first, for eviction (stale entries are skipped).
    departed_order: VecDeque<(String, u64)>,
    /// The next departed record's sequence number.
    departed_seq: u64,
}

/// The methods sharing one wire name (one per signature variant).
#[derive(Debug, Clone)]
struct MethodGroup {
    /// The wire name.
    name: String,
    /// Fingerprints of the variants as last seen (see [`fingerprint`]).
    fingerprints: Vec<u64>,
    /// Their function ids, parallel to `fingerprints`.
    ids: Vec<u32>,
}

/// An intent as last seen, with its function id.
#[derive(Debug, Clone)]
struct IntentSlot {
    /// The intent as last seen.
    info: IntentInfo,
    /// Its function id.
    id: u32,
}

/// A live function.
#[derive(Debug, Clone)]
struct Slot {
    /// The function.
    function: Function,
    /// Its resolved qualified name.
    qualified: String,
}

/// Counts for one namespace.
#[derive(Debug, Clone, Default)]
struct NamespaceStats {
    /// Functions in it.
    functions: usize,
    /// App → functions it serves here, sorted by app (most namespaces have one or two apps:
    /// a vector, not a B-tree node each).
    apps: Vec<(String, usize)>,
}

impl std::fmt::Debug for PythonCatalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonCatalogue")
            .field("version", &self.version)
            .field("functions", &self.slots.len())
            .field("namespaces", &self.namespaces.len())
            .finish_non_exhaustive()
    }
}

impl Default for PythonCatalogue {
    fn default() -> Self {
        Self::new(CatalogueConfig::default())
    }
}

impl PythonCatalogue {
    /// An empty catalogue (only the intent builtins), counting tokens with o200k_base.
    pub fn new(config: CatalogueConfig) -> Self {
        let mut catalogue = Self {
            config,
            counter: Arc::new(O200k),
            hasher: foldhash::quality::RandomState::default(),
            version: 0,
            method_groups: Vec::new(),
            intent_slots: Vec::new(),
            slots: HashMap::default(),
            next_id: 2,
            names: NameTable::default(),
            registry: TypeRegistry::default(),
            index: Index::default(),
            ordered: BTreeMap::new(),
            by_name: HashMap::default(),
            namespaces: BTreeMap::new(),
            departed: HashMap::default(),
            departed_order: VecDeque::new(),
            departed_seq: 0,
        };
        let context_functions = ContextOp::ALL.into_iter().map(context_api::function);
        for (id, function) in
            (0u32..).zip(Function::builtins().into_iter().chain(context_functions))
        {
            catalogue.index.add(id, &function.search_pieces());
            let qualified = function.candidate.clone();
            let (group, key) = match qualified.split_once('.') {
                Some((namespace, local)) => (namespace.to_owned(), format!("\u{0}{local}")),
                None => ("intents".to_owned(), format!("\u{0}{qualified}")),
            };
            catalogue.namespace_add(&group, &function);
            catalogue.ordered.insert((group, key), id);
            catalogue.by_name.insert(qualified.clone(), id);
            catalogue.slots.insert(
                id,
                Box::new(Slot {
                    function,
                    qualified,
                }),
            );
            catalogue.next_id = id + 1;
        }
        catalogue
    }

    /// A catalogue built from `snapshot`.
    pub fn build(snapshot: &Catalogue, config: CatalogueConfig) -> Self {
        let mut catalogue = Self::new(config);
        catalogue.update(snapshot);
        catalogue
    }

    /// Uses another token counter for page budgets (e.g. a cheaper one in tests).
    #[must_use]
    pub fn with_token_counter(mut self, counter: Arc<dyn TokenCounter>) -> Self {
        self.counter = counter;
        self
    }

    /// The catalogue version: the generation of the last snapshot applied.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The number of functions (methods, intents and the two builtins).
    pub fn function_count(&self) -> usize {
        self.slots.len()
    }

    /// The namespaces (`crm`, `intents`…), sorted.
    pub fn namespace_names(&self) -> impl Iterator<Item = &str> {
        self.namespaces.keys().map(String::as_str)
    }

    /// The qualified names of every live function (`crm.get_clients`…), in listing order.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.ordered
            .values()
            .filter_map(|id| self.slots.get(id).map(|slot| slot.qualified.as_str()))
    }

    /// What the qualified Python name `name` refers to now.
    pub fn lookup(&self, name: &str) -> Lookup {
        if let Some(slot) = self.by_name.get(name).and_then(|id| self.slots.get(id)) {
            return Lookup::Found(call_spec(&slot.function, &slot.qualified));
        }
        if let Some((_, departed)) = self.departed.get(name) {
            return Lookup::Departed(departed.clone());
        }
        Lookup::Unknown {
            suggestions: self.suggestions(name, 5),
        }
    }

    /// Functions that left (the last [`CatalogueConfig::departed_memory`] of them) by
    /// qualified name: the sandbox keeps their names so a call says the app left instead of
    /// "unknown function". A name in use again is not in here.
    pub fn departed(&self) -> BTreeMap<String, Departed> {
        self.departed
            .iter()
            .map(|(name, (_, departed))| (name.clone(), departed.clone()))
            .collect()
    }

    /// Records when the caller saw the departures of `version` (Unix ms): their messages then
    /// say when the app left. The catalogue reads no clock itself; stamps already set stay.
    pub fn stamp_departed(&mut self, version: u64, unix_ms: u64) {
        for (_, departed) in self.departed.values_mut() {
            if departed.since_version == version && departed.left_at_unix_ms.is_none() {
                departed.left_at_unix_ms = Some(unix_ms);
            }
        }
    }

    /// Every current function's call spec.
    pub fn call_map(&self) -> CallMap {
        CallMap {
            version: self.version,
            functions: self
                .slots
                .values()
                .map(|slot| {
                    (
                        slot.qualified.clone(),
                        call_spec(&slot.function, &slot.qualified),
                    )
                })
                .collect(),
        }
    }

    /// Answers `find_intents(name=None, context_type=None)` from the catalogue: a JSON list of
    /// `IntentSummary` objects (see the module prelude), sorted by intent name.
    pub fn find_intents(&self, name: Option<&str>, context_type: Option<&str>) -> Value {
        let items: Vec<Value> = self
            .intent_slots
            .iter()
            .map(|slot| &slot.info)
            .filter(|info| name.is_none_or(|n| info.name.eq_ignore_ascii_case(n)))
            .filter(|info| {
                context_type.is_none_or(|wanted| {
                    info.handlers.iter().any(|h| {
                        h.context_types
                            .iter()
                            .any(|t| t.eq_ignore_ascii_case(wanted))
                    })
                })
            })
            .map(|info| {
                json!({
                    "name": info.name,
                    "context_types": info.context_types(),
                    "handlers": info.handlers.iter().map(|h| json!({
                        "app": h.application,
                        "instance": h.instance,
                        "title": h.app_title.as_ref().or(h.display_name.as_ref()),
                        "context_types": h.context_types,
                        "result_type": h.result_type,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        Value::Array(items)
    }

    // -----------------------------------------------------------------------------------------
    // Shared helpers for the disclosure steps.

    /// The render view of function `id`.
    fn view(&self, id: u32) -> Option<FnView<'_>> {
        let slot = self.slots.get(&id)?;
        Some(FnView {
            function: &slot.function,
            qualified: &slot.qualified,
            registry: &self.registry,
        })
    }

    /// Up to `max` current qualified names close to `name` (spelling first, then search).
    fn suggestions(&self, name: &str, max: usize) -> Vec<String> {
        let wanted: String = name
            .trim()
            .chars()
            .take(200)
            .collect::<String>()
            .to_ascii_lowercase();
        let wanted_local: Vec<char> = wanted
            .rsplit('.')
            .next()
            .unwrap_or(&wanted)
            .chars()
            .collect();
        let wanted: Vec<char> = wanted.chars().collect();
        let limit = (wanted.len() / 3).max(2);
        let mut close: Vec<(usize, &str)> = Vec::new();
        for slot in self.slots.values() {
            let qualified = slot.qualified.as_str();
            let local = qualified.rsplit('.').next().unwrap_or(qualified);
            let distance = search::edit_distance(&wanted, qualified, limit)
                .into_iter()
                .chain(search::edit_distance(&wanted_local, local, limit))
                .min();
            if let Some(distance) = distance {
                close.push((distance, qualified));
            }
        }
        close.sort_unstable();
        let mut out: Vec<String> = close
            .into_iter()
            .map(|(_, name)| name.to_owned())
            .take(max)
            .collect();
        if out.len() < max {
            for id in self.ranked(name, |_| true) {
                if let Some(slot) = self.slots.get(&id)
                    && !out.contains(&slot.qualified)
                {
                    out.push(slot.qualified.clone());
                }
                if out.len() >= max {
                    break;
                }
            }
        }
        out
    }

    /// Function ids matching `query`, best first (ties by qualified name), only in namespace
    /// groups `keep_group` accepts. A function whose name or wire name is the query comes first.
    fn ranked(&self, query: &str, keep_group: impl Fn(&str) -> bool) -> Vec<u32> {
        let keep = |id: u32| {
            self.slots
                .get(&id)
                .is_some_and(|slot| keep_group(group_of(&slot.qualified)))
        };
        let mut hits = self.index.search(query, keep);
        let name = |id: u32| self.slots.get(&id).map_or("", |s| s.qualified.as_str());
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| name(a.1).cmp(name(b.1))));
        let wanted = query.trim();
        let snake = names::snake_ident(wanted, names::NameKind::Function);
        let exact = |id: u32| {
            self.slots.get(&id).is_some_and(|slot| {
                let local = slot.qualified.rsplit('.').next().unwrap_or("");
                slot.qualified == wanted
                    || local == wanted
                    || local == snake
                    || slot.function.wire_name() == wanted
            })
        };
        let (mut first, rest): (Vec<u32>, Vec<u32>) = hits
            .into_iter()
            .map(|(_, id)| id)
            .partition(|id| exact(*id));
        first.extend(rest);
        first
    }
}

/// The listing group of a qualified name (`crm` for `crm.get_clients`, `intents` for builtins).
fn group_of(qualified: &str) -> &str {
    match qualified.split_once('.') {
        Some((namespace, _)) => namespace,
        None => "intents",
    }
}

/// The key of a qualified name in the listing order.
fn ordered_key(qualified: &str) -> (String, String) {
    match qualified.split_once('.') {
        Some((namespace, local)) => (namespace.to_owned(), local.to_owned()),
        None => ("intents".to_owned(), format!("\u{0}{qualified}")),
    }
}

/// The call spec of `function` under the qualified name `qualified`.
fn call_spec(function: &Function, qualified: &str) -> CallSpec {
    let call = match &function.kind {
        Kind::Method {
            wire,
            streaming,
            servers,
            shared_name,
        } => CallKind::Method {
            method: wire.clone(),
            servers: Arc::clone(servers),
            restrict_to_servers: *shared_name,
            streaming: *streaming,
        },
        Kind::Intent { name, .. } => CallKind::Intent {
            intent: name.clone(),
        },
        Kind::RaiseIntent => CallKind::RaiseIntent,
        Kind::FindIntents => CallKind::FindIntents,
        Kind::Context(op) => CallKind::Context { op: *op },
    };
    CallSpec {
        python_name: qualified.to_owned(),
        call,
        args: function
            .args
            .iter()
            .map(|arg| ArgSpec {
                python: arg.python.clone(),
                wire: arg.wire.clone(),
                required: arg.required,
            })
            .collect(),
        var_kwargs: function.var_kwargs,
        takes_target: function.takes_target(),
    }
}
