//! The native half of the snippet runtime: the `_codemode_native` module (bus calls, waiting,
//! output capture, the import allowlist) and the per-run state it works on.
//!
//! The functions are registered once per interpreter and capture nothing (RustPython leaks
//! capturing closures); per-run state lives in thread-locals that [`Engine::run`] sets before
//! and clears after every run, so no Python object outlives its run in a thread-local.
//!
//! [`Engine::run`]: super::Engine::run

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    rc::Rc,
    time::Duration,
};

use rustpython_vm::{
    AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseException, PyCode, PyDict, PyStr, PyTuple, PyType},
    bytecode::CodeFlags,
    function::FuncArgs,
};
use serde_json::{Map, Value};
use web_time::Instant;

use super::{
    Completion, HostPort,
    convert::{self, Direction, Helpers},
    stdlib::{ImportArgs, Modules, ViewHooks, refused},
};
use crate::{
    host::{HostCall, HostCallError, HostErrorKind},
    limits::{LimitKind, Limits},
    outcome::CallRecord,
    spec::FunctionSet,
};

mod faithful;

thread_local! {
    /// importlib's `__import__` between runs (set once per interpreter at start-up).
    static REAL_IMPORT: RefCell<Option<PyObjectRef>> = const { RefCell::new(None) };
    static RUN: RefCell<Option<RunState>> = const { RefCell::new(None) };
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Interpreter-wide objects the natives need, installed for the duration of a run.
pub(crate) struct Runtime {
    pub(crate) functions: FunctionSet,
    pub(crate) bus_call_class: PyObjectRef,
    pub(crate) make_error: PyObjectRef,
    pub(crate) convert_other: PyObjectRef,
    pub(crate) date_from_ms: PyObjectRef,
    pub(crate) record: PyObjectRef,
    pub(crate) limit_exceeded: PyRef<PyType>,
    pub(crate) wrapper_code: usize,
    pub(crate) own_codes: HashSet<usize>,
    pub(crate) modules: Rc<Modules>,
    /// importlib's `__import__`, for imports made by trusted (non-snippet) code.
    pub(crate) real_import: PyObjectRef,
    /// `_codemode._per_run_view`: fresh per-run state for a module view.
    pub(crate) per_run_view: PyObjectRef,
}

/// Everything one run accumulates.
pub(crate) struct RunState {
    pub(crate) port: Box<dyn HostPort>,
    pub(crate) limits: Limits,
    pub(crate) deadline: Instant,
    pub(crate) calls: Vec<CallRecord>,
    pub(crate) call_started: Vec<Instant>,
    pub(crate) completed: HashMap<u64, Result<Value, HostCallError>>,
    pub(crate) port_closed: bool,
    pub(crate) output: String,
    pub(crate) output_chars: usize,
    pub(crate) output_total: usize,
    pub(crate) deferred: Vec<HashSet<usize>>,
    pub(crate) limit_hit: Option<LimitKind>,
    pub(crate) views: HashMap<String, PyObjectRef>,
    /// The id of the snippet's globals dict: imports from frames with these globals are the
    /// snippet's and go through the allowlist.
    pub(crate) snippet_globals: usize,
}

impl RunState {
    pub(crate) fn new(port: Box<dyn HostPort>, limits: Limits, started: Instant) -> Self {
        Self {
            port,
            deadline: crate::limits::deadline_after(started, limits.wall_time),
            limits,
            calls: Vec::new(),
            call_started: Vec::new(),
            completed: HashMap::new(),
            port_closed: false,
            output: String::new(),
            output_chars: 0,
            output_total: 0,
            deferred: Vec::new(),
            limit_hit: None,
            views: HashMap::new(),
            snippet_globals: 0,
        }
    }

    /// Stores a completion and times its call.
    fn record(&mut self, completion: Completion) {
        let Ok(index) = usize::try_from(completion.ticket) else {
            return;
        };
        if let (Some(record), Some(started)) =
            (self.calls.get_mut(index), self.call_started.get(index))
        {
            if record.ms.is_some() {
                return;
            }
            record.ms = Some(
                completion
                    .received
                    .saturating_duration_since(*started)
                    .as_secs_f64()
                    * 1000.0,
            );
            match &completion.result {
                Ok(_) => record.ok = true,
                Err(error) => {
                    record.error =
                        Some(format!("{}: {}", error.kind.python_class(), error.message));
                }
            }
            self.completed.insert(completion.ticket, completion.result);
        }
    }

    /// Fails every unanswered call (the port is gone).
    fn fail_pending(&mut self) {
        self.port_closed = true;
        let now = Instant::now();
        for index in 0..self.calls.len() {
            let ticket = index as u64;
            let answered = self
                .calls
                .get(index)
                .is_some_and(|record| record.ms.is_some());
            if !answered && !self.completed.contains_key(&ticket) {
                self.record(Completion {
                    ticket,
                    result: Err(HostCallError::new(
                        HostErrorKind::Disconnected,
                        "the sandbox lost its connection to the host",
                    )),
                    received: now,
                });
            }
        }
    }
}

/// Records which globals dict is the snippet's (see [`RunState::snippet_globals`]).
pub(crate) fn set_snippet_globals(id: usize) {
    RUN.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut()
            && let Some(run) = slot.as_mut()
        {
            run.snippet_globals = id;
        }
    });
}

