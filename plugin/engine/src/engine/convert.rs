//! JSON ⇄ Python values.
//!
//! Inbound (bus results): JSON becomes `dict` (a subclass whose `KeyError` names the keys it
//! has)/`list`/`str`/`int`/`float`/`bool`/`None`, and
//! `"#T42_DATE#<ms>"` strings become timezone-aware UTC `datetime`s.
//! Outbound, two policies: **arguments** must be JSON-like (a `TypeError` otherwise; datetimes
//! become `"#T42_DATE#<ms>"`, naive ones taken as UTC); a **result** never fails (datetimes
//! become ISO 8601 strings, sets lists, big ints and non-finite floats strings, anything else
//! its `repr`).

use codemode_protocol::dates::parse_t42_date;
use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::{PyDict, PyFloat, PyInt, PyList, PyStr, PyTuple},
};
use serde_json::{Map, Number, Value};

/// Deeper nesting than this is refused (arguments) or replaced by a marker (results).
pub(crate) const MAX_DEPTH: usize = 64;

/// More values than this in one result are replaced by a marker (keeps a huge result from
/// exhausting memory before the size cap shapes it).
const MAX_NODES: usize = 200_000;

/// Which policy applies to values that are not plain JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Arguments of a bus call: strict.
    Argument,
    /// The snippet's answer: lenient, never fails.
    Result,
}

/// Python helpers from `_codemode` the conversion needs.
pub(crate) struct Helpers<'a> {
    /// `_convert_other(obj, for_bus) -> JSON-able value`.
    pub(crate) convert_other: &'a PyObjectRef,
    /// `_date_from_ms(ms) -> datetime`.
    pub(crate) date_from_ms: &'a PyObjectRef,
    /// `_Record`: the dict class of inbound records (its `KeyError` names the keys it has).
    pub(crate) record: &'a PyObjectRef,
}

/// Converts a Python value to JSON under `direction`'s policy.
pub(crate) fn to_json(
    vm: &VirtualMachine,
    helpers: &Helpers<'_>,
    object: &PyObjectRef,
    direction: Direction,
) -> PyResult<Value> {
    to_json_marked(vm, helpers, object, direction).map(|(value, _)| value)
}

/// Like [`to_json`], and says whether parts were replaced by a marker (too deep or too big).
pub(crate) fn to_json_marked(
    vm: &VirtualMachine,
    helpers: &Helpers<'_>,
    object: &PyObjectRef,
    direction: Direction,
) -> PyResult<(Value, bool)> {
    let mut budget = Budget::default();
    let value = to_json_inner(vm, helpers, object, direction, 0, &mut budget)?;
    Ok((value, budget.cut))
}

#[derive(Default)]
struct Budget {
    nodes: usize,
    cut: bool,
}

