//! The plugin side of containment: a pool of worker processes behind [`Sandbox`].
//!
//! Each run first waits its turn for a slot (see [`schedule`](crate::schedule): fair per
//! client, bounded, and counted against the run's wall time), then takes an idle worker (or
//! starts one), sends it the snippet, serves its bus calls concurrently through [`HostCalls`],
//! and waits for the outcome until the wall time plus a grace period; then it kills the worker.
//! A run whose caller cancels ([`RunScope::cancel`]) is stopped at once: its bus calls are
//! dropped, the worker is told to interrupt the snippet and is ready again within
//! [`CANCEL_GRACE`], or is killed and replaced. The pool is elastic: it keeps
//! [`SandboxConfig::workers`] warm plus an idle spare, grows to [`SandboxConfig::max_workers`]
//! and shrinks back after [`SandboxConfig::shrink_idle_after`]. A worker that crashed, was killed, reported taint
//! or a hit limit, or served [`SandboxConfig::recycle_after_runs`] runs is replaced by a fresh
//! one in the background. Concurrent runs use different workers, so a hostile snippet costs
//! only its own worker. A source over its size limit is refused here, before it takes a
//! worker or a frame. The printed output and the result are capped at their token limits
//! here (o200k_base), after the worker's character caps.

use std::{
    ffi::OsString,
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};

use tokio_util::sync::CancellationToken;

mod run;

use super::{
    clock::PauseClock,
    exit::{StderrTail, describe_status, drain_stderr},
    host::HostCalls,
    limits::{Limits, deadline_after},
    outcome::{CallRecord, ErrorPhase, Outcome, SnippetError},
    schedule::{Admission, Scheduler, Slot},
    spec::FunctionSet,
    wire::{FromWorker, MAX_FRAME_BYTES},
};

/// How the sandbox runs.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Workers kept warm (started by [`Sandbox::warm_up`], never shrunk away). Default 2.
    pub workers: usize,
    /// Concurrent runs at most (one worker process each); the pool grows to this many when
    /// every worker is busy. At least `workers`. Default 4.
    pub max_workers: usize,
    /// Idle workers kept ready while below `max_workers`, so a new client does not wait for
    /// a worker to start behind long runs. Default 1.
    pub spare_workers: usize,
    /// Idle workers above the warm minimum are stopped after this long. Default 60 s.
    pub shrink_idle_after: Duration,
    /// Runs waiting for a slot at most; past it a run gets a `SandboxBusy` error. Default 64.
    pub max_queued: usize,
    /// Limits for runs that do not bring their own.
    pub limits: Limits,
    /// A worker is replaced after this many runs. Default 200.
    pub recycle_after_runs: u32,
    /// How long past the wall time a run may take before its worker is killed. Default 1 s.
    pub kill_grace: Duration,
    /// How long a new worker may take to start. Default 30 s.
    pub startup_timeout: Duration,
    /// Stateful sessions open at once (each holds its own worker). Default 4.
    pub max_sessions: usize,
    /// How to start a worker.
    pub worker_command: WorkerCommand,
    /// Counts the tokens of printed text and results for their caps. Default: o200k_base, the
    /// encoding of current OpenAI models and a close stand-in for others.
    pub count_tokens: CountTokens,
}

/// A token counter for the output caps: a plain function of the text, so the engine and this
/// pool need no tokenizer of their own choosing.
#[derive(Clone)]
pub struct CountTokens(Arc<dyn Fn(&str) -> usize + Send + Sync>);

impl CountTokens {
    /// Counts with `count`.
    pub fn new(count: impl Fn(&str) -> usize + Send + Sync + 'static) -> Self {
        Self(Arc::new(count))
    }

    /// o200k_base (compact ranks compiled in; no download, nothing built at run time).
    pub fn o200k() -> Self {
        Self::new(codemode_o200k::count)
    }

    /// The number of tokens in `text`.
    pub fn count(&self, text: &str) -> usize {
        (self.0)(text)
    }
}

impl std::fmt::Debug for CountTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CountTokens")
    }
}

