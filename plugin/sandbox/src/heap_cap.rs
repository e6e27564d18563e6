//! The portable memory cap: every binary that links this crate allocates through a counting,
//! capped global allocator (the `cap` crate around the system allocator).
//!
//! The cap is off (unlimited) until a sandbox worker sets it, so the plugin itself is not
//! limited; the only cost elsewhere is one atomic add per allocation. In a worker it is the one
//! memory limit that holds on every platform: Linux has rlimits and `/proc` besides, Windows has
//! a job object besides (which Wine accepts but does not enforce), and a future wasm host has
//! nothing else. An allocation over the cap fails; Rust then aborts the worker with "memory
//! allocation of N bytes failed", which the pool reports as the memory limit and replaces the
//! worker. The counter ([`heap_bytes`]) also feeds the worker's gradual-growth watchdog where
//! `/proc` is missing.

use std::alloc::System;

use cap::Cap;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes currently allocated on the heap by this process (through the global allocator).
pub fn heap_bytes() -> u64 {
    u64::try_from(ALLOCATOR.allocated()).unwrap_or(u64::MAX)
}

/// The current cap in bytes (`u64::MAX` when unlimited).
pub fn heap_limit() -> u64 {
    u64::try_from(ALLOCATOR.limit()).unwrap_or(u64::MAX)
}

/// Caps the heap at `bytes` (saturating at the address space). A cap below what is already
/// allocated is raised to the current size, so allocation fails from the next growth on.
pub fn set_heap_limit(bytes: u64) {
    let wanted = usize::try_from(bytes).unwrap_or(usize::MAX);
    if ALLOCATOR.set_limit(wanted).is_err() {
        // Below the current allocation: cap at what is allocated now (retry: it moves).
        for _ in 0..8 {
            if ALLOCATOR.set_limit(ALLOCATOR.allocated()).is_ok() {
                return;
            }
        }
    }
}

/// Removes the cap.
pub fn lift_heap_limit() {
    let _ = ALLOCATOR.set_limit(usize::MAX);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cap holds in this (Linux) test process: a reservation past it fails with an error
    /// instead of succeeding, one under it succeeds, and lifting it restores the old behaviour.
    /// One test only, since the cap is process-wide.
    #[test]
    fn allocations_past_the_cap_fail_and_lifting_it_restores_them() {
        let before = heap_bytes();
        set_heap_limit(before + 64 * 1024 * 1024);
        assert_eq!(heap_limit(), before + 64 * 1024 * 1024);
        let mut big: Vec<u8> = Vec::new();
        assert!(
            big.try_reserve_exact(256 * 1024 * 1024).is_err(),
            "256 MiB went through a 64 MiB cap"
        );
        let mut small: Vec<u8> = Vec::new();
        assert!(small.try_reserve_exact(16 * 1024 * 1024).is_ok());
        // The other unit tests of this crate run beside this one and may free memory
        // meanwhile, so only the live 16 MiB is certain to be counted.
        assert!(heap_bytes() >= 16 * 1024 * 1024);
        drop(small);
        lift_heap_limit();
        assert_eq!(heap_limit(), u64::MAX);
        assert!(big.try_reserve_exact(256 * 1024 * 1024).is_ok());
    }
}
