//! Median and range of repeated measurements.

use std::time::Duration;

/// The summary of repeated timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// The median.
    pub median: Duration,
    /// The fastest run.
    pub min: Duration,
    /// The slowest run.
    pub max: Duration,
    /// How many runs.
    pub runs: usize,
}

impl Summary {
    /// Summarises `samples` (an empty slice gives zeros).
    pub fn of(samples: &[Duration]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let median = match sorted.len() {
            0 => Duration::ZERO,
            len if len % 2 == 1 => sorted[len / 2],
            len => (sorted[len / 2 - 1] + sorted[len / 2]) / 2,
        };
        Self {
            median,
            min: sorted.first().copied().unwrap_or_default(),
            max: sorted.last().copied().unwrap_or_default(),
            runs: sorted.len(),
        }
    }

    /// `12.3 ms (11.0 ms–15.2 ms)`.
    pub fn render(&self) -> String {
        format!(
            "{} ({}–{})",
            millis(self.median),
            millis(self.min),
            millis(self.max)
        )
    }
}

/// Milliseconds: three decimals below 1 ms, two below 10 ms, one above.
pub(super) fn millis(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}
