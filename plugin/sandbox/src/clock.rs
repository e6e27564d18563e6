//! The wall-time clock of a run, stopped while the plugin waits for a person.
//!
//! A host that asks someone to approve a call holds a [`PauseGuard`] from a run's
//! [`PauseClock`] for as long as it waits. The pool sees the clock stop and start again: it
//! tells the worker ([`ToWorker::Clock`](super::wire::ToWorker::Clock)), which moves the
//! run's deadline by the pause, and moves its own hard deadline the same way. Other calls of
//! the run go on meanwhile. The wait itself is bounded by whoever holds the guard (the
//! approval wait has its own limit).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::watch;

/// A run's pausable wall-time clock; cheap to clone, all clones are the same clock.
#[derive(Debug, Clone)]
pub struct PauseClock {
    /// How many waits for a person are in progress.
    waiting: Arc<watch::Sender<usize>>,
}

impl Default for PauseClock {
    fn default() -> Self {
        Self::new()
    }
}

impl PauseClock {
    /// A running clock.
    pub fn new() -> Self {
        Self {
            waiting: Arc::new(watch::channel(0).0),
        }
    }

    /// Stops the clock until the guard is dropped (waits may overlap: the clock runs again
    /// when the last one ends).
    pub fn pause(&self) -> PauseGuard {
        self.waiting.send_modify(|waiting| *waiting += 1);
        PauseGuard {
            waiting: Arc::clone(&self.waiting),
        }
    }

    /// Whether the clock stands still now.
    pub fn is_paused(&self) -> bool {
        *self.waiting.borrow() > 0
    }
}

/// The pool's view of a run's clock: when it stops and starts again.
pub(crate) struct PauseTracker {
    pauses: Option<watch::Receiver<usize>>,
    since: Option<Instant>,
}

impl PauseTracker {
    pub(crate) fn new(clock: Option<&PauseClock>) -> Self {
        Self {
            pauses: clock.map(|clock| clock.waiting.subscribe()),
            since: None,
        }
    }

    /// Whether the clock stands still now.
    pub(crate) fn is_paused(&self) -> bool {
        self.since.is_some()
    }

    /// The next time the clock stops (`(true, 0)`) or runs again (`(false, how long it stood
    /// still)`); `None` once the clock is gone. Never finishes without a clock.
    pub(crate) async fn changed(&mut self) -> Option<(bool, Duration)> {
        loop {
            let Some(pauses) = self.pauses.as_mut() else {
                return std::future::pending().await;
            };
            if pauses.changed().await.is_err() {
                self.pauses = None;
                return None;
            }
            let paused = *pauses.borrow_and_update() > 0;
            match (paused, self.since) {
                (true, None) => {
                    self.since = Some(Instant::now());
                    return Some((true, Duration::ZERO));
                }
                (false, Some(since)) => {
                    self.since = None;
                    return Some((false, since.elapsed()));
                }
                _ => {}
            }
        }
    }
}

/// Keeps a [`PauseClock`] stopped while it lives.
#[derive(Debug)]
pub struct PauseGuard {
    waiting: Arc<watch::Sender<usize>>,
}

impl Drop for PauseGuard {
    fn drop(&mut self) {
        self.waiting
            .send_modify(|waiting| *waiting = waiting.saturating_sub(1));
    }
}