fn to_json_inner(
    vm: &VirtualMachine,
    helpers: &Helpers<'_>,
    object: &PyObjectRef,
    direction: Direction,
    depth: usize,
    nodes: &mut Budget,
) -> PyResult<Value> {
    nodes.nodes += 1;
    if depth > MAX_DEPTH || nodes.nodes > MAX_NODES {
        nodes.cut = true;
        return match direction {
            Direction::Argument => Err(vm.new_value_error(format!(
                "bus call arguments nest deeper than {MAX_DEPTH} levels"
            ))),
            Direction::Result => Ok(Value::String("… [nested too deep or too large]".into())),
        };
    }
    if vm.is_none(object) {
        return Ok(Value::Null);
    }
    if object.class().is(vm.ctx.types.bool_type) {
        return Ok(Value::Bool(object.is(&vm.ctx.true_value)));
    }
    if let Some(int) = object.downcast_ref::<PyInt>() {
        return int_to_json(vm, int, direction);
    }
    if let Some(float) = object.downcast_ref::<PyFloat>() {
        return float_to_json(vm, float.to_f64(), direction);
    }
    if let Some(text) = object.downcast_ref::<PyStr>() {
        return Ok(Value::String(text.to_string_lossy().into_owned()));
    }
    if let Some(list) = object.downcast_ref::<PyList>() {
        let items: Vec<PyObjectRef> = list.borrow_vec().to_vec();
        return items
            .iter()
            .map(|item| to_json_inner(vm, helpers, item, direction, depth + 1, nodes))
            .collect::<PyResult<Vec<Value>>>()
            .map(Value::Array);
    }
    if let Some(tuple) = object.downcast_ref::<PyTuple>() {
        return tuple
            .as_slice()
            .iter()
            .map(|item| to_json_inner(vm, helpers, item, direction, depth + 1, nodes))
            .collect::<PyResult<Vec<Value>>>()
            .map(Value::Array);
    }
    if let Some(dict) = object.downcast_ref::<PyDict>() {
        let mut map = Map::new();
        let entries: Vec<(PyObjectRef, PyObjectRef)> = dict.into_iter().collect();
        for (key, value) in entries {
            let key = dict_key(vm, &key, direction)?;
            let value = to_json_inner(vm, helpers, &value, direction, depth + 1, nodes)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    // Dates, sets, decimals, objects: ask the Python side.
    let for_bus = direction == Direction::Argument;
    let converted = helpers
        .convert_other
        .call((object.clone(), vm.ctx.new_bool(for_bus)), vm)?;
    if converted.is(object) {
        return Ok(Value::String(object.repr(vm).map_or_else(
            |_| "<object>".to_owned(),
            |text| text.to_string_lossy().into_owned(),
        )));
    }
    to_json_inner(vm, helpers, &converted, direction, depth + 1, nodes)
}

fn int_to_json(vm: &VirtualMachine, int: &PyInt, direction: Direction) -> PyResult<Value> {
    if let Ok(small) = int.try_to_primitive::<i64>(vm) {
        return Ok(Value::Number(small.into()));
    }
    if let Ok(big) = int.try_to_primitive::<u64>(vm) {
        return Ok(Value::Number(big.into()));
    }
    match direction {
        Direction::Argument => Err(vm
            .new_overflow_error("int too large for a bus call argument (JSON numbers are 64-bit)")),
        Direction::Result => Ok(Value::String(int.as_bigint().to_string())),
    }
}

fn float_to_json(vm: &VirtualMachine, value: f64, direction: Direction) -> PyResult<Value> {
    if let Some(number) = Number::from_f64(value) {
        return Ok(Value::Number(number));
    }
    match direction {
        Direction::Argument => Err(vm.new_value_error(format!(
            "{value} is not a valid JSON number for a bus call argument"
        ))),
        Direction::Result => Ok(Value::String(
            if value.is_nan() {
                "NaN"
            } else if value > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }
            .to_owned(),
        )),
    }
}

/// Dict keys as JSON does it: strings as is, numbers, booleans and `None` as text.
fn dict_key(vm: &VirtualMachine, key: &PyObjectRef, direction: Direction) -> PyResult<String> {
    if let Some(text) = key.downcast_ref::<PyStr>() {
        return Ok(text.to_string_lossy().into_owned());
    }
    if vm.is_none(key) {
        return Ok("null".to_owned());
    }
    if key.class().is(vm.ctx.types.bool_type) {
        return Ok(if key.is(&vm.ctx.true_value) {
            "true"
        } else {
            "false"
        }
        .to_owned());
    }
    if key.downcast_ref::<PyInt>().is_some() || key.downcast_ref::<PyFloat>().is_some() {
        return Ok(key.str(vm)?.to_string_lossy().into_owned());
    }
    match direction {
        Direction::Argument => Err(vm.new_type_error(format!(
            "bus call argument keys must be str, not {}",
            key.class().name()
        ))),
        Direction::Result => Ok(key.repr(vm).map_or_else(
            |_| "<key>".to_owned(),
            |text| text.to_string_lossy().into_owned(),
        )),
    }
}

/// Converts a bus value to Python; `#T42_DATE#` strings become `datetime`s.
pub(crate) fn to_python(
    vm: &VirtualMachine,
    helpers: &Helpers<'_>,
    value: &Value,
) -> PyResult<PyObjectRef> {
    Ok(match value {
        Value::Null => vm.ctx.none(),
        Value::Bool(flag) => vm.ctx.new_bool(*flag).into(),
        Value::Number(number) => {
            if let Some(small) = number.as_i64() {
                vm.ctx.new_int(small).into()
            } else if let Some(big) = number.as_u64() {
                vm.ctx.new_int(big).into()
            } else {
                vm.ctx.new_float(number.as_f64().unwrap_or(f64::NAN)).into()
            }
        }
        Value::String(text) => match parse_t42_date(text) {
            Some(millis) => helpers.date_from_ms.call((vm.ctx.new_int(millis),), vm)?,
            None => vm.ctx.new_str(text.as_str()).into(),
        },
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|item| to_python(vm, helpers, item))
                .collect::<PyResult<Vec<_>>>()?;
            vm.ctx.new_list(items).into()
        }
        Value::Object(map) => {
            let record = helpers.record.call((), vm)?;
            let dict = record
                .downcast_ref::<PyDict>()
                .ok_or_else(|| vm.new_type_error("_Record is not a dict"))?;
            for (key, item) in map {
                dict.set_item(key.as_str(), to_python(vm, helpers, item)?, vm)?;
            }
            record
        }
    })
}
