//! Keeping the API in step with the bus: [`PythonCatalogue::update`] diffs a full snapshot
//! (methods matched by wire name and compared by fingerprint), [`PythonCatalogue::update_partial`]
//! applies a change whose extent the caller knows (O(changed)). Both leave exactly the state a
//! fresh build of the resulting snapshot would have: names, TypedDict names and search scores
//! are pure functions of the current set of functions.

use std::{
    hash::{BuildHasher, Hash, Hasher},
    sync::Arc,
};

use codemode_protocol::model::{Catalogue, IntentInfo, MethodInfo};
use serde_json::Value;

use super::{
    CatalogueDelta, Departed, IntentSlot, MethodGroup, PythonCatalogue, Slot, UpdateStats,
    function::Function, ordered_key,
};

impl PythonCatalogue {
    /// Applies a new snapshot: only methods and intents that changed are rebuilt.
    ///
    /// Methods are matched by wire name (the snapshot's documented sort order; unsorted input
    /// is sorted first) and compared field by field. Duplicate variants (same name and both
    /// signatures) keep the first occurrence.
    pub fn update(&mut self, snapshot: &Catalogue) -> UpdateStats {
        let mut stats = UpdateStats {
            version: snapshot.generation,
            ..UpdateStats::default()
        };
        let mut changed: Vec<u32> = Vec::new();
        let mut added: Vec<u32> = Vec::new();
        self.version = snapshot.generation;

        // Methods, grouped by name.
        let mut methods: Vec<&MethodInfo> = snapshot.methods.iter().collect();
        if !methods.is_sorted_by(|a, b| a.name <= b.name) {
            methods.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let old_groups = std::mem::take(&mut self.method_groups);
        let mut old_iter = old_groups.into_iter().peekable();
        let mut new_groups: Vec<MethodGroup> = Vec::with_capacity(old_iter.len());
        for run in methods.chunk_by(|a, b| a.name == b.name) {
            let Some(name) = run.first().map(|m| m.name.as_str()) else {
                continue;
            };
            let variants = dedup_variants(run);
            // Old groups that sort before this name are gone.
            while let Some(old) = old_iter.next_if(|g| g.name.as_str() < name) {
                stats.removed += old.ids.len();
                for id in old.ids {
                    self.remove_function(id, &mut changed);
                }
            }
            match old_iter.next_if(|g| g.name == name) {
                Some(old) if self.same_variants(&old.fingerprints, &variants) => {
                    stats.unchanged += old.ids.len();
                    new_groups.push(old);
                }
                old => {
                    if let Some(old) = old {
                        stats.removed += old.ids.len();
                        for id in old.ids {
                            self.remove_function(id, &mut changed);
                        }
                    }
                    let group = self.add_group(name, &variants, &mut changed, &mut added);
                    stats.added += group.ids.len();
                    new_groups.push(group);
                }
            }
        }
        for old in old_iter {
            stats.removed += old.ids.len();
            for id in old.ids {
                self.remove_function(id, &mut changed);
            }
        }
        self.method_groups = new_groups;

        // Intents, by name.
        let mut intents: Vec<&IntentInfo> = snapshot.intents.iter().collect();
        if !intents.is_sorted_by(|a, b| a.name <= b.name) {
            intents.sort_by(|a, b| a.name.cmp(&b.name));
        }
        intents.dedup_by(|a, b| a.name == b.name);
        let old_intents = std::mem::take(&mut self.intent_slots);
        let mut old_iter = old_intents.into_iter().peekable();
        let mut new_intents: Vec<IntentSlot> = Vec::with_capacity(intents.len());
        for info in intents {
            while let Some(old) = old_iter.next_if(|s| s.info.name < info.name) {
                stats.removed += 1;
                self.remove_function(old.id, &mut changed);
            }
            match old_iter.next_if(|s| s.info.name == info.name) {
                Some(old) if old.info == *info => {
                    stats.unchanged += 1;
                    new_intents.push(old);
                }
                old => {
                    if let Some(old) = old {
                        stats.removed += 1;
                        self.remove_function(old.id, &mut changed);
                    }
                    let id = self.add_function(Function::from_intent(info), &mut changed);
                    added.push(id);
                    stats.added += 1;
                    new_intents.push(IntentSlot {
                        info: info.clone(),
                        id,
                    });
                }
            }
        }
        for old in old_iter {
            stats.removed += 1;
            self.remove_function(old.id, &mut changed);
        }
        self.intent_slots = new_intents;

        self.registry.settle();
        changed.sort_unstable();
        changed.dedup();
        added.sort_unstable();
        stats.renamed = self.apply_names(&changed, &added);
        stats
    }

    /// Applies a change the caller already knows the extent of: every wire method name in
    /// `delta.method_names` is replaced by the entries of `delta.methods` with that name (none:
    /// removed), likewise for intents. Costs O(changed), not O(catalogue); the result equals
    /// [`Self::update`] with the full snapshot after the change.
    pub fn update_partial(&mut self, delta: &CatalogueDelta<'_>) -> UpdateStats {
        let mut stats = UpdateStats {
            version: delta.generation,
            ..UpdateStats::default()
        };
        let mut changed: Vec<u32> = Vec::new();
        let mut added: Vec<u32> = Vec::new();
        self.version = delta.generation;

        let mut names: Vec<&str> = delta.method_names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let run: Vec<&MethodInfo> = delta.methods.iter().filter(|m| m.name == name).collect();
            let variants = dedup_variants(&run);
            let position = self
                .method_groups
                .binary_search_by(|g| g.name.as_str().cmp(name));
            if let Ok(index) = position
                && self
                    .method_groups
                    .get(index)
                    .is_some_and(|group| self.same_variants(&group.fingerprints, &variants))
            {
                continue;
            }
            if let Ok(index) = position {
                let old = self.method_groups.remove(index);
                stats.removed += old.ids.len();
                for id in old.ids {
                    self.remove_function(id, &mut changed);
                }
            }
            if variants.is_empty() {
                continue;
            }
            let group = self.add_group(name, &variants, &mut changed, &mut added);
            stats.added += group.ids.len();
            let index = position.unwrap_or_else(|index| index);
            self.method_groups
                .insert(index.min(self.method_groups.len()), group);
        }

        let mut names: Vec<&str> = delta.intent_names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let info = delta.intents.iter().find(|i| i.name == name);
            let position = self
                .intent_slots
                .binary_search_by(|s| s.info.name.as_str().cmp(name));
            if let (Ok(index), Some(info)) = (position, info)
                && self
                    .intent_slots
                    .get(index)
                    .is_some_and(|slot| slot.info == *info)
            {
                continue;
            }
            if let Ok(index) = position {
                let old = self.intent_slots.remove(index);
                stats.removed += 1;
                self.remove_function(old.id, &mut changed);
            }
            if let Some(info) = info {
                let id = self.add_function(Function::from_intent(info), &mut changed);
                added.push(id);
                stats.added += 1;
                let index = position.unwrap_or_else(|index| index);
                self.intent_slots.insert(
                    index.min(self.intent_slots.len()),
                    IntentSlot {
                        info: info.clone(),
                        id,
                    },
                );
            }
        }

