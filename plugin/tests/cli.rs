//! The `codemode` command line on the embedded mock bus: the demo, `exec` of every example in
//! `samples/examples`, `catalogue`, the sample config file, and clear errors for bad input.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the plugin lives in the workspace")
        .to_path_buf()
}

fn codemode(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(repo())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run codemode")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_walks_the_three_steps_and_finds_m_carter() {
    // The default size: the samples plus 300 synthetic apps.
    let output = codemode(&["demo"]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    for expected in [
        "Step 1 — list_python_definitions",
        "crm.get_clients(*, adviser: str | None = None",
        "no get_python_definitions round trip",
        "Step 2 — execute_python_code",
        "Answer: M Carter",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // The listing excerpt shows the function the snippet calls, found by the search.
    let step_1 = section(&stdout, "Step 1", "Step 2");
    assert!(step_1.contains("crm.get_clients("), "{step_1}");
    assert!(
        stdout.contains("308 apps"),
        "samples + 300 synthetic apps:\n{stdout}"
    );

    // Task 2 really ranked the clients and raised the intent for the best one.
    let task_2 = section(&stdout, "Task 2", "Tokens:");
    let result_line = task_2
        .lines()
        .find_map(|line| line.strip_prefix("→ result: "))
        .unwrap_or_else(|| panic!("no result in task 2:\n{task_2}"));
    let result: serde_json::Value =
        serde_json::from_str(result_line).expect("task 2's result is JSON");
    let top5: Vec<&str> = result["top5"]
        .as_array()
        .expect("top5 is a list")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(top5.len(), 5, "{result}");
    let amounts: Vec<f64> = top5
        .iter()
        .map(|entry| {
            let digits: String = entry
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            digits.parse().expect("an amount")
        })
        .collect();
    assert!(
        amounts.windows(2).all(|pair| pair[0] >= pair[1]),
        "top5 is ranked by assets: {top5:?}"
    );
    let best_name = top5[0].split(" (").next().unwrap_or_default();
    let shown_for = result["portfolio_shown_for"].as_str().unwrap_or_default();
    assert!(
        shown_for.starts_with(&best_name.to_lowercase().replace(' ', ".")),
        "the portfolio was shown for the best client {best_name}, not {shown_for}"
    );
    assert!(
        task_2.contains("crm.get_clients, intents.view_portfolio"),
        "{task_2}"
    );

    // The token table was measured, and code mode wins by the issue's margin.
    let tokens = section(&stdout, "Tokens:", "Done in");
    let ratio: f64 = tokens
        .split("Code mode: ")
        .nth(1)
        .and_then(|rest| rest.split('×').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no ratio in the token table:\n{tokens}"));
    assert!(ratio >= 3.0, "code mode saves ≥ 3× at demo size: {tokens}");
}

/// The text of `stdout` from the line containing `from` to the one containing `to`.
fn section<'a>(stdout: &'a str, from: &str, to: &str) -> &'a str {
    let start = stdout
        .find(from)
        .unwrap_or_else(|| panic!("missing {from:?} in:\n{stdout}"));
    let end = stdout[start..]
        .find(to)
        .map_or(stdout.len(), |offset| start + offset);
    &stdout[start..end]
}

/// The exact answers of the examples whose header only names a key (`# expect-key:`): the
/// mock bus's data is fixed, so each answer is too.
const EXAMPLE_ANSWERS: &[(&str, &str)] = &[
    (
        "fan_out_holdings.py",
        r#"{"clients": 34, "top_symbols": [["AIR.PA", 23112263], ["GOOGL", 19402952], ["SAN.MC", 15985518], ["ENEL.MI", 14490594], ["KO", 12346292]]}"#,
    ),
    (
        "find_intents.py",
        r#"{"intents": {"ViewChart": ["Charts", "Charts"]}}"#,
    ),
    (
        "handle_errors.py",
        r#"{"missing": [{"id": "c-999999", "reason": "Unknown client c-999999"}]}"#,
    ),
    (
        "top_clients_then_intent.py",
        r#"{"top5": ["Ravi Berg (USD 71,652,341)", "Olivia Larsen (USD 69,997,861)", "Jonas Jensen (PLN 56,834,618)", "Jonas Nowak (USD 41,478,527)", "Alice Murphy (SGD 28,016,574)"], "portfolio_shown_for": "ravi.berg.195@example.com"}"#,
    ),
];

#[test]
fn every_example_snippet_runs_on_the_mock_bus_with_its_expected_answer() {
    let examples = std::fs::read_dir(repo().join("samples/examples")).expect("samples/examples");
    let mut ran = 0;
    for entry in examples {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "py") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("read example");
        let path_text = path.to_string_lossy().into_owned();
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let output = codemode(&["exec", "--mock-bus", "--json", &path_text]);
        let outcome: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!("{path_text}: not JSON ({error}): {}", text(&output.stderr))
        });
        assert!(output.status.success(), "{path_text}: {outcome:#}");
        assert_eq!(outcome["ok"], Value::Bool(true), "{path_text}: {outcome:#}");
        let from_header = source
            .lines()
            .find_map(|line| line.strip_prefix("# expect: "));
        let from_table = EXAMPLE_ANSWERS
            .iter()
            .find(|(name, _)| *name == file_name)
            .map(|(_, answer)| *answer);
        let expected: Value = match (from_header, from_table) {
            (Some(answer), None) | (None, Some(answer)) => {
                serde_json::from_str(answer).expect("the expected answer is JSON")
            }
            (None, None) => panic!("{path_text}: no expected answer (add one to EXAMPLE_ANSWERS)"),
            (Some(_), Some(_)) => panic!("{path_text}: expected answer pinned twice"),
        };
        assert_eq!(outcome["result"], expected, "{path_text}");
        for key in source
            .lines()
            .filter_map(|line| line.strip_prefix("# expect-key: "))
        {
            assert!(
                expected.get(key).is_some(),
                "{path_text}: the pinned answer has no {key}"
            );
        }
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} examples found");
}