/// Sets (or clears) the import function trusted code uses outside runs.
pub(crate) fn set_real_import(real: Option<PyObjectRef>) -> Option<PyObjectRef> {
    REAL_IMPORT.with(|cell| std::mem::replace(&mut *cell.borrow_mut(), real))
}

/// Installs the runtime and run state for one run; [`uninstall`] takes them back.
pub(crate) fn install(runtime: Runtime, run: RunState) {
    RUNTIME.with(|cell| *cell.borrow_mut() = Some(runtime));
    RUN.with(|cell| *cell.borrow_mut() = Some(run));
}

/// Removes the per-run state (dropping every Python object it held).
pub(crate) fn uninstall() -> (Option<Runtime>, Option<RunState>) {
    let run = RUN.with(|cell| cell.try_borrow_mut().ok().and_then(|mut slot| slot.take()));
    let runtime = RUNTIME.with(|cell| cell.try_borrow_mut().ok().and_then(|mut slot| slot.take()));
    (runtime, run)
}

/// Runs `body` with the run state, or raises `RuntimeError` outside a run or on re-entry.
fn with_run<R>(
    vm: &VirtualMachine,
    body: impl FnOnce(&mut RunState) -> PyResult<R>,
) -> PyResult<R> {
    RUN.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| vm.new_runtime_error("the sandbox runtime is busy"))?;
        let run = slot
            .as_mut()
            .ok_or_else(|| vm.new_runtime_error("no snippet is running"))?;
        body(run)
    })
}

fn with_runtime<R>(vm: &VirtualMachine, body: impl FnOnce(&Runtime) -> PyResult<R>) -> PyResult<R> {
    RUNTIME.with(|cell| {
        let slot = cell
            .try_borrow()
            .map_err(|_| vm.new_runtime_error("the sandbox runtime is busy"))?;
        let runtime = slot
            .as_ref()
            .ok_or_else(|| vm.new_runtime_error("no snippet is running"))?;
        body(runtime)
    })
}

/// Marks the run as having hit `kind` and builds the `LimitExceeded` exception.
pub(crate) fn limit_error(
    vm: &VirtualMachine,
    kind: LimitKind,
    detail: &str,
) -> PyRef<PyBaseException> {
    let limits = RUN.with(|cell| {
        cell.try_borrow_mut().ok().and_then(|mut slot| {
            slot.as_mut().map(|run| {
                run.limit_hit.get_or_insert(kind);
                run.limits.clone()
            })
        })
    });
    let value = limits.map_or_else(String::new, |limits| limits.describe(kind));
    let mut message = format!("{} limit of {value} exceeded", kind.label());
    if !detail.is_empty() {
        message.push_str(": ");
        message.push_str(detail);
    }
    let class = RUNTIME.with(|cell| {
        cell.try_borrow()
            .ok()
            .and_then(|slot| slot.as_ref().map(|runtime| runtime.limit_exceeded.clone()))
    });
    match class {
        Some(class) => vm.new_exception(class, vec![vm.ctx.new_str(message).into()]),
        None => vm.new_runtime_error(message),
    }
}

/// Marks the run as having hit the memory limit and builds its `MemoryError`.
pub(crate) fn memory_error(vm: &VirtualMachine) -> PyRef<PyBaseException> {
    let limits = RUN.with(|cell| {
        cell.try_borrow_mut().ok().and_then(|mut slot| {
            slot.as_mut().map(|run| {
                run.limit_hit.get_or_insert(LimitKind::Memory);
                run.limits.clone()
            })
        })
    });
    let value = limits.map_or_else(String::new, |limits| limits.describe(LimitKind::Memory));
    vm.new_exception(
        vm.ctx.exceptions.memory_error.to_owned(),
        vec![
            vm.ctx
                .new_str(format!("memory limit of {value} exceeded"))
                .into(),
        ],
    )
}

