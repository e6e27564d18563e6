//! The worker process: `codemode sandbox-worker`, started by the [`pool`](super::pool).
//!
//! It speaks [`wire`](super::wire) frames on stdin/stdout and runs one [`Engine`] on a
//! dedicated thread with a large stack. Three threads:
//! - **main**: reads stdin; runs go to the interpreter thread, call replies to its port;
//! - **interpreter**: builds the engine, sets the memory rlimit, runs snippets;
//! - **watchdog**: at a run's deadline, interrupts it every 10 ms until it returns (the
//!   plugin kills the whole process if that does not work).
//!
//! Memory: the watchdog raises `MemoryError` in the run when memory grows past the run's limit
//! (resident memory from `/proc` on Linux, the heap counter elsewhere; checked every 10 ms, so
//! gradual growth is catchable). The portable [heap cap](super::heap_cap) of twice the limit
//! above the heap at start-up stops single huge allocations on every platform: they abort this
//! process (RustPython 0.5 does not turn allocation failure into `MemoryError`), which the plugin
//! reports as the memory limit. On Linux an address-space rlimit of four times the limit backs
//! it up for memory that does not come from the heap; on Windows the pool's job object does.
//! Also: no core dumps, no file writes.

use std::{
    cell::Cell,
    io::{self, BufReader, Write},
    process::ExitCode,
    rc::Rc,
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use super::{
    engine::{
        ClockPause, Completion, Engine, EngineOptions, HostPort, Interrupter, PortClosed,
        RunRequest,
    },
    heap_cap,
    host::HostCall,
    limits::deadline_after,
    spec::FunctionSet,
    wire::{self, FromWorker, ToWorker},
};

/// Stack of the interpreter thread: deep Python recursion and the compiler need room.
const INTERPRETER_STACK: usize = 256 * 1024 * 1024;

/// The worker's entry point: serve runs on stdin/stdout until stdin closes.
///
/// Returns success on a clean end of input or after a recycling run, failure when the
/// interpreter could not start.
pub fn run_worker_stdio() -> ExitCode {
    limit_process();
    let started = Instant::now();
    // Buffered: the calls of a `gather` leave in one write when the run starts waiting.
    let output = Arc::new(Mutex::new(Output::with_capacity(256 * 1024, io::stdout())));
    let (run_sender, run_receiver) = mpsc::channel::<RunMessage>();
    let (reply_sender, reply_receiver) = mpsc::channel::<Reply>();
    let watchdog = Arc::new(Watchdog::default());
    let pause = Arc::new(Mutex::new(RunPause::default()));
    let (interrupter_sender, interrupter_receiver) = mpsc::channel::<Interrupter>();

    let interpreter = {
        let output = Arc::clone(&output);
        let watchdog = Arc::clone(&watchdog);
        let pause = Arc::clone(&pause);
        thread::Builder::new()
            .name("sandbox-interpreter".to_owned())
            .stack_size(INTERPRETER_STACK)
            .spawn(move || {
                interpreter_main(
                    &output,
                    &run_receiver,
                    reply_receiver,
                    &watchdog,
                    &interrupter_sender,
                    &pause,
                    started,
                )
            })
    };
    let Ok(interpreter) = interpreter else {
        send(
            &output,
            &FromWorker::Fatal {
                message: "cannot start the interpreter thread".to_owned(),
            },
        );
        return ExitCode::FAILURE;
    };
    if let Ok(interrupter) = interrupter_receiver.recv() {
        let watchdog = Arc::clone(&watchdog);
        let pause = Arc::clone(&pause);
        let _ = thread::Builder::new()
            .name("sandbox-watchdog".to_owned())
            .spawn(move || watchdog.serve(&interrupter, &pause));
    }

    read_stdin(&run_sender, &reply_sender, &watchdog, &output, &pause);
    drop(run_sender);
    drop(reply_sender);
    match interpreter.join() {
        Ok(code) => code,
        Err(_) => ExitCode::FAILURE,
    }
}

struct RunMessage {
    request: RunRequest,
    functions: Option<FunctionSet>,
}

/// A call's answer for the interpreter, or (`None`) word that its run was cancelled.
struct Reply {
    run_id: u64,
    completion: Option<Completion>,
}

fn read_stdin(
    runs: &mpsc::Sender<RunMessage>,
    replies: &mpsc::Sender<Reply>,
    watchdog: &Watchdog,
    output: &Mutex<Output>,
    pause: &Mutex<RunPause>,
) {
    let mut reader = BufReader::new(io::stdin().lock());
    let mut buffer = Vec::new();
    loop {
        match wire::read_frame::<ToWorker>(&mut reader, &mut buffer) {
            Ok(Some(ToWorker::Run {
                run_id,
                source,
                limits,
                keep_state,
                functions,
            })) => {
                let message = RunMessage {
                    request: RunRequest {
                        run_id,
                        source,
                        limits,
                        keep_state,
                    },
                    functions: functions.map(FunctionSet::new),
                };
                if runs.send(message).is_err() {
                    return;
                }
            }
            Ok(Some(ToWorker::Reply {
                run_id,
                ticket,
                result,
            })) => {
                let reply = Reply {
                    run_id,
                    completion: Some(Completion {
                        ticket,
                        result: result.into(),
                        received: Instant::now(),
                    }),
                };
                if replies.send(reply).is_err() {
                    return;
                }
            }
            Ok(Some(ToWorker::Clock { run_id, paused })) => {
                if let Ok(mut pause) = pause.lock() {
                    pause.set(run_id, paused);
                }
            }
            Ok(Some(ToWorker::Cancel { run_id })) => {
                // Wake a run waiting on its calls, and interrupt one that computes.
                watchdog.cancel(run_id);
                if replies
                    .send(Reply {
                        run_id,
                        completion: None,
                    })
                    .is_err()
                {
                    return;
                }
            }
            Ok(None) => return,
            Err(error) => {
                send(
                    output,
                    &FromWorker::Fatal {
                        message: format!("bad input: {error}"),
                    },
                );
                return;
            }
        }
    }
}

fn interpreter_main(
    output: &Arc<Mutex<Output>>,
    runs: &mpsc::Receiver<RunMessage>,
    replies: mpsc::Receiver<Reply>,
    watchdog: &Watchdog,
    interrupter_out: &mpsc::Sender<Interrupter>,
    pause: &Arc<Mutex<RunPause>>,
    started: Instant,
) -> ExitCode {
    let current_run = Rc::new(Cell::new(0));
    let port = PipePort {
        output: Arc::clone(output),
        replies,
        current_run: Rc::clone(&current_run),
        cancelled_run: 0,
        pause: Arc::clone(pause),
    };
    let mut engine = match Engine::new(&EngineOptions::default(), Box::new(port)) {
        Ok(engine) => engine,
        Err(error) => {
            send(
                output,
                &FromWorker::Fatal {
                    message: error.to_string(),
                },
            );
            return ExitCode::FAILURE;
        }
    };
    let _ = interrupter_out.send(engine.interrupter());
    let memory = MemoryCap::measure();
    send(
        output,
        &FromWorker::Ready {
            pid: std::process::id(),
            startup_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
    );

    while let Ok(message) = runs.recv() {
        if let Some(functions) = message.functions
            && let Err(error) = engine.set_functions(functions)
        {
            send(
                output,
                &FromWorker::Fatal {
                    message: error.to_string(),
                },
            );
            return ExitCode::FAILURE;
        }
        let request = message.request;
        memory.apply(request.limits.memory_bytes);
        current_run.set(request.run_id);
        if let Ok(mut pause) = pause.lock() {
            *pause = RunPause {
                run_id: request.run_id,
                ..RunPause::default()
            };
        }
        watchdog.arm(
            request.run_id,
            deadline_after(Instant::now(), request.limits.wall_time),
            request.limits.memory_bytes,
        );
        let report = engine.run(&request);
        watchdog.disarm();
        current_run.set(0);
        let recycle = report.recycle.clone();
        send(
            output,
            &FromWorker::Done {
                run_id: request.run_id,
                outcome: Box::new(report.outcome),
                recycle: recycle.clone(),
            },
        );
        if recycle.is_some() {
            // The plugin replaces this worker; leave now rather than wait for stdin to close.
            std::process::exit(0);
        }
    }
    ExitCode::SUCCESS
}

/// The worker's stdout: frames are buffered and flushed when the worker waits or reports.
type Output = io::BufWriter<io::Stdout>;

fn send(output: &Mutex<Output>, frame: &FromWorker) {
    let line = wire::encode(frame);
    if let Ok(mut stdout) = output.lock() {
        let _ = stdout.write_all(&line);
        let _ = stdout.flush();
    }
}

/// Bus calls over the pipes: calls go out as frames, replies come from the stdin reader.
struct PipePort {
    output: Arc<Mutex<Output>>,
    replies: mpsc::Receiver<Reply>,
    current_run: Rc<Cell<u64>>,
    /// A cancelled run's port is closed: its pending and later calls fail at once.
    cancelled_run: u64,
    pause: Arc<Mutex<RunPause>>,
}

/// How long the current run's wall-time clock stood still: the plugin sends
/// [`ToWorker::Clock`] frames when it starts and stops waiting for a person.
#[derive(Debug, Default, Clone, Copy)]
struct RunPause {
    run_id: u64,
    since: Option<Instant>,
    before: Duration,
}

impl RunPause {
    fn set(&mut self, run_id: u64, paused: bool) {
        if run_id != self.run_id {
            return;
        }
        match (paused, self.since) {
            (true, None) => self.since = Some(Instant::now()),
            (false, Some(since)) => {
                self.before = self.before.saturating_add(since.elapsed());
                self.since = None;
            }
            _ => {}
        }
    }

    fn state(&self) -> ClockPause {
        ClockPause {
            now: self.since.is_some(),
            total: self
                .before
                .saturating_add(self.since.map_or(Duration::ZERO, |since| since.elapsed())),
        }
    }
}

impl HostPort for PipePort {
    fn start(&mut self, ticket: u64, call: &HostCall) -> Result<(), PortClosed> {
        if self.cancelled_run == self.current_run.get() {
            return Err(PortClosed);
        }
        let frame = FromWorker::Call {
            run_id: self.current_run.get(),
            ticket,
            function: call.function.clone(),
            arguments: call.arguments.clone(),
            target: call.target.clone(),
        };
        let line = wire::encode(&frame);
        // Not flushed: more calls may follow (a gather); `next_completion` flushes them.
        let mut stdout = self.output.lock().map_err(|_| PortClosed)?;
        stdout.write_all(&line).map_err(|_| PortClosed)
    }

    fn next_completion(&mut self, timeout: Duration) -> Result<Option<Completion>, PortClosed> {
        self.output
            .lock()
            .map_err(|_| PortClosed)?
            .flush()
            .map_err(|_| PortClosed)?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.cancelled_run == self.current_run.get() {
                return Err(PortClosed);
            }
            match self.replies.recv_timeout(left) {
                Ok(reply) if reply.run_id == self.current_run.get() => {
                    if let Some(completion) = reply.completion {
                        return Ok(Some(completion));
                    }
                    self.cancelled_run = reply.run_id;
                    return Err(PortClosed);
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => return Ok(None),
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(PortClosed),
            }
        }
    }

    fn clock_pause(&self) -> ClockPause {
        self.pause
            .lock()
            .map_or_else(|_| ClockPause::default(), |pause| pause.state())
    }
}

/// Interrupts a run at its deadline, again and again until it returns; meanwhile watches
/// the resident memory and raises `MemoryError` in the run when it outgrows its limit.
#[derive(Default)]
struct Watchdog {
    state: Mutex<Option<Armed>>,
    changed: Condvar,
    /// The last run cancelled, for a cancel that overtakes its run's start.
    cancelled: AtomicU64,
}

#[derive(Clone, Copy)]
struct Armed {
    run_id: u64,
    deadline: Instant,
    /// Resident bytes above which the run gets a `MemoryError`.
    memory_ceiling: Option<u64>,
}

/// How often the watchdog looks at the clock and the memory.
const WATCH_TICK: Duration = Duration::from_millis(10);

impl Watchdog {
    fn arm(&self, run_id: u64, deadline: Instant, memory_bytes: u64) {
        let memory_ceiling = resident_bytes().map(|now| now.saturating_add(memory_bytes));
        let deadline = if self.cancelled.load(Ordering::SeqCst) == run_id {
            Instant::now()
        } else {
            deadline
        };
        if let Ok(mut state) = self.state.lock() {
            *state = Some(Armed {
                run_id,
                deadline,
                memory_ceiling,
            });
            self.changed.notify_all();
        }
    }

    /// Brings run `run_id`'s deadline forward to now (the caller cancelled it).
    fn cancel(&self, run_id: u64) {
        self.cancelled.store(run_id, Ordering::SeqCst);
        if let Ok(mut state) = self.state.lock()
            && let Some(armed) = state.as_mut()
            && armed.run_id == run_id
        {
            armed.deadline = Instant::now();
            self.changed.notify_all();
        }
    }

    fn disarm(&self) {
        if let Ok(mut state) = self.state.lock() {
            *state = None;
            self.changed.notify_all();
        }
    }

    fn serve(&self, interrupter: &Interrupter, pause: &Mutex<RunPause>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        // One `MemoryError` per run: a snippet may catch it and free memory; if it keeps
        // growing instead, the address-space cap stops the worker.
        let mut memory_signalled = 0;
        loop {
            let Some(armed) = *state else {
                state = match self.changed.wait(state) {
                    Ok(state) => state,
                    Err(_) => return,
                };
                continue;
            };
            let paused = pause
                .lock()
                .map_or_else(|_| ClockPause::default(), |pause| pause.state());
            if !paused.now && Instant::now() >= deadline_after(armed.deadline, paused.total) {
                interrupter.interrupt(armed.run_id);
            } else if memory_signalled != armed.run_id
                && let (Some(ceiling), Some(resident)) = (armed.memory_ceiling, resident_bytes())
                && resident > ceiling
            {
                interrupter.interrupt_memory(armed.run_id);
                memory_signalled = armed.run_id;
            }
            state = match self.changed.wait_timeout(state, WATCH_TICK) {
                Ok((state, _)) => state,
                Err(_) => return,
            };
        }
    }
}

/// The memory the watchdog compares with a run's limit: resident memory where `/proc` tells
/// it (Linux, 4 KiB pages assumed), else the heap counter of the [heap cap](super::heap_cap).
fn resident_bytes() -> Option<u64> {
    proc_resident_bytes().or_else(|| Some(heap_cap::heap_bytes()))
}

fn proc_resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    pages.checked_mul(4096)
}

/// Process-wide limits that do not depend on the run.
fn limit_process() {
    #[cfg(unix)]
    {
        use nix::sys::resource::{Resource, setrlimit};
        let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
        let _ = setrlimit(Resource::RLIMIT_FSIZE, 0, 0);
    }
}

/// The per-run memory caps: the heap cap (every platform) at the heap after start-up plus twice
/// the run's limit, and on Linux the address-space rlimit at the size after start-up plus four
/// times the limit (a backstop for memory that does not come from the heap).
struct MemoryCap {
    heap_baseline: u64,
    address_space_baseline: Option<u64>,
}

/// The heap cap's headroom, in multiples of the run's memory limit: the watchdog's
/// `MemoryError` comes first for gradual growth; this stops single huge allocations.
const HEAP_CAP_FACTOR: u64 = 2;
/// The address-space rlimit's headroom, in multiples of the run's memory limit (a backstop:
/// looser than the heap cap, which it must not pre-empt).
#[cfg(unix)]
const ADDRESS_SPACE_FACTOR: u64 = 4;

impl MemoryCap {
    fn measure() -> Self {
        Self {
            heap_baseline: heap_cap::heap_bytes(),
            address_space_baseline: address_space_bytes(),
        }
    }

    fn apply(&self, memory_bytes: u64) {
        heap_cap::set_heap_limit(
            self.heap_baseline
                .saturating_add(memory_bytes.saturating_mul(HEAP_CAP_FACTOR)),
        );
        #[cfg(unix)]
        if let Some(baseline) = self.address_space_baseline {
            use nix::sys::resource::{Resource, getrlimit, setrlimit};
            let hard = getrlimit(Resource::RLIMIT_AS).map_or(u64::MAX, |(_, hard)| hard);
            let soft = baseline
                .saturating_add(memory_bytes.saturating_mul(ADDRESS_SPACE_FACTOR))
                .min(hard);
            let _ = setrlimit(Resource::RLIMIT_AS, soft, hard);
        }
        #[cfg(not(unix))]
        let _ = self.address_space_baseline;
    }
}

/// The process's virtual size (Linux `/proc/self/status`), if known.
fn address_space_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmSize:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}