#[test]
fn exec_reads_stdin_and_exits_nonzero_with_the_line_when_the_snippet_fails() {
    let mut child = Command::new(BINARY)
        .args(["exec", "--mock-bus", "-"])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run codemode");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"x = crm.get_clients()\ny = x['nope']\n")
            .expect("write");
    }
    let output = child.wait_with_output().expect("codemode exits");
    let stdout = text(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("KeyError"), "{stdout}");
    assert!(stdout.contains("at line 2"), "{stdout}");
    assert!(stdout.contains("bus calls: 1"), "{stdout}");
}

#[test]
fn catalogue_prints_search_results_stubs_and_honours_the_sample_config_file() {
    let output = codemode(&[
        "catalogue",
        "--mock-bus",
        "--config",
        "samples/config/codemode.toml",
        "search",
        "client holdings",
    ]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("portfolio.get_holdings"), "{stdout}");

    let output = codemode(&["catalogue", "--mock-bus", "get", "intents.view_chart"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("def view_chart("), "{stdout}");
}

#[test]
fn bad_input_gets_a_clear_error_not_a_panic() {
    let missing = codemode(&["exec", "--mock-bus", "no/such/snippet.py"]);
    let stderr = text(&missing.stderr);
    assert!(!missing.status.success());
    assert!(stderr.contains("no/such/snippet.py"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("codemode-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad_config = dir.join("bad.toml");
    std::fs::write(&bad_config, "buss = \"ws://typo\"\n").expect("write config");
    let output = codemode(&[
        "catalogue",
        "--mock-bus",
        "--config",
        &bad_config.to_string_lossy(),
        "list",
    ]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("buss"), "names the unknown key: {stderr}");

    let unreachable = codemode(&["catalogue", "--bus", "ws://127.0.0.1:9/gw", "list"]);
    let stderr = text(&unreachable.stderr);
    assert!(!unreachable.status.success());
    assert!(stderr.contains("127.0.0.1:9"), "names the bus: {stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_lists_every_subcommand() {
    let output = codemode(&["--help"]);
    let stdout = text(&output.stdout);
    for command in ["serve", "demo", "exec", "catalogue", "mock-bus", "bench"] {
        assert!(
            stdout.contains(command),
            "{command} missing from --help:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("sandbox-worker"),
        "the worker stays hidden"
    );
}

/// Regression: the bus flags used to be accepted only before the `catalogue` subcommand
/// (`codemode catalogue list --mock-bus` was "unexpected argument").
#[test]
fn bus_flags_work_after_the_catalogue_subcommand() {
    for args in [
        &["catalogue", "list", "--mock-bus"][..],
        &["catalogue", "--mock-bus", "list"][..],
        &[
            "catalogue",
            "search",
            "adviser",
            "--mock-bus",
            "--mock-apps",
            "3",
        ][..],
    ] {
        let output = codemode(args);
        let stdout = text(&output.stdout);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(stdout.contains("crm."), "{args:?}: {stdout}");
    }
}

/// `--audit-log` appends one JSON line per snippet: the code, the outcome and every bus call.
#[test]
fn the_audit_log_records_each_snippet_with_its_calls() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-log");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&log);
    let snippet = repo().join("samples/examples/amelia_adviser.py");
    let log_arg = log.to_string_lossy().into_owned();
    let snippet_arg = snippet.to_string_lossy().into_owned();
    for _ in 0..2 {
        let output = codemode(&["exec", "--mock-bus", "--audit-log", &log_arg, &snippet_arg]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .expect("the audit log is written")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "one line per snippet, appended: {lines:?}");
    let code = std::fs::read_to_string(&snippet).expect("the example");
    for line in &lines {
        assert_eq!(line["code"], code.as_str());
        assert_eq!(line["ok"], true);
        let calls = line["calls"].as_array().expect("calls");
        assert!(
            calls
                .iter()
                .any(|call| call["function"] == "crm.get_clients"),
            "{line}"
        );
    }
}