impl SandboxConfig {
    /// The defaults, starting workers with `command`.
    pub fn new(command: WorkerCommand) -> Self {
        Self {
            workers: 2,
            max_workers: 4,
            spare_workers: 1,
            shrink_idle_after: Duration::from_mins(1),
            max_queued: 64,
            limits: Limits::default(),
            recycle_after_runs: 200,
            kill_grace: Duration::from_secs(1),
            startup_timeout: Duration::from_secs(30),
            max_sessions: 4,
            worker_command: command,
            count_tokens: CountTokens::o200k(),
        }
    }
}

/// The program and arguments that start a worker process.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
}

impl WorkerCommand {
    /// `program args…`.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// This executable with the hidden `sandbox-worker` subcommand (the `codemode` binary).
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self::new(std::env::current_exe()?, ["sandbox-worker"]))
    }
}

/// Call replies gathered into one pipe write to a worker, at most (bytes).
const REPLY_BATCH_BYTES: usize = 256 * 1024;

/// How long a cancelled run's worker has to report back before it is killed and replaced.
pub const CANCEL_GRACE: Duration = Duration::from_millis(50);

/// Who a run is for and how its caller stops it.
#[derive(Debug, Clone, Default)]
pub struct RunScope {
    /// The client the run is queued under (an MCP session, a bus caller): waiting runs of
    /// different clients take turns. Empty: one shared queue.
    pub client: String,
    /// Cancelled when the caller gives up (a cancel request, a closed connection, shutdown).
    pub cancel: CancellationToken,
    /// Stopped while the host waits for a person to approve a call: the run's wall time
    /// does not count then.
    pub clock: Option<PauseClock>,
}