fn helpers(runtime: &Runtime) -> Helpers<'_> {
    Helpers {
        convert_other: &runtime.convert_other,
        date_from_ms: &runtime.date_from_ms,
        record: &runtime.record,
    }
}

/// Where a bus call was made from: inside a coroutine, or inside a deferring `gather(...)` /
/// top-level `await`, it returns a `BusCall` instead of blocking.
fn returns_future(vm: &VirtualMachine, skip: &HashSet<usize>, deferred: &[HashSet<usize>]) -> bool {
    let mut frame = vm.current_frame();
    while let Some(current) = frame {
        let code = current.f_code();
        let id = code.get_id();
        if skip.contains(&id) {
            frame = current.f_back(vm);
            continue;
        }
        if deferred.iter().any(|set| set.contains(&id)) {
            return true;
        }
        let name: &str = code.code.obj_name.as_ref();
        let comprehension = matches!(
            name,
            "<listcomp>" | "<setcomp>" | "<dictcomp>" | "<genexpr>"
        );
        if comprehension {
            frame = current.f_back(vm);
            continue;
        }
        return code
            .code
            .flags
            .intersects(CodeFlags::COROUTINE | CodeFlags::ITERABLE_COROUTINE);
    }
    false
}

/// Collects a thunk's code object and every code object nested in it.
fn code_ids(vm: &VirtualMachine, thunk: &PyObjectRef) -> PyResult<HashSet<usize>> {
    let mut ids = HashSet::new();
    let code = thunk.get_attr("__code__", vm)?;
    let mut stack = vec![code];
    while let Some(code) = stack.pop() {
        if code.downcast_ref::<PyCode>().is_none() || !ids.insert(code.get_id()) {
            continue;
        }
        let constants = code.get_attr("co_consts", vm)?;
        if let Some(tuple) = constants.downcast_ref::<PyTuple>() {
            stack.extend(
                tuple
                    .as_slice()
                    .iter()
                    .filter(|item| item.downcast_ref::<PyCode>().is_some())
                    .cloned(),
            );
        }
    }
    Ok(ids)
}

/// Starts a call: checks the limits, hands it to the port, records it. Returns the ticket.
fn start_call(vm: &VirtualMachine, call: &HostCall) -> PyResult<u64> {
    let outcome = with_run(vm, |run| {
        let pause = run.port.clock_pause();
        if !pause.now && Instant::now() >= crate::limits::deadline_after(run.deadline, pause.total)
        {
            return Ok(Err(LimitKind::WallTime));
        }
        if run.calls.len() >= run.limits.max_bus_calls as usize {
            return Ok(Err(LimitKind::BusCalls));
        }
        let ticket = run.calls.len() as u64;
        run.calls.push(CallRecord {
            function: call.function.clone(),
            target: call.target.clone(),
            ms: None,
            ok: false,
            error: None,
        });
        run.call_started.push(Instant::now());
        if run.port_closed || run.port.start(ticket, call).is_err() {
            run.fail_pending();
        }
        Ok(Ok(ticket))
    })?;
    match outcome {
        Ok(ticket) => Ok(ticket),
        Err(kind) => Err(limit_error(vm, kind, "")),
    }
}

/// How long one wait lasts while the wall-time clock stands still (then it looks again).
const PAUSED_WAIT_STEP: Duration = Duration::from_millis(50);

/// Completions taken from the port in one go once one has arrived (so a burst of replies is
/// settled in one turn of the snippet's event loop, not one turn each).
const DRAIN_BATCH: usize = 1024;

