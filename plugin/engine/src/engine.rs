//! One long-lived, hardened RustPython interpreter that runs snippets.
//!
//! An [`Engine`] lives on one OS thread (the interpreter is neither `Send` nor `Sync`) and
//! runs snippets one at a time, each in fresh globals with a fresh copy of the builtins and
//! fresh views of the allowed modules. Bus calls leave through a [`HostPort`], which the
//! worker process implements over its pipes and tests implement in memory; the engine itself
//! does no I/O.
//!
//! Hardening (hygiene, not the security boundary, see the crate documentation): `open`, `eval`,
//! `exec`, `compile`, `input`, `globals`, `locals`, `vars`, `breakpoint`, `help`, `exit`,
//! `quit` and `memoryview` are removed; `__import__` only hands out allowlisted modules;
//! `sys.argv`, `sys.executable`, paths and prefixes are emptied.

mod convert;
mod hints;
mod natives;
mod stdlib;

use std::{
    collections::HashSet,
    rc::Rc,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use rustpython_vm::{
    AsObject, Interpreter, PyObjectRef, PyPayload, PyRef, PyResult, Settings, VirtualMachine,
    builtins::{PyBaseException, PyDict, PyDictRef, PyStr, PyType},
    compiler::Mode,
    scope::Scope,
    signal::{UserSignalSender, user_signal_channel},
};
use serde_json::{Map, Value};
use web_time::Instant;

pub use stdlib::DEFAULT_ALLOWED_IMPORTS;

use self::{
    convert::{Direction, Helpers},
    natives::{RunState, Runtime},
    stdlib::Modules,
};
use super::{
    host::{HostCall, HostCallError},
    limits::{LimitKind, Limits},
    outcome::{self, ErrorPhase, Outcome, SnippetError},
    preflight,
    spec::{FunctionSet, FunctionSpec},
};

/// Builtins a snippet does not get.
const REMOVED_BUILTINS: &[&str] = &[
    "open",
    "eval",
    "exec",
    "compile",
    "input",
    "breakpoint",
    "help",
    "exit",
    "quit",
    "copyright",
    "credits",
    "license",
    "globals",
    "locals",
    "vars",
    "memoryview",
    "__loader__",
    "__spec__",
];

/// Builtins removed from the interpreter's own builtins module as well, once start-up is done,
/// so that a snippet reaching them through a stdlib frame (`frame.f_builtins`) finds nothing.
/// They give access to the world (files, the terminal, the debugger) and no module the sandbox
/// ships uses them at run time. `eval`, `exec` and `compile` stay there: `namedtuple` and
/// `dataclasses` build classes with them, and they only run Python, which a snippet can do
/// anyway (pre-flight is hygiene, not the boundary).
const REMOVED_FROM_INTERPRETER: &[&str] = &[
    "open",
    "input",
    "breakpoint",
    "help",
    "exit",
    "quit",
    "copyright",
    "credits",
    "license",
];

/// Names the runtime adds to every snippet's builtins.
const RUNTIME_BUILTINS: &[&str] = &[
    "gather",
    "stream",
    "BusError",
    "MethodNotFoundError",
    "NoMatchingServerError",
    "InvocationFailedError",
    "IntentNotResolvedError",
    "BusTimeoutError",
    "DisconnectedError",
    "PeerLeftError",
    "InvalidArgumentsError",
    "ApprovalDeniedError",
    "PolicyError",
    "LimitExceeded",
    "BusCall",
];

/// Where bus calls go. Implementations must not block in [`HostPort::start`].
pub trait HostPort {
    /// Sends a call on its way; its completion comes back through
    /// [`HostPort::next_completion`] with the same `ticket`.
    fn start(&mut self, ticket: u64, call: &HostCall) -> Result<(), PortClosed>;

    /// Waits up to `timeout` for the next completed call (`Ok(None)` on timeout).
    fn next_completion(&mut self, timeout: Duration) -> Result<Option<Completion>, PortClosed>;

    /// Whether the run's wall-time clock stands still now (the host is waiting for a person to
    /// approve a call) and how long it has stood still so far in this run. The run's deadline
    /// moves by that much; a host that never asks anyone keeps the default.
    fn clock_pause(&self) -> ClockPause {
        ClockPause::default()
    }
}

/// See [`HostPort::clock_pause`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockPause {
    /// The clock stands still now.
    pub now: bool,
    /// How long it stood still in this run, the current pause included.
    pub total: Duration,
}

/// The signal that the host side is gone: every pending call fails with `DisconnectedError`.
/// A marker the engine acts on, not an error it reports (that is [`EngineError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortClosed;

/// A finished bus call.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The ticket given to [`HostPort::start`].
    pub ticket: u64,
    /// The value or the error.
    pub result: Result<Value, HostCallError>,
    /// When the reply arrived (the call's duration is measured up to here).
    pub received: Instant,
}

/// One snippet to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Identifies the run to [`Interrupter::interrupt`]; unique per engine, not zero.
    pub run_id: u64,
    /// The snippet.
    pub source: String,
    /// Its limits.
    pub limits: Limits,
    /// Keep globals from the previous stateful run and for the next (sessions only).
    pub keep_state: bool,
}

