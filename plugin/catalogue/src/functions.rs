//! The catalogue's call map as the sandbox's function set: the Python namespaces a snippet sees
//! and the signatures its calls are checked against. Pure: no I/O, no bus. Behind the `engine`
//! feature (it names the engine's types); every host of the engine (the desktop service, the
//! browser package) builds its function set here.

use std::collections::BTreeMap;

use codemode_engine::{FunctionSet, FunctionSpec, ParamSpec, preflight::departed_spec};

use crate::{CallKind, CallMap, CallSpec, Departed};

/// The departed functions of one catalogue version, by qualified name.
pub type DepartedMap = BTreeMap<String, Departed>;

/// The sandbox functions for every entry of `map`. Bus methods take keyword-only arguments;
/// intents take their context positionally; `raise_intent` and `find_intents` take all of
/// theirs positionally or by keyword, as their stubs show.
pub fn function_set(map: &CallMap) -> FunctionSet {
    function_set_with_departed(map, &DepartedMap::new())
}

/// [`function_set`] plus a departed spec per function that left, so pre-flight answers a call
/// to one with [`Departed::message`]. Live functions come first and win any name clash.
pub fn function_set_with_departed(map: &CallMap, departed: &DepartedMap) -> FunctionSet {
    FunctionSet::new(
        map.functions
            .values()
            .map(function_spec)
            .chain(
                departed
                    .values()
                    .filter(|gone| !map.functions.contains_key(&gone.python_name))
                    .map(|gone| departed_spec(&gone.python_name, &gone.message())),
            )
            .collect(),
    )
}

fn function_spec(spec: &CallSpec) -> FunctionSpec {
    let positional = |name: &str| match &spec.call {
        CallKind::Method { .. } => false,
        CallKind::Intent { .. } => name == "context",
        CallKind::RaiseIntent | CallKind::FindIntents | CallKind::Context { .. } => true,
    };
    FunctionSpec {
        name: spec.python_name.clone(),
        params: spec
            .args
            .iter()
            .map(|arg| {
                if positional(&arg.python) {
                    ParamSpec::positional(arg.python.clone(), arg.required)
                } else {
                    ParamSpec::keyword(arg.python.clone(), arg.required)
                }
            })
            .collect(),
        accepts_target: spec.takes_target,
        var_keywords: spec.var_kwargs,
        doc: None,
        departed: None,
    }
}
