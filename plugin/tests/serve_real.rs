//! The `codemode` binary against real peers:
//! - `codemode serve` attached to the real open-source io.Connect gateway registers the
//!   CodeMode.* methods, and a real `@interopio/desktop` client invokes
//!   `CodeMode.ExecutePythonCode` and gets the answer computed from the real CRM app;
//! - `codemode catalogue` / `codemode exec --dialect fdc3` against the FINOS reference Desktop
//!   Agent list its intents and raise one, getting the handler app's result.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    io::Write as _,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use codemode_tests::{GatewayOptions, RealGateway, ReferenceAgent, probe_url};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

/// Kills the child on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn invoke(gateway: &RealGateway, method: &str, arguments: &Value) -> Value {
    probe_url(
        &gateway.url,
        &gateway.user,
        &[
            "--wait-ms",
            "20000",
            "invoke",
            method,
            &arguments.to_string(),
        ],
    )
}

#[test]
fn a_real_interopio_client_runs_a_snippet_through_code_mode_on_the_real_gateway() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let _serve = Running(
        Command::new(BINARY)
            .args(["serve", "--mcp", "none", "--bus", &gateway.url])
            .args(["--user", &gateway.user, "--secret", &gateway.secret])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start codemode serve"),
    );

    let answer = invoke(
        &gateway,
        "CodeMode.ExecutePythonCode",
        &json!({"code": "found = crm.get_clients(name_contains='Amelia Reid')\nresult = found['clients'][0]['adviser']"}),
    );
    assert_eq!(answer["ok"], json!(true), "{answer:#}");
    assert_eq!(
        answer["returned"]["result"],
        json!("M Carter"),
        "{answer:#}"
    );
    assert!(
        answer["returned"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("crm.get_clients")),
        "the text summarises the bus calls: {answer:#}"
    );

    let listed = invoke(
        &gateway,
        "CodeMode.ListPythonDefinitions",
        &json!({"query": "client adviser"}),
    );
    assert!(
        listed["returned"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("crm.get_clients")),
        "{listed:#}"
    );
    let stubs = invoke(
        &gateway,
        "CodeMode.GetPythonDefinitions",
        &json!({"names": ["crm.get_clients"]}),
    );
    assert!(
        stubs["returned"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("def get_clients(")),
        "{stubs:#}"
    );

    let failed = invoke(
        &gateway,
        "CodeMode.ExecutePythonCode",
        &json!({"code": "x = 1\ny = x / 0"}),
    );
    assert_eq!(failed["ok"], json!(false), "{failed:#}");
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("ZeroDivisionError") && message.contains("line 2"),
        "the error quotes the snippet line: {failed:#}"
    );
}

fn run_with_stdin(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codemode");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the snippet");
    let started = Instant::now();
    let output = child.wait_with_output().expect("codemode finishes");
    assert!(
        started.elapsed() < Duration::from_mins(2),
        "codemode took too long"
    );
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn codemode_lists_and_raises_intents_on_the_fdc3_reference_agent() {
    let agent = ReferenceAgent::start(1000);
    let bus = [
        "--dialect",
        "fdc3",
        "--bus",
        &agent.url,
        "--fdc3-identity-url",
        &agent.identity_url,
        "--fdc3-app-directory",
        &agent.appd_url,
    ];
    let mut list = vec!["catalogue"];
    list.extend_from_slice(&bus);
    list.extend_from_slice(&["list", "--namespace", "intents"]);
    let (ok, listing, stderr) = run_with_stdin(&list, "");
    assert!(ok, "catalogue list failed: {stderr}");
    assert!(listing.contains("intents.view_chart"), "{listing}");
    assert!(listing.contains("intents.view_contact"), "{listing}");

    let mut exec = vec!["exec"];
    exec.extend_from_slice(&bus);
    exec.extend_from_slice(&["--json", "-"]);
    let (ok, stdout, stderr) = run_with_stdin(
        &exec,
        "chart = intents.view_chart({'type': 'fdc3.instrument', 'name': 'Apple', 'id': {'ticker': 'AAPL'}})\n\
         result = chart",
    );
    let outcome: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("exec prints JSON ({error}): {stdout}\n{stderr}"));
    assert!(ok, "the snippet failed: {outcome:#}\n{stderr}");
    assert_eq!(outcome["calls"][0]["function"], json!("intents.view_chart"));
    assert!(
        !outcome["result"].is_null(),
        "the handler's result comes back: {outcome:#}"
    );

    let (ok, stdout, _) = run_with_stdin(
        &exec,
        "try:\n    raise_intent('NoSuchIntent', {'type': 'fdc3.instrument', 'id': {'ticker': 'AAPL'}})\n    result = 'raised'\n\
         except IntentNotResolvedError as error:\n    result = 'not resolved'\n\
         except BusError as error:\n    result = type(error).__name__ + ': ' + str(error)",
    );
    let outcome: Value = serde_json::from_str(&stdout).expect("exec prints JSON");
    assert!(ok, "{outcome:#}");
    assert_eq!(outcome["result"], json!("not resolved"), "{outcome:#}");
}