/// Why the sandbox could not serve a request at all, or a frame could not be read: the crate's
/// one error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// A worker process could not be started.
    #[error("cannot start a sandbox worker ({program}): {reason}")]
    Spawn {
        /// The worker executable.
        program: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Too many sessions are open.
    #[error("too many sandbox sessions are open (at most {max})")]
    TooManySessions {
        /// The cap.
        max: usize,
    },
    /// A worker pipe failed.
    #[error("pipe error: {0}")]
    Pipe(#[from] std::io::Error),
    /// A frame longer than [`MAX_FRAME_BYTES`].
    #[error("frame longer than {max} bytes")]
    FrameTooLarge {
        /// The cap.
        max: usize,
    },
    /// The stream ended in the middle of a frame.
    #[error("the stream ended inside a frame")]
    FrameTruncated,
    /// A line is not a valid frame.
    #[error("bad frame: {0}")]
    FrameDecode(#[from] serde_json::Error),
}

/// Counters for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Workers started.
    pub spawned: u64,
    /// Workers replaced after taint, a limit, or their run budget.
    pub recycled: u64,
    /// Workers that died on their own (crash, abort).
    pub crashed: u64,
    /// Workers killed at the hard deadline or after a cancel they did not obey in time.
    pub killed: u64,
    /// Runs stopped because their caller cancelled.
    pub cancelled: u64,
    /// Idle workers stopped when the pool shrank.
    pub shrunk: u64,
}

/// A pool of sandbox worker processes. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    idle: Mutex<Vec<(Worker, Instant)>>,
    /// Workers being started in the background (spares, replacements).
    starting: AtomicUsize,
    /// Woken when a worker is parked or a background start failed.
    parked: Notify,
    scheduler: Arc<Scheduler>,
    sessions: Arc<Semaphore>,
    next_worker: AtomicU64,
    stats: Mutex<PoolStats>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// A pool with `config`; workers start on first use (or with [`Sandbox::warm_up`]).
    pub fn new(config: SandboxConfig) -> Self {
        let mut config = config;
        config.workers = config.workers.max(1);
        config.max_workers = config.max_workers.max(config.workers);
        let sessions = config.max_sessions;
        let inner = Arc::new(Inner {
            scheduler: Scheduler::new(config.max_workers, config.max_queued),
            config,
            idle: Mutex::new(Vec::new()),
            starting: AtomicUsize::new(0),
            parked: Notify::new(),
            sessions: Arc::new(Semaphore::new(sessions)),
            next_worker: AtomicU64::new(1),
            stats: Mutex::new(PoolStats::default()),
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(shrink_when_idle(Arc::downgrade(&inner)));
        }
        Self { inner }
    }

    /// Starts workers until `workers` are idle and ready.
    pub async fn warm_up(&self) -> Result<(), SandboxError> {
        let wanted = self.inner.config.workers.max(1);
        let have = self.inner.idle.lock().map_or(0, |idle| idle.len());
        let mut starting = JoinSet::new();
        for _ in have..wanted {
            let inner = Arc::clone(&self.inner);
            starting.spawn(async move { inner.spawn_worker().await });
        }
        while let Some(joined) = starting.join_next().await {
            let worker = joined.map_err(|error| SandboxError::Spawn {
                program: self.inner.config.worker_command.program.clone(),
                reason: format!("the start-up task ended abnormally: {error}"),
            })??;
            self.inner.park(worker);
        }
        self.inner.keep_spare();
        Ok(())
    }

    /// Runs `source` with the configured limits; bus calls go to `host`.
    pub async fn execute(
        &self,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
    ) -> Outcome {
        self.execute_with_limits(source, functions, host, self.inner.config.limits.clone())
            .await
    }

    /// Runs `source` with `limits`.
    pub async fn execute_with_limits(
        &self,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
        limits: Limits,
    ) -> Outcome {
        self.execute_in(source, functions, host, limits, &RunScope::default())
            .await
    }

    /// Runs `source` with `limits` for `scope`'s client until it ends or `scope` cancels.
    ///
    /// The wall time covers the wait for a slot as well as the run: a run queued for 2 s of
    /// a 3 s limit gets 1 s of running.
    pub async fn execute_in(
        &self,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
        mut limits: Limits,
        scope: &RunScope,
    ) -> Outcome {
        if let Some(refused) = oversized_source(source, &limits) {
            return refused;
        }
        let started = Instant::now();
        let (_slot, queued) = match self.inner.wait_turn(&limits, scope, started).await {
            Ok(admitted) => admitted,
            Err(refused) => return *refused,
        };
        if queued {
            limits.wall_time = limits
                .wall_time
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(1));
        }
        let worker = match self.inner.take_worker().await {
            Ok(worker) => worker,
            Err(error) => return worker_error(&error.to_string()),
        };
        if scope.cancel.is_cancelled() {
            self.inner.park(worker);
            return self.inner.cancelled(started, Vec::new());
        }
        let (worker, mut outcome) = self
            .inner
            .run_on(
                worker,
                source,
                functions,
                host,
                RunControl {
                    limits: &limits,
                    keep_state: false,
                    cancel: &scope.cancel,
                    clock: scope.clock.clone(),
                },
            )
            .await;
        outcome.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Some(worker) = worker {
            self.inner.park(worker);
        } else {
            self.inner.replenish();
        }
        outcome
    }

    /// Opens a stateful session: its runs share globals, on a worker of its own.
    pub async fn session(&self) -> Result<Session, SandboxError> {
        let permit = Arc::clone(&self.inner.sessions)
            .try_acquire_owned()
            .map_err(|_| SandboxError::TooManySessions {
                max: self.inner.config.max_sessions,
            })?;
        let worker = self.inner.spawn_worker().await?;
        Ok(Session {
            inner: Arc::clone(&self.inner),
            worker: Some(worker),
            _permit: permit,
        })
    }

    /// Runs in progress and runs waiting for a worker, now.
    pub fn load(&self) -> (usize, usize) {
        self.inner.scheduler.load()
    }

    /// Counters since the pool was made.
    pub fn stats(&self) -> PoolStats {
        self.inner
            .stats
            .lock()
            .map(|stats| *stats)
            .unwrap_or_default()
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }
}

/// A stateful sequence of runs on one dedicated worker (opt-in; see [`Sandbox::session`]).
///
/// Variables, functions and imports survive from one run to the next. If the worker has to
/// go (a limit, a crash), the next run starts with empty state.
pub struct Session {
    inner: Arc<Inner>,
    worker: Option<Worker>,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// Runs `source` in the session's state with the pool's limits.
    pub async fn execute(
        &mut self,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
    ) -> Outcome {
        let limits = self.inner.config.limits.clone();
        self.execute_with_limits(source, functions, host, limits)
            .await
    }

    /// Whether the session's worker (and so its state) is still there: false after a run that
    /// hit a limit, crashed the worker or asked for a recycle.
    pub fn is_alive(&self) -> bool {
        self.worker.is_some()
    }

    /// Runs `source` in the session's state with `limits`.
    pub async fn execute_with_limits(
        &mut self,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
        limits: Limits,
    ) -> Outcome {
        self.execute_in(source, functions, host, limits, &RunScope::default())
            .await
    }

