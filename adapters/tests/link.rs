//! The link's reconnect backoff: exponential, capped, jittered into the upper half.

use std::time::Duration;

use codemode_adapters::Backoff;

const BACKOFF: Backoff = Backoff {
    initial: Duration::from_millis(200),
    max: Duration::from_secs(10),
};

#[test]
fn without_jitter_the_delay_doubles_up_to_the_cap() {
    let delays: Vec<Duration> = (1..=8).map(|attempt| BACKOFF.delay(attempt, 1.0)).collect();
    assert_eq!(
        delays,
        [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000].map(Duration::from_millis)
    );
}

#[test]
fn jitter_takes_off_at_most_half() {
    for attempt in 1..=10 {
        let whole = BACKOFF.delay(attempt, 1.0);
        assert_eq!(BACKOFF.delay(attempt, 0.0), whole / 2);
        let some = BACKOFF.delay(attempt, 0.37);
        assert!(whole / 2 <= some && some <= whole, "{some:?} of {whole:?}");
    }
}

#[test]
fn odd_inputs_neither_panic_nor_exceed_the_cap() {
    for jitter in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -3.0, 7.0] {
        for attempt in [0, 1, 17, 64, u32::MAX] {
            assert!(BACKOFF.delay(attempt, jitter) <= BACKOFF.max);
        }
    }
    let huge = Backoff {
        initial: Duration::MAX,
        max: Duration::MAX,
    };
    assert!(huge.delay(u32::MAX, 1.0) > Duration::ZERO);
}