/// What [`Engine::run`] reports.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The outcome for the caller.
    pub outcome: Outcome,
    /// Why the interpreter should not run another snippet, if it should not (taint, a hit
    /// memory or time limit).
    pub recycle: Option<String>,
}

/// Options fixed for an engine's lifetime.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Module names snippets may import.
    pub allowed_imports: Vec<String>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            allowed_imports: DEFAULT_ALLOWED_IMPORTS
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
        }
    }
}

/// Why the engine could not do what it was asked: the crate's one error type.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The interpreter could not be set up (its runtime modules raised).
    #[error("the sandbox interpreter failed to start: {exception}")]
    Startup {
        /// The Python exception, as `Type: message`.
        exception: String,
    },
    /// The catalogue functions could not be installed as Python namespaces.
    #[error("the catalogue functions could not be installed in the sandbox: {exception}")]
    Functions {
        /// The Python exception, as `Type: message`.
        exception: String,
    },
}

/// Stops the running snippet from another thread (the deadline watchdog).
#[derive(Clone)]
pub struct Interrupter {
    sender: UserSignalSender,
    current: Arc<AtomicU64>,
    /// When the last wall-time signal raised in the run.
    raised_at: Arc<Mutex<Option<Instant>>>,
}

/// How long after a wall-time signal raised the next one waits (see
/// [`Interrupter::interrupt`]).
const INTERRUPT_COOLDOWN: Duration = Duration::from_millis(50);

impl std::fmt::Debug for Interrupter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupter")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl Interrupter {
    /// Raises `LimitExceeded` (wall time) in run `run_id` at its next bytecode, if it is
    /// still the running one. Send it repeatedly until the run ends: a snippet can catch it.
    ///
    /// A signal that arrives within [`INTERRUPT_COOLDOWN`] of one that raised does nothing:
    /// signals that piled up while the snippet's thread was not scheduled used to fire back to
    /// back, the second one inside the `except` clause that caught the first, where it
    /// escaped the snippet's `try` (or made RustPython panic with "CopyItem: stack
    /// underflow"). The watchdog keeps sending (a signal can be lost to another interpreter
    /// in the same process), so a snippet that catches the limit is interrupted again after
    /// the cooldown, and a worker's hard kill ends one that always catches it.
    pub fn interrupt(&self, run_id: u64) {
        if run_id == 0 || self.current.load(Ordering::SeqCst) != run_id {
            return;
        }
        let current = Arc::clone(&self.current);
        let raised_at = Arc::clone(&self.raised_at);
        let _ = self.sender.send(Box::new(move |vm| {
            if current.load(Ordering::SeqCst) != run_id {
                return Ok(());
            }
            if let Ok(mut raised) = raised_at.lock() {
                if raised.is_some_and(|at| at.elapsed() < INTERRUPT_COOLDOWN) {
                    return Ok(());
                }
                *raised = Some(Instant::now());
            }
            Err(natives::limit_error(vm, LimitKind::WallTime, ""))
        }));
    }

    /// Raises `MemoryError` (naming the memory limit) in run `run_id` at its next bytecode,
    /// if it is still the running one (the worker's memory watch).
    pub fn interrupt_memory(&self, run_id: u64) {
        if run_id == 0 || self.current.load(Ordering::SeqCst) != run_id {
            return;
        }
        let current = Arc::clone(&self.current);
        let _ = self.sender.send(Box::new(move |vm| {
            if current.load(Ordering::SeqCst) == run_id {
                Err(natives::memory_error(vm))
            } else {
                Ok(())
            }
        }));
    }

    /// The run currently executing (0 when idle).
    pub fn current_run(&self) -> u64 {
        self.current.load(Ordering::SeqCst)
    }
}

/// A hardened interpreter that runs snippets one after another.
pub struct Engine {
    interpreter: Interpreter,
    port: Option<Box<dyn HostPort>>,
    objects: Objects,
    functions: FunctionSet,
    namespaces: Vec<(String, PyObjectRef)>,
    session_globals: Option<PyDictRef>,
    interrupter: Interrupter,
}

/// Python objects built once per interpreter.
struct Objects {
    builtins: PyDictRef,
    runtime: PyObjectRef,
    known_globals: HashSet<String>,
    modules: Rc<Modules>,
    bus_call_class: PyObjectRef,
    make_error: PyObjectRef,
    convert_other: PyObjectRef,
    date_from_ms: PyObjectRef,
    record: PyObjectRef,
    limit_exceeded: PyRef<PyType>,
    wrapper_code: usize,
    own_codes: HashSet<usize>,
    capture: PyObjectRef,
    real_import: PyObjectRef,
    per_run_view: PyObjectRef,
    reset_run: PyObjectRef,
}

