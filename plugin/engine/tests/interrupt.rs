//! The wall-time interrupt reaches a busy snippet even when another interpreter in the same
//! process keeps clearing RustPython's process-wide "a signal is pending" flag.
//!
//! Regression: an interrupter that queued at most one signal and sent no other while it was
//! pending lost it when another engine's thread swapped the shared flag off first; no further
//! interrupt was sent and the busy loop ran forever (seen as a hung `sandbox_engine` test on a
//! loaded machine). The interrupter now sends every time and debounces where the signal runs.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use codemode_engine::{
    Completion, Engine, HostCall, HostPort, LimitKind, Limits, PortClosed, RunRequest,
    engine::EngineOptions,
};

struct NoBus;

impl HostPort for NoBus {
    fn start(&mut self, _ticket: u64, _call: &HostCall) -> Result<(), PortClosed> {
        Err(PortClosed)
    }

    fn next_completion(&mut self, _timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        Err(PortClosed)
    }
}

fn engine() -> Engine {
    Engine::new(&EngineOptions::default(), Box::new(NoBus)).expect("the engine starts")
}

fn request(run_id: u64, source: &str) -> RunRequest {
    RunRequest {
        run_id,
        source: source.to_owned(),
        limits: Limits::default(),
        keep_state: false,
    }
}

#[test]
fn a_busy_snippet_is_interrupted_while_another_engine_runs_in_the_process() {
    let stop_neighbour = Arc::new(AtomicBool::new(false));
    let neighbour = {
        let stop = Arc::clone(&stop_neighbour);
        thread::spawn(move || {
            let mut other = engine();
            let mut run_id = 1;
            while !stop.load(Ordering::SeqCst) {
                run_id += 1;
                let _ = other.run(&request(run_id, "total = sum(range(20000))"));
            }
        })
    };

    // The busy engine runs on its own thread, so that a lost interrupt fails the test instead
    // of hanging it. Several rounds: one lost wake-up is enough to show the regression.
    let (done, finished) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut busy = engine();
        for round in 0..5_u64 {
            let run_id = 100 + round;
            let interrupter = busy.interrupter();
            let started = Instant::now();
            let stopper = thread::spawn(move || {
                // Like the worker's watchdog: keep interrupting until the run is over.
                while started.elapsed() < Duration::from_secs(20) {
                    thread::sleep(Duration::from_millis(5));
                    if started.elapsed() > Duration::from_millis(500)
                        && interrupter.current_run() != run_id
                    {
                        return;
                    }
                    interrupter.interrupt(run_id);
                }
            });
            let outcome = busy.run(&request(run_id, "while True:\n    pass")).outcome;
            let _ = stopper.join();
            let kind = outcome
                .error
                .and_then(|error| error.limit)
                .map(|limit| limit.kind);
            if done.send((round, kind, started.elapsed())).is_err() {
                return;
            }
        }
    });
    for _ in 0..5 {
        let (round, kind, took) = finished
            .recv_timeout(Duration::from_secs(30))
            .expect("every round's busy loop is interrupted (a lost wake-up hangs it)");
        assert_eq!(kind, Some(LimitKind::WallTime), "round {round}");
        assert!(
            took < Duration::from_secs(20),
            "round {round} took {took:?}"
        );
    }
    stop_neighbour.store(true, Ordering::SeqCst);
    let _ = neighbour.join();
}
