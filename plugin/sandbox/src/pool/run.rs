//! One run on one worker: send the snippet, relay its bus calls, batch their replies, and
//! end on its outcome, its hard deadline, its caller's cancel, or the worker's death.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{io::AsyncWriteExt, sync::mpsc, task::JoinSet};

use super::{
    CANCEL_GRACE, Inner, REPLY_BATCH_BYTES, RunControl, Worker, finish_records, worker_error,
};
use crate::{
    clock::PauseTracker,
    exit::describe_status,
    host::{HostCall, HostCallError, HostCalls},
    limits::{LimitKind, Limits, deadline_after},
    outcome::{self, CallRecord, ErrorPhase, Outcome, SnippetError},
    spec::FunctionSet,
    wire::{self, CallResult, FromWorker, MAX_FRAME_BYTES, ToWorker},
};

impl Inner {
    /// Runs one snippet on `worker`; returns the worker if it may serve again.
    pub(super) async fn run_on(
        self: &Arc<Self>,
        mut worker: Worker,
        source: &str,
        functions: &FunctionSet,
        host: Arc<dyn HostCalls>,
        control: RunControl<'_>,
    ) -> (Option<Worker>, Outcome) {
        let RunControl {
            limits,
            keep_state,
            cancel,
            clock,
        } = control;
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
        super::super::windows::limit_run(&mut worker.job, limits.memory_bytes);
        if worker.stdin.write_all(&line).await.is_err() {
            return (
                None,
                self.lost(&mut worker, limits, started, Vec::new()).await,
            );
        }
        worker.functions = Some(functions.fingerprint());

        let mut pauses = PauseTracker::new(clock.as_ref());
        let mut hard_deadline = tokio::time::Instant::from_std(deadline_after(
            started,
            limits.wall_time.saturating_add(self.config.kill_grace),
        ));
        let mut cancelling = false;
        let (reply_sender, mut replies) =
            mpsc::channel::<(u64, Result<serde_json::Value, HostCallError>)>(256);
        let mut calls = JoinSet::new();
        let mut records: Vec<(CallRecord, Instant)> = Vec::new();
        loop {
            tokio::select! {
                frame = worker.frames.recv() => match frame {
                    Some(Ok(FromWorker::Call { run_id: call_run, ticket, function, arguments, target })) => {
                        if call_run != run_id || cancelling {
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
                        if cancelling {
                            let recycle = recycle.is_some()
                                || (worker.runs >= self.config.recycle_after_runs && !keep_state);
                            if recycle {
                                self.count(|stats| stats.recycled += 1);
                            }
                            let outcome = self.cancelled(started, finish_records(records));
                            return (if recycle { None } else { Some(worker) }, outcome);
                        }
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
                () = cancel.cancelled(), if !cancelling => {
                    // Drop the bus calls (their pending entries go with them), tell the worker
                    // to stop, and give it CANCEL_GRACE to say it did.
                    cancelling = true;
                    calls.abort_all();
                    // Aborted tasks are dropped when next polled: wait for that, so the calls'
                    // pending entries are gone before the cancelled outcome is returned.
                    while calls.join_next().await.is_some() {}
                    while replies.try_recv().is_ok() {}
                    hard_deadline = tokio::time::Instant::now() + CANCEL_GRACE;
                    let stop = wire::encode(&ToWorker::Cancel { run_id });
                    if worker.stdin.write_all(&stop).await.is_err() {
                        let _ = worker.child.start_kill();
                        return (None, self.cancelled(started, finish_records(records)));
                    }
                    tracing::debug!(worker = worker.id, run = run_id, "sandbox run cancelled");
                }
                Some(first) = replies.recv(), if !cancelling => {
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
                Some((paused, stood_still)) = pauses.changed() => {
                    hard_deadline += stood_still;
                    let frame = ToWorker::Clock { run_id, paused };
                    if worker.stdin.write_all(&wire::encode(&frame)).await.is_err() {
                        let calls_made = finish_records(records);
                        return (None, self.lost(&mut worker, limits, started, calls_made).await);
                    }
                }
                () = tokio::time::sleep_until(hard_deadline), if cancelling || !pauses.is_paused() => {
                    if cancelling {
                        tracing::debug!(worker = worker.id, run = run_id, "a cancelled run did not stop in time; killing its worker");
                        let _ = worker.child.start_kill();
                        self.count(|stats| stats.killed += 1);
                        return (None, self.cancelled(started, finish_records(records)));
                    }
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
