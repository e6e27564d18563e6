//! Per-run limits and their defaults. Every limit has a name and a value that the outcome
//! quotes when a snippet exceeds it ("wall time limit of 30 s exceeded").

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};
use web_time::Instant;

/// The longest wall time a caller may ask for, unless the host configures another cap.
pub const MAX_TIMEOUT: Duration = Duration::from_mins(10);

/// A caller's `timeout_seconds` as a duration, or the error text for a value that is not a
/// positive number of seconds. Not clamped: each host applies its own cap (the desktop's is
/// configurable), so a value above [`MAX_TIMEOUT`] is the host's to judge.
pub fn parse_timeout_seconds(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && seconds > 0.0 {
        Ok(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
    } else {
        Err(format!(
            "timeout_seconds must be a positive number of seconds (default cap {}), got \
             {seconds}.",
            MAX_TIMEOUT.as_secs()
        ))
    }
}

/// What a run may use. `Limits::default()` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Wall time for the whole run, including bus calls. Default 30 s.
    #[serde(with = "millis")]
    pub wall_time: Duration,
    /// Extra address space the worker may use for a run before allocations fail with
    /// `MemoryError`. Default 256 MiB.
    pub memory_bytes: u64,
    /// Python call depth before `RecursionError`. Default 400.
    pub recursion_depth: u32,
    /// Bus calls a run may start. Default 1,000.
    pub max_bus_calls: u32,
    /// Snippet source size in bytes. Default 64 KiB.
    pub max_source_bytes: usize,
    /// Printed output kept, in o200k_base tokens. Default 6,000. Applied by the [`Sandbox`]
    /// pool, where the tokenizer is loaded; a run inside an [`Engine`] alone only gets the
    /// character cap below.
    ///
    /// [`Sandbox`]: super::Sandbox
    /// [`Engine`]: super::Engine
    pub max_output_tokens: usize,
    /// Result size kept, in o200k_base tokens of its JSON. Default 6,000. Applied like
    /// [`Limits::max_output_tokens`].
    pub max_result_tokens: usize,
    /// Printed output the worker keeps, in characters: a memory guard that only binds before
    /// the token cap for text of more than 8 characters per token. Default 48,000.
    pub max_output_chars: usize,
    /// Result size the worker keeps, in characters of JSON (a guard like
    /// [`Limits::max_output_chars`]). Default 48,000.
    pub max_result_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall_time: Duration::from_secs(30),
            memory_bytes: 256 * 1024 * 1024,
            recursion_depth: 400,
            max_bus_calls: 1_000,
            max_source_bytes: 64 * 1024,
            max_output_tokens: 6_000,
            max_result_tokens: 6_000,
            max_output_chars: 48_000,
            max_result_chars: 48_000,
        }
    }
}

impl Limits {
    /// The value of one limit, formatted for people: `30 s`, `256 MiB`, `1000 calls`.
    pub fn describe(&self, kind: LimitKind) -> String {
        match kind {
            LimitKind::WallTime => format_duration(self.wall_time),
            LimitKind::Memory => format_bytes(self.memory_bytes),
            LimitKind::Recursion => format!("{} frames", self.recursion_depth),
            LimitKind::BusCalls => format!("{} calls", self.max_bus_calls),
            LimitKind::SourceSize => format_bytes(self.max_source_bytes as u64),
            LimitKind::Output => format!(
                "{} tokens or {} characters",
                self.max_output_tokens, self.max_output_chars
            ),
            LimitKind::Result => format!(
                "{} tokens or {} characters",
                self.max_result_tokens, self.max_result_chars
            ),
        }
    }
}

/// The limits a run can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// [`Limits::wall_time`].
    WallTime,
    /// [`Limits::memory_bytes`].
    Memory,
    /// [`Limits::recursion_depth`].
    Recursion,
    /// [`Limits::max_bus_calls`].
    BusCalls,
    /// [`Limits::max_source_bytes`].
    SourceSize,
    /// [`Limits::max_output_tokens`] and [`Limits::max_output_chars`].
    Output,
    /// [`Limits::max_result_tokens`] and [`Limits::max_result_chars`].
    Result,
}

impl LimitKind {
    /// The limit's name in messages: `wall time`, `memory`…
    pub fn label(self) -> &'static str {
        match self {
            Self::WallTime => "wall time",
            Self::Memory => "memory",
            Self::Recursion => "recursion depth",
            Self::BusCalls => "bus call",
            Self::SourceSize => "source size",
            Self::Output => "printed output",
            Self::Result => "result size",
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// `start + duration`, or a year from `start` if that overflows (a huge configured limit).
pub fn deadline_after(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .or_else(|| start.checked_add(Duration::from_hours(365 * 24)))
        .unwrap_or(start)
}

/// `1.5 s`, `30 s`, `250 ms`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1_000 {
        format!("{millis} ms")
    } else if millis.is_multiple_of(1_000) {
        format!("{} s", millis / 1_000)
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// `256 MiB`, `64 KiB`, `100 bytes`.
pub fn format_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Durations as integer milliseconds on the wire.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        duration: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}
