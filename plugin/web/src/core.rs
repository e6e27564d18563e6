//! The three Code Mode operations inside one Web Worker: the catalogue built from the page's
//! bus model, one engine, and a [`HostPort`] that relays calls through a [`Bridge`] to the page.
//! Answers are the desktop tools' texts ([`render_outcome`], the catalogue's pages). Generic
//! over the bridge, so it runs natively in tests with an in-memory one.

use std::{cell::RefCell, collections::VecDeque, rc::Rc, time::Duration};

use codemode_catalogue::{
    CallMap, CatalogueConfig, ListRequest, NO_NAMES_GIVEN, PythonCatalogue,
    functions::function_set_with_departed,
};
use codemode_engine::{
    Completion, Engine, ErrorPhase, HostCall, HostPort, LimitKind, Limits, Outcome, PortClosed,
    RunRequest, SnippetError, engine::EngineOptions, render::render_outcome,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use web_time::Instant;

use crate::{
    Error,
    calls::{Plan, Reply, plan},
    model::BusModel,
};

/// The memory a snippet may use: the module's linear-memory cap (see `build.rs`).
pub const MEMORY_BYTES: u64 = 1 << 30;

/// How the worker reaches the page. `start` must not block; `wait` blocks the snippet (JSPI
/// in the browser) until a reply arrives or `timeout` passes.
pub trait Bridge {
    /// Sends request `ticket` to the page.
    fn start(&mut self, ticket: u64, request: &Value) -> Result<(), PortClosed>;
    /// A reply that has already arrived, without waiting.
    fn poll(&mut self) -> Result<Option<Reply>, PortClosed>;
    /// Waits up to `timeout` for the next reply.
    fn wait(&mut self, timeout: Duration) -> Result<Option<Reply>, PortClosed>;
}

/// What one operation answers: the text a model reads and whether it is an error (the MCP
/// tool result's `isError`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// The text.
    pub text: String,
    /// Whether the tool call failed.
    pub is_error: bool,
    /// The run's outcome, for `execute` (machine-readable: calls, timings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Why this worker must not run another snippet (taint, a hit limit): the page replaces it.
    /// A second interpreter in the same WebAssembly instance is not safe (RustPython keeps
    /// process-wide state), and a fresh worker also gives back the memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycle: Option<String>,
}

impl Answer {
    fn text(text: impl Into<String>, is_error: bool) -> Self {
        Self {
            text: text.into(),
            is_error,
            outcome: None,
            recycle: None,
        }
    }

    fn outcome(outcome: Outcome) -> Self {
        Self {
            text: render_outcome(&outcome),
            is_error: !outcome.ok,
            outcome: Some(outcome),
            recycle: None,
        }
    }
}

/// Arguments of `listPythonDefinitions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListArgs {
    /// Search words.
    pub query: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Why the page stopped a run from outside (the worker could not answer by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// The deadline passed and the worker was terminated.
    WallTime,
    /// Linear memory ran out (the module trapped on a failed allocation).
    Memory,
    /// The interpreter panicked (a panic aborts on wasm32, so the worker is lost).
    Panic,
    /// The module trapped for another reason.
    Trap,
}

/// The catalogue version a run reads, shared with the port.
struct Shared {
    catalogue: PythonCatalogue,
    map: CallMap,
}

/// Code Mode in one worker.
pub struct Core<B: Bridge + Clone + 'static> {
    shared: Rc<RefCell<Shared>>,
    bridge: B,
    engine: Option<Engine>,
    runs: u64,
}

impl<B: Bridge + Clone + 'static> Core<B> {
    /// An empty catalogue and a started engine (the interpreter is built here).
    pub fn new(bridge: B) -> Result<Self, Error> {
        let catalogue = PythonCatalogue::build(&BusModel::default().to_catalogue(), config());
        let map = catalogue.call_map();
        let mut core = Self {
            shared: Rc::new(RefCell::new(Shared { catalogue, map })),
            bridge,
            engine: None,
            runs: 0,
        };
        core.engine = Some(core.start_engine()?);
        Ok(core)
    }

    fn start_engine(&self) -> Result<Engine, Error> {
        let port = WebPort {
            bridge: self.bridge.clone(),
            shared: Rc::clone(&self.shared),
            ready: VecDeque::new(),
        };
        let mut engine = Engine::new(&EngineOptions::default(), Box::new(port))?;
        engine.set_functions(self.functions())?;
        Ok(engine)
    }

    fn functions(&self) -> codemode_engine::FunctionSet {
        let shared = self.shared.borrow();
        function_set_with_departed(&shared.map, &shared.catalogue.departed())
    }

    /// Folds a new bus model in (`unix_ms` stamps functions that left).
    pub fn set_model(&mut self, model: &BusModel, unix_ms: u64) -> Result<(), Error> {
        {
            let mut shared = self.shared.borrow_mut();
            let catalogue = model.to_catalogue();
            shared.catalogue.update(&catalogue);
            let version = shared.catalogue.version();
            shared.catalogue.stamp_departed(version, unix_ms);
            shared.map = shared.catalogue.call_map();
        }
        let functions = self.functions();
        if let Some(engine) = self.engine.as_mut() {
            engine.set_functions(functions)?;
        }
        Ok(())
    }

    /// How many functions the catalogue has.
    pub fn function_count(&self) -> usize {
        self.shared.borrow().catalogue.function_count()
    }

    /// `list_python_definitions`.
    pub fn list(&self, args: ListArgs) -> Answer {
        let request = ListRequest {
            query: args.query,
            namespace: args.namespace,
            cursor: args.cursor,
            token_budget: None,
            detail: None,
        };
        Answer::text(self.shared.borrow().catalogue.list(&request).text, false)
    }

    /// `get_python_definitions`.
    pub fn get(&self, names: &[String]) -> Answer {
        if names.is_empty() {
            return Answer::text(NO_NAMES_GIVEN, true);
        }
        let definitions = self.shared.borrow().catalogue.get(names);
        let failed = definitions.found.is_empty();
        Answer::text(definitions.text, failed)
    }

    /// `execute_python_code`, with the wall time `timeout` (default 30 s, at most
    /// [`codemode_engine::MAX_TIMEOUT`]). Blocks (suspends, in the browser) while bus calls are pending.
    pub fn execute(&mut self, code: &str, timeout: Option<Duration>) -> Answer {
        let limits = limits(timeout);
        if self.engine.is_none() {
            match self.start_engine() {
                Ok(engine) => self.engine = Some(engine),
                Err(error) => {
                    return Answer::outcome(Outcome::failed(SnippetError::new(
                        ErrorPhase::Worker,
                        "WorkerCrashed",
                        error.to_string(),
                    )));
                }
            }
        }
        let Some(engine) = self.engine.as_mut() else {
            return Answer::text("The sandbox is unavailable; try again.", true);
        };
        self.runs += 1;
        let report = engine.run(&RunRequest {
            run_id: self.runs,
            source: code.to_owned(),
            limits,
            keep_state: false,
        });
        let mut answer = Answer::outcome(report.outcome);
        if report.recycle.is_some() {
            // Tainted or past a limit: the next run gets a fresh interpreter (natively here; the
            // browser page replaces the whole worker when it sees `recycle`).
            self.engine = None;
            answer.recycle = report.recycle;
        }
        answer
    }
}

