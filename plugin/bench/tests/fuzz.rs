//! The fuzz targets (issue 17, item 8) for a bounded number of cases, so CI runs exactly what
//! `codemode bench fuzz --seconds N` runs for longer: no decoder of outside input panics, and
//! what decodes round-trips. A failure names its shrunk input.

use codemode::sandbox::WorkerCommand;
use codemode_bench::fuzz::{
    Budget, TargetReport, fdc3_frames, gw3_frames, mcp_tool_arguments, signatures, worker_frames,
};

/// Cases per decoder target: a few thousand decodes take well under a second in a debug build.
const DECODER_CASES: u32 = 2_000;

/// Cases of the MCP target: each is an HTTP round trip, and some run a snippet.
const MCP_CASES: u32 = 48;

fn assert_clean(report: &TargetReport, cases: u32) {
    assert!(
        report.clean(),
        "{}: {} panics, {} violations; first: {}",
        report.name,
        report.panics,
        report.violations,
        report.first_failure.as_deref().unwrap_or("-")
    );
    assert!(
        report.executions >= u64::from(cases),
        "{} ran {} of {cases} cases",
        report.name,
        report.executions
    );
}

#[test]
fn gw3_frame_decoding_never_panics_and_round_trips() {
    assert_clean(&gw3_frames(Budget::Cases(DECODER_CASES)), DECODER_CASES);
}

#[test]
fn fdc3_frame_decoding_never_panics_and_round_trips() {
    assert_clean(&fdc3_frames(Budget::Cases(DECODER_CASES)), DECODER_CASES);
}

#[test]
fn the_signature_grammar_never_panics_and_parses_rendered_trees_back() {
    assert_clean(&signatures(Budget::Cases(DECODER_CASES)), DECODER_CASES);
}

#[test]
fn worker_pipe_frames_never_panic_either_side_and_round_trip() {
    assert_clean(&worker_frames(Budget::Cases(DECODER_CASES)), DECODER_CASES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tool_arguments_of_any_shape_are_answered_and_the_server_keeps_serving() {
    let worker = WorkerCommand::new(env!("CARGO_BIN_EXE_codemode-bench"), ["sandbox-worker"]);
    let report = mcp_tool_arguments(Budget::Cases(MCP_CASES), worker)
        .await
        .expect("the MCP server starts on the mock bus");
    assert_clean(&report, MCP_CASES);
}
