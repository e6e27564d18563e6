//! The memory of a process as Linux reports it: peak and current resident set from
//! `/proc/<pid>/status`, and what only that process holds from `/proc/<pid>/smaps_rollup`
//! (private pages: the memory a second worker would add, since the executable's pages and any
//! other shared mapping are counted once for all processes that map them).

use std::path::Path;

/// One process's memory, in bytes (0 where the kernel does not say).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    /// VmHWM: the peak resident set.
    pub(crate) peak: u64,
    /// VmRSS: the resident set now.
    pub(crate) now: u64,
    /// Private_Clean + Private_Dirty now: the unique set size (USS).
    pub(crate) unshared: u64,
    /// Private_Dirty now: pages written by this process alone (heap, stacks, relocated data).
    pub(crate) private_dirty: u64,
}

/// The memory of the process whose `/proc` directory is `proc_dir`.
pub(crate) fn process_memory(proc_dir: &Path) -> Memory {
    let status = std::fs::read_to_string(proc_dir.join("status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(proc_dir.join("smaps_rollup")).unwrap_or_default();
    let private_clean = kib_field(&rollup, "Private_Clean:");
    let private_dirty = kib_field(&rollup, "Private_Dirty:");
    Memory {
        peak: kib_field(&status, "VmHWM:"),
        now: kib_field(&status, "VmRSS:"),
        unshared: private_clean + private_dirty,
        private_dirty,
    }
}

/// The memory of this process's children that run the sandbox worker.
pub(crate) fn worker_memory() -> Vec<Memory> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|entry| {
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let parent = status
                .lines()
                .find_map(|line| line.strip_prefix("PPid:"))
                .map(str::trim)?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let is_worker = String::from_utf8_lossy(&cmdline).contains("sandbox-worker");
            (parent == me && is_worker).then(|| process_memory(&entry.path()))
        })
        .collect()
}

/// A `Name:   123 kB` field of a `/proc` file, in bytes.
fn kib_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}
