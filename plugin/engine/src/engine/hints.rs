//! Hints that make a run-time error teach the fix: the keys a bus record has when a snippet
//! asked it for one it lacks.

use std::fmt::Write as _;

use rustpython_vm::{AsObject, PyObjectRef, VirtualMachine, builtins::PyStr};

use crate::spec::closest;

/// Most keys named in a hint.
const MAX_KEYS: usize = 24;

/// For a `KeyError` raised by a bus record (see `_Record` in `_codemode.py`): "; this dict (a
/// bus result) has the keys 'name', 'adviser'. Did you mean: 'adviser'?". `None` for any
/// other `KeyError`.
pub(super) fn record_keys(vm: &VirtualMachine, exception: &PyObjectRef) -> Option<String> {
    let keys = exception.get_attr("_cm_keys", vm).ok()?;
    let keys: Vec<PyObjectRef> = vm.extract_elements_with(&keys, Ok).ok()?;
    let names: Vec<String> = keys
        .iter()
        .filter_map(|key| {
            key.repr(vm)
                .ok()
                .map(|text| text.to_string_lossy().into_owned())
        })
        .collect();
    let wanted = exception
        .get_attr("args", vm)
        .ok()
        .and_then(|args| vm.extract_elements_with(&args, Ok).ok())
        .and_then(|args: Vec<PyObjectRef>| args.into_iter().next())
        .and_then(|key| {
            key.downcast_ref::<PyStr>()
                .map(|text| text.to_string_lossy().into_owned())
        });
    let mut hint = if names.is_empty() {
        "; this dict (a bus result) is empty".to_owned()
    } else {
        let shown: Vec<&str> = names.iter().take(MAX_KEYS).map(String::as_str).collect();
        let more = names.len().saturating_sub(MAX_KEYS);
        format!(
            "; this dict (a bus result) has the key{} {}{}",
            if names.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )
    };
    let plain: Vec<String> = keys
        .iter()
        .filter(|key| key.class().is(vm.ctx.types.str_type))
        .filter_map(|key| {
            key.downcast_ref::<PyStr>()
                .map(|text| text.to_string_lossy().into_owned())
        })
        .collect();
    if let Some(wanted) = wanted
        && let Some(best) = closest(&wanted, plain.iter().map(String::as_str), 1).first()
    {
        let _ = write!(hint, ". Did you mean: '{best}'?");
    }
    Some(hint)
}
