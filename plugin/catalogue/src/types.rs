//! Python types from signature types, and the registry that names the generated TypedDicts.
//!
//! A composite becomes a [`StructDef`]: its wanted name (from the composite's type name, else
//! the parameter or field name) plus a canonical structural key. Two composites with the same
//! wanted name and the same structure are one TypedDict. When several structures want one name,
//! the one used by most functions keeps it and the others get `_2`, `_3`, … (wanted names never
//! contain `_`, so suffixed names cannot collide with them). Names are looked up when text is
//! rendered, so a rename never invalidates cached functions.

use std::{borrow::Borrow, fmt::Write as _, sync::Arc};

use codemode_protocol::signature::{Param, SigType};
use foldhash::{HashMap, HashSet, HashSetExt};

use super::names::{Priority, is_reserved_type_name, pascal_ident, singular};

/// Composites nested deeper than this become `dict[str, Any]`.
const MAX_STRUCT_DEPTH: usize = 8;
/// Composites with more fields than this become `dict[str, Any]` (a truncated TypedDict would
/// make valid calls fail type checking).
const MAX_FIELDS: usize = 128;

/// A Python type annotation, before TypedDict names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PyType {
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `float`.
    Float,
    /// `str`.
    Str,
    /// `datetime`.
    DateTime,
    /// `Any`.
    Any,
    /// `dict[str, Any]` (a composite without a schema).
    AnyDict,
    /// `list[T]`.
    List(Box<PyType>),
    /// A generated TypedDict.
    Struct(Arc<StructDef>),
    /// A tuple: its TypedDict, or a plain list (the wire shape varies).
    Tuple(Arc<StructDef>),
    /// A class of the FDC3 contexts file (`Instrument`, `Context`, …).
    Named(&'static str),
    /// `A | B | …`.
    Union(Vec<PyType>),
}

/// One field of a generated TypedDict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The key exactly as on the wire.
    pub(crate) key: String,
    /// Its type.
    pub(crate) ty: PyType,
    /// False for `?` fields (`NotRequired[...]`).
    pub(crate) required: bool,
    /// The `(description)` text, if any.
    pub(crate) description: Option<String>,
}

/// A TypedDict to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StructDef {
    /// The name it wants (PascalCase, no underscores).
    pub(crate) wanted: String,
    /// Canonical structure (fields, types, nested wanted names); equal keys mean equal text.
    pub(crate) key: String,
    /// Its fields, in signature order.
    pub(crate) fields: Vec<Field>,
}

impl StructDef {
    /// The TypedDicts its fields refer to directly.
    pub(crate) fn children(&self) -> Vec<Arc<StructDef>> {
        let mut out = Vec::new();
        for field in &self.fields {
            field.ty.collect_structs(&mut out);
        }
        out
    }
}

impl PyType {
    /// Pushes every TypedDict this type refers to directly (not their fields).
    pub(crate) fn collect_structs(&self, out: &mut Vec<Arc<StructDef>>) {
        match self {
            Self::List(item) => item.collect_structs(out),
            Self::Struct(def) | Self::Tuple(def) => out.push(Arc::clone(def)),
            Self::Union(items) => items.iter().for_each(|item| item.collect_structs(out)),
            _ => {}
        }
    }

    /// Pushes every FDC3 class this type refers to.
    pub(crate) fn collect_named(&self, out: &mut Vec<&'static str>) {
        match self {
            Self::List(item) => item.collect_named(out),
            Self::Named(name) => out.push(name),
            Self::Union(items) => items.iter().for_each(|item| item.collect_named(out)),
            _ => {}
        }
    }

    /// True when the type contains `Any` from an unknown signature type.
    pub(crate) fn is_loose(&self) -> bool {
        match self {
            Self::Any | Self::AnyDict => true,
            Self::List(item) => item.is_loose(),
            Self::Struct(def) | Self::Tuple(def) => def.fields.iter().any(|f| f.ty.is_loose()),
            Self::Union(items) => items.iter().any(Self::is_loose),
            _ => false,
        }
    }

    /// A canonical text of the structure, used inside [`StructDef::key`].
    fn canonical(&self, out: &mut String) {
        match self {
            Self::Bool => out.push_str("bool"),
            Self::Int => out.push_str("int"),
            Self::Float => out.push_str("float"),
            Self::Str => out.push_str("str"),
            Self::DateTime => out.push_str("datetime"),
            Self::Any => out.push_str("any"),
            Self::AnyDict => out.push_str("dict"),
            Self::List(item) => {
                out.push('[');
                item.canonical(out);
                out.push(']');
            }
            Self::Struct(def) | Self::Tuple(def) => {
                out.push_str(if matches!(self, Self::Tuple(_)) {
                    "t"
                } else {
                    "s"
                });
                out.push_str(&def.wanted);
                out.push_str(&def.key);
            }
            Self::Named(name) => {
                out.push('@');
                out.push_str(name);
            }
            Self::Union(items) => {
                out.push('(');
                for item in items {
                    item.canonical(out);
                    out.push('|');
                }
                out.push(')');
            }
        }
    }
}

