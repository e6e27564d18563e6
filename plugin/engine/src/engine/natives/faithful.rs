//! Builtins RustPython gets slow or wrong, done the way CPython does them: `sorted` compares
//! plain keys natively (CPython's pre-check), `json.dumps` writes plain data natively (RustPython
//! has no C encoder), and `round(float, ndigits)` rounds the exact value half-to-even. Anything
//! outside the fast paths goes back to the interpreter's own code, which gives the answer or the
//! error.

use std::fmt::Write as _;

use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::{PyDict, PyFloat, PyInt, PyStr, PyTuple},
    function::FuncArgs,
};

/// A sort key the engine can compare without calling back into Python.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Int,
    Float,
    Str,
}

enum NativeKey<'a> {
    Int(&'a PyInt),
    Float(f64),
    Str(&'a [u8]),
    Tuple(Vec<NativeKey<'a>>),
}

impl NativeKey<'_> {
    /// The key for `object`, if it is an exact int, float (not NaN) or str, or a tuple of
    /// those; `kinds` records the kind seen at each tuple position (index 0 for plain keys)
    /// and must agree across all keys.
    fn of<'a>(
        object: &'a PyObjectRef,
        vm: &VirtualMachine,
        kinds: &mut Vec<Option<KeyKind>>,
        position: usize,
    ) -> Option<NativeKey<'a>> {
        let (key, kind) = if let Some(int) = object.downcast_ref_if_exact::<PyInt>(vm) {
            (NativeKey::Int(int), KeyKind::Int)
        } else if let Some(float) = object.downcast_ref_if_exact::<PyFloat>(vm) {
            let value = float.to_f64();
            if value.is_nan() {
                return None;
            }
            (NativeKey::Float(value), KeyKind::Float)
        } else if let Some(text) = object.downcast_ref_if_exact::<PyStr>(vm) {
            (NativeKey::Str(text.as_wtf8().as_bytes()), KeyKind::Str)
        } else if position == 0
            && let Some(tuple) = object.downcast_ref_if_exact::<PyTuple>(vm)
        {
            if kinds.first().is_some_and(Option::is_some) {
                return None;
            }
            let mut items = Vec::with_capacity(tuple.len());
            for (index, item) in tuple.as_slice().iter().enumerate() {
                items.push(Self::of(item, vm, kinds, index + 1)?);
            }
            return Some(NativeKey::Tuple(items));
        } else {
            return None;
        };
        if kinds.len() <= position {
            kinds.resize(position + 1, None);
        }
        match kinds[position] {
            Some(seen) if seen != kind => None,
            _ => {
                kinds[position] = Some(kind);
                Some(key)
            }
        }
    }

    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a.as_bigint().cmp(b.as_bigint()),
            // Neither is NaN (checked in `of`).
            (Self::Float(a), Self::Float(b)) => {
                a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
            }
            (Self::Str(a), Self::Str(b)) => a.cmp(b),
            (Self::Tuple(a), Self::Tuple(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let order = x.cmp(y);
                    if order.is_ne() {
                        return order;
                    }
                }
                a.len().cmp(&b.len())
            }
            // Kinds agree per position (checked in `of`).
            _ => std::cmp::Ordering::Equal,
        }
    }
}

/// `sorted(iterable, /, *, key=None, reverse=False)`. RustPython's sort compares every pair
/// through Python's `<` and sorts short runs by linear insertion; CPython's own sort first
/// checks whether all keys share a plain type and then compares them natively. This does the
/// same for ints, floats (no NaN), strs and tuples of them, with Rust's stable sort; any other
/// keys are sorted by the interpreter's timsort with `<`, as before. The key function is called
/// once per item either way.
pub(super) fn sorted(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let FuncArgs {
        args: positional,
        kwargs,
    } = args;
    if positional.len() != 1 {
        return Err(vm.new_type_error(format!(
            "sorted expected 1 argument, got {}",
            positional.len()
        )));
    }
    let mut key = None;
    let mut reverse = false;
    for (name, value) in kwargs {
        match name.as_str() {
            "key" => key = (!vm.is_none(&value)).then_some(value),
            "reverse" => reverse = value.try_to_bool(vm)?,
            other => {
                return Err(vm.new_type_error(format!(
                    "'{other}' is an invalid keyword argument for sort()"
                )));
            }
        }
    }
    let items: Vec<PyObjectRef> = vm.extract_elements_with(&positional[0], Ok)?;
    let keys: Vec<PyObjectRef> = match &key {
        Some(key) => items
            .iter()
            .map(|item| key.call((item.clone(),), vm))
            .collect::<PyResult<_>>()?,
        None => items.clone(),
    };
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut kinds = Vec::new();
    let native: Option<Vec<NativeKey<'_>>> = keys
        .iter()
        .map(|key| NativeKey::of(key, vm, &mut kinds, 0))
        .collect();
    if let Some(native) = native {
        if reverse {
            order.sort_by(|&a, &b| native[b].cmp(&native[a]));
        } else {
            order.sort_by(|&a, &b| native[a].cmp(&native[b]));
        }
    } else {
        use rustpython_vm::types::PyComparisonOp;
        // The interpreter's own algorithm: stable, errors from `<` propagate.
        timsort::try_sort_by_gt(&mut order, |&a, &b| {
            if reverse {
                keys[a].rich_compare_bool(&keys[b], PyComparisonOp::Lt, vm)
            } else {
                keys[b].rich_compare_bool(&keys[a], PyComparisonOp::Lt, vm)
            }
        })?;
    }
    let sorted: Vec<PyObjectRef> = order
        .into_iter()
        .map(|index| items[index].clone())
        .collect();
    Ok(vm.ctx.new_list(sorted).into())
}

