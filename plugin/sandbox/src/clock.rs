//! The wall-time clock of a run, stopped while the plugin waits for a person.
//!
//! A host that asks someone to approve a call holds a [`PauseGuard`] from a run's
//! [`PauseClock`] for as long as it waits. The pool sees the clock stop and start again: it
//! tells the worker ([`ToWorker::Clock`](super::wire::ToWorker::Clock)), which moves the
//! run's deadline by the pause, and moves its own hard deadline the same way. Other calls of
//! the run go on meanwhile. The wait itself is bounded by whoever holds the guard (the
//! approval wait has its own limit).

use std::sync::Arc;

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

    pub(crate) fn subscribe(&self) -> watch::Receiver<usize> {
        self.waiting.subscribe()
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
