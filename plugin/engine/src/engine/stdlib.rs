//! The Python modules inside the sandbox and the import allowlist.
//!
//! Pure-Python modules are frozen at build time (see `plugin/build.rs`: a curated subset of the
//! CPython `Lib` shipped by `rustpython-pylib`, plus codemode's runtime in `../python`); native
//! ones come from
//! `rustpython-stdlib`, filtered by name. Nothing in either touches files, sockets, processes
//! or the environment. Snippets import through [`import_module`]: only allowlisted names, each
//! handed out as a fresh *view* (a new module object holding the public names, with
//! non-allowlisted submodules removed), so assigning to `json.dumps` changes nothing for the
//! next run.

use std::collections::HashMap;

use rustpython_vm::{
    AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine,
    builtins::{PyModule, PyModuleDef, PyStr},
    frozen::FrozenModule,
    function::FuncArgs,
};

// Rebuild when the runtime changes (the freeze macro does not track its inputs).
const _RUNTIME_SOURCE: &str = include_str!("../python/_codemode.py");
const _ASYNCIO_SOURCE: &str = include_str!("../python/asyncio.py");
const _OS_SOURCE: &str = include_str!("../python/os.py");
const _LOCALE_SOURCE: &str = include_str!("../python/locale.py");

/// The modules a snippet may import by default. `collections.abc` comes with `collections`.
///
/// Deliberately absent although frozen in: `random` and `decimal` (process-wide state a run
/// could leave behind: the seed, the context), `operator` and `string` (`attrgetter` and
/// `Formatter.get_field` reach attributes by computed names).
pub const DEFAULT_ALLOWED_IMPORTS: &[&str] = &[
    "json",
    "math",
    "re",
    "datetime",
    "collections",
    "itertools",
    "functools",
    "statistics",
    "asyncio",
    "heapq",
    "bisect",
];

/// Native modules taken from `rustpython-stdlib` (the pure-Python modules above need them).
const NATIVE_MODULES: &[&str] = &[
    "math",
    "_json",
    "_contextvars",
    "_random",
    "_bisect",
    "_statistics",
];

/// The frozen pure-Python modules.
pub(crate) fn frozen_modules() -> impl Iterator<Item = (&'static str, FrozenModule)> {
    include!(concat!(env!("OUT_DIR"), "/frozen_pylib.rs")).into_iter()
}

/// The native module definitions to register.
pub(crate) fn native_modules(ctx: &rustpython_vm::Context) -> Vec<&'static PyModuleDef> {
    rustpython_stdlib::stdlib_module_defs(ctx)
        .into_iter()
        .filter(|def| NATIVE_MODULES.contains(&def.name.as_str()))
        .collect()
}

/// The real modules behind the allowlist, imported once per interpreter.
pub(crate) struct Modules {
    real: HashMap<String, PyObjectRef>,
}

impl Modules {
    /// Imports every allowed module (and `collections.abc`) through the real machinery.
    pub(crate) fn load(vm: &VirtualMachine, allowed: &[String]) -> PyResult<Self> {
        let mut real = HashMap::new();
        for name in allowed {
            let module = vm.import(&vm.ctx.new_str(name.as_str()), 0)?;
            real.insert(name.clone(), module);
        }
        if let Some(collections) = real.get("collections") {
            let abc = collections.get_attr("abc", vm)?;
            real.insert("collections.abc".to_owned(), abc);
        }
        Ok(Self { real })
    }

    /// Whether `name` may be imported by snippets.
    pub(crate) fn is_allowed(&self, name: &str) -> bool {
        self.real.contains_key(name)
    }