    /// Runs `source` in the session's state with `limits` until it ends or `scope` cancels;
    /// while `scope`'s clock is paused (a person is asked to approve a call) the wall time
    /// does not count. The session's own worker needs no queue, so `scope.client` is unused.
    pub async fn execute_in(
        &mut self,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
        limits: Limits,
        scope: &RunScope,
    ) -> Outcome {
        if let Some(refused) = oversized_source(source, &limits) {
            return refused;
        }
        let worker = match self.worker.take() {
            Some(worker) => worker,
            None => match self.inner.spawn_worker().await {
                Ok(worker) => worker,
                Err(error) => return worker_error(&error.to_string()),
            },
        };
        let (worker, outcome) = self
            .inner
            .run_on(
                worker,
                source,
                functions,
                host,
                RunControl {
                    limits: &limits,
                    keep_state: true,
                    cancel: &scope.cancel,
                    clock: scope.clock.clone(),
                },
            )
            .await;
        self.worker = worker;
        outcome
    }

    /// The job object of the session's worker as Windows reports it (`None` before the first
    /// worker starts or after it had to go).
    #[cfg(windows)]
    pub fn worker_job(&self) -> Option<std::io::Result<codemode_winjob::JobReport>> {
        self.worker
            .as_ref()
            .map(|worker| super::windows::report(&worker.job))
    }

    /// The job object of the session's worker as Windows accepted its configuration (`None`
    /// before the first worker starts or after it had to go).
    #[cfg(windows)]
    pub fn worker_job_accepted(&self) -> Option<codemode_winjob::JobReport> {
        self.worker
            .as_ref()
            .map(|worker| super::windows::accepted(&worker.job))
    }
}

impl Inner {
    /// Waits for a slot until the run's wall time is up or its caller cancels; the flag says
    /// whether the run had to queue.
    async fn wait_turn(
        &self,
        limits: &Limits,
        scope: &RunScope,
        started: Instant,
    ) -> Result<(Slot, bool), Box<Outcome>> {
        if scope.cancel.is_cancelled() {
            return Err(Box::new(self.cancelled(started, Vec::new())));
        }
        let mut waiting = match self.scheduler.admit(&scope.client) {
            Admission::Run(slot) => return Ok((slot, false)),
            Admission::Busy { queued } => {
                tracing::warn!(queued, client = %scope.client, "sandbox queue full; run refused");
                return Err(Box::new(busy(format!(
                    "the sandbox is busy: {queued} snippets are already waiting for a worker \
                     (the queue limit); try again shortly"
                ))));
            }
            Admission::Wait(waiting) => waiting,
        };
        let deadline = tokio::time::Instant::from_std(deadline_after(started, limits.wall_time));
        tokio::select! {
            slot = waiting.slot() => slot
                .map(|slot| (slot, true))
                .ok_or_else(|| Box::new(worker_error("the sandbox is shut down"))),
            () = tokio::time::sleep_until(deadline) => {
                let (running, _) = self.scheduler.load();
                Err(Box::new(busy(format!(
                    "no sandbox worker became free within the {:.1} s time limit ({running} \
                     snippets running, {} queued ahead of this one); the wait counts against \
                     timeout_seconds",
                    limits.wall_time.as_secs_f64(),
                    waiting.ahead
                ))))
            }
            () = scope.cancel.cancelled() => Err(Box::new(self.cancelled(started, Vec::new()))),
        }
    }

    /// The outcome of a run its caller cancelled.
    fn cancelled(&self, started: Instant, calls: Vec<CallRecord>) -> Outcome {
        self.count(|stats| stats.cancelled += 1);
        let mut outcome = Outcome::failed(SnippetError::new(
            ErrorPhase::Worker,
            "Cancelled",
            "the caller cancelled the run",
        ));
        outcome.calls = calls;
        outcome.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        outcome
    }