/// Blocks until one of the `waiting` tickets (`count` of them) completes, the timeout passes,
/// or the deadline. Looks only at completed calls, so a wait costs O(completed), not
/// O(waiting): `gather` of N calls would otherwise be O(N²).
fn wait_any(
    vm: &VirtualMachine,
    waiting: &dyn Fn(u64) -> bool,
    count: usize,
    timeout: Option<Duration>,
) -> PyResult<Vec<(u64, Result<Value, HostCallError>)>> {
    let started = Instant::now();
    let result = with_run(vm, |run| {
        loop {
            let mut ready: Vec<u64> = run
                .completed
                .keys()
                .copied()
                .filter(|ticket| waiting(*ticket))
                .collect();
            if !ready.is_empty() {
                ready.sort_unstable();
                return Ok(Ok(ready
                    .into_iter()
                    .filter_map(|ticket| run.completed.remove(&ticket).map(|done| (ticket, done)))
                    .collect()));
            }
            let now = Instant::now();
            // While a person is asked, the clock stands still: wait in short steps and look again.
            let pause = run.port.clock_pause();
            let deadline = crate::limits::deadline_after(run.deadline, pause.total);
            if !pause.now && now >= deadline {
                return Ok(Err(()));
            }
            let mut budget = if pause.now {
                PAUSED_WAIT_STEP
            } else {
                deadline - now
            };
            if let Some(timeout) = timeout {
                let left = timeout.saturating_sub(now.saturating_duration_since(started));
                if left.is_zero() {
                    return Ok(Ok(Vec::new()));
                }
                budget = budget.min(left);
            }
            if run.port_closed {
                run.fail_pending();
                continue;
            }
            match run.port.next_completion(budget) {
                Ok(Some(completion)) => {
                    run.record(completion);
                    for _ in 0..DRAIN_BATCH {
                        match run.port.next_completion(Duration::ZERO) {
                            Ok(Some(completion)) => run.record(completion),
                            Ok(None) => break,
                            Err(_) => {
                                run.fail_pending();
                                break;
                            }
                        }
                    }
                }
                Ok(None) => {}
                Err(_) => run.fail_pending(),
            }
        }
    })?;
    result.map_err(|()| {
        let detail = format!(
            "still waiting for {count} bus call{}",
            if count == 1 { "" } else { "s" }
        );
        limit_error(vm, LimitKind::WallTime, &detail)
    })
}

/// A completed call as Python: the value, or the `BusError` instance.
fn settle(
    vm: &VirtualMachine,
    function: &str,
    result: Result<Value, HostCallError>,
) -> PyResult<Result<PyObjectRef, PyObjectRef>> {
    with_runtime(vm, |runtime| match result {
        Ok(value) => convert::to_python(vm, &helpers(runtime), &value).map(Ok),
        Err(error) => {
            let context = match &error.context {
                Some(context) => convert::to_python(vm, &helpers(runtime), context)?,
                None => vm.ctx.none(),
            };
            // Arguments the bus refused: say what the function takes.
            let message = match runtime.functions.get(function) {
                Some(spec)
                    if error.kind == HostErrorKind::InvalidArguments
                        && !error.message.contains("; expected ") =>
                {
                    format!("{}; expected {}", error.message, spec.signature())
                }
                _ => error.message.clone(),
            };
            let reason_uri: PyObjectRef = match &error.reason_uri {
                Some(uri) => vm.ctx.new_str(uri.as_str()).into(),
                None => vm.ctx.none(),
            };
            runtime
                .make_error
                .call(
                    (
                        vm.ctx.new_str(error.kind.as_str()),
                        vm.ctx.new_str(message),
                        vm.ctx.new_str(function),
                        reason_uri,
                        context,
                    ),
                    vm,
                )
                .map(Err)
        }
    })
}

/// Output capture: appends to the run's buffer up to the cap, counting what was dropped.
fn write_output(vm: &VirtualMachine, text: &str) -> PyResult<usize> {
    with_run(vm, |run| {
        let count = text.chars().count();
        run.output_total = run.output_total.saturating_add(count);
        let room = run.limits.max_output_chars.saturating_sub(run.output_chars);
        if room > 0 {
            let (kept, _) = crate::outcome::cap_chars(text, room);
            run.output_chars += kept.chars().count();
            run.output.push_str(&kept);
        }
        Ok(count)
    })
}

#[rustpython_vm::pymodule]
#[expect(
    clippy::needless_pass_by_value,
    reason = "RustPython hands arguments to native functions by value"
)]
pub(crate) mod _codemode_native {
    use rustpython_vm::{
        PyObjectRef, PyResult, VirtualMachine,
        builtins::{PyDictRef, PyStrRef, PyTupleRef},
        function::FuncArgs,
    };