/// How `json.dumps` was asked to write (its `JSONEncoder`'s settings).
pub(crate) struct JsonStyle {
    pub(crate) ensure_ascii: bool,
    pub(crate) allow_nan: bool,
    pub(crate) sort_keys: bool,
    pub(crate) indent: Option<String>,
    pub(crate) item_separator: String,
    pub(crate) key_separator: String,
}

/// Deeper than this the Python encoder takes over (it reports circular references).
const JSON_MAX_DEPTH: usize = 200;

/// Longer output than this goes to the Python encoder too, so a huge document meets the
/// interpreter's own allocation checks rather than a failed allocation here.
const JSON_MAX_NATIVE_BYTES: usize = 64 << 20;

/// Writes `value` as CPython's `json` would, for exact dicts, lists, tuples, strs, ints,
/// floats, bools and `None`. Returns false, leaving `out` half-written, for anything else (a
/// subclass, an object for `default`, a key `json` would refuse or sort with an error, NaN
/// with `allow_nan=False`, a lone surrogate without `ensure_ascii`, great depth): the caller
/// then runs the Python encoder, which gives the answer or the error. RustPython's `_json` has
/// no C encoder, so `json.dumps` of 10 MB took seconds in pure Python.
pub(crate) fn json_encode(
    value: &PyObjectRef,
    style: &JsonStyle,
    depth: usize,
    out: &mut String,
    vm: &VirtualMachine,
) -> bool {
    use rustpython_vm::builtins::PyList;
    if depth > JSON_MAX_DEPTH || out.len() > JSON_MAX_NATIVE_BYTES {
        return false;
    }
    if vm.is_none(value) {
        out.push_str("null");
    } else if value.class().is(vm.ctx.types.bool_type) {
        let truth = value.is(&vm.ctx.true_value);
        out.push_str(if truth { "true" } else { "false" });
    } else if let Some(int) = value.downcast_ref_if_exact::<PyInt>(vm) {
        out.push_str(&int.as_bigint().to_string());
    } else if let Some(float) = value.downcast_ref_if_exact::<PyFloat>(vm) {
        return json_float(float.to_f64(), style, out);
    } else if let Some(text) = value.downcast_ref_if_exact::<PyStr>(vm) {
        return json_string(text, style.ensure_ascii, out);
    } else if let Some(list) = value.downcast_ref_if_exact::<PyList>(vm) {
        let items = list.borrow_vec().to_vec();
        return json_array(&items, style, depth, out, vm);
    } else if let Some(tuple) = value.downcast_ref_if_exact::<PyTuple>(vm) {
        return json_array(tuple.as_slice(), style, depth, out, vm);
    } else if let Some(dict) = value.downcast_ref_if_exact::<PyDict>(vm) {
        let mut entries: Vec<(String, PyObjectRef)> = Vec::with_capacity(dict.__len__());
        let mut all_str = true;
        for (key, item) in dict {
            let Some(key) = json_key(&key, style, &mut all_str, vm) else {
                return false;
            };
            entries.push((key, item));
        }
        if style.sort_keys {
            if !all_str {
                // CPython sorts the original keys: mixed types raise, so the Python encoder.
                return false;
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
        }
        if entries.is_empty() {
            out.push_str("{}");
            return true;
        }
        out.push('{');
        for (index, (key, item)) in entries.iter().enumerate() {
            if index > 0 {
                out.push_str(&style.item_separator);
            }
            json_newline(style, depth + 1, out);
            if !json_text(key, style.ensure_ascii, out) {
                return false;
            }
            out.push_str(&style.key_separator);
            if !json_encode(item, style, depth + 1, out, vm) {
                return false;
            }
        }
        json_newline(style, depth, out);
        out.push('}');
    } else {
        return false;
    }
    true
}

fn json_array(
    items: &[PyObjectRef],
    style: &JsonStyle,
    depth: usize,
    out: &mut String,
    vm: &VirtualMachine,
) -> bool {
    if items.is_empty() {
        out.push_str("[]");
        return true;
    }
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(&style.item_separator);
        }
        json_newline(style, depth + 1, out);
        if !json_encode(item, style, depth + 1, out, vm) {
            return false;
        }
    }
    json_newline(style, depth, out);
    out.push(']');
    true
}

