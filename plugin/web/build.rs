//! Link settings of the browser module (only when building the wasm32 cdylib): a cap on linear
//! memory, so a snippet that allocates without bound fails an allocation (a trap the page turns
//! into a clear MemoryError and a fresh worker) instead of growing the tab to gigabytes; and a
//! shadow stack large enough for the interpreter's recursion limit (rustc's default is 1 MiB;
//! overflowing it is a trap, not a `RecursionError`). Under JSPI a suspended run's live stack
//! is copied out and back, so the size costs nothing until it is used.

/// The most linear memory the module may grow to (a multiple of 64 KiB): 1 GiB.
const MAX_MEMORY_BYTES: u64 = 1 << 30;

/// The shadow stack: 16 MiB.
const STACK_BYTES: u64 = 16 << 20;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "wasm32-unknown-unknown" {
        println!("cargo:rustc-link-arg-cdylib=--max-memory={MAX_MEMORY_BYTES}");
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={STACK_BYTES}");
    }
}
