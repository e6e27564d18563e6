//! What a running snippet tells the client besides its answer: MCP progress (one step per
//! finished bus call, when the request carried a progress token) and log lines
//! (`notifications/message`, at or above the level the client chose with `logging/setLevel`
//! or the request's `io.modelcontextprotocol/logLevel`).
//!
//! Log lines: each bus call (`debug` when it succeeded, `warning` when it failed; logger
//! `codemode.bus`), then what the snippet printed (`info`, one notification per line, logger
//! `codemode.snippet`, at most [`MAX_PRINTED_LINES`]) and its failure (`error`). Nothing is
//! sent before the client picks a level. Over streamable HTTP rmcp routes progress to the
//! request's stream and log lines to the session's GET stream.
//!
//! The sandbox reports calls synchronously on whatever thread finished them, so the observer
//! only queues; one task sends, in order, and [`RunNotifier::finish`] drains it before the tool
//! answers.
#![expect(
    deprecated,
    reason = "MCP logging (LoggingLevel, notifications/message) is deprecated by SEP-2577 for \
              2026-07-28 clients but is what every 2025 client uses"
)]

use std::sync::{Arc, Mutex};

use rmcp::{
    Peer, RoleServer,
    model::{
        LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
        RequestMetaObject,
    },
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::{bridge::CallReport, sandbox::Outcome};

/// Progress/log items queued per snippet before new ones are dropped (best effort).
const QUEUE: usize = 256;

/// Printed lines sent as log notifications per snippet; the rest are counted in one line.
pub(crate) const MAX_PRINTED_LINES: usize = 100;

/// The level a session's client chose with `logging/setLevel` (`None`: send nothing).
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionLogLevel(Arc<Mutex<Option<LoggingLevel>>>);

impl SessionLogLevel {
    /// Records the client's choice.
    pub(crate) fn set(&self, level: LoggingLevel) {
        if let Ok(mut current) = self.0.lock() {
            *current = Some(level);
        }
    }

    /// The threshold for one request: its `_meta` level, else the session's.
    pub(crate) fn for_request(&self, meta: &RequestMetaObject) -> Option<LoggingLevel> {
        meta.log_level()
            .or_else(|| self.0.lock().ok().and_then(|level| *level))
    }
}

/// Severity rank (RFC 5424 order as MCP lists it: debug lowest).
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// Whether a line at `level` passes `threshold`.
fn passes(threshold: Option<LoggingLevel>, level: LoggingLevel) -> bool {
    threshold.is_some_and(|threshold| rank(level) >= rank(threshold))
}

/// One queued item.
enum Item {
    Call(CallReport),
    Log(LoggingLevel, &'static str, Value),
    End,
}

/// Sends one snippet's progress and log lines, in order.
pub(crate) struct RunNotifier {
    queue: mpsc::Sender<Item>,
    task: tokio::task::JoinHandle<()>,
    threshold: Option<LoggingLevel>,
}

impl RunNotifier {
    /// A notifier for one run, or `None` when the client wants neither progress nor logs.
    pub(crate) fn start(
        peer: Peer<RoleServer>,
        progress: Option<ProgressToken>,
        threshold: Option<LoggingLevel>,
    ) -> Option<Self> {
        if progress.is_none() && threshold.is_none() {
            return None;
        }
        let (queue, mut items) = mpsc::channel::<Item>(QUEUE);
        let task = tokio::spawn(async move {
            let mut calls = 0_u32;
            while let Some(item) = items.recv().await {
                match item {
                    Item::Call(report) => {
                        calls += 1;
                        if let Some(token) = &progress {
                            let param =
                                ProgressNotificationParam::new(token.clone(), f64::from(calls))
                                    .with_message(progress_message(&report));
                            if let Err(error) = peer.notify_progress(param).await {
                                tracing::debug!(%error, "progress notification not delivered");
                            }
                        }
                        let level = if report.error.is_some() {
                            LoggingLevel::Warning
                        } else {
                            LoggingLevel::Debug
                        };
                        if passes(threshold, level) {
                            send_log(&peer, level, "codemode.bus", call_data(&report)).await;
                        }
                    }
                    Item::Log(level, logger, data) => send_log(&peer, level, logger, data).await,
                    Item::End => break,
                }
            }
        });
        Some(Self {
            queue,
            task,
            threshold,
        })
    }

    /// The observer to hand the sandbox host.
    pub(crate) fn observer(&self) -> crate::bridge::CallObserver {
        let queue = self.queue.clone();
        Arc::new(move |report: &CallReport| {
            if queue.try_send(Item::Call(report.clone())).is_err() {
                tracing::debug!(function = %report.function, "notification queue full; dropped");
            }
        })
    }

    /// Queues the run's printed lines and failure, then waits until everything is sent.
    pub(crate) async fn finish(self, outcome: &Outcome) {
        for (level, logger, data) in outcome_lines(outcome) {
            if passes(self.threshold, level)
                && self
                    .queue
                    .send(Item::Log(level, logger, data))
                    .await
                    .is_err()
            {
                break;
            }
        }
        if self.queue.send(Item::End).await.is_ok()
            && let Err(error) = self.task.await
        {
            tracing::warn!(%error, "notification task failed");
        }
    }
}

/// The log lines of a finished run: printed lines (`info`), then the failure (`error`).
fn outcome_lines(outcome: &Outcome) -> Vec<(LoggingLevel, &'static str, Value)> {
    let mut lines = Vec::new();
    let printed: Vec<&str> = outcome.printed.lines().collect();
    for line in printed.iter().take(MAX_PRINTED_LINES) {
        lines.push((LoggingLevel::Info, "codemode.snippet", json!(line)));
    }
    if printed.len() > MAX_PRINTED_LINES {
        lines.push((
            LoggingLevel::Info,
            "codemode.snippet",
            json!(format!(
                "… {} more printed lines",
                printed.len() - MAX_PRINTED_LINES
            )),
        ));
    }
    if let Some(error) = &outcome.error {
        lines.push((
            LoggingLevel::Error,
            "codemode.snippet",
            json!({"type": error.kind, "message": error.message, "line": error.line}),
        ));
    }
    lines
}

async fn send_log(peer: &Peer<RoleServer>, level: LoggingLevel, logger: &str, data: Value) {
    let param = LoggingMessageNotificationParam::new(level, data).with_logger(logger);
    if let Err(error) = peer.notify_logging_message(param).await {
        tracing::debug!(%error, "log notification not delivered");
    }
}

fn call_data(report: &CallReport) -> Value {
    let mut data = json!({
        "function": report.function,
        "ms": (report.elapsed.as_secs_f64() * 1_000.0).round(),
        "ok": report.error.is_none(),
    });
    if let (Some(error), Some(object)) = (&report.error, data.as_object_mut()) {
        object.insert("error".to_owned(), json!(error));
    }
    data
}

/// "crm.get_clients: ok in 12 ms (2100 bytes)" or "crm.get_client: failed in 3 ms: <error>".
fn progress_message(report: &CallReport) -> String {
    let ms = report.elapsed.as_secs_f64() * 1_000.0;
    match &report.error {
        None => format!(
            "{}: ok in {ms:.0} ms ({} bytes)",
            report.function, report.result_bytes
        ),
        Some(error) => format!("{}: failed in {ms:.0} ms: {error}", report.function),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_passes_its_level_and_above_and_nothing_without_a_level() {
        assert!(passes(Some(LoggingLevel::Info), LoggingLevel::Error));
        assert!(passes(Some(LoggingLevel::Info), LoggingLevel::Info));
        assert!(!passes(Some(LoggingLevel::Info), LoggingLevel::Debug));
        assert!(!passes(None, LoggingLevel::Emergency));
    }

    #[test]
    fn printed_lines_are_capped_with_a_count_of_the_rest() {
        let outcome = Outcome {
            printed: (0..150)
                .map(|i| format!("line {i}"))
                .collect::<Vec<_>>()
                .join("\n"),
            ..Outcome::default()
        };
        let lines = outcome_lines(&outcome);
        assert_eq!(lines.len(), MAX_PRINTED_LINES + 1);
        assert_eq!(lines[0].2, json!("line 0"));
        assert_eq!(lines[MAX_PRINTED_LINES].2, json!("… 50 more printed lines"));
    }
}