impl Engine {
    /// Builds the interpreter, imports the allowed modules, and hardens the builtins
    /// (tens of milliseconds; do it once per thread and reuse the engine).
    pub fn new(options: &EngineOptions, port: Box<dyn HostPort>) -> Result<Self, EngineError> {
        // Start the snippets' monotonic clock now, so it reads more than zero in any snippet.
        let _ = natives::clock_origin();
        let (sender, receiver) = user_signal_channel();
        let mut settings = Settings::default();
        settings.isolated = true;
        settings.ignore_environment = true;
        settings.import_site = false;
        settings.user_site_directory = false;
        settings.allow_external_library = false;
        settings.install_signal_handlers = false;
        settings.write_bytecode = false;
        settings.argv = Vec::new();
        settings.path_list = Vec::new();
        let builder = Interpreter::builder(settings);
        let natives = natives::_codemode_native::module_def(&builder.ctx);
        let native_modules = stdlib::native_modules(&builder.ctx);
        let interpreter = builder
            .add_native_modules(&native_modules)
            .add_native_module(natives)
            .add_frozen_modules(stdlib::frozen_modules())
            .init_hook(move |vm| vm.set_user_signal_channel(receiver))
            .build();
        let objects = interpreter
            .enter(|vm| setup(vm, options).map_err(|error| describe_exception(vm, &error)))
            .map_err(|exception| EngineError::Startup { exception })?;
        Ok(Self {
            interpreter,
            port: Some(port),
            objects,
            functions: FunctionSet::empty(),
            namespaces: Vec::new(),
            session_globals: None,
            interrupter: Interrupter {
                sender,
                current: Arc::new(AtomicU64::new(0)),
                raised_at: Arc::new(Mutex::new(None)),
            },
        })
    }

    /// A handle that stops runs of this engine from another thread.
    pub fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }

    /// The catalogue functions snippets see from the next run on.
    pub fn set_functions(&mut self, functions: FunctionSet) -> Result<(), EngineError> {
        if functions.fingerprint() == self.functions.fingerprint() && !self.namespaces.is_empty() {
            self.functions = functions;
            return Ok(());
        }
        let runtime = self.objects.runtime.clone();
        let real_import = self.objects.real_import.clone();
        let namespaces = self
            .interpreter
            .enter(|vm| {
                natives::set_real_import(Some(real_import));
                let built = build_namespaces(vm, &runtime, &functions);
                natives::set_real_import(None);
                built
            })
            .map_err(|exception| EngineError::Functions { exception })?;
        self.functions = functions;
        self.namespaces = namespaces;
        Ok(())
    }

    /// The functions currently installed.
    pub fn functions(&self) -> &FunctionSet {
        &self.functions
    }

    /// Drops the state a session kept.
    pub fn reset_state(&mut self) {
        self.session_globals = None;
    }

    /// Keeps a session run's long printed text in the session as `_pN` (a `str`) and puts its
    /// preview in `outcome.printed`; `total` is how many characters the snippet printed.
    /// Returns whether it did (not without the session's globals).
    fn keep_printed(&self, outcome: &mut Outcome, total: usize) -> bool {
        let Some(globals) = self.session_globals.as_ref() else {
            return false;
        };
        let kept = self.interpreter.enter(|vm| {
            let name = (1..=100_000_u32)
                .map(|n| format!("_p{n}"))
                .find(|name| !globals.contains_key(name.as_str(), vm))?;
            globals
                .set_item(
                    name.as_str(),
                    vm.ctx.new_str(outcome.printed.as_str()).into(),
                    vm,
                )
                .ok()?;
            Some(name)
        });
        let Some(name) = kept else {
            return false;
        };
        outcome.printed = crate::preview::printed_preview(&outcome.printed, &name, total);
        outcome.printed_truncated = true;
        outcome.printed_ref = Some(name);
        true
    }

    /// Runs one snippet to completion (or to a limit) and reports what happened.
    pub fn run(&mut self, request: &RunRequest) -> RunReport {
        let started = Instant::now();
        let limits = &request.limits;
        if let Some(error) = SnippetError::oversized_source(&request.source, limits) {
            return RunReport {
                outcome: Outcome::failed(error),
                recycle: None,
            };
        }
        let Some(port) = self.port.take() else {
            return RunReport {
                outcome: Outcome::failed(SnippetError::new(
                    ErrorPhase::Worker,
                    "RuntimeError",
                    "the engine lost its host port in an earlier run",
                )),
                recycle: Some("no host port".to_owned()),
            };
        };
        self.interrupter
            .current
            .store(request.run_id, Ordering::SeqCst);
        let runtime = Runtime {
            functions: self.functions.clone(),
            bus_call_class: self.objects.bus_call_class.clone(),
            make_error: self.objects.make_error.clone(),
            convert_other: self.objects.convert_other.clone(),
            date_from_ms: self.objects.date_from_ms.clone(),
            record: self.objects.record.clone(),
            limit_exceeded: self.objects.limit_exceeded.clone(),
            wrapper_code: self.objects.wrapper_code,
            own_codes: self.objects.own_codes.clone(),
            modules: Rc::clone(&self.objects.modules),
            real_import: self.objects.real_import.clone(),
            per_run_view: self.objects.per_run_view.clone(),
        };
        // A session run keeps what it prints (up to a memory guard), so that text too long
        // to send can stay in the session by reference.
        let mut capture_limits = limits.clone();
        if request.keep_state {
            capture_limits.max_output_chars = capture_limits
                .max_output_chars
                .max(crate::preview::KEPT_PRINTED_CHARS);
        }
        natives::install(runtime, RunState::new(port, capture_limits, started));
        let objects = &self.objects;
        let namespaces = &self.namespaces;
        let functions = &self.functions;
        let session_globals = &mut self.session_globals;
        // RustPython has panics reachable from Python (e.g. `__name__` of some internal
        // types); a panic ends the run, and the interpreter is not trusted afterwards.
        let interpreter = &self.interpreter;
        let mut report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            interpreter
                .enter(|vm| run_in_vm(vm, objects, namespaces, functions, session_globals, request))
        }))
        .unwrap_or_else(|panic| {
            let detail = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            RunReport {
                outcome: Outcome::failed(SnippetError::new(
                    ErrorPhase::Worker,
                    "InterpreterPanic",
                    format!("the interpreter failed internally and was stopped: {detail}"),
                )),
                recycle: Some("the interpreter panicked".to_owned()),
            }
        });
        // Signals sent for this run must not hit the next one.
        self.interrupter.current.store(0, Ordering::SeqCst);
        if let Ok(mut raised) = self.interrupter.raised_at.lock() {
            *raised = None;
        }
        let (_, run) = self.interpreter.enter(|_| natives::uninstall());
        match run {
            Some(run) => {
                self.port = Some(run.port);
                report.outcome.calls = run.calls;
                let total = run.output_total;
                report.outcome.printed = run.output;
                let by_reference = request.keep_state
                    && report.recycle.is_none()
                    && report.outcome.limit().is_none()
                    && run.output_chars > crate::preview::PRINTED_REFERENCE_CHARS
                    && self.keep_printed(&mut report.outcome, total);
                if by_reference {
                    // The preview replaced the text.
                } else if run.output_chars > limits.max_output_chars {
                    // A session's capture holds more than a run may send.
                    let (kept, _) =
                        outcome::cap_chars(&report.outcome.printed, limits.max_output_chars);
                    let kept = outcome::whole_lines(&kept).to_owned();
                    report.outcome.printed_truncated = true;
                    let marker = outcome::output_marker(kept.chars().count(), total, limits);
                    report.outcome.printed = kept + &marker;
                } else if total > run.output_chars {
                    let kept = outcome::whole_lines(&report.outcome.printed).len();
                    report.outcome.printed.truncate(kept);
                    report.outcome.printed_truncated = true;
                    report.outcome.printed.push_str(&outcome::output_marker(
                        report.outcome.printed.chars().count(),
                        total,
                        limits,
                    ));
                }
                if let (Some(kind), Some(error)) = (run.limit_hit, report.outcome.error.as_mut()) {
                    name_the_limit(error, kind, limits);
                }
            }
            None => {
                report.recycle = Some("the run state was lost".to_owned());
            }
        }
        if let Some(kind) = report.outcome.limit()
            && matches!(kind, LimitKind::WallTime | LimitKind::Memory)
            && report.recycle.is_none()
        {
            report.recycle = Some(format!("the run hit the {} limit", kind.label()));
        }
        report.outcome.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        report
    }
}

