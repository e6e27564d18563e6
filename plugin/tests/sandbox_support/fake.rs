//! Shared by the sandbox tests: a fake catalogue, a fake bus (async, for the pool) and a fake
//! port (sync, for an in-process engine), with the same behaviour: instant answers, 50 ms
//! answers, every kind of failure, and bus dates.

#![allow(dead_code, reason = "each test crate uses a different part")]

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use codemode::sandbox::{
    Completion, FunctionSet, FunctionSpec, HostCall, HostCallError, HostCalls, HostErrorKind,
    HostPort, ParamSpec, PortClosed,
};
use serde_json::{Value, json};

/// The catalogue the tests use.
pub(crate) fn functions() -> FunctionSet {
    let mut get_clients = FunctionSpec::keyword_only("crm.get_clients", &["adviser", "region"]);
    get_clients.accepts_target = true;
    get_clients.doc = Some("Lists clients.".to_owned());
    let get_client = FunctionSpec {
        name: "crm.get_client".to_owned(),
        params: vec![ParamSpec::keyword("id", true)],
        accepts_target: false,
        var_keywords: false,
        doc: None,
        departed: None,
    };
    let view_chart = FunctionSpec {
        name: "intents.view_chart".to_owned(),
        params: vec![
            ParamSpec::positional("context", true),
            ParamSpec::keyword("app", false),
            ParamSpec::keyword("instance", false),
        ],
        accepts_target: false,
        var_keywords: false,
        doc: None,
        departed: None,
    };
    let raise_intent = FunctionSpec {
        name: "raise_intent".to_owned(),
        params: vec![
            ParamSpec::positional("intent", true),
            ParamSpec::positional("context", false),
            ParamSpec::keyword("app", false),
        ],
        accepts_target: false,
        var_keywords: false,
        doc: None,
        departed: None,
    };
    // Part of the bus signature could not be typed: extra keywords travel under their own names.
    let mut flexible = FunctionSpec::keyword_only("crm.flexible", &[]);
    flexible.params = vec![ParamSpec::keyword("name", true)];
    flexible.var_keywords = true;
    FunctionSet::new(vec![
        get_clients,
        flexible,
        get_client,
        FunctionSpec::keyword_only("crm.slow", &["ms", "tag"]),
        FunctionSpec::keyword_only("crm.echo", &["value", "when"]),
        FunctionSpec::keyword_only("crm.fail", &[]),
        FunctionSpec::keyword_only("crm.missing", &[]),
        FunctionSpec::keyword_only("crm.timeout", &[]),
        FunctionSpec::keyword_only("crm.disconnected", &[]),
        FunctionSpec::keyword_only("crm.no_server", &[]),
        FunctionSpec::keyword_only("crm.peer_left", &[]),
        FunctionSpec::keyword_only("crm.refused", &[]),
        FunctionSpec::keyword_only("crm.big", &["rows"]),
        view_chart,
        raise_intent,
        FunctionSpec::keyword_only("find_intents", &["context_type"]),
    ])
}

