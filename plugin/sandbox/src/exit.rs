//! How a worker ended, for the pool's error messages: the last words it wrote to stderr and
//! its exit status in words (Unix signals, Windows NTSTATUS codes).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;

/// The exit status in words: the signal on Unix, the NTSTATUS on Windows, else the code.
pub(crate) fn describe_status(status: Option<std::process::ExitStatus>) -> String {
    let Some(status) = status else {
        return "status unknown".to_owned();
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => "SIGABRT",
                9 => "SIGKILL",
                11 => "SIGSEGV",
                _ => "signal",
            };
            return format!("killed by {name} ({signal})");
        }
    }
    match status.code() {
        Some(code) => match windows_status(code) {
            Some(name) => format!("{name} ({code:#x})"),
            None => format!("exit code {code}"),
        },
        None => "no exit code".to_owned(),
    }
}

/// The NTSTATUS a Windows process ends with when it aborts or crashes (an exit code
/// elsewhere means nothing of the kind).
fn windows_status(code: i32) -> Option<&'static str> {
    if !cfg!(windows) {
        return None;
    }
    // NTSTATUS values as the exit code's bits.
    match code.cast_unsigned() {
        0xC000_0409 => Some("aborted (STATUS_STACK_BUFFER_OVERRUN, fail-fast)"),
        0xC000_00FD => Some("stack overflow (STATUS_STACK_OVERFLOW)"),
        0xC000_0005 => Some("access violation (STATUS_ACCESS_VIOLATION)"),
        0xC000_0017 => Some("out of memory (STATUS_NO_MEMORY)"),
        _ => None,
    }
}

/// The last few KiB a worker wrote to stderr (crash messages).
#[derive(Default)]
pub(crate) struct StderrTail {
    bytes: VecDeque<u8>,
}

impl StderrTail {
    const CAPACITY: usize = 8 * 1024;

    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend(chunk);
        while self.bytes.len() > Self::CAPACITY {
            self.bytes.pop_front();
        }
    }

    pub(crate) fn text(&self) -> String {
        let bytes: Vec<u8> = self.bytes.iter().copied().collect();
        String::from_utf8_lossy(&bytes).trim().to_owned()
    }
}

pub(crate) async fn drain_stderr(
    mut stderr: tokio::process::ChildStderr,
    tail: Arc<Mutex<StderrTail>>,
) {
    let mut chunk = [0u8; 4096];
    loop {
        match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => {
                if let Ok(mut tail) = tail.lock() {
                    tail.push(&chunk[..read]);
                }
            }
        }
    }
}