/// Makes a failed run that hit limit `kind` say so, naming the limit and its value.
///
/// The limit's exception is usually what ends the run. A snippet can also catch it (it is a
/// `BaseException`) and fail some other way, or trusted code can turn it into another error
/// while unwinding (`_thread`'s dummy `start_new_thread` reports it through a missing
/// `traceback`): the limit is still why the run failed, so the error names it and keeps the
/// exception that came out last in its message.
fn name_the_limit(error: &mut SnippetError, kind: LimitKind, limits: &Limits) {
    let limited = SnippetError::limit(ErrorPhase::Runtime, kind, limits, "");
    if error.kind == limited.kind {
        if error.limit.is_none() {
            error.limit = limited.limit;
        }
        if !error.message.contains("limit of") {
            error.message = limited.message;
        }
        return;
    }
    if error.limit.is_some() {
        // Already names a limit of its own (e.g. recursion).
        return;
    }
    error.message = format!(
        "{} (the snippet then failed with {}: {})",
        limited.message, error.kind, error.message
    );
    error.kind = limited.kind;
    error.limit = limited.limit;
}

fn setup(vm: &VirtualMachine, options: &EngineOptions) -> PyResult<Objects> {
    let sys = vm.sys_module.clone();
    for name in ["argv", "orig_argv", "path", "warnoptions"] {
        sys.set_attr(name, vm.ctx.new_list(Vec::new()), vm)?;
    }
    for name in [
        "executable",
        "_base_executable",
        "prefix",
        "base_prefix",
        "exec_prefix",
        "base_exec_prefix",
        "platlibdir",
        "_stdlib_dir",
    ] {
        sys.set_attr(name, vm.ctx.new_str(""), vm)?;
    }

    let native = vm.import("_codemode_native", 0)?;
    sys.set_attr("stdout", native.clone(), vm)?;
    sys.set_attr("stderr", native.clone(), vm)?;
    // Codecs beyond utf-8 and ascii (`re` decodes bytes patterns as latin-1).
    vm.import("encodings", 0)?;
    let runtime = vm.import("_codemode", 0)?;
    let modules = Modules::load(vm, &options.allowed_imports)?;

    let builtins_module = vm.builtins.clone();
    let builtins = builtins_module.dict().copy().into_ref(&vm.ctx);
    for name in REMOVED_BUILTINS {
        let _ = builtins.del_item(*name, vm);
    }
    for name in REMOVED_FROM_INTERPRETER {
        let _ = builtins_module.dict().del_item(*name, vm);
    }
    // Import statements call the builtins *module's* `__import__`; snippets' imports are
    // told apart by their globals (see `natives::import_module`).
    let real_import = builtins_module.get_attr("__import__", vm)?;
    let import_module = native.get_attr("import_module", vm)?;
    builtins_module.set_attr("__import__", import_module.clone(), vm)?;
    builtins.set_item("__import__", import_module, vm)?;
    for name in RUNTIME_BUILTINS {
        builtins.set_item(*name, runtime.get_attr(*name, vm)?, vm)?;
    }
    // CPython's answers where RustPython's builtin differs (see `natives::round`).
    builtins.set_item("round", native.get_attr("round", vm)?, vm)?;
    builtins.set_item("sorted", native.get_attr("sorted", vm)?, vm)?;
    // `list.sort` and `re.Pattern.findall` too: built-in types are immutable to Python code,
    // not to the embedder (see `_codemode._TYPE_PATCHES`).
    let patches: Vec<PyObjectRef> = runtime.get_attr("_TYPE_PATCHES", vm)?.try_to_value(vm)?;
    for patch in patches {
        let parts: Vec<PyObjectRef> = patch.try_to_value(vm)?;
        let [class, name, function] = <[PyObjectRef; 3]>::try_from(parts)
            .map_err(|_| vm.new_type_error("a type patch is (type, name, function)"))?;
        let class = class
            .downcast::<PyType>()
            .map_err(|_| vm.new_type_error("a type patch needs a type"))?;
        let name = name
            .downcast::<PyStr>()
            .map_err(|_| vm.new_type_error("a type patch needs a name"))?;
        class.set_attr(vm.ctx.intern_str(name.to_string_lossy().as_ref()), function);
    }
    builtins.set_item(
        preflight::DEFER_FUNCTION,
        runtime.get_attr("_defer", vm)?,
        vm,
    )?;
    builtins.set_item(
        preflight::AWAIT_FUNCTION,
        runtime.get_attr("_await_top", vm)?,
        vm,
    )?;
    let mut known_globals: HashSet<String> = HashSet::new();
    for (key, _) in &*builtins {
        if let Some(text) = key.downcast_ref::<PyStr>() {
            known_globals.insert(text.to_string_lossy().into_owned());
        }
    }
    for name in ["__name__", "__doc__", "__builtins__"] {
        known_globals.insert(name.to_owned());
    }

    let limit_exceeded = runtime
        .get_attr("LimitExceeded", vm)?
        .downcast::<PyType>()
        .map_err(|_| vm.new_type_error("LimitExceeded is not a class"))?;
    let wrapper_code = runtime.get_attr("_WRAPPER_CODE", vm)?.get_id();
    let mut own_codes = HashSet::new();
    for name in ["gather", "run", "_defer", "_await_top"] {
        let code = runtime.get_attr(name, vm)?.get_attr("__code__", vm)?;
        own_codes.insert(code.get_id());
    }
    Ok(Objects {
        builtins,
        known_globals,
        modules: Rc::new(modules),
        bus_call_class: runtime.get_attr("BusCall", vm)?,
        make_error: runtime.get_attr("_make_error", vm)?,
        convert_other: runtime.get_attr("_convert_other", vm)?,
        date_from_ms: runtime.get_attr("_date_from_ms", vm)?,
        record: runtime.get_attr("_Record", vm)?,
        limit_exceeded,
        wrapper_code,
        own_codes,
        capture: native,
        per_run_view: runtime.get_attr("_per_run_view", vm)?,
        reset_run: runtime.get_attr("_reset_run", vm)?,
        runtime,
        real_import,
    })
}

