//! The FDC3 2.2 context types as Python TypedDicts.
//!
//! `fdc3_contexts.py` is generated from the official `@finos/fdc3-context` JSON schemas by
//! `tests/fixtures/fdc3-context/generate.mjs` and committed. Each class starts with a
//! `# @block <Class> [<context type>]` line, followed by `# @deps` and an optional
//! `# @example`; this module splits the text at those markers (once, lazily) so stubs can emit
//! each class at most once, dependencies first.

use std::{collections::BTreeSet, sync::OnceLock};

/// The generated Python text (also valid on its own: it type-checks with mypy).
pub(crate) const SOURCE: &str = include_str!("fdc3_contexts.py");

/// One class (or alias) of the generated file.
#[derive(Debug)]
pub(crate) struct Block {
    /// The Python name, e.g. `Instrument`.
    pub(crate) class: &'static str,
    /// The FDC3 context type it describes, e.g. `fdc3.instrument` (none for helper classes).
    pub(crate) context_type: Option<&'static str>,
    /// Classes its fields refer to.
    pub(crate) deps: Vec<&'static str>,
    /// The schema's first example as a Python literal.
    pub(crate) example: Option<&'static str>,
    /// The class source, without the marker lines.
    pub(crate) code: String,
}

/// Every block, in file order (dependencies before users).
pub(crate) fn blocks() -> &'static [Block] {
    static BLOCKS: OnceLock<Vec<Block>> = OnceLock::new();
    BLOCKS.get_or_init(|| parse(SOURCE))
}

/// The block of class `name`.
pub(crate) fn by_class(name: &str) -> Option<&'static Block> {
    blocks().iter().find(|block| block.class == name)
}

/// The block describing context type `context_type` (exact, else ASCII case-insensitive).
pub(crate) fn by_context_type(context_type: &str) -> Option<&'static Block> {
    let blocks = blocks();
    blocks
        .iter()
        .find(|block| block.context_type == Some(context_type))
        .or_else(|| {
            blocks.iter().find(|block| {
                block
                    .context_type
                    .is_some_and(|t| t.eq_ignore_ascii_case(context_type))
            })
        })
}

/// True when the generated file defines a class (or alias) called `name`.
pub(crate) fn class_exists(name: &str) -> bool {
    by_class(name).is_some()
}

/// `roots` plus everything they depend on, dependencies first, each once.
pub(crate) fn closure<'a>(roots: impl IntoIterator<Item = &'a str>) -> Vec<&'static Block> {
    let mut wanted = BTreeSet::new();
    let mut stack: Vec<&str> = roots.into_iter().collect();
    while let Some(name) = stack.pop() {
        if let Some(block) = by_class(name)
            && wanted.insert(block.class)
        {
            stack.extend(block.deps.iter().copied());
        }
    }
    blocks()
        .iter()
        .filter(|block| wanted.contains(block.class))
        .collect()
}

/// Splits the generated text at its `# @block` markers.
fn parse(source: &'static str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for line in source.lines() {
        if let Some(rest) = line.strip_prefix("# @block ") {
            if let Some(done) = current.take() {
                blocks.push(finish(done));
            }
            let mut words = rest.split_whitespace();
            let class = words.next().unwrap_or("");
            current = Some(Block {
                class,
                context_type: words.next(),
                deps: Vec::new(),
                example: None,
                code: String::new(),
            });
            continue;
        }
        let Some(block) = current.as_mut() else {
            continue;
        };
        if let Some(rest) = line.strip_prefix("# @deps") {
            block.deps = rest.split_whitespace().collect();
        } else if let Some(rest) = line.strip_prefix("# @example ") {
            block.example = Some(rest);
        } else {
            block.code.push_str(line);
            block.code.push('\n');
        }
    }
    if let Some(done) = current.take() {
        blocks.push(finish(done));
    }
    blocks
}

/// Drops the blank lines that separate blocks in the file.
fn finish(mut block: Block) -> Block {
    let trimmed = block.code.trim_end().to_owned();
    block.code = trimmed;
    block.code.push('\n');
    block
}
