//! A Windows job object per sandbox worker: the defence in depth around the worker's own
//! portable memory cap. This crate is the only one in the workspace where `unsafe` is allowed,
//! and only for the Win32 calls below, each with a `SAFETY:` comment; it has no other purpose
//! and depends on nothing but `windows-sys`. On other platforms it is empty.
//!
//! A [`WorkerJob`] is configured, before the worker is assigned to it, with:
//! - kill-on-job-close: the worker dies when the plugin drops the job or exits, even when the
//!   plugin is terminated (no orphan keeps burning CPU);
//! - a per-process committed-memory limit;
//! - an active-process limit of 1: the worker cannot start processes;
//! - die-on-unhandled-exception: a crash ends the worker instead of opening an error dialog;
//! - UI restrictions: no desktop, clipboard, global atoms, display settings, system
//!   parameters, exit-windows or foreign user handles.
//!
//! [`WorkerJob::query`] reads the configuration back from the system (real Windows), and
//! [`WorkerJob::accepted`] says what the system accepted, so a test can show what the job holds
//! even where (Wine 8.0) the limits are accepted but neither enforced nor reported back.

#[cfg(windows)]
mod job;

#[cfg(windows)]
pub use job::{CREATE_NO_WINDOW, JobReport, WorkerJob};