/// A bus function's `__doc__`: its signature, then its description.
pub(crate) fn function_doc(vm: &VirtualMachine, spec: &FunctionSpec) -> PyObjectRef {
    match &spec.doc {
        Some(doc) => vm
            .ctx
            .new_str(format!("{}\n\n{doc}", spec.signature()))
            .into(),
        None => vm.ctx.new_str(spec.signature()).into(),
    }
}

fn build_namespaces(
    vm: &VirtualMachine,
    runtime: &PyObjectRef,
    functions: &FunctionSet,
) -> Result<Vec<(String, PyObjectRef)>, String> {
    let result = (|| -> PyResult<Vec<(String, PyObjectRef)>> {
        // Only the top level is built here; a namespace's members are made when a snippet
        // first uses them (`_Namespace.__getattr__` asks `_native.namespace_member`).
        let mut top_level: Vec<PyObjectRef> = Vec::new();
        for spec in functions.specs() {
            if !spec.name.contains('.') {
                let entry = vm.ctx.new_tuple(vec![
                    vm.ctx.new_str(spec.name.as_str()).into(),
                    vm.ctx.new_str("function").into(),
                    function_doc(vm, spec),
                ]);
                top_level.push(entry.into());
            }
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for spec in functions.specs() {
            if let Some((first, _)) = spec.name.split_once('.')
                && seen.insert(first)
            {
                let entry = vm.ctx.new_tuple(vec![
                    vm.ctx.new_str(first).into(),
                    vm.ctx.new_str("namespace").into(),
                    vm.ctx.none(),
                ]);
                top_level.push(entry.into());
            }
        }
        let tree = vm.ctx.new_list(top_level);
        let built = runtime
            .get_attr("_build_namespaces", vm)?
            .call((tree,), vm)?;
        let built = built
            .downcast::<PyDict>()
            .map_err(|_| vm.new_type_error("_build_namespaces must return a dict"))?;
        let mut out = Vec::new();
        for (key, value) in &*built {
            if let Some(text) = key.downcast_ref::<PyStr>() {
                out.push((text.to_string_lossy().into_owned(), value));
            }
        }
        Ok(out)
    })();
    result.map_err(|error| describe_exception(vm, &error))
}

fn run_in_vm(
    vm: &VirtualMachine,
    objects: &Objects,
    namespaces: &[(String, PyObjectRef)],
    functions: &FunctionSet,
    session_globals: &mut Option<PyDictRef>,
    request: &RunRequest,
) -> RunReport {
    let source = request.source.as_str();
    let limits = &request.limits;
    let mut known = objects.known_globals.clone();
    let reused = if request.keep_state {
        session_globals.clone()
    } else {
        None
    };
    if let Some(globals) = &reused {
        for (key, _) in &**globals {
            if let Some(text) = key.downcast_ref::<PyStr>() {
                known.insert(text.to_string_lossy().into_owned());
            }
        }
    }
    let analysis = match preflight::analyse(
        source,
        preflight::Context {
            functions,
            known_globals: &known,
        },
    ) {
        Ok(analysis) => analysis,
        Err(issues) => {
            let first_line = issues.first().map(|issue| issue.line);
            let kind = issues.first().map_or("SyntaxError", |issue| issue.kind);
            let error =
                SnippetError::new(ErrorPhase::Preflight, kind, preflight::describe(&issues))
                    .at_line(first_line, source);
            return RunReport {
                outcome: Outcome::failed(error),
                recycle: None,
            };
        }
    };
    // A session's worker is its own trust domain: taint only recycles shared workers.
    let recycle = analysis
        .taint
        .as_ref()
        .filter(|_| !request.keep_state)
        .map(|why| format!("the snippet {why}"));

    let code = match vm.compile(&analysis.source, Mode::Exec, "<snippet>".to_owned()) {
        Ok(code) => code,
        Err(error) => {
            let exception = vm.new_syntax_error(&error, Some(&analysis.source));
            let error = exception_to_error(vm, objects, &exception, source, ErrorPhase::Preflight);
            return RunReport {
                outcome: Outcome::failed(error),
                recycle,
            };
        }
    };

    let globals = match reused {
        Some(globals) => {
            let _ = globals.del_item("result", vm);
            let _ = globals.del_item(preflight::LAST_VALUE, vm);
            globals
        }
        None => match fresh_globals(vm, objects, namespaces) {
            Ok(globals) => globals,
            Err(error) => {
                return RunReport {
                    outcome: Outcome::failed(SnippetError::new(
                        ErrorPhase::Worker,
                        "RuntimeError",
                        describe_exception(vm, &error),
                    )),
                    recycle: Some("could not build globals".to_owned()),
                };
            }
        },
    };
    if request.keep_state {
        *session_globals = Some(globals.clone());
    }
    natives::set_snippet_globals(globals.get_id());
    let _ = vm
        .sys_module
        .set_attr("stdout", objects.capture.clone(), vm);
    let _ = vm
        .sys_module
        .set_attr("stderr", objects.capture.clone(), vm);
    vm.recursion_limit
        .set(usize::try_from(limits.recursion_depth).unwrap_or(usize::MAX));

    // No task or timer of an earlier run survives into this one (nor past it, below).
    let _ = objects.reset_run.call((), vm);
    let scope = Scope::with_builtins(None, globals.clone(), vm);
    let executed = vm.run_code_obj(code, scope);
    let _ = objects.reset_run.call((), vm);
    let mut outcome = Outcome::default();
    match executed {
        Ok(_) => {
            let answer = globals
                .get_item_opt("result", vm)
                .ok()
                .flatten()
                .or_else(|| {
                    if analysis.captures_last_value {
                        // A final `print(...)` or other None-valued expression is no answer.
                        globals
                            .get_item_opt(preflight::LAST_VALUE, vm)
                            .ok()
                            .flatten()
                            .filter(|value| !vm.is_none(value))
                    } else {
                        None
                    }
                });
            match answer {
                None => {
                    outcome.ok = true;
                    outcome.result = Value::Null;
                    outcome.result_unset = true;
                }
                Some(answer) => match result_json(vm, objects, &answer) {
                    Ok((value, cut))
                        if request.keep_state
                            && (cut
                                || outcome::json_len(&value) > crate::preview::REFERENCE_CHARS) =>
                    {
                        // Too large to send: the value stays in the session, the model gets a
                        // preview and the name to continue with.
                        let name = (1..=100_000_u32)
                            .map(|n| format!("_r{n}"))
                            .find(|name| !globals.contains_key(name.as_str(), vm))
                            .unwrap_or_else(|| "_r0".to_owned());
                        let _ = globals.set_item(name.as_str(), answer.clone(), vm);
                        outcome.ok = true;
                        // The JSON may have been cut (a memory guard): the true length
                        // comes from the object.
                        let length = answer.length(vm).ok();
                        outcome.result =
                            Value::String(crate::preview::preview(&value, &name, length));
                        outcome.result_ref = Some(name);
                    }
                    Ok((value, cut)) => {
                        let (value, truncated) =
                            outcome::shape_result(value, limits.max_result_chars);
                        outcome.ok = true;
                        outcome.result = value;
                        outcome.result_truncated = truncated || cut;
                    }
                    Err(exception) => {
                        outcome.error = Some(exception_to_error(
                            vm,
                            objects,
                            &exception,
                            source,
                            ErrorPhase::Result,
                        ));
                    }
                },
            }
        }
        Err(exception) => {
            outcome.error = Some(exception_to_error(
                vm,
                objects,
                &exception,
                source,
                ErrorPhase::Runtime,
            ));
        }
    }
    let _ = globals.del_item(preflight::LAST_VALUE, vm);
    RunReport { outcome, recycle }
}

fn fresh_globals(
    vm: &VirtualMachine,
    objects: &Objects,
    namespaces: &[(String, PyObjectRef)],
) -> PyResult<PyDictRef> {
    let builtins = objects.builtins.copy().into_ref(&vm.ctx);
    for (name, namespace) in namespaces {
        builtins.set_item(name.as_str(), namespace.clone(), vm)?;
    }
    let globals = vm.ctx.new_dict();
    globals.set_item("__builtins__", builtins.into(), vm)?;
    globals.set_item("__name__", vm.ctx.new_str("__main__").into(), vm)?;
    globals.set_item("__doc__", vm.ctx.none(), vm)?;
    Ok(globals)
}

fn result_json(
    vm: &VirtualMachine,
    objects: &Objects,
    answer: &PyObjectRef,
) -> Result<(Value, bool), PyRef<PyBaseException>> {
    let helpers = Helpers {
        convert_other: &objects.convert_other,
        date_from_ms: &objects.date_from_ms,
        record: &objects.record,
    };
    convert::to_json_marked(vm, &helpers, answer, Direction::Result)
}

/// Turns a Python exception into the outcome's error: type, message, snippet line.
fn exception_to_error(
    vm: &VirtualMachine,
    objects: &Objects,
    exception: &PyRef<PyBaseException>,
    source: &str,
    phase: ErrorPhase,
) -> SnippetError {
    let object: PyObjectRef = exception.clone().into();
    let kind = exception.class().name().to_string();
    let mut message = object
        .str(vm)
        .map(|text| text.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(wording) = cpython_wording(&kind, &message) {
        message = wording;
    }
    // Catalogue namespaces word their own suggestions ("did you mean crm.get_clients");
    // one hint is enough.
    if !message.to_lowercase().contains("did you mean")
        && let Some(hint) = did_you_mean(vm, exception)
    {
        message.push_str(&hint);
    }
    if kind == "KeyError"
        && let Some(hint) = hints::record_keys(vm, &object)
    {
        message.push_str(&hint);
    }
    let mut line = snippet_line(vm, &object);
    if line.is_none() && kind == "SyntaxError" {
        line = object
            .get_attr("lineno", vm)
            .ok()
            .and_then(|lineno| lineno.try_to_value::<u32>(vm).ok());
    }
    let mut error = SnippetError::new(phase, kind.clone(), message).at_line(line, source);
    match kind.as_str() {
        "MemoryError" => attach_limit(&mut error, LimitKind::Memory, phase),
        "RecursionError" => attach_limit(&mut error, LimitKind::Recursion, phase),
        _ => {}
    }
    if object.get_attr("kind", vm).is_ok() && object.get_attr("reason_uri", vm).is_ok() {
        error.details = bus_error_details(vm, objects, &object);
    }
    error
}

/// CPython 3.11's text for an uncaught error whose RustPython message says the same thing in
/// other words (models know CPython's). Only differences of wording are mapped: where CPython
/// says more than RustPython knows (which sequence item, which type was indexed), the message
/// stays RustPython's and the difference is listed in `tests/parity/divergences.toml`.
fn cpython_wording(kind: &str, message: &str) -> Option<String> {
    const INDEX: &str = " indices must be integers or slices or classes that override \
                         __index__ operator, not '";
    // RustPython repeats the type: "OverflowError: cannot convert float infinity to integer".
    if let Some(rest) = message
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(": "))
    {
        return Some(rest.to_owned());
    }
    let between = |prefix: &str, suffix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .filter(|middle| !middle.is_empty())
            .map(str::to_owned)
    };
    match kind {
        "UnboundLocalError" => {
            between("local variable ", " referenced before assignment").map(|name| {
                format!(
                    "cannot access local variable {name} where it is not associated with a value"
                )
            })
        }
        "ValueError" => {
            for function in ["max", "min"] {
                if message == format!("{function}() iterable argument is empty") {
                    return Some(format!("{function}() arg is an empty sequence"));
                }
            }
            // "too many values to unpack (expected 2, got 3)": 3.11 does not count them.
            let inner = between("too many values to unpack (expected ", ")")?;
            let (expected, _) = inner.split_once(", got ")?;
            Some(format!("too many values to unpack (expected {expected})"))
        }
        "TypeError" => {
            if let Some(name) = between("'", "' does not support item assignment") {
                return Some(format!("'{name}' object does not support item assignment"));
            }
            if let Some(other) = between("unsupported operand type(s) for +: 'str' and '", "'") {
                return Some(format!("can only concatenate str (not \"{other}\") to str"));
            }
            if let Some(other) = between("Cannot add list and ", "") {
                return Some(format!(
                    "can only concatenate list (not \"{other}\") to list"
                ));
            }
            if let Some(other) = between("Expected type 'int' but '", "' found.") {
                return Some(format!(
                    "'{other}' object cannot be interpreted as an integer"
                ));
            }
            if message == "reduce() of empty sequence with no initial value" {
                return Some("reduce() of empty iterable with no initial value".to_owned());
            }
            for (rust, cpython) in [("list", "list"), ("tuple", "tuple")] {
                if let Some(other) = between(&format!("{rust}{INDEX}"), "'") {
                    return Some(format!(
                        "{cpython} indices must be integers or slices, not {other}"
                    ));
                }
            }
            if let Some(other) = between(&format!("str{INDEX}"), "'") {
                return Some(format!("string indices must be integers, not '{other}'"));
            }
            for conversion in ['d', 'i', 'u'] {
                if let Some(other) = between(
                    &format!("%{conversion} format: a number is required, not "),
                    "",
                ) {
                    return Some(format!(
                        "%{conversion} format: a real number is required, not {other}"
                    ));
                }
            }
            None
        }
        _ => None,
    }
}

