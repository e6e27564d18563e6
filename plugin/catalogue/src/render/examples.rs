//! Example values for the `Example:` line of a stub, from a parameter's Python type or an FDC3
//! context type.

use super::{EXAMPLE_CHARS, py_str};
use crate::{fdc3, types::PyType};

/// An example value for `ty`.
pub(super) fn example_value(ty: &PyType, depth: usize) -> String {
    match ty {
        PyType::Bool => "True".to_owned(),
        PyType::Int => "1".to_owned(),
        PyType::Float => "1.5".to_owned(),
        PyType::Str => "\"...\"".to_owned(),
        PyType::DateTime => "datetime(2025, 1, 31, 9, 30)".to_owned(),
        PyType::Any => "None".to_owned(),
        PyType::AnyDict => "{}".to_owned(),
        PyType::List(item) => format!("[{}]", example_value(item, depth + 1)),
        PyType::Struct(def) | PyType::Tuple(def) => {
            if depth >= 3 {
                return "{}".to_owned();
            }
            let items: Vec<String> = def
                .fields
                .iter()
                .filter(|field| field.required)
                .take(6)
                .map(|field| {
                    format!(
                        "{}: {}",
                        py_str(&field.key),
                        example_value(&field.ty, depth + 1)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        PyType::Named(name) => match fdc3::by_class(name) {
            Some(block) => fdc3_example(block, depth),
            None => "{\"type\": \"fdc3.instrument\", \"id\": {\"ticker\": \"MSFT\"}}".to_owned(),
        },
        PyType::Union(items) => items
            .first()
            .map_or_else(|| "None".to_owned(), |item| example_value(item, depth)),
    }
}

/// An example value of an FDC3 context class: the schema's own example when it is short enough,
/// else one with just the required fields (a bare `{"type": …}` misses required keys such as
/// `fdc3.order`'s `id` or `fdc3.portfolio`'s `positions`, and type checkers reject it).
fn fdc3_example(block: &fdc3::Block, depth: usize) -> String {
    if let Some(example) = block
        .example
        .filter(|example| example.len() <= EXAMPLE_CHARS)
    {
        return example.to_owned();
    }
    let header = block.code.lines().next().unwrap_or("");
    if depth >= 4 || !header.starts_with("class ") || header.contains("total=False") {
        return "{}".to_owned();
    }
    let items: Vec<String> = block
        .code
        .lines()
        .skip(1)
        .filter_map(|line| {
            let field = line.strip_prefix("    ")?;
            if field.starts_with(['"', '#', ' ']) {
                return None;
            }
            let (key, ty) = field.split_once(": ")?;
            if ty.starts_with("NotRequired[") {
                return None;
            }
            Some(format!(
                "{}: {}",
                py_str(key),
                fdc3_type_example(ty, depth + 1)
            ))
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// An example value for a field type of the FDC3 contexts file (`Literal["fdc3.x"]`, `str`,
/// `list[Position]`, `Instrument`, …).
fn fdc3_type_example(ty: &str, depth: usize) -> String {
    let ty = ty.trim();
    if let Some(literals) = ty.strip_prefix("Literal[") {
        return literals
            .split([',', ']'])
            .next()
            .unwrap_or("None")
            .trim()
            .to_owned();
    }
    if ty.starts_with("list[") {
        return "[]".to_owned();
    }
    if ty.starts_with("dict[") || ty.starts_with("Mapping[") {
        return "{}".to_owned();
    }
    if let Some((first, _)) = ty.split_once(" | ") {
        return fdc3_type_example(first, depth);
    }
    match ty {
        "str" => "\"...\"".to_owned(),
        "int" => "1".to_owned(),
        "float" => "1.5".to_owned(),
        "bool" => "True".to_owned(),
        "datetime" => "datetime(2025, 1, 31, 9, 30)".to_owned(),
        "Context" => "{\"type\": \"fdc3.nothing\"}".to_owned(),
        name => fdc3::by_class(name)
            .map_or_else(|| "None".to_owned(), |block| fdc3_example(block, depth)),
    }
}
