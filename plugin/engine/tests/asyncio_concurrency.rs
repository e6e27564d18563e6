//! asyncio over real bus calls: the primitives snippets use to pace their calls
//! (`Semaphore`, `gather`, `wait_for`, `TaskGroup`) run the calls concurrently underneath, and
//! the limits they set hold. A fake host answers every call after 50 ms from its own thread and
//! records how many calls were in flight at once.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use codemode_engine::{
    Completion, Engine, FunctionSet, FunctionSpec, HostCall, HostPort, Limits, Outcome, PortClosed,
    RunRequest, engine::EngineOptions,
};
use serde_json::{Value, json};

const CALL_TIME: Duration = Duration::from_millis(50);

/// Calls started and not yet handed back to the engine, and the most there ever were.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicUsize,
}

/// Answers `svc.work(n=…)` with `n * 10` after [`CALL_TIME`].
struct SlowHost {
    sender: mpsc::Sender<Completion>,
    receiver: mpsc::Receiver<Completion>,
    in_flight: Arc<InFlight>,
}

impl HostPort for SlowHost {
    fn start(&mut self, ticket: u64, call: &HostCall) -> Result<(), PortClosed> {
        let now = self.in_flight.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.in_flight.peak.fetch_max(now, Ordering::SeqCst);
        self.in_flight.total.fetch_add(1, Ordering::SeqCst);
        let n = call.arguments.get("n").and_then(Value::as_i64).unwrap_or(0);
        let sender = self.sender.clone();
        thread::spawn(move || {
            thread::sleep(CALL_TIME);
            let _ = sender.send(Completion {
                ticket,
                result: Ok(json!(n * 10)),
                received: Instant::now(),
            });
        });
        Ok(())
    }

    fn next_completion(&mut self, timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        match self.receiver.recv_timeout(timeout) {
            Ok(completion) => {
                self.in_flight.now.fetch_sub(1, Ordering::SeqCst);
                Ok(Some(completion))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(PortClosed),
        }
    }
}

/// Runs `source` on a fresh engine (on a big-stack thread); returns the outcome, the wall time
/// and the in-flight counters.
fn run(source: &str) -> (Outcome, Duration, Arc<InFlight>) {
    let source = source.to_owned();
    thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let (sender, receiver) = mpsc::channel();
            let in_flight = Arc::new(InFlight::default());
            let host = SlowHost {
                sender,
                receiver,
                in_flight: Arc::clone(&in_flight),
            };
            let mut engine =
                Engine::new(&EngineOptions::default(), Box::new(host)).expect("engine starts");
            engine
                .set_functions(FunctionSet::new(vec![FunctionSpec::keyword_only(
                    "svc.work",
                    &["n"],
                )]))
                .expect("functions install");
            let limits = Limits {
                wall_time: Duration::from_secs(20),
                max_bus_calls: 1000,
                ..Limits::default()
            };
            let started = Instant::now();
            let report = engine.run(&RunRequest {
                run_id: 1,
                source,
                limits,
                keep_state: false,
            });
            (report.outcome, started.elapsed(), in_flight)
        })
        .expect("thread")
        .join()
        .expect("engine thread")
}

fn expect_ok(outcome: &Outcome) -> &Value {
    assert!(outcome.ok, "snippet failed: {:?}", outcome.error);
    &outcome.result
}

#[test]
fn semaphore_of_5_runs_50_calls_5_at_a_time() {
    let (outcome, took, in_flight) = run("import asyncio\n\
         sem = asyncio.Semaphore(5)\n\
         async def one(n):\n\
         \x20   async with sem:\n\
         \x20       return await svc.work(n=n)\n\
         results = await asyncio.gather(*(one(n) for n in range(50)))\n\
         result = [len(results), results[:3], results[-1]]\n");
    assert_eq!(expect_ok(&outcome), &json!([50, [0, 10, 20], 490]));
    assert_eq!(in_flight.total.load(Ordering::SeqCst), 50);
    let peak = in_flight.peak.load(Ordering::SeqCst);
    assert_eq!(
        peak, 5,
        "the semaphore allows 5 calls at once, and they all overlap"
    );
    // 10 waves of 50 ms: about 0.5 s. One call at a time would take 2.5 s.
    assert!(
        took < Duration::from_millis(2500),
        "50 calls through Semaphore(5) took {took:?}"
    );
}

#[test]
fn gather_runs_every_call_at_once() {
    let (outcome, took, in_flight) = run("import asyncio\n\
         async def main():\n\
         \x20   return await asyncio.gather(*[svc.work(n=n) for n in range(20)])\n\
         result = sum(asyncio.run(main()))\n");
    assert_eq!(expect_ok(&outcome), &json!(1900));
    assert_eq!(in_flight.peak.load(Ordering::SeqCst), 20);
    // One call at a time would take 20 × 50 ms = 1 s.
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn task_group_and_wait_for_overlap_their_calls() {
    let (outcome, took, in_flight) = run("import asyncio\n\
         async def main():\n\
         \x20   async with asyncio.TaskGroup() as tg:\n\
         \x20       tasks = [tg.create_task(svc.work(n=n)) for n in range(4)]\n\
         \x20   first = [t.result() for t in tasks]\n\
         \x20   late = await asyncio.wait_for(asyncio.gather(svc.work(n=7), svc.work(n=8)), timeout=5)\n\
         \x20   return first + late\n\
         result = await main()\n");
    assert_eq!(expect_ok(&outcome), &json!([0, 10, 20, 30, 70, 80]));
    assert_eq!(in_flight.peak.load(Ordering::SeqCst), 4);
    assert!(took < Duration::from_millis(6 * 50), "took {took:?}");
}

#[test]
fn wait_for_times_out_on_a_slow_call() {
    let (outcome, _, _) = run("import asyncio\n\
         try:\n\
         \x20   await asyncio.wait_for(svc.work(n=1), timeout=0.01)\n\
         \x20   result = 'finished'\n\
         except TimeoutError:\n\
         \x20   result = 'timed out'\n");
    assert_eq!(expect_ok(&outcome), &json!("timed out"));
}
