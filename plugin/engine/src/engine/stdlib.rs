//! The Python modules inside the sandbox and the import allowlist.
//!
//! Pure-Python modules are frozen at build time (see `plugin/build.rs`: a curated subset of the
//! CPython `Lib` shipped by `rustpython-pylib`, plus codemode's runtime in `../python`); native
//! ones come from
//! `rustpython-stdlib`, filtered by name. Nothing in either touches files, sockets, processes
//! or the environment. Snippets import through [`import_module`]: only allowlisted names, each
//! handed out as a fresh *view* (a new module object holding the public names, with
//! non-allowlisted submodules removed), so assigning to `json.dumps` changes nothing for the
//! next run. Where a CPython module would bring file, process or host access with it, a
//! stand-in from `../python` takes its name: `os` (only `urandom`), `io` (in-memory streams),
//! `inspect` (what `dataclasses` and `typing` call), `locale` (the C locale), `uuid` (no
//! `uuid1`/`getnode`) and the snippets' `time` (`_codemode_time`).

use std::{cell::RefCell, collections::HashMap};

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
/// Modules with process-wide state get a fresh copy of it in every run's view (see
/// `_codemode._per_run_view`): `random` its own generator, seeded from the OS's randomness;
/// `decimal` a fresh context; `calendar` its own first weekday. `io`, `time`, `uuid`, `os`,
/// `locale` and `inspect` are codemode's stand-ins (in `../python`), not CPython's.
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
    "typing",
    "dataclasses",
    "enum",
    "__future__",
    "decimal",
    "fractions",
    "copy",
    "operator",
    "string",
    "textwrap",
    "contextlib",
    "abc",
    "types",
    "numbers",
    "calendar",
    "pprint",
    "difflib",
    "base64",
    "csv",
    "io",
    "time",
    "random",
    "uuid",
];

/// Allowlisted names served by a module of another name (the snippet's `time` is the
/// stand-in; the interpreter's own `time` stays for the stdlib's internal use).
const ALIASES: &[(&str, &str)] = &[("time", "_codemode_time")];

/// Private names a view keeps because the interpreter's native code looks them up on the
/// module it imports, which is the snippet's view when a snippet frame is running
/// (`Generic[T]` calls `typing._generic_class_getitem`).
const KEPT_PRIVATE: &[(&str, &[&str])] = &[(
    "typing",
    &[
        "_type_check",
        "_typevar_subst",
        "_paramspec_subst",
        "_paramspec_prepare_subst",
        "_typevartuple_prepare_subst",
        "_generic_class_getitem",
        "_generic_init_subclass",
        "_GenericAlias",
    ],
)];

/// Modules whose view gets fresh per-run state from `_codemode._per_run_view`.
const PER_RUN_STATE: &[&str] = &["random", "decimal", "calendar"];