        self.registry.settle();
        changed.sort_unstable();
        changed.dedup();
        added.sort_unstable();
        stats.renamed = self.apply_names(&changed, &added);
        stats.unchanged = self.slots.len().saturating_sub(stats.added + 2);
        stats
    }

    /// Builds the functions of one wire name's variants.
    fn add_group(
        &mut self,
        name: &str,
        variants: &[&MethodInfo],
        changed: &mut Vec<u32>,
        added: &mut Vec<u32>,
    ) -> MethodGroup {
        let shared = variants.len() > 1;
        let mut ids = Vec::with_capacity(variants.len());
        for info in variants {
            let id = self.add_function(Function::from_method(info, shared), changed);
            ids.push(id);
            added.push(id);
        }
        MethodGroup {
            name: name.to_owned(),
            fingerprints: variants.iter().map(|info| self.fingerprint(info)).collect(),
            ids,
        }
    }

    /// True when `new` has the variants last seen (same fingerprints, same order).
    fn same_variants(&self, old: &[u64], new: &[&MethodInfo]) -> bool {
        old.len() == new.len()
            && old
                .iter()
                .zip(new)
                .all(|(fingerprint, info)| *fingerprint == self.fingerprint(info))
    }

    /// A 64-bit hash of everything the API shows about a method variant.
    ///
    /// Storing this instead of a copy halves the memory a diff reads and saves the copy. A
    /// collision (about 2^-64 per change, seeded per catalogue) would only delay one update.
    fn fingerprint(&self, info: &MethodInfo) -> u64 {
        let mut h = self.hasher.build_hasher();
        info.name.hash(&mut h);
        info.display_name.hash(&mut h);
        info.description.hash(&mut h);
        info.input_signature.hash(&mut h);
        info.result_signature.hash(&mut h);
        info.object_types.hash(&mut h);
        info.streaming.hash(&mut h);
        h.write_usize(info.servers.len());
        for server in &info.servers {
            server.peer_id.hash(&mut h);
            server.local.hash(&mut h);
            h.write_usize(server.identity.len());
            for (key, value) in server.identity.iter() {
                key.hash(&mut h);
                match value.as_ref() {
                    Value::String(text) => {
                        h.write_u8(1);
                        text.hash(&mut h);
                    }
                    other => {
                        h.write_u8(2);
                        other.to_string().hash(&mut h);
                    }
                }
            }
        }
        h.finish()
    }

    /// Registers a new function (its name is resolved later, by [`Self::apply_names`]).
    fn add_function(&mut self, function: Function, changed: &mut Vec<u32>) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.index.add(id, &function.search_pieces());
        self.registry
            .add_users(&function.structs, &function.priority);
        self.namespace_add(&function.namespace.clone(), &function);
        changed.extend(
            self.names
                .insert(&function.candidate, Arc::clone(&function.priority), id),
        );
        self.slots.insert(
            id,
            Box::new(Slot {
                function,
                qualified: String::new(),
            }),
        );
        id
    }

    /// Unregisters a function and remembers it as departed.
    fn remove_function(&mut self, id: u32, changed: &mut Vec<u32>) {
        let Some(slot) = self.slots.remove(&id) else {
            return;
        };
        let function = &slot.function;
        self.index.remove(id);
        self.registry
            .remove_users(&function.structs, &function.priority);
        self.namespace_remove(&function.namespace, function);
        changed.extend(
            self.names
                .remove(&function.candidate, &function.priority, id),
        );
        if !slot.qualified.is_empty() {
            let key = ordered_key(&slot.qualified);
            if self.ordered.get(&key) == Some(&id) {
                self.ordered.remove(&key);
            }
            if self.by_name.get(&slot.qualified) == Some(&id) {
                self.by_name.remove(&slot.qualified);
            }
            self.remember_departed(Departed {
                python_name: slot.qualified.clone(),
                wire_name: function.wire_name().to_owned(),
                apps: function.apps.clone(),
                since_version: self.version,
                left_at_unix_ms: None,
            });
        }
    }

    /// Moves functions whose resolved names changed; returns how many existing ones were renamed.
    fn apply_names(&mut self, changed: &[u32], added: &[u32]) -> usize {
        let mut moves: Vec<(u32, String)> = Vec::new();
        for &id in changed {
            let Some(slot) = self.slots.get(&id) else {
                continue;
            };
            let Some(new) = self.names.name_of(id) else {
                continue;
            };
            if slot.qualified != new {
                moves.push((id, new.to_owned()));
            }
        }
        for (id, _) in &moves {
            let Some(slot) = self.slots.get(id) else {
                continue;
            };
            if slot.qualified.is_empty() {
                continue;
            }
            let key = ordered_key(&slot.qualified);
            if self.ordered.get(&key) == Some(id) {
                self.ordered.remove(&key);
            }
            if self.by_name.get(&slot.qualified) == Some(id) {
                self.by_name.remove(&slot.qualified);
            }
        }
        let mut renamed = 0;
        for (id, new) in moves {
            if added.binary_search(&id).is_err() {
                renamed += 1;
            }
            self.ordered.insert(ordered_key(&new), id);
            self.by_name.insert(new.clone(), id);
            self.departed.remove(&new);
            if let Some(slot) = self.slots.get_mut(&id) {
                slot.qualified = new;
            }
        }
        renamed
    }

    /// Records a departed function, forgetting the oldest beyond the configured memory.
    fn remember_departed(&mut self, departed: Departed) {
        let seq = self.departed_seq;
        self.departed_seq = self.departed_seq.wrapping_add(1);
        let name = departed.python_name.clone();
        self.departed.insert(name.clone(), (seq, departed));
        self.departed_order.push_back((name, seq));
        while self.departed_order.len() > self.config.departed_memory {
            if let Some((oldest, seq)) = self.departed_order.pop_front()
                && self.departed.get(&oldest).is_some_and(|(s, _)| *s == seq)
            {
                self.departed.remove(&oldest);
            }
        }
    }

    /// Counts `function` in its namespace.
    pub(super) fn namespace_add(&mut self, namespace: &str, function: &Function) {
        let stats = self.namespaces.entry(namespace.to_owned()).or_default();
        stats.functions += 1;
        for app in &function.apps {
            match stats
                .apps
                .binary_search_by(|(seen, _)| seen.as_str().cmp(app))
            {
                Ok(index) => stats.apps[index].1 += 1,
                Err(index) => stats.apps.insert(index, (app.clone(), 1)),
            }
        }
    }

    /// Uncounts `function` from its namespace.
    fn namespace_remove(&mut self, namespace: &str, function: &Function) {
        let Some(stats) = self.namespaces.get_mut(namespace) else {
            return;
        };
        stats.functions = stats.functions.saturating_sub(1);
        for app in &function.apps {
            if let Ok(index) = stats
                .apps
                .binary_search_by(|(seen, _)| seen.as_str().cmp(app))
            {
                let count = &mut stats.apps[index].1;
                *count = count.saturating_sub(1);
                if *count == 0 {
                    stats.apps.remove(index);
                }
            }
        }
        if stats.functions == 0 {
            self.namespaces.remove(namespace);
        }
    }
}

/// The variants of one wire name, first occurrence of each (accepts, returns) pair.
fn dedup_variants<'a>(run: &[&'a MethodInfo]) -> Vec<&'a MethodInfo> {
    let mut out: Vec<&MethodInfo> = Vec::with_capacity(run.len());
    for info in run {
        if !out.iter().any(|seen| {
            seen.input_signature == info.input_signature
                && seen.result_signature == info.result_signature
        }) {
            out.push(info);
        }
    }
    out
}
