//! The `codemode` binary over TLS, against real peers behind a TLS-terminating proxy whose
//! certificate comes from a CA the test creates (so no machine trusts it by default):
//! - the real open-source io.Connect gateway over `wss://`;
//! - the FINOS reference Desktop Agent over `wss://`, with its App Directory over `https://`.
//!
//! With `--ca-file` (or `CODEMODE_CA_FILE`) naming the test CA, a snippet calls a method or
//! raises an intent; without it, codemode stops with an error that says the certificate is not
//! trusted, names the URL and points at `--ca-file`.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    io::Write as _,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use codemode_tests::{
    GatewayOptions, RealGateway, ReferenceAgent,
    tls::{TestCa, TlsProxy},
};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

/// What one `codemode` run left behind.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], envs: &[(&str, &str)], snippet: &str) -> Finished {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("CODEMODE_CA_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start codemode");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(snippet.as_bytes())
        .expect("write the snippet");
    let started = Instant::now();
    let output = child.wait_with_output().expect("codemode finishes");
    assert!(
        started.elapsed() < Duration::from_mins(2),
        "codemode took too long"
    );
    Finished {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn outcome(finished: &Finished) -> Value {
    serde_json::from_str(&finished.stdout).unwrap_or_else(|error| {
        panic!(
            "exec prints JSON ({error}): {}\n{}",
            finished.stdout, finished.stderr
        )
    })
}

/// The last `error:` line codemode printed.
fn error_line(finished: &Finished) -> &str {
    finished
        .stderr
        .lines()
        .rev()
        .find(|line| line.starts_with("error:"))
        .unwrap_or_else(|| panic!("codemode printed no error: {}", finished.stderr))
}

fn assert_untrusted(finished: &Finished, url: &str) {
    let error = error_line(finished);
    assert!(
        error.contains(url)
            && error.contains("certificate is not trusted")
            && error.contains("--ca-file"),
        "the error says the certificate of {url} is not trusted and names --ca-file: {error}"
    );
    assert!(
        !finished.stderr.contains("TLS support not compiled in"),
        "{}",
        finished.stderr
    );
}

const CRM_SNIPPET: &str = "found = crm.get_clients(name_contains='Amelia Reid')\n\
                           result = found['clients'][0]['adviser']";

#[test]
fn a_wss_gateway_with_a_private_ca_is_refused_as_untrusted_and_works_with_ca_file() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let ca = TestCa::new();
    let proxy = TlsProxy::start(&ca, gateway.port);
    let url = format!("wss://127.0.0.1:{}/gw", proxy.port);
    let ca_file = ca.ca_file.to_str().expect("UTF-8 path");
    let bus = [
        "exec",
        "--bus",
        &url,
        "--user",
        &gateway.user,
        "--secret",
        &gateway.secret,
        "--json",
        "-",
    ];

    let refused = run(&bus, &[], CRM_SNIPPET);
    assert_eq!(
        refused.code,
        Some(3),
        "an untrusted gateway is a bus error (exit 3): {}",
        refused.stderr
    );
    assert_untrusted(&refused, &url);

    let mut with_flag = bus.to_vec();
    with_flag.extend(["--ca-file", ca_file]);
    let trusted = run(&with_flag, &[], CRM_SNIPPET);
    let answer = outcome(&trusted);
    assert_eq!(trusted.code, Some(0), "{answer:#}\n{}", trusted.stderr);
    assert_eq!(answer["result"], json!("M Carter"), "{answer:#}");
    assert_eq!(answer["calls"][0]["function"], json!("crm.get_clients"));

    let from_env = run(&bus, &[("CODEMODE_CA_FILE", ca_file)], CRM_SNIPPET);
    assert_eq!(
        outcome(&from_env)["result"],
        json!("M Carter"),
        "CODEMODE_CA_FILE works like --ca-file: {}",
        from_env.stderr
    );
}

#[test]
fn an_fdc3_agent_over_wss_with_an_https_app_directory_needs_ca_file_and_then_raises() {
    let agent = ReferenceAgent::start(1000);
    let agent_port: u16 = agent
        .url
        .trim_start_matches("ws://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .expect("the agent's URL is ws://127.0.0.1:P/");
    let ca = TestCa::new();
    // The agent serves its WebSocket and its App Directory on one port: one proxy fronts both.
    let proxy = TlsProxy::start(&ca, agent_port);
    let wss = format!("wss://127.0.0.1:{}/", proxy.port);
    let appd = format!("https://127.0.0.1:{}/v2/apps", proxy.port);
    assert!(agent.appd_url.ends_with("/v2/apps"), "{}", agent.appd_url);
    let ca_file = ca.ca_file.to_str().expect("UTF-8 path");
    let snippet = "chart = intents.view_chart({'type': 'fdc3.instrument', 'name': 'Apple', \
                   'id': {'ticker': 'AAPL'}})\nresult = chart";
    let exec = |bus: &str, extra: &[&str]| {
        let mut args = vec![
            "exec",
            "--dialect",
            "fdc3",
            "--bus",
            bus,
            "--fdc3-identity-url",
            &agent.identity_url,
            "--fdc3-app-directory",
            &appd,
            "--json",
            "-",
        ];
        args.extend_from_slice(extra);
        run(&args, &[], snippet)
    };

    // The agent itself over plain ws://: only the https:// App Directory is untrusted.
    let refused = exec(&agent.url, &[]);
    assert_ne!(refused.code, Some(0), "{}", refused.stderr);
    assert!(
        error_line(&refused).contains("App Directory"),
        "{}",
        refused.stderr
    );
    assert_untrusted(&refused, &appd);

    let refused = exec(&wss, &[]);
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    assert_untrusted(&refused, &wss);

    let trusted = exec(&wss, &["--ca-file", ca_file]);
    let answer = outcome(&trusted);
    assert_eq!(trusted.code, Some(0), "{answer:#}\n{}", trusted.stderr);
    assert_eq!(
        answer["result"],
        json!({
            "type": "fdc3.chart",
            "instruments": [{"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}}],
            "style": "line",
        }),
        "chart-app's handler answers through the TLS agent: {answer:#}"
    );
}