    /// Calls a catalogue function: blocks for the result, or (inside `gather(...)`, a
    /// top-level `await` or a coroutine) returns a started `BusCall`.
    #[pyfunction]
    fn call(path: PyStrRef, args: PyTupleRef, kwargs: PyDictRef, vm: &VirtualMachine) -> PyResult {
        super::call(&path.to_string_lossy(), &args, &kwargs, vm)
    }

    /// Waits until one of the calls in `waiting` (a dict keyed by ticket) completes, or
    /// `timeout` seconds pass; returns `[(ticket, ok, value_or_error_args)]`.
    #[pyfunction]
    fn wait(waiting: PyDictRef, timeout: Option<f64>, vm: &VirtualMachine) -> PyResult {
        super::wait(&waiting, timeout, vm)
    }

    /// Calls `thunk()` with the bus calls written directly inside it deferred.
    #[pyfunction]
    fn defer(thunk: PyObjectRef, expand: bool, vm: &VirtualMachine) -> PyResult {
        super::defer(&thunk, expand, vm)
    }

    /// Whether the Python caller of the runtime function calling this is a coroutine.
    #[pyfunction]
    fn caller_is_async(vm: &VirtualMachine) -> PyResult<bool> {
        super::caller_is_async(vm)
    }

    /// A catalogue namespace's member `name`: `("function", doc)`, `("namespace", None)`, or
    /// `None` when it has none of that name.
    #[pyfunction]
    fn namespace_member(
        path: PyStrRef,
        name: PyStrRef,
        vm: &VirtualMachine,
    ) -> PyResult<Option<PyObjectRef>> {
        super::namespace_member(&path.to_string_lossy(), &name.to_string_lossy(), vm)
    }

    /// The names directly under a catalogue namespace, sorted.
    #[pyfunction]
    fn namespace_members(path: PyStrRef, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let path = path.to_string_lossy();
        super::with_runtime(vm, |runtime| {
            let names: Vec<PyObjectRef> = runtime
                .functions
                .members(&path)
                .map(|name| vm.ctx.new_str(name).into())
                .collect();
            Ok(vm.ctx.new_list(names).into())
        })
    }

    /// The `AttributeError` text for a missing namespace member, with suggestions.
    #[pyfunction]
    fn unknown_attribute(path: PyStrRef, name: PyStrRef, vm: &VirtualMachine) -> PyResult<String> {
        super::unknown_attribute(&path.to_string_lossy(), &name.to_string_lossy(), vm)
    }

    /// `sys.stdout.write`.
    #[pyfunction]
    fn write(text: PyObjectRef, vm: &VirtualMachine) -> PyResult<usize> {
        let text = text.str(vm)?;
        super::write_output(vm, &text.to_string_lossy())
    }

    /// `sys.stdout.flush`.
    #[pyfunction]
    fn flush() {}

    /// Seconds on a monotonic clock (for `asyncio.sleep`).
    #[pyfunction]
    fn monotonic() -> f64 {
        super::clock_origin().elapsed().as_secs_f64()
    }

    /// Nanoseconds on the same monotonic clock (`time.monotonic_ns`, `time.perf_counter_ns`).
    #[pyfunction]
    fn monotonic_ns() -> u128 {
        super::clock_origin().elapsed().as_nanos()
    }

    /// Nanoseconds since the Unix epoch (`time.time_ns`): `Date.now()` in a browser, where
    /// RustPython's own `time_ns` panics.
    #[pyfunction]
    fn time_ns() -> u128 {
        web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos())
    }

    /// `time.sleep` for snippets: waits in slices so the interrupter can stop it, and not
    /// past the run's deadline.
    #[pyfunction]
    fn sleep(seconds: f64, vm: &VirtualMachine) -> PyResult<()> {
        super::sleep(seconds, vm)
    }

    /// `__import__` for snippets: only allowlisted modules, each as a fresh view.
    #[pyfunction]
    fn import_module(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        super::import_module(&args, vm)
    }

    /// `sorted` for snippets: natively compared keys when they are all ints, floats, strs or
    /// tuples of them (see `natives::sorted`).
    #[pyfunction]
    fn sorted(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        super::faithful::sorted(args, vm)
    }

    /// `json.JSONEncoder.encode` for plain data (see `natives::json_encode`); `None` when the
    /// value needs the Python encoder.
    #[pyfunction]
    #[expect(
        clippy::too_many_arguments,
        reason = "the encoder's settings, as json passes them"
    )]
    fn json_encode(
        value: PyObjectRef,
        ensure_ascii: bool,
        allow_nan: bool,
        sort_keys: bool,
        indent: Option<PyStrRef>,
        item_separator: PyStrRef,
        key_separator: PyStrRef,
        vm: &VirtualMachine,
    ) -> Option<String> {
        let style = super::faithful::JsonStyle {
            ensure_ascii,
            allow_nan,
            sort_keys,
            indent: indent.map(|text| text.to_string_lossy().into_owned()),
            item_separator: item_separator.to_string_lossy().into_owned(),
            key_separator: key_separator.to_string_lossy().into_owned(),
        };
        let mut out = String::new();
        super::faithful::json_encode(&value, &style, 0, &mut out, vm).then_some(out)
    }

    /// `round` for snippets: CPython's correctly rounded `round(float, ndigits)`.
    #[pyfunction]
    fn round(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        super::faithful::round(args, vm)
    }
}

