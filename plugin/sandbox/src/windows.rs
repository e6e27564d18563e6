//! Windows containment of a worker process, around the portable heap cap: a job object per
//! worker (kill-on-close, a per-process memory limit, one active process, no error dialogs, UI
//! restrictions; see `codemode-winjob`), no console window, and an environment cleared but for
//! `SystemRoot` (system DLLs need it to load). The deadline kill is `TerminateProcess`
//! (tokio's `Child::start_kill`), and dropping a worker closes its job, which kills it too.

use codemode_winjob::{CREATE_NO_WINDOW, JobReport, WorkerJob};

/// Committed memory a worker may use besides its runs' limits: the interpreter, its stacks and
/// the frame buffers.
const JOB_BASELINE_BYTES: u64 = 512 * 1024 * 1024;
/// The job limit's headroom in multiples of a run's memory limit: looser than the heap cap
/// (twice), which gives the clearer error, as the Linux address-space rlimit is.
const JOB_MEMORY_FACTOR: u64 = 4;

/// The job's per-process memory limit for runs limited to `memory_bytes`.
pub(crate) fn job_memory(memory_bytes: u64) -> u64 {
    JOB_BASELINE_BYTES.saturating_add(memory_bytes.saturating_mul(JOB_MEMORY_FACTOR))
}

/// Prepares the worker's command: no console window, environment cleared but for `SystemRoot`.
pub(crate) fn prepare(command: &mut tokio::process::Command) {
    command.creation_flags(CREATE_NO_WINDOW);
    if let Some(root) = std::env::var_os("SystemRoot") {
        command.env("SystemRoot", root);
    }
}

/// Puts a freshly started worker into a new job object limited for `memory_bytes` runs.
pub(crate) fn contain(
    child: &tokio::process::Child,
    memory_bytes: u64,
) -> Result<WorkerJob, String> {
    let job = WorkerJob::new(job_memory(memory_bytes))
        .map_err(|error| format!("cannot create the worker's job object: {error}"))?;
    let handle = child
        .raw_handle()
        .ok_or_else(|| "the worker exited before it could be contained".to_owned())?;
    job.assign(handle)
        .map_err(|error| format!("cannot put the worker into its job object: {error}"))?;
    Ok(job)
}

/// Sets the job's memory limit for a run limited to `memory_bytes`.
pub(crate) fn limit_run(job: &mut WorkerJob, memory_bytes: u64) {
    if let Err(error) = job.set_process_memory(job_memory(memory_bytes)) {
        tracing::warn!(%error, "cannot set the worker job's memory limit");
    }
}

/// A job's configuration as the system reports it.
pub(crate) fn report(job: &WorkerJob) -> std::io::Result<JobReport> {
    job.query()
}

/// A job's configuration as the system accepted it.
pub(crate) fn accepted(job: &WorkerJob) -> JobReport {
    job.accepted()
}
