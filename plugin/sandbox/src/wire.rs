//! The frames between the plugin and a worker process: one JSON object per line on the
//! worker's stdin and stdout.
//!
//! Lines are capped ([`MAX_FRAME_BYTES`]) so a broken or hostile peer cannot make the reader
//! allocate without bound, and a clean end of stream is told apart from one cut mid-frame.

use std::io::{self, BufRead};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    host::HostCallError, limits::Limits, outcome::Outcome, pool::SandboxError, spec::FunctionSpec,
};

/// The longest frame either side accepts (host results can be large datasets).
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// Plugin → worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Run a snippet.
    Run {
        /// Unique per worker, not zero.
        run_id: u64,
        /// The snippet.
        source: String,
        /// Its limits.
        limits: Limits,
        /// Keep globals between runs (sessions).
        keep_state: bool,
        /// The catalogue functions, when they changed since the worker's last run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        functions: Option<Vec<FunctionSpec>>,
    },
    /// The answer to a [`FromWorker::Call`].
    Reply {
        /// The run it belongs to.
        run_id: u64,
        /// The call's ticket.
        ticket: u64,
        /// The value or the error.
        result: CallResult,
    },
    /// The caller gave up on a run: stop it now (its pending calls fail, the snippet is
    /// interrupted) and report `Done` as usual, so the worker can take the next run.
    Cancel {
        /// The run to stop.
        run_id: u64,
    },
    /// The run's wall-time clock stops (`paused`) or runs again: the plugin is waiting for a
    /// person to approve one of its calls. The worker moves the run's deadline by the pause.
    Clock {
        /// The run it belongs to.
        run_id: u64,
        /// Whether the clock stands still from now on.
        paused: bool,
    },
}

/// A call's result on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallResult {
    /// The call's value.
    Ok(Value),
    /// The call's failure.
    Err(HostCallError),
}

impl From<Result<Value, HostCallError>> for CallResult {
    fn from(result: Result<Value, HostCallError>) -> Self {
        match result {
            Ok(value) => Self::Ok(value),
            Err(error) => Self::Err(error),
        }
    }
}

impl From<CallResult> for Result<Value, HostCallError> {
    fn from(result: CallResult) -> Self {
        match result {
            CallResult::Ok(value) => Ok(value),
            CallResult::Err(error) => Err(error),
        }
    }
}

/// Worker → plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker is up and its interpreter is built.
    Ready {
        /// Its process id.
        pid: u32,
        /// How long start-up took, in milliseconds.
        startup_ms: f64,
    },
    /// A snippet made a bus call.
    Call {
        /// The run.
        run_id: u64,
        /// The call's ticket (echoed in the reply).
        ticket: u64,
        /// The dotted function path.
        function: String,
        /// The arguments by name.
        arguments: Map<String, Value>,
        /// The `target=`, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Value>,
    },
    /// A run finished.
    Done {
        /// The run.
        run_id: u64,
        /// What happened.
        outcome: Box<Outcome>,
        /// Set when the worker will exit after this frame instead of taking another run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recycle: Option<String>,
    },
    /// The worker cannot continue (start-up failed, bad input).
    Fatal {
        /// Why.
        message: String,
    },
}

/// Reads one frame; `Ok(None)` at a clean end of stream. Blank lines are skipped.
pub fn read_frame<T: for<'de> Deserialize<'de>>(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
) -> Result<Option<T>, SandboxError> {
    loop {
        buffer.clear();
        let mut limited = io::Read::take(&mut *reader, MAX_FRAME_BYTES as u64 + 1);
        let read = limited.read_until(b'\n', buffer)?;
        if read == 0 {
            return Ok(None);
        }
        if buffer.len() > MAX_FRAME_BYTES {
            return Err(SandboxError::FrameTooLarge {
                max: MAX_FRAME_BYTES,
            });
        }
        if buffer.last() != Some(&b'\n') {
            return Err(SandboxError::FrameTruncated);
        }
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let frame = serde_json::from_slice(buffer);
        if buffer.capacity() > KEEP_BUFFER_BYTES {
            // A rare large frame (a whole catalogue's function set): give its memory back
            // rather than keep it for the life of the worker.
            *buffer = Vec::new();
        }
        return Ok(Some(frame?));
    }
}

/// The read buffer's capacity kept between frames; a larger one is freed after its frame.
const KEEP_BUFFER_BYTES: usize = 1024 * 1024;

/// One frame as a line (JSON + `\n`).
pub fn encode<T: Serialize>(frame: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(frame).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{FromWorker, Outcome, encode, read_frame};

    /// Floats a run can produce whose default-parser reading is one ulp off, plus a spread of
    /// bit patterns (xorshift) across the whole range.
    fn tricky_floats() -> Vec<f64> {
        let mut floats = vec![
            1.300_000_000_000_000_3,
            123_456_789.123_456_79,
            0.1 + 0.2,
            5e-324,
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        while floats.len() < 2_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let float = f64::from_bits(state);
            if float.is_finite() {
                floats.push(float);
            }
        }
        floats
    }

    #[test]
    fn outcome_floats_cross_the_pipe_unchanged() {
        let floats = tricky_floats();
        let frame = FromWorker::Done {
            run_id: 1,
            outcome: Box::new(Outcome {
                ok: true,
                result: json!(floats),
                ..Outcome::default()
            }),
            recycle: None,
        };
        let line = encode(&frame);
        let read: FromWorker = read_frame(&mut line.as_slice(), &mut Vec::new())
            .expect("a valid frame")
            .expect("one frame");
        let FromWorker::Done { outcome, .. } = read else {
            panic!("a Done frame");
        };
        let Value::Array(items) = outcome.result else {
            panic!("the result is a list");
        };
        for (sent, got) in floats.iter().zip(&items) {
            let got = got.as_f64().expect("a float");
            assert_eq!(sent.to_bits(), got.to_bits(), "{sent} came back as {got}");
        }
    }
}
