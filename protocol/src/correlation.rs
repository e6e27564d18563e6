//! Matching replies to requests: the pending-request table.
//!
//! Every request we send gets a fresh [`RequestId`] and an entry here with a deadline. The
//! socket task resolves entries as replies arrive, expires them when their deadline passes and
//! fails all of them at once when the connection drops, so no caller ever waits forever and the
//! table never leaks. Replies that arrive after their request timed out are dropped and
//! counted. A caller that stops waiting (a cancelled snippet) drops its receiver; the table
//! notices within [`SWEEP_INTERVAL`] on its next wake and removes the entry, so an abandoned
//! request does not hold its slot until its deadline. The table does no I/O and takes `now` as
//! an argument, which keeps it testable.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use tokio::sync::oneshot;

use crate::{error::ProtocolError, ids::RequestId};

/// What a caller waiting on a pending request eventually receives.
pub type PendingOutcome<T> = Result<T, ProtocolError>;

/// How many expired request ids are remembered to tell a late reply from an unknown one.
const REMEMBERED_EXPIRED: usize = 4096;

/// How often a non-empty table looks for requests whose caller stopped waiting.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(50);

/// The pending-request table, generic over the reply type.
#[derive(Debug)]
pub struct PendingTable<T> {
    entries: HashMap<RequestId, Entry<T>>,
    deadlines: BTreeMap<(Instant, u64), RequestId>,
    /// When to look for abandoned requests next (`None` while nothing is pending).
    next_sweep: Option<Instant>,
    next_sequence: u64,
    expired_recently: VecDeque<RequestId>,
    expired_lookup: HashSet<RequestId>,
    stats: CorrelationStats,
}

/// Counters kept by a [`PendingTable`]; useful in logs and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorrelationStats {
    /// Replies handed to a waiting caller.
    pub delivered: u64,
    /// Requests failed because their deadline passed.
    pub timed_out: u64,
    /// Replies that arrived after their request had timed out (dropped).
    pub late_replies: u64,
    /// Replies whose request id was never pending here (dropped).
    pub unknown_replies: u64,
    /// Requests failed because the connection closed.
    pub failed_on_close: u64,
    /// Requests removed because their caller stopped waiting (cancelled).
    pub abandoned: u64,
}

/// What happened to a reply offered to [`PendingTable::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The reply reached its caller (or the caller had already given up waiting).
    Delivered,
    /// The request had already timed out; the reply was dropped.
    Late,
    /// No such request was ever pending; the reply was dropped.
    Unknown,
}

#[derive(Debug)]
struct Entry<T> {
    responder: oneshot::Sender<PendingOutcome<T>>,
    deadline_key: (Instant, u64),
    started: Instant,
}