    /// An idle worker, else one already starting in the background, else a new one.
    async fn take_worker(self: &Arc<Self>) -> Result<Worker, SandboxError> {
        loop {
            let parked = self.parked.notified();
            let idle = self
                .idle
                .lock()
                .ok()
                .and_then(|mut idle| idle.pop())
                .map(|(worker, _)| worker);
            if let Some(worker) = idle {
                self.keep_spare();
                return Ok(worker);
            }
            if self.starting.load(Ordering::SeqCst) == 0 {
                self.keep_spare();
                return self.spawn_worker().await;
            }
            // A replacement is on its way: it is sooner than a new one. A start that fails
            // or a worker another run took wakes this loop to look again.
            let _ = tokio::time::timeout(self.config.startup_timeout, parked).await;
        }
    }

    fn park(&self, worker: Worker) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.config.max_workers
        {
            idle.push((worker, Instant::now()));
        }
        self.parked.notify_one();
    }

    /// Starts a spare in the background when fewer than [`SandboxConfig::spare_workers`] are
    /// idle or starting and the pool may still grow.
    fn keep_spare(self: &Arc<Self>) {
        let idle = self.idle.lock().map_or(0, |idle| idle.len());
        let starting = self.starting.load(Ordering::SeqCst);
        let (running, _) = self.scheduler.load();
        if idle + starting < self.config.spare_workers
            && running + idle + starting < self.config.max_workers
        {
            self.replenish();
        }
    }

    /// Starts a worker in the background and parks it.
    fn replenish(self: &Arc<Self>) {
        let inner = Arc::clone(self);
        if tokio::runtime::Handle::try_current().is_ok() {
            self.starting.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let started = inner.spawn_worker().await;
                inner.starting.fetch_sub(1, Ordering::SeqCst);
                match started {
                    Ok(worker) => inner.park(worker),
                    Err(error) => {
                        tracing::warn!(%error, "a sandbox worker did not start");
                        inner.parked.notify_waiters();
                    }
                }
            });
        }
    }

    /// Stops idle workers above the warm minimum (and the spare) that waited longer than
    /// [`SandboxConfig::shrink_idle_after`].
    fn shrink(&self) {
        let keep = self.config.workers.max(self.config.spare_workers);
        let stopped: Vec<Worker> = {
            let Ok(mut idle) = self.idle.lock() else {
                return;
            };
            let mut stopped = Vec::new();
            // Oldest parked first: they are the ones nobody needed.
            idle.sort_by_key(|(_, parked)| std::cmp::Reverse(*parked));
            while idle.len() > keep
                && idle
                    .last()
                    .is_some_and(|(_, parked)| parked.elapsed() >= self.config.shrink_idle_after)
            {
                if let Some((worker, _)) = idle.pop() {
                    stopped.push(worker);
                }
            }
            stopped
        };
        if !stopped.is_empty() {
            tracing::debug!(stopped = stopped.len(), "sandbox pool shrank");
            let count = stopped.len() as u64;
            self.count(|stats| stats.shrunk += count);
        }
        // Dropping a worker closes its stdin (it exits) and kills it if it lingers.
    }

    fn count(&self, update: impl FnOnce(&mut PoolStats)) {
        if let Ok(mut stats) = self.stats.lock() {
            update(&mut stats);
        }
    }

    async fn spawn_worker(&self) -> Result<Worker, SandboxError> {
        let command = &self.config.worker_command;
        let failed = |reason: String| SandboxError::Spawn {
            program: command.program.clone(),
            reason,
        };
        let mut spawn = Command::new(&command.program);
        spawn
            .args(&command.args)
            .env_clear()
            .env("MALLOC_ARENA_MAX", "2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(windows)]
        super::windows::prepare(&mut spawn);
        let mut child = spawn.spawn().map_err(|error| failed(error.to_string()))?;
        #[cfg(windows)]
        let job =
            super::windows::contain(&child, self.config.limits.memory_bytes).map_err(failed)?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(failed("the worker's pipes are missing".to_owned()));
        };
        let tail = Arc::new(Mutex::new(StderrTail::default()));
        tokio::spawn(drain_stderr(stderr, Arc::clone(&tail)));
        let (frame_sender, mut frames) = mpsc::channel(64);
        tokio::spawn(read_frames(stdout, frame_sender));
        self.count(|stats| stats.spawned += 1);
        let ready = tokio::time::timeout(self.config.startup_timeout, frames.recv()).await;
        match ready {
            Ok(Some(Ok(FromWorker::Ready { pid, startup_ms }))) => {
                let id = self.next_worker.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(worker = id, pid, startup_ms, "sandbox worker started");
                Ok(Worker {
                    id,
                    pid,
                    child,
                    stdin,
                    frames,
                    tail,
                    runs: 0,
                    next_run: 1,
                    functions: None,
                    #[cfg(windows)]
                    job,
                })
            }
            Ok(Some(Ok(FromWorker::Fatal { message }))) => Err(failed(message)),
            Ok(Some(Ok(other))) => Err(failed(format!(
                "unexpected first frame from the worker: {other:?}"
            ))),
            Ok(Some(Err(error))) => Err(failed(error.to_string())),
            Ok(None) => {
                let status = child.wait().await.ok();
                let text = tail.lock().map(|tail| tail.text()).unwrap_or_default();
                Err(failed(format!(
                    "the worker exited during start-up ({}): {text}",
                    describe_status(status)
                )))
            }
            Err(_) => Err(failed(format!(
                "the worker did not start within {:?}",
                self.config.startup_timeout
            ))),
        }
    }
}