/// The hint CPython 3.11 prints after a `NameError` or `AttributeError` message
/// (". Did you mean: 'total'?"); it is not part of `str(exception)`, so it is added here.
/// Import errors get none, as in 3.11.
fn did_you_mean(vm: &VirtualMachine, exception: &PyRef<PyBaseException>) -> Option<String> {
    let class = exception.class();
    let hinted = class.fast_issubclass(vm.ctx.exceptions.name_error)
        || class.fast_issubclass(vm.ctx.exceptions.attribute_error);
    if !hinted {
        return None;
    }
    let suggestion = rustpython_vm::suggestion::offer_suggestions(exception, vm)?;
    Some(format!(
        ". Did you mean: '{}'?",
        suggestion.to_string_lossy()
    ))
}

fn natives_limits() -> Limits {
    natives::current_limits().unwrap_or_default()
}

/// Marks a Python `MemoryError` or `RecursionError` as the limit `kind`, and makes its message
/// name the limit and its value when the interpreter's own text does not ("maximum recursion
/// depth exceeded" → "… (recursion depth limit of 400 frames exceeded)").
fn attach_limit(error: &mut SnippetError, kind: LimitKind, phase: ErrorPhase) {
    let limited = SnippetError::limit(phase, kind, &natives_limits(), "");
    if !error.message.contains("limit of") {
        let own = error.message.trim();
        error.message = if own.is_empty() {
            limited.message
        } else {
            format!("{own} ({})", limited.message)
        };
    }
    error.limit = limited.limit;
}