/// Converts a parsed signature type; `name_hint` names a composite without a type name.
pub(crate) fn convert(ty: &SigType, name_hint: &str, depth: usize) -> PyType {
    match ty {
        SigType::Bool => PyType::Bool,
        SigType::Int | SigType::Long => PyType::Int,
        SigType::Double => PyType::Float,
        SigType::String => PyType::Str,
        SigType::DateTime => PyType::DateTime,
        SigType::Any { .. } => PyType::Any,
        SigType::Array { item } => {
            PyType::List(Box::new(convert(item, singular(name_hint), depth)))
        }
        SigType::Composite {
            tuple,
            type_name,
            fields,
        } => {
            let Some(fields) = fields else {
                return PyType::AnyDict;
            };
            if depth >= MAX_STRUCT_DEPTH || fields.len() > MAX_FIELDS {
                return PyType::AnyDict;
            }
            let wanted = pascal_ident(type_name.as_deref().unwrap_or(name_hint));
            let def = Arc::new(struct_def(wanted, fields, depth + 1));
            if *tuple {
                PyType::Tuple(def)
            } else {
                PyType::Struct(def)
            }
        }
    }
}

/// Builds a TypedDict from signature parameters (composite fields or a `returns` list).
/// Unnamed and duplicate fields are dropped (a TypedDict key must be a known string).
pub(crate) fn struct_def(wanted: String, params: &[Param], depth: usize) -> StructDef {
    let mut fields: Vec<Field> = Vec::with_capacity(params.len());
    for param in params {
        let Some(key) = param.name.as_deref() else {
            continue;
        };
        if fields.iter().any(|f| f.key == key) {
            continue;
        }
        fields.push(Field {
            key: key.to_owned(),
            ty: convert(&param.ty, key, depth),
            required: !param.optional,
            description: param.description.clone(),
        });
    }
    let mut key = String::with_capacity(fields.len() * 16);
    key.push('{');
    for field in &fields {
        let _ = write!(key, "{}:{}", field.key.len(), field.key);
        field.ty.canonical(&mut key);
        key.push(if field.required { ';' } else { '?' });
    }
    key.push('}');
    StructDef {
        wanted,
        key,
        fields,
    }
}

/// Every TypedDict reachable from `roots`, each once (by wanted name + key), in first-seen order.
pub(crate) fn reachable(roots: &[Arc<StructDef>]) -> Vec<Arc<StructDef>> {
    let mut all: Vec<Arc<StructDef>> = Vec::new();
    let mut stack: Vec<Arc<StructDef>> = roots.iter().rev().cloned().collect();
    while let Some(def) = stack.pop() {
        let mut children = def.children();
        children.reverse();
        stack.extend(children);
        all.push(def);
    }
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(all.len());
    let keep: Vec<bool> = all
        .iter()
        .map(|def| seen.insert((def.wanted.as_str(), def.key.as_str())))
        .collect();
    all.iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|(def, _)| Arc::clone(def))
        .collect()
}

/// Counts, per TypedDict, which functions use it, and names them.
#[derive(Debug, Clone, Default)]
pub(crate) struct TypeRegistry {
    /// Wanted name → structures wanting it.
    groups: HashMap<String, Group>,
    /// Wanted names whose groups changed since the last [`Self::settle`].
    dirty: Vec<String>,
}

/// The structures that want one name.
#[derive(Debug, Clone, Default)]
struct Group {
    /// Key → the definition and its users (function priority → count).
    members: VecMap<String, (Arc<StructDef>, VecMap<Priority, u32>)>,
    /// Keys in naming order; stale while `dirty`.
    order: Vec<String>,
    /// Set by changes, cleared by [`TypeRegistry::settle`].
    dirty: bool,
}

impl TypeRegistry {
    /// Records that the function with `priority` uses each of `defs` (distinct by name + key).
    pub(crate) fn add_users(&mut self, defs: &[Arc<StructDef>], priority: &Priority) {
        for def in defs {
            let group = self.groups.entry(def.wanted.clone()).or_default();
            let users = &mut group
                .members
                .get_or_insert_with(
                    &def.key,
                    || def.key.clone(),
                    || (Arc::clone(def), VecMap::default()),
                )
                .1;
            *users.get_or_insert_with(priority, || Arc::clone(priority), || 0) += 1;
            if !group.dirty {
                group.dirty = true;
                self.dirty.push(def.wanted.clone());
            }
        }
    }

