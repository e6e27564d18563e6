//! The `codemode mock-bus` command: prints its URL once ready, serves, stops on Ctrl-C, and
//! with `--apps 300` serves a real `@interopio/desktop` client as the real gateway does.

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use codemode::mock_bus::{PLATFORM_APPLICATION, apps, synthetic};
use codemode_protocol::gw3::INTENT_METHOD_PREFIX;
use codemode_tests::probe_url;
use serde_json::{Value, json};

use super::RawClient;

#[test]
fn help_lists_the_mock_bus_subcommand() {
    let output = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .arg("--help")
        .output()
        .expect("run codemode --help");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("mock-bus"), "{text}");
}

/// Also a regression test: started the way a non-interactive shell starts background jobs
/// (SIGINT ignored), the bus used to listen for Ctrl-C only after printing its URL, so a SIGINT
/// sent right after that line was lost and the bus never stopped (seen in a CI-like run).
#[tokio::test]
async fn mock_bus_prints_its_url_serves_and_stops_on_ctrl_c() {
    let mut child = Command::new("sh")
        .args([
            "-c",
            "trap '' INT; exec \"$0\" mock-bus --listen 127.0.0.1:0 --apps 5",
            env!("CARGO_BIN_EXE_codemode"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start codemode mock-bus");
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("read the URL line");
    let url = url.trim().to_owned();
    assert!(
        url.starts_with("ws://127.0.0.1:") && url.ends_with("/gw"),
        "{url}"
    );
    let (_, bootstrap) = RawClient::joined(&url, "alice").await;
    assert!(super::find_method(&bootstrap, "CRM.GetClients").is_some());
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(status.success());
    let waited = tokio::task::spawn_blocking(move || {
        // Up to 15 s: the test binary runs beside dozens of others on two cores.
        for _ in 0..300 {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        None
    })
    .await
    .expect("join");
    let status = waited.expect("the mock bus exits after Ctrl-C");
    assert!(status.success(), "{status:?}");
}

/// `codemode mock-bus` as a child process, killed when dropped so a failing test leaves no
/// process behind.
struct StandaloneMockBus {
    child: Child,
    url: String,
}

impl StandaloneMockBus {
    /// Starts `codemode mock-bus ARGS` and waits for its URL line.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_codemode"))
            .arg("mock-bus")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start codemode mock-bus");
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|stdout| BufReader::new(stdout).read_line(&mut line));
        let url = line.trim().to_owned();
        let bus = Self { child, url };
        assert!(
            matches!(read, Some(Ok(n)) if n > 0) && bus.url.starts_with("ws://127.0.0.1:"),
            "codemode mock-bus printed no URL: {read:?} {line:?}"
        );
        bus
    }
}

impl Drop for StandaloneMockBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 3's "done when": the standalone binary with the samples plus 300 synthetic apps, and
/// the real `@interopio/desktop` client (`tests/fixtures/ioconnect/probe.js`) discovering,
/// invoking a sample method and raising an intent on it.
#[test]
fn standalone_mock_bus_with_300_apps_serves_the_real_desktop_client() {
    let bus = StandaloneMockBus::start(&["--listen", "127.0.0.1:0", "--apps", "300"]);
    let user = "desktop-user";

    // What the bus should serve: the 8 samples plus 300 synthetic apps (default seed).
    let samples = apps::embedded_samples().expect("embedded samples");
    assert_eq!(samples.len(), 8);
    let synthetic_apps = synthetic::generate_apps(300, synthetic::DEFAULT_SEED);
    let declared: Vec<_> = samples.iter().chain(&synthetic_apps).collect();
    let running_apps: BTreeSet<String> = declared
        .iter()
        .filter(|app| app.running)
        .map(|app| app.name.clone())
        .collect();
    let expected_methods: BTreeSet<String> = declared
        .iter()
        .filter(|app| app.running)
        .flat_map(|app| {
            app.methods.iter().map(|method| method.name.clone()).chain(
                app.intents
                    .iter()
                    .map(|intent| format!("{INTENT_METHOD_PREFIX}{}", intent.name)),
            )
        })
        .collect();

    // Discovery: every running app's methods, served by exactly the running apps.
    let methods = probe_url(&bus.url, user, &["methods"]);
    let app_methods: Vec<&Value> = methods
        .as_array()
        .expect("probe methods is an array")
        .iter()
        .filter(|method| !method["name"].as_str().unwrap_or("").starts_with("T42."))
        .collect();
    let seen_methods: BTreeSet<String> = app_methods
        .iter()
        .filter_map(|method| method["name"].as_str().map(str::to_owned))
        .collect();
    let serving_apps: BTreeSet<String> = app_methods
        .iter()
        .flat_map(|method| method["servers"].as_array().into_iter().flatten())
        .filter_map(|server| server["application"].as_str().map(str::to_owned))
        .collect();
    assert!(seen_methods.contains("CRM.GetClients"), "no sample method");
    let synthetic_method = synthetic_apps
        .iter()
        .find(|app| app.running)
        .and_then(|app| app.methods.first())
        .map(|method| method.name.clone())
        .expect("a running synthetic app with a method");
    assert!(
        seen_methods.contains(&synthetic_method),
        "no synthetic method {synthetic_method}"
    );
    assert_eq!(
        seen_methods, expected_methods,
        "methods the desktop client sees"
    );
    assert_eq!(serving_apps, running_apps, "apps serving them");
    let running_samples = samples.iter().filter(|app| app.running).count();
    let running_synthetic = synthetic_apps.iter().filter(|app| app.running).count();
    assert_eq!(running_samples, 7, "all samples but the Dialer run");
    assert!(
        (250..300).contains(&running_synthetic),
        "about one synthetic app in ten is declared only: {running_synthetic}"
    );
    assert_eq!(serving_apps.len(), running_samples + running_synthetic);

    // The platform lists every declared app: 8 samples + 300 synthetic.
    let applications = probe_url(
        &bus.url,
        user,
        &[
            "invoke",
            "T42.ACS.GetApplications",
            r#"{"withIntentsInfo":true}"#,
        ],
    );
    assert_eq!(applications["ok"], true, "{applications}");
    assert_eq!(
        applications["executed_by"]["application"],
        PLATFORM_APPLICATION
    );
    let listed: BTreeSet<&str> = applications["returned"]["applications"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|app| app["name"].as_str())
        .collect();
    let declared_names: BTreeSet<&str> = declared.iter().map(|app| app.name.as_str()).collect();
    assert_eq!(listed.len(), 308);
    assert_eq!(listed, declared_names);

    // Invoke a sample method.
    let clients = probe_url(
        &bus.url,
        user,
        &[
            "invoke",
            "CRM.GetClients",
            r#"{"nameContains":"Amelia Reid"}"#,
        ],
    );
    assert_eq!(clients["ok"], true, "{clients}");
    assert_eq!(clients["executed_by"]["application"], "CRM", "{clients}");
    let found = &clients["returned"]["clients"];
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{clients}");
    assert_eq!(found[0]["name"], "Amelia Reid", "{clients}");
    assert_eq!(found[0]["adviser"], "M Carter", "{clients}");

    // Raise an intent with io.intents.raise, at the Charts app and without a target.
    let context =
        r#"{"type":"fdc3.instrument","data":{"type":"fdc3.instrument","id":{"ticker":"AAPL"}}}"#;
    let charts_instance = methods
        .as_array()
        .into_iter()
        .flatten()
        .filter(|method| method["name"] == format!("{INTENT_METHOD_PREFIX}ViewChart"))
        .flat_map(|method| method["servers"].as_array().into_iter().flatten())
        .find(|server| server["application"] == "Charts")
        .and_then(|server| server["instance"].as_str())
        .map(str::to_owned)
        .expect("the running Charts offers ViewChart");
    let raised = probe_url(
        &bus.url,
        user,
        &["raise", "ViewChart", context, r#"{"app":"Charts"}"#],
    );
    assert_eq!(raised["ok"], true, "{raised}");
    assert_eq!(raised["handler"]["applicationName"], "Charts", "{raised}");
    assert_eq!(
        raised["handler"]["instanceId"],
        json!(charts_instance),
        "{raised}"
    );
    assert_eq!(raised["result"], json!({"shown": true, "ticker": "AAPL"}));

    let view_chart_apps: BTreeSet<&str> = declared
        .iter()
        .filter(|app| app.running && app.intents.iter().any(|i| i.name == "ViewChart"))
        .map(|app| app.name.as_str())
        .collect();
    assert!(
        view_chart_apps.len() > 1,
        "synthetic apps handle ViewChart too: {view_chart_apps:?}"
    );
    let raised = probe_url(&bus.url, user, &["raise", "ViewChart", context]);
    assert_eq!(raised["ok"], true, "{raised}");
    let handler = raised["handler"]["applicationName"].as_str().unwrap_or("");
    assert!(view_chart_apps.contains(handler), "{raised}");
    let expected = if handler == "Charts" {
        json!({"shown": true, "ticker": "AAPL"})
    } else {
        json!({"handledBy": handler, "intent": "ViewChart", "contextType": "fdc3.instrument"})
    };
    assert_eq!(
        raised["result"], expected,
        "the handler that answered: {raised}"
    );
}