thread_local! {
    /// The zero of the snippets' monotonic clocks (`time.monotonic`, `perf_counter`…): the
    /// first engine on this thread, so a snippet never reads 0.
    static CLOCK_ORIGIN: Instant = Instant::now();
}

/// See [`CLOCK_ORIGIN`]; the engine touches it at start-up.
pub(crate) fn clock_origin() -> Instant {
    CLOCK_ORIGIN.with(|origin| *origin)
}

/// The longest single wait inside `time.sleep`, so a signal from the interrupter is seen soon.
const SLEEP_SLICE: Duration = Duration::from_millis(10);

fn sleep(seconds: f64, vm: &VirtualMachine) -> PyResult<()> {
    let wanted = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX);
    let deadline = with_run(vm, |run| Ok(run.deadline))?;
    let started = Instant::now();
    let until = started.checked_add(wanted).unwrap_or(deadline);
    let past_deadline = until > deadline;
    // Past the deadline already (a snippet that catches the limit and sleeps again): sleep
    // as asked, so such a loop idles until the worker is killed instead of spinning.
    let end = if started >= deadline {
        until
    } else {
        until.min(deadline)
    };
    loop {
        vm.check_signals()?;
        let now = Instant::now();
        if now >= end {
            break;
        }
        pause((end - now).min(SLEEP_SLICE));
    }
    if past_deadline {
        return Err(limit_error(
            vm,
            LimitKind::WallTime,
            &format!("time.sleep({seconds}) would end after the deadline"),
        ));
    }
    Ok(())
}