/// The outcome the worker's engine gives a source over `limits.max_source_bytes`, decided
/// here so an oversized source never takes a worker, and one over [`MAX_FRAME_BYTES`] never
/// kills one (the worker rejects such a frame and exits).
fn oversized_source(source: &str, limits: &Limits) -> Option<Outcome> {
    SnippetError::oversized_source(source, limits).map(Outcome::failed)
}

fn finish_records(records: Vec<(CallRecord, Instant)>) -> Vec<CallRecord> {
    records.into_iter().map(|(record, _)| record).collect()
}

/// Stops idle workers that outstayed [`SandboxConfig::shrink_idle_after`], until the pool is
/// dropped.
async fn shrink_when_idle(pool: Weak<Inner>) {
    let tick = match pool.upgrade() {
        Some(inner) => (inner.config.shrink_idle_after / 4).max(Duration::from_millis(100)),
        None => return,
    };
    loop {
        tokio::time::sleep(tick).await;
        let Some(inner) = pool.upgrade() else { return };
        inner.shrink();
    }
}

/// A run refused or timed out for want of a free worker.
fn busy(message: String) -> Outcome {
    Outcome::failed(SnippetError::new(
        ErrorPhase::Worker,
        "SandboxBusy",
        message,
    ))
}

fn worker_error(message: &str) -> Outcome {
    Outcome::failed(SnippetError::new(
        ErrorPhase::Worker,
        "SandboxError",
        message,
    ))
}

/// How one run on a worker is limited and stopped.
struct RunControl<'a> {
    limits: &'a Limits,
    /// Keep the globals for the next run (sessions).
    keep_state: bool,
    cancel: &'a CancellationToken,
    /// Stopped while the host waits for a person.
    clock: Option<PauseClock>,
}

/// A running worker process, as the pool sees it.
struct Worker {
    id: u64,
    pid: u32,
    child: Child,
    stdin: ChildStdin,
    frames: mpsc::Receiver<Result<FromWorker, SandboxError>>,
    tail: Arc<Mutex<StderrTail>>,
    runs: u32,
    next_run: u64,
    functions: Option<u64>,
    /// The worker's job object (kill-on-close: dropping the worker kills it).
    #[cfg(windows)]
    job: codemode_winjob::WorkerJob,
}

/// Reads frames from a worker's stdout into a channel (a dedicated task, so a `select!` in
/// the run loop never cancels a half-read line).
async fn read_frames(
    stdout: tokio::process::ChildStdout,
    frames: mpsc::Sender<Result<FromWorker, SandboxError>>,
) {
    let mut reader = BufReader::new(stdout);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = (&mut reader)
            .take(MAX_FRAME_BYTES as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .await;
        let frame = match read {
            Ok(0) => return,
            Ok(_) if buffer.len() > MAX_FRAME_BYTES => Err(SandboxError::FrameTooLarge {
                max: MAX_FRAME_BYTES,
            }),
            Ok(_) if buffer.last() != Some(&b'\n') => Err(SandboxError::FrameTruncated),
            Ok(_) if buffer.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(_) => serde_json::from_slice::<FromWorker>(&buffer).map_err(SandboxError::from),
            Err(error) => Err(SandboxError::Pipe(error)),
        };
        let stop = frame.is_err();
        if frames.send(frame).await.is_err() || stop {
            return;
        }
    }
}
