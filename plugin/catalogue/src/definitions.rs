//! `get_python_definitions(names)`: full stubs for the chosen functions, with every type they
//! use emitted once (helper types first, then FDC3 contexts, then app TypedDicts), grouped
//! into their namespace classes. Unknown names get the closest matches instead.

use std::{collections::BTreeSet, fmt::Write as _, sync::Arc};

use serde::Serialize;

use super::{
    PythonCatalogue, fdc3, group_of,
    names::{NameKind, snake_ident},
    render::{self, Mode, comment, cut_words, one_line, ordered_structs, py_str, struct_code},
    types::StructDef,
};

/// The answer to a `get_python_definitions` call without names (the same on every host).
pub const NO_NAMES_GIVEN: &str = "names is empty: pass qualified names from list_python_definitions, e.g. [\"crm.get_clients\"].";

/// Most names looked at in one request.
const MAX_NAMES: usize = 200;
/// Longest requested name echoed back (characters).
const MAX_ECHOED_NAME: usize = 80;
/// Most unknown names listed in the text (all are in [`Definitions::unknown`]).
const MAX_UNKNOWN_LINES: usize = 10;
/// Smallest budget honoured.
const MIN_DEFINITIONS_BUDGET: usize = 512;

/// The answer to `get_python_definitions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definitions {
    /// Python text for the model (valid as a `.pyi` stub once the imports are prepended).
    pub text: String,
    /// Qualified names (and type names) that are defined in `text`.
    pub found: Vec<String>,
    /// Names that matched nothing, with suggestions.
    pub unknown: Vec<UnknownName>,
    /// Names that matched but did not fit the token budget.
    pub omitted: Vec<String>,
    /// The size of `text` in tokens.
    pub tokens: usize,
}

/// A requested name that matched nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownName {
    /// The name as requested.
    pub name: String,
    /// Up to five close current names.
    pub suggestions: Vec<String>,
}

