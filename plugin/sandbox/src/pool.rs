//! The plugin side of containment: a pool of worker processes behind [`Sandbox`].
//!
//! Each run takes an idle worker (or starts one), sends it the snippet, serves its bus calls
//! concurrently through [`HostCalls`], and waits for the outcome until the wall time plus a
//! grace period; then it kills the worker. A worker that crashed, was killed, reported taint
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
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};

use super::{
    exit::{StderrTail, describe_status, drain_stderr},
    host::{HostCall, HostCallError, HostCalls},
    limits::{LimitKind, Limits, deadline_after},
    outcome::{self, CallRecord, ErrorPhase, Outcome, SnippetError},
    spec::FunctionSet,
    wire::{self, CallResult, FromWorker, MAX_FRAME_BYTES, ToWorker},
};

/// How the sandbox runs.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Concurrent runs (one worker process each). Default 2.
    pub workers: usize,
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

    /// o200k_base (tiktoken's ranks, embedded; no download).
    pub fn o200k() -> Self {
        Self::new(|text| tiktoken_rs::o200k_base_singleton().count_ordinary(text))
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
    /// Workers killed at the hard deadline.
    pub killed: u64,
}

/// A pool of sandbox worker processes. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    idle: Mutex<Vec<Worker>>,
    permits: Arc<Semaphore>,
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
        let workers = config.workers.max(1);
        let sessions = config.max_sessions;
        Self {
            inner: Arc::new(Inner {
                config,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(workers)),
                sessions: Arc::new(Semaphore::new(sessions)),
                next_worker: AtomicU64::new(1),
                stats: Mutex::new(PoolStats::default()),
            }),
        }
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
        if let Some(refused) = oversized_source(source, &limits) {
            return refused;
        }
        let Ok(_permit) = Arc::clone(&self.inner.permits).acquire_owned().await else {
            return worker_error("the sandbox is shut down");
        };
        let worker = match self.inner.take_worker().await {
            Ok(worker) => worker,
            Err(error) => return worker_error(&error.to_string()),
        };
        let (worker, outcome) = self
            .inner
            .run_on(worker, source, functions, host, &limits, false)
            .await;
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
            .run_on(worker, source, functions, host, &limits, true)
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
}