fn bus_error_details(
    vm: &VirtualMachine,
    objects: &Objects,
    object: &PyObjectRef,
) -> Option<Map<String, Value>> {
    let helpers = Helpers {
        convert_other: &objects.convert_other,
        date_from_ms: &objects.date_from_ms,
        record: &objects.record,
    };
    let mut details = Map::new();
    for name in ["kind", "function", "reason_uri", "context"] {
        let value = object.get_attr(name, vm).ok()?;
        if vm.is_none(&value) {
            continue;
        }
        let json = convert::to_json(vm, &helpers, &value, Direction::Result).ok()?;
        details.insert(name.to_owned(), json);
    }
    Some(details)
}

/// The deepest traceback line that belongs to the snippet.
fn snippet_line(vm: &VirtualMachine, exception: &PyObjectRef) -> Option<u32> {
    let mut traceback = exception.get_attr("__traceback__", vm).ok()?;
    let mut line = None;
    let mut guard = 0;
    while !vm.is_none(&traceback) && guard < 10_000 {
        guard += 1;
        let filename = traceback
            .get_attr("tb_frame", vm)
            .and_then(|frame| frame.get_attr("f_code", vm))
            .and_then(|code| code.get_attr("co_filename", vm))
            .ok()
            .and_then(|name| {
                name.downcast_ref::<PyStr>()
                    .map(|text| text.to_string_lossy().into_owned())
            });
        if filename.as_deref() == Some("<snippet>")
            && let Some(number) = traceback
                .get_attr("tb_lineno", vm)
                .ok()
                .and_then(|lineno| lineno.try_to_value::<u32>(vm).ok())
        {
            line = Some(number);
        }
        traceback = traceback.get_attr("tb_next", vm).ok()?;
    }
    line
}

fn describe_exception(vm: &VirtualMachine, exception: &PyRef<PyBaseException>) -> String {
    let mut text = String::new();
    if vm.write_exception(&mut text, exception).is_err() || text.is_empty() {
        let object: PyObjectRef = exception.clone().into();
        let message = object
            .str(vm)
            .map(|message| message.to_string_lossy().into_owned())
            .unwrap_or_default();
        text = format!("{}: {message}", exception.class().name());
    }
    text.trim_end().to_owned()
}
