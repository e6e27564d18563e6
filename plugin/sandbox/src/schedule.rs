//! Who runs next: the slots of the pool (one per worker that may run at once) and a fair
//! queue of the runs waiting for one.
//!
//! Waiting runs are queued per client (an MCP session, a bus caller); a freed slot goes to the
//! clients in turn, so one client's burst waits behind itself, not in front of everyone else.
//! The queue has a limit: past it a run is refused at once ([`Admission::Busy`]) instead of
//! waiting behind a backlog it cannot outlast. A run that stops waiting (its deadline passed,
//! its caller cancelled) leaves the queue when its [`Waiting`] is dropped.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use tokio::sync::oneshot;

/// The slots and the fair queue; shared by the pool and every run.
#[derive(Debug)]
pub(crate) struct Scheduler {
    state: Mutex<State>,
    max_running: usize,
    max_queued: usize,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    queued: usize,
    next_ticket: u64,
    /// Clients with waiting runs, in the order they are served next.
    turn: VecDeque<String>,
    waiting: HashMap<String, VecDeque<(u64, oneshot::Sender<Slot>)>>,
}

/// The right to run on one worker; freeing it (drop) hands it to the next waiting run.
#[derive(Debug)]
pub(crate) struct Slot {
    scheduler: Arc<Scheduler>,
}

/// A run's place in the queue; dropping it leaves the queue.
#[derive(Debug)]
pub(crate) struct Waiting {
    scheduler: Arc<Scheduler>,
    client: String,
    ticket: u64,
    /// Runs queued ahead of this one when it joined.
    pub(crate) ahead: usize,
    receiver: oneshot::Receiver<Slot>,
}

/// What [`Scheduler::admit`] decided.
#[derive(Debug)]
pub(crate) enum Admission {
    /// A slot was free.
    Run(Slot),
    /// Queued; await [`Waiting::slot`].
    Wait(Waiting),
    /// The queue is full.
    Busy {
        /// The queue limit.
        queued: usize,
    },
}

impl Scheduler {
    pub(crate) fn new(max_running: usize, max_queued: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            max_running: max_running.max(1),
            max_queued,
        })
    }

    /// A slot now, a place in `client`'s queue, or `Busy`.
    pub(crate) fn admit(self: &Arc<Self>, client: &str) -> Admission {
        let Ok(mut state) = self.state.lock() else {
            return Admission::Busy { queued: 0 };
        };
        if state.running < self.max_running && state.queued == 0 {
            state.running += 1;
            return Admission::Run(Slot {
                scheduler: Arc::clone(self),
            });
        }
        if state.queued >= self.max_queued {
            return Admission::Busy {
                queued: self.max_queued,
            };
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        let ahead = state.queued;
        state.queued += 1;
        let (sender, receiver) = oneshot::channel();
        let queue = state.waiting.entry(client.to_owned()).or_default();
        if queue.is_empty() {
            state.turn.push_back(client.to_owned());
        }
        if let Some(queue) = state.waiting.get_mut(client) {
            queue.push_back((ticket, sender));
        }
        Admission::Wait(Waiting {
            scheduler: Arc::clone(self),
            client: client.to_owned(),
            ticket,
            ahead,
            receiver,
        })
    }

    /// Runs in progress and runs waiting.
    pub(crate) fn load(&self) -> (usize, usize) {
        self.state
            .lock()
            .map_or((0, 0), |state| (state.running, state.queued))
    }

    /// A slot came free: hand it to the next client in turn (or keep it free).
    fn release(self: &Arc<Self>) {
        let next = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            state.running = state.running.saturating_sub(1);
            let mut next = None;
            while let Some(client) = state.turn.pop_front() {
                let Some(queue) = state.waiting.get_mut(&client) else {
                    continue;
                };
                let head = queue.pop_front();
                let more = !queue.is_empty();
                if more {
                    state.turn.push_back(client);
                } else {
                    state.waiting.remove(&client);
                }
                if let Some((_, sender)) = head {
                    state.queued = state.queued.saturating_sub(1);
                    state.running += 1;
                    next = Some(sender);
                    break;
                }
            }
            next
        };
        if let Some(sender) = next {
            // Outside the lock: a refused slot is dropped, which releases it again.
            let _ = sender.send(Slot {
                scheduler: Arc::clone(self),
            });
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.scheduler.release();
    }
}

impl Waiting {
    /// Waits for this run's turn (`None` if the scheduler went away).
    pub(crate) async fn slot(&mut self) -> Option<Slot> {
        (&mut self.receiver).await.ok()
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let Ok(mut state) = self.scheduler.state.lock() else {
            return;
        };
        let Some(queue) = state.waiting.get_mut(&self.client) else {
            return;
        };
        let before = queue.len();
        queue.retain(|(ticket, _)| *ticket != self.ticket);
        let removed = before - queue.len();
        let empty = queue.is_empty();
        if empty {
            state.waiting.remove(&self.client);
            state.turn.retain(|client| *client != self.client);
        }
        state.queued = state.queued.saturating_sub(removed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(admission: Admission) -> Slot {
        match admission {
            Admission::Run(slot) => slot,
            other => panic!("expected a slot, got {other:?}"),
        }
    }

    fn waiting(admission: Admission) -> Waiting {
        match admission {
            Admission::Wait(waiting) => waiting,
            other => panic!("expected a place in the queue, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_freed_slot_goes_to_the_clients_in_turn_not_to_the_first_burst() {
        let scheduler = Scheduler::new(1, 16);
        let running = slot(scheduler.admit("a"));
        let mut burst: Vec<Waiting> = (0..3).map(|_| waiting(scheduler.admit("a"))).collect();
        let mut other = waiting(scheduler.admit("b"));
        drop(running);
        let first = burst[0].slot().await.expect("a's first run");
        drop(first);
        // b joined after a's whole burst, yet runs second.
        let second = other.slot().await.expect("b runs next");
        drop(second);
        assert!(burst[1].slot().await.is_some());
    }

    #[test]
    fn past_the_queue_limit_a_run_is_refused_and_a_run_that_leaves_frees_its_place() {
        let scheduler = Scheduler::new(1, 2);
        let _running = slot(scheduler.admit("a"));
        let first = waiting(scheduler.admit("a"));
        let _second = waiting(scheduler.admit("b"));
        assert!(matches!(
            scheduler.admit("c"),
            Admission::Busy { queued: 2 }
        ));
        drop(first);
        assert_eq!(scheduler.load(), (1, 1));
        let _third = waiting(scheduler.admit("c"));
    }
}