/// Native modules taken from `rustpython-stdlib` (the pure-Python modules above need them).
const NATIVE_MODULES: &[&str] = &[
    "math",
    "_json",
    "_contextvars",
    "_random",
    "_bisect",
    "_statistics",
    "_csv",
    "binascii",
    "_struct",
    "_hashlib",
    "_md5",
    "_sha1",
    "_sha256",
    "_sha512",
    "_sha3",
    "_blake2",
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

/// Allowed modules imported when the engine starts; the others on first use. Every run
/// pays nothing for a module it does not import, and a worker starts as fast as before the
/// allowlist grew (`decimal` alone is a large pure-Python module).
const EAGER: &[&str] = &[
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

/// The real modules behind the allowlist, each imported once per interpreter.
pub(crate) struct Modules {
    allowed: Vec<String>,
    real: RefCell<HashMap<String, PyObjectRef>>,
}

impl Modules {
    /// Imports the allowed modules in [`EAGER`] through the real machinery.
    pub(crate) fn load(vm: &VirtualMachine, allowed: &[String]) -> PyResult<Self> {
        let modules = Self {
            allowed: allowed.to_vec(),
            real: RefCell::new(HashMap::new()),
        };
        let import = vm.builtins.get_attr("__import__", vm)?;
        for name in allowed {
            if EAGER.contains(&name.as_str()) {
                modules.real(vm, name, &import)?;
            }
        }
        Ok(modules)
    }

    /// The real module behind allowed name `name`, imported with `import` (importlib's
    /// `__import__`) the first time.
    fn real(
        &self,
        vm: &VirtualMachine,
        name: &str,
        import: &PyObjectRef,
    ) -> PyResult<Option<PyObjectRef>> {
        if let Some(module) = self.real.borrow().get(name) {
            return Ok(Some(module.clone()));
        }
        if !self.is_allowed(name) {
            return Ok(None);
        }
        let source = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, source)| source);
        let mut module = import.call((vm.ctx.new_str(source),), vm)?;
        for part in source.split('.').skip(1) {
            module = module.get_attr(&*vm.ctx.new_str(part), vm)?;
        }
        self.real
            .borrow_mut()
            .insert(name.to_owned(), module.clone());
        Ok(Some(module))
    }

    /// Whether `name` may be imported by snippets.
    pub(crate) fn is_allowed(&self, name: &str) -> bool {
        match name.strip_suffix(".abc") {
            Some("collections") => self.allowed.iter().any(|allowed| allowed == "collections"),
            _ => self.allowed.iter().any(|allowed| allowed == name),
        }
    }

    /// The allowed names, sorted (for the `ImportError` message).
    pub(crate) fn allowed_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.allowed.iter().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// A fresh view of module `name` for one run (cached in `views` for the run).
    pub(crate) fn view(
        &self,
        vm: &VirtualMachine,
        name: &str,
        views: &mut HashMap<String, PyObjectRef>,
        hooks: &ViewHooks,
    ) -> PyResult<Option<PyObjectRef>> {
        if let Some(view) = views.get(name) {
            return Ok(Some(view.clone()));
        }
        let Some(real) = self.real(vm, name, hooks.import)? else {
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
            let kept = KEPT_PRIVATE
                .iter()
                .any(|(module, names)| *module == name && names.contains(&&*key_text));
            if key_text.starts_with('_') && !dunder && !kept {
                continue;
            }
            if matches!(
                &*key_text,
                "__builtins__" | "__loader__" | "__spec__" | "__path__"
            ) {
                continue;
            }
            if value.downcast_ref::<PyModule>().is_some() {
                let Some(alias) = self.alias_of(vm, &value) else {
                    continue;
                };
                if let Some(sub_view) = self.view(vm, &alias, views, hooks)? {
                    dict.set_item(&*key_text, sub_view, vm)?;
                }
                continue;
            }
            dict.set_item(&*key_text, value, vm)?;
        }
        if PER_RUN_STATE.contains(&name) {
            hooks
                .per_run
                .call((vm.ctx.new_str(name), real.clone(), dict), vm)?;
        }
        Ok(Some(view))
    }

    /// The allowed name a module object (found in another module's namespace) is served as.
    fn alias_of(&self, vm: &VirtualMachine, module: &PyObjectRef) -> Option<String> {
        let name = module.get_attr("__name__", vm).ok()?;
        let name = name.downcast_ref::<PyStr>()?.to_string_lossy().into_owned();
        let name = ALIASES
            .iter()
            .find(|(_, source)| *source == name)
            .map_or(name.as_str(), |(alias, _)| alias)
            .to_owned();
        if !self.is_allowed(&name) {
            return None;
        }
        let real = self.real.borrow().get(&name).cloned();
        match real {
            Some(real) if real.is(module) => Some(name),
            Some(_) => None,
            // Not imported yet: serve it if it is the module that name would import.
            None => (name == "collections.abc" || !name.contains('.')).then_some(name),
        }
    }
}

/// What a view needs from the runtime: importlib's `__import__` (to load a module on first
/// use) and `_codemode._per_run_view`.
pub(crate) struct ViewHooks<'a> {
    pub(crate) import: &'a PyObjectRef,
    pub(crate) per_run: &'a PyObjectRef,
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