/// Waits `duration` on this thread (a browser's Web Worker cannot block: it spins instead).
fn pause(duration: Duration) {
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::sleep(duration);
    #[cfg(target_arch = "wasm32")]
    {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
}

fn call(path: &str, args: &PyTuple, kwargs: &PyDict, vm: &VirtualMachine) -> PyResult {
    let (spec, skip) = with_runtime(vm, |runtime| {
        let spec = runtime.functions.get(path).cloned().ok_or_else(|| {
            vm.new_attribute_error(format!("'{path}' is not a catalogue function"))
        })?;
        let mut skip = runtime.own_codes.clone();
        skip.insert(runtime.wrapper_code);
        Ok((spec, skip))
    })?;
    let mut keyword_pairs: Vec<(String, PyObjectRef)> = Vec::new();
    for (key, value) in kwargs {
        let key = key
            .downcast_ref::<PyStr>()
            .ok_or_else(|| vm.new_type_error("keywords must be strings"))?
            .to_string_lossy()
            .into_owned();
        keyword_pairs.push((key, value));
    }
    let keyword_names: Vec<&str> = keyword_pairs.iter().map(|(key, _)| key.as_str()).collect();
    let positional_names = spec
        .bind(args.len(), &keyword_names, false)
        .map_err(|error| vm.new_type_error(spec.bind_error_message(&error)))?;

    let mut arguments = Map::new();
    let mut target = None;
    with_runtime(vm, |runtime| {
        let helpers = helpers(runtime);
        let argument = |name: &str, value: &PyObjectRef| {
            convert::to_json(vm, &helpers, value, Direction::Argument)
                .map_err(|error| name_the_argument(vm, &spec, name, &error))
        };
        for (name, value) in positional_names.iter().zip(args.as_slice()) {
            let json = argument(name, value)?;
            arguments.insert(name.clone(), json);
        }
        for (name, value) in &keyword_pairs {
            let json = argument(name, value)?;
            if spec.accepts_target && name == "target" {
                target = Some(json);
            } else {
                arguments.insert(name.clone(), json);
            }
        }
        Ok(())
    })?;

    let deferred = with_run(vm, |run| Ok(run.deferred.clone()))?;
    let future = returns_future(vm, &skip, &deferred);
    let function = spec.name.clone();
    let ticket = start_call(
        vm,
        &HostCall {
            function: function.clone(),
            arguments,
            target,
        },
    )?;
    if future {
        let class = with_runtime(vm, |runtime| Ok(runtime.bus_call_class.clone()))?;
        return class.call((vm.ctx.new_int(ticket), vm.ctx.new_str(function)), vm);
    }
    loop {
        let mut done = wait_any(vm, &|done| done == ticket, 1, None)?;
        if let Some((_, result)) = done.pop() {
            return match settle(vm, &function, result)? {
                Ok(value) => Ok(value),
                Err(error) => Err(error
                    .downcast::<PyBaseException>()
                    .unwrap_or_else(|_| vm.new_runtime_error("bus call failed"))),
            };
        }
    }
}

/// The same exception class with a message that names the function, the argument and the
/// signature: "crm.echo() argument 'value': a set cannot be passed to a bus call…; expected …".
fn name_the_argument(
    vm: &VirtualMachine,
    spec: &crate::spec::FunctionSpec,
    name: &str,
    error: &PyRef<PyBaseException>,
) -> PyRef<PyBaseException> {
    let object: PyObjectRef = error.clone().into();
    let message = object
        .str(vm)
        .map(|text| text.to_string_lossy().into_owned())
        .unwrap_or_default();
    vm.new_exception_msg(
        error.class().to_owned(),
        format!(
            "{}() argument '{name}': {message}; expected {}",
            spec.name,
            spec.signature()
        )
        .into(),
    )
}

fn wait(waiting: &PyDict, timeout: Option<f64>, vm: &VirtualMachine) -> PyResult {
    let timeout = timeout.map(|seconds| {
        Duration::try_from_secs_f64(seconds.clamp(0.0, 86_400.0)).unwrap_or(Duration::ZERO)
    });
    let is_waiting = |ticket: u64| {
        let key: PyObjectRef = vm.ctx.new_int(ticket).into();
        waiting.contains_key(&*key, vm)
    };
    let done = wait_any(vm, &is_waiting, waiting.__len__(), timeout)?;
    let functions = with_run(vm, |run| {
        Ok(done
            .iter()
            .map(|(ticket, _)| {
                usize::try_from(*ticket)
                    .ok()
                    .and_then(|index| run.calls.get(index))
                    .map(|record| record.function.clone())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>())
    })?;
    let mut items = Vec::with_capacity(done.len());
    for ((ticket, result), function) in done.into_iter().zip(functions) {
        let entry = match settle(vm, &function, result)? {
            Ok(value) => vm.ctx.new_tuple(vec![
                vm.ctx.new_int(ticket).into(),
                vm.ctx.new_bool(true).into(),
                value,
            ]),
            Err(error) => vm.ctx.new_tuple(vec![
                vm.ctx.new_int(ticket).into(),
                vm.ctx.new_bool(false).into(),
                error_args(vm, &error)?,
            ]),
        };
        items.push(entry.into());
    }
    Ok(vm.ctx.new_list(items).into())
}

/// The `_make_error` arguments back from an exception instance (so Python re-creates it).
fn error_args(vm: &VirtualMachine, error: &PyObjectRef) -> PyResult<PyObjectRef> {
    let get = |name: &'static str| error.get_attr(name, vm);
    Ok(vm
        .ctx
        .new_tuple(vec![
            get("kind")?,
            get("message")?,
            get("function")?,
            get("reason_uri")?,
            get("context")?,
        ])
        .into())
}

fn defer(thunk: &PyObjectRef, expand: bool, vm: &VirtualMachine) -> PyResult {
    let ids = code_ids(vm, thunk)?;
    with_run(vm, |run| {
        run.deferred.push(ids);
        Ok(())
    })?;
    let result = (|| {
        let value = thunk.call((), vm)?;
        if !expand {
            return Ok(value);
        }
        // Exhaust generators while the calls inside them are still deferred.
        let Some(tuple) = value.downcast_ref::<PyTuple>() else {
            return Ok(value);
        };
        let mut items = Vec::with_capacity(tuple.len());
        for item in tuple.as_slice() {
            let is_generator = item.class().name().to_string() == "generator";
            if is_generator {
                let list: Vec<PyObjectRef> = item.try_to_value(vm)?;
                items.push(vm.ctx.new_list(list).into());
            } else {
                items.push(item.clone());
            }
        }
        Ok(vm.ctx.new_tuple(items).into())
    })();
    with_run(vm, |run| {
        run.deferred.pop();
        Ok(())
    })?;
    result
}

fn caller_is_async(vm: &VirtualMachine) -> PyResult<bool> {
    let skip = with_runtime(vm, |runtime| Ok(runtime.own_codes.clone()))?;
    Ok(returns_future(vm, &skip, &[]))
}

fn namespace_member(path: &str, name: &str, vm: &VirtualMachine) -> PyResult<Option<PyObjectRef>> {
    with_runtime(vm, |runtime| {
        let full = format!("{path}.{name}");
        if let Some(spec) = runtime.functions.get(&full) {
            let doc = super::function_doc(vm, spec);
            return Ok(Some(
                vm.ctx
                    .new_tuple(vec![vm.ctx.new_str("function").into(), doc])
                    .into(),
            ));
        }
        if runtime.functions.is_namespace(&full) {
            return Ok(Some(
                vm.ctx
                    .new_tuple(vec![vm.ctx.new_str("namespace").into(), vm.ctx.none()])
                    .into(),
            ));
        }
        Ok(None)
    })
}

fn unknown_attribute(path: &str, name: &str, vm: &VirtualMachine) -> PyResult<String> {
    with_runtime(vm, |runtime| {
        let full = format!("{path}.{name}");
        let suggestions = runtime.functions.suggest(&full, 3);
        let mut message = format!("'{path}' has no function '{name}'");
        if !suggestions.is_empty() {
            message.push_str("; did you mean ");
            message.push_str(&suggestions.join(", "));
            message.push('?');
        }
        Ok(message)
    })
}

fn import_module(args: &FuncArgs, vm: &VirtualMachine) -> PyResult {
    // Trusted code (the stdlib's lazy imports, start-up) imports through importlib; only the
    // snippet's own frames are held to the allowlist.
    let snippet_globals = RUN.with(|cell| {
        cell.try_borrow()
            .ok()
            .and_then(|slot| slot.as_ref().map(|run| run.snippet_globals))
    });
    let from_snippet = match (snippet_globals, vm.current_frame()) {
        (Some(id), Some(frame)) => frame.globals.get_id() == id,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !from_snippet {
        let real = RUNTIME.with(|cell| {
            cell.try_borrow()
                .ok()
                .and_then(|slot| slot.as_ref().map(|runtime| runtime.real_import.clone()))
        });
        let real = match real {
            Some(real) => real,
            None => REAL_IMPORT
                .with(|cell| cell.borrow().clone())
                .ok_or_else(|| {
                    vm.new_import_error("the import machinery is not ready", vm.ctx.new_str(""))
                })?,
        };
        return real.call(args.clone(), vm);
    }
    let request = ImportArgs::parse(vm, args)?;
    let (modules, per_run, real_import) = with_runtime(vm, |runtime| {
        Ok((
            runtime.modules.clone(),
            runtime.per_run_view.clone(),
            runtime.real_import.clone(),
        ))
    })?;
    if request.level > 0 {
        return Err(vm.new_import_error(
            "relative imports are not supported in the sandbox",
            vm.ctx.new_str(request.name.as_str()),
        ));
    }
    let top = request.name.split('.').next().unwrap_or("").to_owned();
    if !modules.is_allowed(&request.name) || !modules.is_allowed(&top) {
        return Err(refused(vm, &request.name, &modules.allowed_names()));
    }
    let mut views = with_run(vm, |run| Ok(std::mem::take(&mut run.views)))?;
    let wanted = if request.fromlist.is_empty() {
        top.as_str()
    } else {
        request.name.as_str()
    };
    let hooks = ViewHooks {
        import: &real_import,
        per_run: &per_run,
    };
    let view = modules.view(vm, wanted, &mut views, &hooks);
    with_run(vm, |run| {
        run.views = views;
        Ok(())
    })?;
    view?.ok_or_else(|| refused(vm, &request.name, &modules.allowed_names()))
}

/// The running snippet's limits.
pub(crate) fn current_limits() -> Option<Limits> {
    RUN.with(|cell| {
        cell.try_borrow()
            .ok()
            .and_then(|slot| slot.as_ref().map(|run| run.limits.clone()))
    })
}