impl Inner {
    async fn take_worker(self: &Arc<Self>) -> Result<Worker, SandboxError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(worker) => Ok(worker),
            None => self.spawn_worker().await,
        }
    }

    fn park(&self, worker: Worker) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.config.workers.max(1)
        {
            idle.push(worker);
        }
    }

    /// Starts a replacement worker in the background.
    fn replenish(self: &Arc<Self>) {
        let inner = Arc::clone(self);
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(async move {
                if let Ok(worker) = inner.spawn_worker().await {
                    inner.park(worker);
                }
            });
        }
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

    /// Runs one snippet on `worker`; returns the worker if it may serve again.
    async fn run_on(
        self: &Arc<Self>,
        mut worker: Worker,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
        limits: &Limits,
        keep_state: bool,
    ) -> (Option<Worker>, Outcome) {
        let started = Instant::now();
        let run_id = worker.next_run;
        worker.next_run += 1;
        let send_functions = worker.functions != Some(functions.fingerprint());
        let frame = ToWorker::Run {
            run_id,
            source: source.to_owned(),
            limits: limits.clone(),
            keep_state,
            functions: send_functions.then(|| functions.specs().to_vec()),
        };
        let line = wire::encode(&frame);
        if line.len() > MAX_FRAME_BYTES {
            // The worker would reject the frame and exit; nothing was sent, so it stays.
            let message = format!(
                "the run request is {} bytes, over the {MAX_FRAME_BYTES}-byte frame limit \
                 between the plugin and its workers",
                line.len()
            );
            return (Some(worker), worker_error(&message));
        }
        #[cfg(windows)]
        super::windows::limit_run(&mut worker.job, limits.memory_bytes);
        if worker.stdin.write_all(&line).await.is_err() {
            return (
                None,
                self.lost(&mut worker, limits, started, Vec::new()).await,
            );
        }
        worker.functions = Some(functions.fingerprint());

        let hard_deadline = tokio::time::Instant::from_std(deadline_after(
            started,
            limits.wall_time.saturating_add(self.config.kill_grace),
        ));
        let (reply_sender, mut replies) =
            mpsc::channel::<(u64, Result<serde_json::Value, HostCallError>)>(256);
        let mut calls = JoinSet::new();
        let mut records: Vec<(CallRecord, Instant)> = Vec::new();
        loop {
            tokio::select! {
                frame = worker.frames.recv() => match frame {
                    Some(Ok(FromWorker::Call { run_id: call_run, ticket, function, arguments, target })) => {
                        if call_run != run_id {
                            continue;
                        }
                        records.push((CallRecord { function: function.clone(), target: target.clone(), ms: None, ok: false, error: None }, Instant::now()));
                        let host = Arc::clone(&host);
                        let sender = reply_sender.clone();
                        calls.spawn(async move {
                            let result = host.call(HostCall { function, arguments, target }).await;
                            let _ = sender.send((ticket, result)).await;
                        });
                    }
                    Some(Ok(FromWorker::Done { run_id: done_run, outcome, recycle })) => {
                        if done_run != run_id {
                            continue;
                        }
                        worker.runs += 1;
                        let mut outcome = *outcome;
                        outcome::cap_tokens(&mut outcome, limits, &|text| {
                            self.config.count_tokens.count(text)
                        });
                        outcome.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
                        let worn_out = worker.runs >= self.config.recycle_after_runs;
                        if recycle.is_some() || (worn_out && !keep_state) {
                            tracing::debug!(
                                worker = worker.id,
                                pid = worker.pid,
                                runs = worker.runs,
                                reason = recycle.as_deref().unwrap_or("run budget"),
                                "sandbox worker recycled"
                            );
                            self.count(|stats| stats.recycled += 1);
                            return (None, outcome);
                        }
                        return (Some(worker), outcome);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        let calls_made = finish_records(records);
                        return (None, self.lost(&mut worker, limits, started, calls_made).await);
                    }
                },
                Some(first) = replies.recv() => {
                    // Replies that are already in go to the worker in one write: a gather of
                    // thousands of calls would otherwise cost a pipe write (and a wakeup of the
                    // worker) per reply.
                    let mut batch = Vec::new();
                    let mut next = Some(first);
                    while let Some((ticket, result)) = next.take() {
                        if let Ok(index) = usize::try_from(ticket)
                            && let Some((record, at)) = records.get_mut(index)
                        {
                            record.ms = Some(at.elapsed().as_secs_f64() * 1000.0);
                            record.ok = result.is_ok();
                            record.error = result.as_ref().err().map(|error| format!("{}: {}", error.kind.python_class(), error.message));
                        }
                        let reply = ToWorker::Reply { run_id, ticket, result: CallResult::from(result) };
                        batch.extend_from_slice(&wire::encode(&reply));
                        if batch.len() < REPLY_BATCH_BYTES {
                            next = replies.try_recv().ok();
                        }
                    }
                    if worker.stdin.write_all(&batch).await.is_err() {
                        let calls_made = finish_records(records);
                        return (None, self.lost(&mut worker, limits, started, calls_made).await);
                    }
                }
                () = tokio::time::sleep_until(hard_deadline) => {
                    tracing::warn!(
                        worker = worker.id,
                        pid = worker.pid,
                        run = run_id,
                        "sandbox run passed its hard deadline; killing its worker"
                    );
                    let _ = worker.child.start_kill();
                    let _ = worker.child.wait().await;
                    self.count(|stats| stats.killed += 1);
                    let detail = "the snippet did not stop at the deadline (a long native \
                        operation, or a loop that catches every exception), so its worker \
                        process was killed";
                    let mut outcome = Outcome::failed(SnippetError::limit(
                        ErrorPhase::Worker,
                        LimitKind::WallTime,
                        limits,
                        detail,
                    ));
                    outcome.calls = finish_records(records);
                    outcome.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
                    return (None, outcome);
                }
            }
        }
    }

    /// The worker died mid-run: explain why (memory, stack overflow, signal).
    async fn lost(
        &self,
        worker: &mut Worker,
        limits: &Limits,
        started: Instant,
        calls: Vec<CallRecord>,
    ) -> Outcome {
        let status = tokio::time::timeout(Duration::from_secs(2), worker.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        if status.is_none() {
            let _ = worker.child.start_kill();
        }
        // Give the stderr drain a moment to collect the last words.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let text = worker
            .tail
            .lock()
            .map(|tail| tail.text())
            .unwrap_or_default();
        self.count(|stats| stats.crashed += 1);
        let error = if text.contains("memory allocation of") || text.contains("out of memory") {
            SnippetError::limit(
                ErrorPhase::Worker,
                LimitKind::Memory,
                limits,
                "an allocation failed and the worker process stopped",
            )
        } else if text.contains("stack overflow") {
            SnippetError::new(
                ErrorPhase::Worker,
                "WorkerCrashed",
                "the interpreter overflowed its stack (a very deeply nested expression?) and \
                 its worker process stopped",
            )
        } else {
            SnippetError::new(
                ErrorPhase::Worker,
                "WorkerCrashed",
                format!(
                    "the sandbox worker process stopped ({}){}",
                    describe_status(status),
                    if text.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", text.lines().last().unwrap_or(""))
                    }
                ),
            )
        };
        tracing::warn!(
            worker = worker.id,
            pid = worker.pid,
            status = %describe_status(status),
            error = %error.message,
            "sandbox worker lost mid-run"
        );
        let mut outcome = Outcome::failed(error);
        outcome.calls = calls;
        outcome.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        outcome
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

fn worker_error(message: &str) -> Outcome {
    Outcome::failed(SnippetError::new(
        ErrorPhase::Worker,
        "SandboxError",
        message,
    ))
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