/// What the fake bus answers to `call`, and after how long.
pub(crate) fn behave(call: &HostCall) -> (Duration, Result<Value, HostCallError>) {
    let arguments = &call.arguments;
    match call.function.as_str() {
        "crm.get_clients" => {
            let clients = json!([
                {"name": "Ada", "adviser": "ann", "region": "EU", "aum": 120},
                {"name": "Bob", "adviser": "ann", "region": "US", "aum": 80},
                {"name": "Cy", "adviser": "ben", "region": "EU", "aum": 300},
            ]);
            let wanted = arguments.get("adviser").and_then(Value::as_str);
            let filtered: Vec<Value> = clients
                .as_array()
                .into_iter()
                .flatten()
                .filter(|client| wanted.is_none_or(|adviser| client["adviser"] == adviser))
                .cloned()
                .collect();
            (Duration::ZERO, Ok(Value::Array(filtered)))
        }
        "crm.get_client" => {
            let id = arguments.get("id").cloned().unwrap_or(Value::Null);
            (
                Duration::ZERO,
                Ok(json!({"id": id, "since": "#T42_DATE#1700000000000"})),
            )
        }
        "crm.slow" => {
            let ms = arguments.get("ms").and_then(Value::as_u64).unwrap_or(50);
            let tag = arguments.get("tag").cloned().unwrap_or(Value::Null);
            (Duration::from_millis(ms), Ok(json!({"tag": tag})))
        }
        "crm.echo" | "crm.flexible" => (Duration::ZERO, Ok(Value::Object(arguments.clone()))),
        "crm.fail" => (
            Duration::ZERO,
            Err(HostCallError {
                kind: HostErrorKind::InvocationFailed,
                message: "client 42 is locked".to_owned(),
                reason_uri: Some("crm.errors.locked".to_owned()),
                context: Some(json!({"client": 42})),
            }),
        ),
        "crm.missing" => (
            Duration::ZERO,
            Err(HostCallError::new(
                HostErrorKind::MethodNotFound,
                "method `CRM.Missing` not found on the bus",
            )),
        ),
        "crm.timeout" => (
            Duration::from_millis(5),
            Err(HostCallError::timeout(
                "crm.timeout",
                Duration::from_millis(5),
            )),
        ),
        "crm.disconnected" => (
            Duration::ZERO,
            Err(HostCallError::new(
                HostErrorKind::Disconnected,
                "disconnected from the bus",
            )),
        ),
        "crm.no_server" => (
            Duration::ZERO,
            Err(HostCallError::new(
                HostErrorKind::NoMatchingServer,
                "no server of `CRM.NoServer` matches the target",
            )),
        ),
        "crm.peer_left" => (
            Duration::ZERO,
            Err(HostCallError::new(
                HostErrorKind::PeerLeft,
                "the CRM server left while the call was pending",
            )),
        ),
        "crm.refused" => (
            Duration::ZERO,
            Err(HostCallError::new(
                HostErrorKind::InvalidArguments,
                "the bus refused the arguments",
            )),
        ),
        "intents.view_chart" if arguments.get("app") == Some(&json!("Nobody")) => (
            Duration::ZERO,
            Err(HostCallError::new(
                HostErrorKind::IntentNotResolved,
                "no handler `Nobody` for intent `ViewChart`",
            )),
        ),
        "crm.big" => {
            let rows = arguments.get("rows").and_then(Value::as_u64).unwrap_or(10);
            let data: Vec<Value> = (0..rows)
                .map(|index| json!({"id": index, "name": format!("row{index}")}))
                .collect();
            (Duration::ZERO, Ok(Value::Array(data)))
        }
        "intents.view_chart" => (
            Duration::ZERO,
            Ok(json!({"handled_by": arguments.get("app").cloned().unwrap_or(json!("ChartApp"))})),
        ),
        "raise_intent" => (
            Duration::ZERO,
            Ok(json!({"intent": arguments.get("intent").cloned().unwrap_or(Value::Null)})),
        ),
        "find_intents" => (Duration::ZERO, Ok(json!([{"intent": "ViewChart"}]))),
        other => (
            Duration::ZERO,
            Err(HostCallError::new(
                HostErrorKind::MethodNotFound,
                format!("no fake for {other}"),
            )),
        ),
    }
}

/// The fake bus for the pool: counts calls, sleeps on tokio timers.
#[derive(Default)]
pub(crate) struct FakeBus {
    pub(crate) calls: AtomicUsize,
}

impl FakeBus {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(crate) fn count(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl HostCalls for FakeBus {
    async fn call(&self, call: HostCall) -> Result<Value, HostCallError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (delay, result) = behave(&call);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        result
    }
}

/// One thing an engine asked of its port, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortStep {
    /// Started a bus call.
    Start,
    /// Asked for a completed call (blocking or not).
    Wait,
}

/// What the engine did with a [`FakePort`], readable after the port moved into the engine.
#[derive(Clone, Default)]
pub(crate) struct PortLog {
    started: Arc<AtomicUsize>,
    steps: Arc<Mutex<Vec<PortStep>>>,
}

impl PortLog {
    /// How many calls were started.
    pub(crate) fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    /// How many calls were started between one wait and the next: `[20]` when all twenty
    /// went out before the engine first waited, `[1, 1, ...]` when each was awaited alone.
    /// An order of events, so it does not depend on how fast the machine is.
    pub(crate) fn batches(&self) -> Vec<usize> {
        let steps = self.steps.lock().expect("port log lock");
        steps
            .split(|step| *step == PortStep::Wait)
            .map(<[PortStep]>::len)
            .filter(|&len| len > 0)
            .collect()
    }

    fn push(&self, step: PortStep) {
        self.steps.lock().expect("port log lock").push(step);
    }
}

/// The fake port for an in-process engine: each call answers from its own thread.
pub(crate) struct FakePort {
    sender: mpsc::Sender<Completion>,
    receiver: mpsc::Receiver<Completion>,
    log: PortLog,
}

impl FakePort {
    pub(crate) fn new() -> (Self, PortLog) {
        let (sender, receiver) = mpsc::channel();
        let log = PortLog::default();
        (
            Self {
                sender,
                receiver,
                log: log.clone(),
            },
            log,
        )
    }
}

impl HostPort for FakePort {
    fn start(&mut self, ticket: u64, call: &HostCall) -> Result<(), PortClosed> {
        self.log.started.fetch_add(1, Ordering::SeqCst);
        self.log.push(PortStep::Start);
        let (delay, result) = behave(call);
        let sender = self.sender.clone();
        if delay.is_zero() {
            let _ = sender.send(Completion {
                ticket,
                result,
                received: Instant::now(),
            });
        } else {
            thread::spawn(move || {
                thread::sleep(delay);
                let _ = sender.send(Completion {
                    ticket,
                    result,
                    received: Instant::now(),
                });
            });
        }
        Ok(())
    }

    fn next_completion(&mut self, timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        self.log.push(PortStep::Wait);
        match self.receiver.recv_timeout(timeout) {
            Ok(completion) => Ok(Some(completion)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(PortClosed),
        }
    }
}