/// What one requested name resolved to.
enum Target {
    /// Functions (one, a namespace's, or a wire name's).
    Functions(Vec<u32>),
    /// A generated TypedDict.
    Struct(Arc<StructDef>),
    /// A class of the FDC3 contexts file.
    Fdc3(&'static str),
    /// A helper type of the prelude.
    Prelude(&'static str),
}

impl PythonCatalogue {
    /// Full stubs for `names` (qualified function names, namespaces, wire method or intent names,
    /// TypedDict names, FDC3 context types such as `fdc3.instrument`), within the configured
    /// token budget; what does not fit is listed as omitted. A single definition larger than the
    /// budget is still returned whole (cutting it would leave invalid Python).
    pub fn get(&self, names: &[impl AsRef<str>]) -> Definitions {
        let budget = self
            .config
            .definitions_token_budget
            .max(MIN_DEFINITIONS_BUDGET);
        let mut wanted: Vec<(String, Target)> = Vec::new();
        let mut unknown: Vec<UnknownName> = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for name in names.iter().take(MAX_NAMES) {
            let name = name.as_ref().trim();
            if name.is_empty() || !seen.insert(name.to_owned()) {
                continue;
            }
            match self.resolve(name) {
                // A namespace or wire name expands to its functions, so the budget can cut
                // between them.
                Some(Target::Functions(ids)) => {
                    for id in ids {
                        if let Some(slot) = self.slots.get(&id) {
                            wanted.push((slot.qualified.clone(), Target::Functions(vec![id])));
                        }
                    }
                }
                Some(target) => wanted.push((name.to_owned(), target)),
                None => unknown.push(UnknownName {
                    name: cut_words(&one_line(name), MAX_ECHOED_NAME),
                    suggestions: self.suggestions(name, 5),
                }),
            }
        }

        // Greedy by estimate, then exact trimming from the end.
        let mut included: Vec<&(String, Target)> = Vec::new();
        let mut omitted: Vec<String> = Vec::new();
        let mut estimate = 0usize;
        for entry in &wanted {
            let cost = self.estimate(&entry.1);
            if !included.is_empty() && estimate + cost > budget {
                omitted.push(entry.0.clone());
                continue;
            }
            estimate += cost;
            included.push(entry);
        }
        loop {
            let (text, found) = self.render_definitions(&included, &unknown, &omitted, budget);
            let tokens = self.counter.count(&text);
            if tokens <= budget || included.len() <= 1 {
                return Definitions {
                    text,
                    found,
                    unknown,
                    omitted,
                    tokens,
                };
            }
            if let Some(last) = included.pop() {
                omitted.insert(0, last.0.clone());
            }
        }
    }

    /// Resolves one requested name.
    fn resolve(&self, name: &str) -> Option<Target> {
        if let Some(&id) = self.by_name.get(name) {
            return Some(Target::Functions(vec![id]));
        }
        if let Some(block) = fdc3::by_class(name).or_else(|| fdc3::by_context_type(name)) {
            return Some(Target::Fdc3(block.class));
        }
        if let Some((prelude, _, _)) = render::PRELUDE_TYPES.iter().find(|(n, _, _)| *n == name) {
            return Some(Target::Prelude(prelude));
        }
        if let Some(def) = self.registry.by_name(name) {
            return Some(Target::Struct(def));
        }
        let namespace = if self.namespaces.contains_key(name) {
            Some(name.to_owned())
        } else {
            let snake = snake_ident(name, NameKind::Namespace);
            self.namespaces.contains_key(&snake).then_some(snake)
        };
        if let Some(ns) = namespace {
            let ids: Vec<u32> = self
                .ordered
                .range((ns.clone(), String::new())..)
                .take_while(|((group, _), _)| *group == ns)
                .map(|(_, id)| *id)
                .collect();
            return Some(Target::Functions(ids));
        }
        // A wire method or intent name (all variants), then a case-insensitive Python name.
        let mut ids: Vec<(&str, u32)> = self
            .slots
            .iter()
            .filter(|(_, slot)| slot.function.wire_name() == name)
            .map(|(id, slot)| (slot.qualified.as_str(), *id))
            .collect();
        if ids.is_empty() {
            ids = self
                .slots
                .iter()
                .filter(|(_, slot)| slot.qualified.eq_ignore_ascii_case(name))
                .map(|(id, slot)| (slot.qualified.as_str(), *id))
                .collect();
        }
        ids.sort_unstable();
        (!ids.is_empty()).then(|| Target::Functions(ids.into_iter().map(|(_, id)| id).collect()))
    }

    /// A rough token cost of one target (4 characters per token).
    fn estimate(&self, target: &Target) -> usize {
        let chars = match target {
            Target::Functions(ids) => ids
                .iter()
                .filter_map(|id| self.view(*id))
                .map(|view| view.code(Mode::Stub).len() + 200)
                .sum(),
            Target::Struct(_) => 300,
            Target::Fdc3(_) | Target::Prelude(_) => 600,
        };
        chars / 4
    }

    /// Renders the included targets; returns the text and the names defined.
    fn render_definitions(
        &self,
        included: &[&(String, Target)],
        unknown: &[UnknownName],
        omitted: &[String],
        budget: usize,
    ) -> (String, Vec<String>) {
        let mut functions: Vec<u32> = Vec::new();
        let mut structs: Vec<Arc<StructDef>> = Vec::new();
        let mut named: Vec<&'static str> = Vec::new();
        let mut prelude: BTreeSet<&'static str> = BTreeSet::new();
        for (_, target) in included {
            match target {
                Target::Functions(ids) => {
                    for id in ids {
                        if !functions.contains(id) {
                            functions.push(*id);
                        }
                    }
                }
                Target::Struct(def) => structs.push(Arc::clone(def)),
                Target::Fdc3(class) => named.push(class),
                Target::Prelude(name) => {
                    prelude.insert(name);
                }
            }
        }
        for id in &functions {
            let Some(slot) = self.slots.get(id) else {
                continue;
            };
            let function = &slot.function;
            structs.extend(function.structs.iter().cloned());
            for arg in &function.args {
                arg.ty.collect_named(&mut named);
            }
            function.returns.collect_named(&mut named);
            if function.takes_target() {
                prelude.insert("Target");
                prelude.insert("ServerResult");
            }
        }
        // Prelude names used by FDC3/prelude types go to their own lists.
        let mut fdc3_roots: Vec<&str> = Vec::new();
        for name in named {
            if render::PRELUDE_TYPES.iter().any(|(n, _, _)| *n == name) {
                prelude.insert(name);
            } else {
                fdc3_roots.push(name);
            }
        }
        let mut prelude_closure: BTreeSet<&'static str> = BTreeSet::new();
        for (name, deps, _) in render::PRELUDE_TYPES {
            if prelude.contains(name) {
                prelude_closure.insert(name);
                prelude_closure.extend(deps.iter().copied());
            }
        }

        let mut found: Vec<String> = Vec::new();
        let mut text = format!(
            "# Stubs from catalogue v{} (datetime, Any, Literal, Mapping, NotRequired, TypedDict are predefined).\n",
            self.version
        );
        for (name, _, code) in render::PRELUDE_TYPES {
            if prelude_closure.contains(name) {
                text.push('\n');
                text.push_str(code);
                found.push((*name).to_owned());
            }
        }
        for block in fdc3::closure(fdc3_roots) {
            text.push('\n');
            text.push_str(&block.code);
            found.push(block.class.to_owned());
        }
        for (name, def) in ordered_structs(&structs, &self.registry) {
            text.push('\n');
            text.push_str(&struct_code(&name, &def, &self.registry));
            found.push(name);
        }

        // Functions, grouped by namespace in order of first appearance; builtins at top level.
        let mut groups: Vec<&str> = Vec::new();
        for id in &functions {
            if let Some(slot) = self.slots.get(id) {
                let group = if slot.function.namespace.is_empty() {
                    ""
                } else {
                    group_of(&slot.qualified)
                };
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
        }
        for group in groups {
            text.push('\n');
            if !group.is_empty() {
                let _ = writeln!(text, "class {group}:");
            }
            let mut first = true;
            for id in &functions {
                let Some(view) = self.view(*id) else {
                    continue;
                };
                let in_group = if view.function.namespace.is_empty() {
                    group.is_empty()
                } else {
                    group_of(view.qualified) == group
                };
                if !in_group {
                    continue;
                }
                if !first {
                    text.push('\n');
                }
                first = false;
                text.push_str(&view.code(Mode::Stub));
                found.push(view.qualified.to_owned());
            }
        }

        for entry in unknown.iter().take(MAX_UNKNOWN_LINES) {
            text.push('\n');
            let mut line = format!("# Unknown name {}", py_str(&one_line(&entry.name)));
            if entry.suggestions.is_empty() {
                line.push_str("; try list_python_definitions(query=...)");
            } else {
                let _ = write!(line, "; closest: {}", entry.suggestions.join(", "));
            }
            text.push_str(&comment(&line));
            text.push('\n');
        }
        if unknown.len() > MAX_UNKNOWN_LINES {
            let _ = writeln!(
                text,
                "# … and {} more unknown names",
                unknown.len() - MAX_UNKNOWN_LINES
            );
        }
        if !omitted.is_empty() {
            text.push('\n');
            let shown: Vec<&str> = omitted
                .iter()
                .take(MAX_UNKNOWN_LINES * 2)
                .map(String::as_str)
                .collect();
            let mut line = format!(
                "# Not shown (over the {budget}-token budget; ask for them separately): {}",
                shown.join(", ")
            );
            if omitted.len() > shown.len() {
                let _ = write!(line, " and {} more", omitted.len() - shown.len());
            }
            text.push_str(&comment(&line));
            text.push('\n');
        }
        (text, found)
    }
}