/// The limits of one browser run.
pub fn limits(timeout: Option<Duration>) -> Limits {
    let mut limits = Limits {
        memory_bytes: MEMORY_BYTES,
        ..Limits::default()
    };
    if let Some(timeout) = timeout {
        limits.wall_time = timeout.clamp(Duration::from_millis(1), codemode_engine::MAX_TIMEOUT);
    }
    limits
}

/// The outcome of a run the page had to stop from outside (the worker is gone), in the words
/// the desktop uses for a killed worker. `calls` are the functions the run had called.
pub fn stopped(
    reason: Stopped,
    timeout: Option<Duration>,
    elapsed_ms: f64,
    detail: &str,
    calls: Vec<codemode_engine::CallRecord>,
) -> Answer {
    let limits = limits(timeout);
    let error = match reason {
        Stopped::WallTime => SnippetError::limit(
            ErrorPhase::Worker,
            LimitKind::WallTime,
            &limits,
            "the snippet did not stop at the deadline (WebAssembly cannot be interrupted in \
             a browser), so its Web Worker was terminated and replaced",
        ),
        Stopped::Memory => SnippetError::limit(
            ErrorPhase::Worker,
            LimitKind::Memory,
            &limits,
            "an allocation failed and the Web Worker was replaced",
        ),
        Stopped::Panic => SnippetError::new(
            ErrorPhase::Worker,
            "InterpreterPanic",
            format!(
                "the interpreter failed internally and was stopped: {detail} (its Web Worker \
                 was replaced)"
            ),
        ),
        Stopped::Trap => SnippetError::new(
            ErrorPhase::Worker,
            "WorkerCrashed",
            format!(
                "the interpreter stopped ({detail}) and its Web Worker was replaced; nothing \
                 of this run is kept"
            ),
        ),
    };
    let mut outcome = Outcome::failed(error);
    outcome.calls = calls;
    outcome.duration_ms = elapsed_ms;
    Answer::outcome(outcome)
}

fn config() -> CatalogueConfig {
    CatalogueConfig::default()
}

/// The engine's host port: plans each call against the current catalogue version, answers
/// what needs no bus here, and relays the rest through the bridge.
struct WebPort<B: Bridge> {
    bridge: B,
    shared: Rc<RefCell<Shared>>,
    /// Calls answered without the page, handed out before waiting.
    ready: VecDeque<Completion>,
}

impl<B: Bridge> WebPort<B> {
    fn completion(reply: Reply) -> Completion {
        let (ticket, result) = reply.into_result();
        Completion {
            ticket,
            result,
            received: Instant::now(),
        }
    }
}

impl<B: Bridge> HostPort for WebPort<B> {
    fn start(&mut self, ticket: u64, call: &HostCall) -> Result<(), PortClosed> {
        let planned = {
            let shared = self.shared.borrow();
            plan(&shared.catalogue, &shared.map, call)
        };
        match planned {
            Plan::Request(request) => self.bridge.start(ticket, &request),
            Plan::Answered(result) => {
                self.ready.push_back(Completion {
                    ticket,
                    result,
                    received: Instant::now(),
                });
                Ok(())
            }
        }
    }

    fn next_completion(&mut self, timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        if let Some(done) = self.ready.pop_front() {
            return Ok(Some(done));
        }
        let reply = if timeout.is_zero() {
            self.bridge.poll()?
        } else {
            match self.bridge.poll()? {
                Some(reply) => Some(reply),
                None => self.bridge.wait(timeout)?,
            }
        };
        Ok(reply.map(Self::completion))
    }
}
