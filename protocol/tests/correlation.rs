//! The pending-request table: delivery, deadlines, late replies, fail-all on close, no leaks.

use std::time::{Duration, Instant};

use codemode_protocol::{PendingTable, ProtocolError, RequestId, Resolution};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn a_reply_reaches_the_waiting_caller_once() {
    let mut table = PendingTable::<u32>::new();
    let now = Instant::now();
    let id = RequestId::random();
    let mut receiver = table.insert(id.clone(), now, SECOND).unwrap();
    assert_eq!(table.resolve(&id, 7), Resolution::Delivered);
    assert_eq!(receiver.try_recv().unwrap(), Ok(7));
    assert!(table.is_empty());
    assert_eq!(table.resolve(&id, 8), Resolution::Unknown);
}

#[test]
fn request_ids_are_unique_and_duplicates_are_refused() {
    let ids: std::collections::HashSet<_> = (0..10_000).map(|_| RequestId::random()).collect();
    assert_eq!(ids.len(), 10_000);
    let mut table = PendingTable::<()>::new();
    let id = RequestId::new("same");
    let _first = table.insert(id.clone(), Instant::now(), SECOND).unwrap();
    assert_eq!(
        table
            .insert(id.clone(), Instant::now(), SECOND)
            .unwrap_err(),
        ProtocolError::DuplicateRequest(id)
    );
}

#[test]
fn expired_requests_fail_with_timeout_and_late_replies_are_dropped_and_counted() {
    let mut table = PendingTable::<u32>::new();
    let start = Instant::now();
    let slow = RequestId::new("slow");
    let fast = RequestId::new("fast");
    let mut slow_rx = table.insert(slow.clone(), start, SECOND).unwrap();
    let _fast_rx = table.insert(fast.clone(), start, 10 * SECOND).unwrap();
    assert_eq!(table.next_deadline(), Some(start + SECOND));
    assert_eq!(table.expire(start + SECOND / 2), 0);
    assert_eq!(table.expire(start + 2 * SECOND), 1);
    assert_eq!(
        slow_rx.try_recv().unwrap(),
        Err(ProtocolError::Timeout { after: 2 * SECOND })
    );
    assert_eq!(table.resolve(&slow, 1), Resolution::Late);
    assert_eq!(
        table.resolve(&RequestId::new("never"), 1),
        Resolution::Unknown
    );
    let stats = table.stats();
    assert_eq!(
        (stats.timed_out, stats.late_replies, stats.unknown_replies),
        (1, 1, 1)
    );
    assert_eq!(table.next_deadline(), Some(start + 10 * SECOND));
    assert_eq!(table.len(), 1);
}

#[test]
fn closing_the_connection_fails_every_pending_request_at_once() {
    let mut table = PendingTable::<u32>::new();
    let now = Instant::now();
    let mut receivers: Vec<_> = (0..50)
        .map(|_| table.insert(RequestId::random(), now, SECOND).unwrap())
        .collect();
    assert_eq!(table.fail_all(Some("socket closed")), 50);
    for receiver in &mut receivers {
        assert_eq!(
            receiver.try_recv().unwrap(),
            Err(ProtocolError::Closed {
                reason: Some("socket closed".into())
            })
        );
    }
    assert!(table.is_empty());
    assert_eq!(table.next_deadline(), None);
    assert_eq!(table.stats().failed_on_close, 50);
}

#[test]
fn a_caller_that_stopped_waiting_does_not_leak_its_entry() {
    let mut table = PendingTable::<u32>::new();
    let id = RequestId::random();
    drop(table.insert(id.clone(), Instant::now(), SECOND).unwrap());
    assert_eq!(table.resolve(&id, 1), Resolution::Delivered);
    assert!(table.is_empty());
}

/// A deterministic pseudo-random mix of inserts, replies, timeouts, failures and disconnects
/// must leave the table empty and every caller answered exactly once.
#[test]
fn table_is_empty_after_any_mix_of_replies_timeouts_and_disconnects() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..50 {
        let mut table = PendingTable::<u64>::new();
        let start = Instant::now();
        let mut now = start;
        let mut live: Vec<RequestId> = Vec::new();
        let mut receivers = Vec::new();
        for step in 0..400u64 {
            match next() % 6 {
                0 | 1 => {
                    let id = RequestId::new(format!("{round}-{step}"));
                    let timeout = Duration::from_millis(next() % 500);
                    receivers.push(table.insert(id.clone(), now, timeout).unwrap());
                    live.push(id);
                }
                2 if !live.is_empty() => {
                    let index = usize::try_from(next() % live.len() as u64).unwrap();
                    let id = live.swap_remove(index);
                    table.resolve(&id, step);
                }
                3 => {
                    now += Duration::from_millis(next() % 200);
                    table.expire(now);
                }
                4 if !live.is_empty() && next() % 10 == 0 => {
                    table.fail_all(None);
                }
                _ => {
                    table.resolve(&RequestId::random(), step);
                }
            }
            assert_eq!(table.next_deadline().is_some(), !table.is_empty());
            assert_eq!(table.next_wake().is_some(), !table.is_empty());
        }
        now += Duration::from_secs(10);
        table.expire(now);
        assert!(
            table.is_empty(),
            "round {round} leaked {} entries",
            table.len()
        );
        for mut receiver in receivers {
            assert!(receiver.try_recv().is_ok(), "a caller was never answered");
        }
    }
}

#[test]
fn a_request_whose_caller_stopped_waiting_is_removed_by_the_next_sweep_not_its_deadline() {
    let mut table = PendingTable::<u32>::new();
    let now = Instant::now();
    let kept = table
        .insert(RequestId::random(), now, Duration::from_secs(30))
        .expect("insert");
    let abandoned = table
        .insert(RequestId::random(), now, Duration::from_secs(30))
        .expect("insert");
    drop(abandoned);
    // The socket task wakes at next_wake(): that must be the sweep, well before 30 s.
    let wake = table.next_wake().expect("a wake is due");
    assert!(
        wake <= now + Duration::from_millis(100),
        "wake in {:?}",
        wake - now
    );
    assert_eq!(table.expire(wake), 0, "nothing timed out");
    assert_eq!(
        table.len(),
        1,
        "the abandoned entry is gone, the live one stays"
    );
    assert_eq!(table.stats().abandoned, 1);
    drop(kept);
}
