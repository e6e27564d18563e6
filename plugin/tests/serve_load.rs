//! Load and soak of `codemode serve --mock-bus --mcp http` over loopback (issue 17's tests),
//! with the code `codemode bench soak` runs for longer (`plugin/bench/src/soak.rs`).
//!
//! - 50 concurrent MCP HTTP clients × 10 bus calls each: every answer is the caller's own input
//!   echoed through the bus; nothing lost, nothing wrong.
//! - A 60 s soak: sessions opened and closed, snippets with bus calls, listings; the resident
//!   memory and open files of codemode and of its workers are as flat in the second half as in
//!   the first (tolerances in `Tolerance::default`).
#![cfg(target_os = "linux")]

#[path = "../bench/src/soak.rs"]
mod soak;

use std::{path::Path, time::Duration};

use soak::{ServeProcess, Tolerance, load, render_soak};

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_mcp_http_clients_times_ten_bus_calls_lose_nothing_and_answer_right() {
    let server = ServeProcess::start(Path::new(BINARY), &[])
        .await
        .expect("codemode serve starts");
    let report = tokio::time::timeout(Duration::from_mins(5), load(&server.url, 50, 10))
        .await
        .expect("the load ends within 5 minutes");
    server.stop().await;
    eprintln!(
        "50 × 10 calls: {} right in {:?}",
        report.right, report.elapsed
    );
    assert!(
        report.wrong.is_empty(),
        "wrong answers: {:#?}",
        report.wrong
    );
    assert!(report.lost.is_empty(), "lost calls: {:#?}", report.lost);
    assert_eq!(
        (report.sent, report.right),
        (500, 500),
        "every one of 500 calls answered with its own input"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sixty_second_soak_keeps_memory_and_open_files_flat() {
    let server = ServeProcess::start(Path::new(BINARY), &[])
        .await
        .expect("codemode serve starts");
    let report = soak::soak(
        &server,
        6,
        Duration::from_mins(1),
        Duration::from_millis(500),
    )
    .await;
    server.stop().await;
    let tolerance = Tolerance::default();
    let table = render_soak(&report, tolerance);
    assert_eq!(report.calls_failed, 0, "{table}");
    assert!(report.calls_right > 0, "{table}");
    assert!(report.leaks(tolerance).is_empty(), "{table}");
    let halves = report.halves();
    assert!(
        halves.main_files.0 > 0 && halves.main_rss_kib.0 > 0,
        "sampled: {table}"
    );
    assert!(
        report.samples.iter().any(|sample| sample.workers > 0),
        "workers seen: {table}"
    );
}