    /// Records that the function with `priority` no longer uses each of `defs`.
    pub(crate) fn remove_users(&mut self, defs: &[Arc<StructDef>], priority: &str) {
        for def in defs {
            let Some(group) = self.groups.get_mut(&def.wanted) else {
                continue;
            };
            if let Some((_, users)) = group.members.get_mut(&def.key) {
                if let Some(count) = users.get_mut(priority) {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        users.remove(priority);
                    }
                }
                if users.is_empty() {
                    group.members.remove(&def.key);
                }
            }
            if group.members.is_empty() {
                self.groups.remove(&def.wanted);
            } else if !group.dirty {
                group.dirty = true;
                self.dirty.push(def.wanted.clone());
            }
        }
    }

    /// Recomputes the naming order of every changed group; call after a batch of changes.
    pub(crate) fn settle(&mut self) {
        for wanted in std::mem::take(&mut self.dirty) {
            if let Some(group) = self.groups.get_mut(&wanted)
                && group.dirty
            {
                group.reorder();
                group.dirty = false;
            }
        }
    }

    /// The Python name of `def` (its wanted name, or a `_k` variant of it).
    pub(crate) fn name_of(&self, def: &StructDef) -> String {
        let rank = self
            .groups
            .get(&def.wanted)
            .and_then(|group| group.order.iter().position(|key| *key == def.key))
            .unwrap_or(0);
        let reserved = usize::from(is_reserved_type_name(&def.wanted));
        match rank + reserved {
            0 => def.wanted.clone(),
            n => format!("{}_{}", def.wanted, n + 1),
        }
    }

    /// Every registered TypedDict with its name, sorted by name.
    pub(crate) fn all(&self) -> Vec<(String, Arc<StructDef>)> {
        let mut out: Vec<(String, Arc<StructDef>)> = self
            .groups
            .values()
            .flat_map(|group| group.members.iter().map(|(_, member)| member))
            .map(|(def, _)| (self.name_of(def), Arc::clone(def)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The TypedDict currently named `name`, if any.
    pub(crate) fn by_name(&self, name: &str) -> Option<Arc<StructDef>> {
        let (wanted, rank) = match name.rsplit_once('_') {
            Some((wanted, k)) => (wanted, k.parse::<usize>().ok()?.checked_sub(1)?),
            None => (name, 0),
        };
        let group = self.groups.get(wanted)?;
        let rank = rank.checked_sub(usize::from(is_reserved_type_name(wanted)))?;
        let key = group.order.get(rank)?;
        group.members.get(key).map(|(def, _)| Arc::clone(def))
    }
}

impl Group {
    /// Recomputes the naming order: most users first, then the first user (by function
    /// priority, the order names are resolved in), then the key.
    fn reorder(&mut self) {
        let mut order: Vec<(usize, &str, &String)> = self
            .members
            .iter()
            .map(|(key, (_, users))| {
                let first = users.iter().next().map_or("", |(user, _)| user.as_ref());
                (users.iter().map(|(_, n)| *n as usize).sum(), first, key)
            })
            .collect();
        order.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.cmp(b.1))
                .then_with(|| a.2.cmp(b.2))
        });
        self.order = order.into_iter().map(|(_, _, key)| key.clone()).collect();
    }
}

/// A map kept as a vector sorted by key. The registry's maps mostly hold one entry, where a
/// B-tree node would cost hundreds of bytes.
#[derive(Debug, Clone)]
struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K: Borrow<str>, V> VecMap<K, V> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0
            .binary_search_by(|(existing, _)| existing.borrow().cmp(key))
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|index| &self.0[index].1)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.find(key).ok().map(|index| &mut self.0[index].1)
    }

    /// The value of `key`, inserted as (`new_key()`, `make()`) when missing; `new_key()` must
    /// equal `key`.
    fn get_or_insert_with(
        &mut self,
        key: &str,
        new_key: impl FnOnce() -> K,
        make: impl FnOnce() -> V,
    ) -> &mut V {
        let index = match self.find(key) {
            Ok(index) => index,
            Err(index) => {
                self.0.insert(index, (new_key(), make()));
                index
            }
        };
        &mut self.0[index].1
    }

    fn remove(&mut self, key: &str) -> Option<V> {
        let index = self.find(key).ok()?;
        Some(self.0.remove(index).1)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in key order.
    fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(key, value)| (key, value))
    }
}