fn json_newline(style: &JsonStyle, depth: usize, out: &mut String) {
    if let Some(indent) = &style.indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    }
}

/// A dict key as `json` turns it into a string (`None` for keys it refuses).
fn json_key(
    key: &PyObjectRef,
    style: &JsonStyle,
    all_str: &mut bool,
    vm: &VirtualMachine,
) -> Option<String> {
    if let Some(text) = key.downcast_ref_if_exact::<PyStr>(vm) {
        return text.to_str().map(str::to_owned);
    }
    *all_str = false;
    if vm.is_none(key) {
        return Some("null".to_owned());
    }
    if key.class().is(vm.ctx.types.bool_type) {
        return Some(
            if key.is(&vm.ctx.true_value) {
                "true"
            } else {
                "false"
            }
            .to_owned(),
        );
    }
    if let Some(int) = key.downcast_ref_if_exact::<PyInt>(vm) {
        return Some(int.as_bigint().to_string());
    }
    if let Some(float) = key.downcast_ref_if_exact::<PyFloat>(vm) {
        let mut text = String::new();
        return json_float(float.to_f64(), style, &mut text).then_some(text);
    }
    None
}

fn json_float(value: f64, style: &JsonStyle, out: &mut String) -> bool {
    if value.is_finite() {
        out.push_str(&rustpython_vm::literal::float::to_string(value));
        return true;
    }
    if !style.allow_nan {
        return false;
    }
    out.push_str(if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    });
    true
}

fn json_string(text: &PyStr, ensure_ascii: bool, out: &mut String) -> bool {
    if ensure_ascii {
        out.push('"');
        for code in text.as_wtf8().code_points() {
            json_escape_ascii(code.to_u32(), out);
        }
        out.push('"');
        return true;
    }
    match text.to_str() {
        Some(text) => json_text(text, false, out),
        None => false,
    }
}

/// A quoted JSON string, escaped as CPython's `encode_basestring(_ascii)` does.
fn json_text(text: &str, ensure_ascii: bool, out: &mut String) -> bool {
    out.push('"');
    for ch in text.chars() {
        if ensure_ascii {
            json_escape_ascii(u32::from(ch), out);
            continue;
        }
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ch if u32::from(ch) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(ch));
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
    true
}

fn json_escape_ascii(code: u32, out: &mut String) {
    match code {
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        0x0a => out.push_str("\\n"),
        0x0d => out.push_str("\\r"),
        0x09 => out.push_str("\\t"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        0x20..=0x7e => out.push(char::from_u32(code).unwrap_or('?')),
        0x10000.. => {
            let value = code - 0x10000;
            let high = 0xd800 | ((value >> 10) & 0x3ff);
            let low = 0xdc00 | (value & 0x3ff);
            let _ = write!(out, "\\u{high:04x}\\u{low:04x}");
        }
        _ => {
            let _ = write!(out, "\\u{code:04x}");
        }
    }
}

/// The largest `ndigits` that can change a float (CPython's `NDIGITS_MAX`).
const ROUND_NDIGITS_MAX: i64 = 323;

/// `round(number, ndigits)`. RustPython 0.5 scales by `10**ndigits` and rounds, so ties that
/// are not exact in binary go the wrong way (`round(2.675, 2)` gave 2.68; CPython: 2.67).
/// CPython rounds the float's exact decimal value half-to-even, which is what Rust's
/// fixed-precision formatting does, so a float with `ndigits >= 0` is formatted and read
/// back; everything else goes to the interpreter's own `round`.
pub(super) fn round(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    if let [number] = args.args.as_slice()
        && args.kwargs.is_empty()
        && let Some(number) = number.downcast_ref_if_exact::<PyFloat>(vm)
    {
        // RustPython's own text is "ValueError: cannot convert…" (the type name twice).
        let value = number.to_f64();
        if value.is_nan() {
            return Err(vm.new_value_error("cannot convert float NaN to integer"));
        }
        if value.is_infinite() {
            return Err(vm.new_overflow_error("cannot convert float infinity to integer"));
        }
    }
    let positional = args.args.len() == 2 && args.kwargs.is_empty();
    if positional
        && let Some(number) = args.args[0].downcast_ref_if_exact::<PyFloat>(vm)
        && let Some(ndigits) = args.args[1].downcast_ref::<PyInt>()
        && let Ok(ndigits) = ndigits.try_to_primitive::<i64>(vm)
        && ndigits >= 0
    {
        let value = number.to_f64();
        if !value.is_finite() || ndigits > ROUND_NDIGITS_MAX {
            return Ok(vm.ctx.new_float(value).into());
        }
        let precision = usize::try_from(ndigits).unwrap_or(0);
        let rounded: f64 = format!("{value:.precision$}").parse().unwrap_or(value);
        return Ok(vm.ctx.new_float(rounded).into());
    }
    vm.builtins.get_attr("round", vm)?.call(args, vm)
}