    /// The allowed names, sorted (for the `ImportError` message).
    pub(crate) fn allowed_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .real
            .keys()
            .map(String::as_str)
            .filter(|name| !name.contains('.'))
            .collect();
        names.sort_unstable();
        names
    }

    /// A fresh view of module `name` for one run (cached in `views` for the run).
    pub(crate) fn view(
        &self,
        vm: &VirtualMachine,
        name: &str,
        views: &mut HashMap<String, PyObjectRef>,
    ) -> PyResult<Option<PyObjectRef>> {
        if let Some(view) = views.get(name) {
            return Ok(Some(view.clone()));
        }
        let Some(real) = self.real.get(name) else {
            return Ok(None);
        };
        let Some(real_module) = real.downcast_ref::<PyModule>() else {
            return Ok(Some(real.clone()));
        };
        let dict = vm.ctx.new_dict();
        // Insert first so cycles (`collections.abc` ↔ `collections`) resolve to the view.
        let view: PyObjectRef = vm.new_module(name, dict.clone(), None).into();
        views.insert(name.to_owned(), view.clone());
        let entries: Vec<(PyObjectRef, PyObjectRef)> = real_module.dict().into_iter().collect();
        for (key, value) in entries {
            let Some(key_text) = key.downcast_ref::<PyStr>() else {
                continue;
            };
            let key_text = key_text.to_string_lossy();
            let dunder = key_text.starts_with("__") && key_text.ends_with("__");
            if key_text.starts_with('_') && !dunder {
                continue;
            }
            if matches!(
                &*key_text,
                "__builtins__" | "__loader__" | "__spec__" | "__path__"
            ) {
                continue;
            }
            if value.downcast_ref::<PyModule>().is_some() {
                let Some(alias) = self.alias_of(&value) else {
                    continue;
                };
                if let Some(sub_view) = self.view(vm, &alias, views)? {
                    dict.set_item(&*key_text, sub_view, vm)?;
                }
                continue;
            }
            dict.set_item(&*key_text, value, vm)?;
        }
        Ok(Some(view))
    }

    fn alias_of(&self, module: &PyObjectRef) -> Option<String> {
        self.real
            .iter()
            .find(|(_, real)| real.is(module))
            .map(|(name, _)| name.clone())
    }
}

/// Builds the `ImportError` for a refused import.
pub(crate) fn refused(
    vm: &VirtualMachine,
    name: &str,
    allowed: &[&str],
) -> PyRef<rustpython_vm::builtins::PyBaseException> {
    vm.new_import_error(
        format!(
            "import of '{name}' is not allowed in the sandbox; allowed modules: {}",
            allowed.join(", ")
        ),
        vm.ctx.new_str(name),
    )
}

/// The arguments of `__import__(name, globals=None, locals=None, fromlist=(), level=0)`.
pub(crate) struct ImportArgs {
    pub(crate) name: String,
    pub(crate) fromlist: Vec<String>,
    pub(crate) level: usize,
}

impl ImportArgs {
    pub(crate) fn parse(vm: &VirtualMachine, args: &FuncArgs) -> PyResult<Self> {
        let name_object = args
            .args
            .first()
            .cloned()
            .or_else(|| args.kwargs.get("name").cloned())
            .ok_or_else(|| vm.new_type_error("__import__() missing required argument 'name'"))?;
        let name = name_object
            .downcast_ref::<PyStr>()
            .ok_or_else(|| vm.new_type_error("__import__() argument 'name' must be str"))?
            .to_string_lossy()
            .into_owned();
        let fromlist_object = args
            .args
            .get(3)
            .cloned()
            .or_else(|| args.kwargs.get("fromlist").cloned());
        let mut fromlist = Vec::new();
        if let Some(list) = fromlist_object
            && !vm.is_none(&list)
        {
            for item in list.try_to_value::<Vec<PyObjectRef>>(vm)? {
                if let Some(text) = item.downcast_ref::<PyStr>() {
                    fromlist.push(text.to_string_lossy().into_owned());
                }
            }
        }
        let level_object = args
            .args
            .get(4)
            .cloned()
            .or_else(|| args.kwargs.get("level").cloned());
        let level = match level_object {
            Some(level) => level.try_to_value::<usize>(vm)?,
            None => 0,
        };
        Ok(Self {
            name,
            fromlist,
            level,
        })
    }
}