impl<T> Default for PendingTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PendingTable<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            entries: HashMap::new(),
            deadlines: BTreeMap::new(),
            next_sweep: None,
            next_sequence: 0,
            expired_recently: VecDeque::new(),
            expired_lookup: HashSet::new(),
            stats: CorrelationStats::default(),
        }
    }

    /// Registers a request that must be answered within `timeout` of `now`; the receiver
    /// yields the reply, a timeout or a closed-connection error, exactly once.
    pub fn insert(
        &mut self,
        id: RequestId,
        now: Instant,
        timeout: Duration,
    ) -> Result<oneshot::Receiver<PendingOutcome<T>>, ProtocolError> {
        let (responder, receiver) = oneshot::channel();
        self.insert_responder(id, now, timeout, responder)?;
        Ok(receiver)
    }

    /// Like [`insert`](Self::insert), for a caller that created the channel itself (so it can
    /// start waiting before the socket task has seen the request).
    pub fn insert_responder(
        &mut self,
        id: RequestId,
        now: Instant,
        timeout: Duration,
        responder: oneshot::Sender<PendingOutcome<T>>,
    ) -> Result<(), ProtocolError> {
        if self.entries.contains_key(&id) {
            return Err(ProtocolError::DuplicateRequest(id));
        }
        let deadline = saturating_deadline(now, timeout);
        let deadline_key = (deadline, self.next_sequence);
        self.next_sequence = self.next_sequence.wrapping_add(1);
        self.deadlines.insert(deadline_key, id.clone());
        if self.next_sweep.is_none() || self.entries.is_empty() {
            self.next_sweep = Some(saturating_deadline(now, SWEEP_INTERVAL));
        }
        self.entries.insert(
            id,
            Entry {
                responder,
                deadline_key,
                started: now,
            },
        );
        Ok(())
    }

    /// Hands a reply to the caller waiting on `id`.
    pub fn resolve(&mut self, id: &RequestId, reply: T) -> Resolution {
        match self.take(id) {
            Some(entry) => {
                self.stats.delivered += 1;
                // The caller may have stopped waiting; the entry is gone either way.
                let _ = entry.responder.send(Ok(reply));
                Resolution::Delivered
            }
            None if self.expired_lookup.contains(id) => {
                self.stats.late_replies += 1;
                Resolution::Late
            }
            None => {
                self.stats.unknown_replies += 1;
                Resolution::Unknown
            }
        }
    }

    /// Fails one pending request with `error`; false when `id` was not pending.
    pub fn fail(&mut self, id: &RequestId, error: ProtocolError) -> bool {
        match self.take(id) {
            Some(entry) => {
                let _ = entry.responder.send(Err(error));
                true
            }
            None => false,
        }
    }

    /// Fails every request whose deadline is at or before `now`; returns how many. When a
    /// sweep is due, also removes the requests whose caller stopped waiting.
    pub fn expire(&mut self, now: Instant) -> usize {
        if self.next_sweep.is_some_and(|at| at <= now) {
            self.sweep_abandoned();
            self.next_sweep =
                (!self.entries.is_empty()).then(|| saturating_deadline(now, SWEEP_INTERVAL));
        }
        let mut expired = 0;
        while let Some(entry) = self.deadlines.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let id = entry.remove();
            if let Some(pending) = self.entries.remove(&id) {
                let after = now.saturating_duration_since(pending.started);
                let _ = pending
                    .responder
                    .send(Err(ProtocolError::Timeout { after }));
                self.stats.timed_out += 1;
                self.remember_expired(id);
                expired += 1;
            }
        }
        expired
    }

    /// Fails every pending request because the connection closed; returns how many.
    pub fn fail_all(&mut self, reason: Option<&str>) -> usize {
        let count = self.entries.len();
        for (_, entry) in self.entries.drain() {
            let _ = entry.responder.send(Err(ProtocolError::Closed {
                reason: reason.map(str::to_owned),
            }));
        }
        self.deadlines.clear();
        self.next_sweep = None;
        self.stats.failed_on_close += count as u64;
        count
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.keys().next().map(|(deadline, _)| *deadline)
    }

    /// When the socket task must call [`Self::expire`] next: the earliest deadline, or sooner
    /// a sweep for abandoned requests; `None` while nothing is pending.
    pub fn next_wake(&self) -> Option<Instant> {
        let deadline = self.next_deadline()?;
        Some(
            self.next_sweep
                .map_or(deadline, |sweep| sweep.min(deadline)),
        )
    }

    /// Removes every request whose caller dropped its receiver; returns how many.
    pub fn sweep_abandoned(&mut self) -> usize {
        let abandoned: Vec<RequestId> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.responder.is_closed())
            .map(|(id, _)| id.clone())
            .collect();
        for id in &abandoned {
            self.take(id);
        }
        self.stats.abandoned += abandoned.len() as u64;
        abandoned.len()
    }

    /// Whether `id` is still waiting for a reply.
    pub fn contains(&self, id: &RequestId) -> bool {
        self.entries.contains_key(id)
    }

    /// How many requests are waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The counters so far.
    pub fn stats(&self) -> CorrelationStats {
        self.stats
    }

    fn take(&mut self, id: &RequestId) -> Option<Entry<T>> {
        let entry = self.entries.remove(id)?;
        self.deadlines.remove(&entry.deadline_key);
        Some(entry)
    }

    fn remember_expired(&mut self, id: RequestId) {
        if self.expired_recently.len() >= REMEMBERED_EXPIRED
            && let Some(oldest) = self.expired_recently.pop_front()
        {
            self.expired_lookup.remove(&oldest);
        }
        self.expired_lookup.insert(id.clone());
        self.expired_recently.push_back(id);
    }
}

/// The longest wait a deadline stands for; a longer timeout (say `Duration::MAX` from a
/// config file) means "wait this long", never "already expired".
const LONGEST_WAIT: Duration = Duration::from_hours(100 * 365 * 24);

/// `now + timeout`, saturating at [`LONGEST_WAIT`] instead of overflowing.
pub fn saturating_deadline(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout.min(LONGEST_WAIT))
        .or_else(|| now.checked_add(Duration::from_hours(24)))
        .unwrap_or(now)
}
