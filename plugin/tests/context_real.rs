//! The context API (`channels.*`, `intents.raise_for_context`) from snippets run by the
//! `codemode` binary against real peers:
//! - the real open-source io.Connect gateway, where the real `@interopio/desktop` app Blotter
//!   joined the Red channel and published an instrument: a snippet reads it, broadcasts
//!   another, and the Blotter's channel listener receives it; raising for an instrument reaches
//!   the one intent that takes it;
//! - the FINOS reference Desktop Agent, where chart-app joined `fdc3.channel.1` and broadcast an
//!   instrument: a snippet reads the current context, broadcasts, and raises for a context,
//!   one that resolves and one whose choices come back with the error.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    io::Write as _,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use codemode_tests::{GatewayOptions, RealGateway, ReferenceAgent, probe_url};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_codemode");

/// Runs `codemode exec --json -` with `snippet` on stdin; the printed outcome.
fn exec(bus: &[&str], snippet: &str) -> Value {
    let mut child = Command::new(BINARY)
        .arg("exec")
        .args(bus)
        .args(["--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codemode");
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
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let outcome: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("exec prints JSON ({error}): {stdout}\n{stderr}"));
    assert!(
        output.status.success(),
        "the snippet failed: {outcome:#}\n{stderr}"
    );
    outcome
}

#[test]
fn a_snippet_reads_an_apps_instrument_on_a_real_io_connect_channel_and_its_broadcast_reaches_the_apps_listener()
 {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let bus = [
        "--bus",
        gateway.url.as_str(),
        "--user",
        gateway.user.as_str(),
        "--secret",
        gateway.secret.as_str(),
    ];
    let outcome = exec(
        &bus,
        "start = channels.current()\n\
         names = [c['id'] for c in channels.list()]\n\
         joined = channels.join('Red')\n\
         looking_at = channels.get_context()\n\
         channels.broadcast({'type': 'fdc3.instrument', 'name': 'Apple', 'id': {'ticker': 'AAPL'}})\n\
         now = channels.get_context(context_type='fdc3.instrument')\n\
         on_green = channels.get_context(channel='Green')\n\
         chart = intents.raise_for_context({'type': 'fdc3.instrument', 'id': {'ticker': 'AAPL'}})\n\
         result = {'start': start, 'names': names, 'joined': joined, 'looking_at': looking_at,\n\
         \x20         'now': now, 'on_green': on_green, 'current': channels.current()['id'], 'chart': chart}",
    );
    let result = &outcome["result"];
    assert_eq!(result["start"], Value::Null, "on no channel at first");
    assert_eq!(
        result["names"],
        json!(["Red", "Green", "Blue"]),
        "{outcome:#}"
    );
    assert_eq!(
        result["joined"],
        json!({"id": "Red", "name": "Red", "color": "red"})
    );
    assert_eq!(
        result["looking_at"],
        json!({"type": "fdc3.instrument", "name": "Microsoft", "id": {"ticker": "MSFT"}}),
        "the Blotter's instrument, as @interopio/desktop published it: {outcome:#}"
    );
    assert_eq!(
        result["now"],
        json!({"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}})
    );
    assert_eq!(result["on_green"], Value::Null, "nothing on Green");
    assert_eq!(result["current"], json!("Red"));
    // Charts' ViewChart is the only intent taking fdc3.instrument.
    assert_eq!(result["chart"], json!({"shown": true, "ticker": "AAPL"}));

    // The Blotter's channel listener (the real @interopio/desktop channels API) got it.
    let received = probe_url(
        &gateway.url,
        &gateway.user,
        &["invoke", "Blotter.ReceivedContexts", "{}"],
    );
    let contexts = received["returned"]["contexts"]
        .as_array()
        .expect("contexts")
        .clone();
    assert!(
        contexts
            .iter()
            .any(|c| c["type"] == json!("fdc3.instrument") && c["id"]["ticker"] == json!("AAPL")),
        "the app's listener received the snippet's broadcast: {received:#}"
    );

    // A channel that does not exist, and a broadcast without a channel, are clear errors.
    let outcome = exec(
        &bus,
        "out = []\n\
         for attempt in (lambda: channels.join('Purple'),\n\
         \x20               lambda: channels.broadcast({'type': 'fdc3.instrument', 'id': {'ticker': 'X'}}),\n\
         \x20               lambda: channels.broadcast({'id': {'ticker': 'X'}}, channel='Red')):\n\
         \x20   try:\n\
         \x20       attempt()\n\
         \x20       out.append('ok')\n\
         \x20   except BusError as error:\n\
         \x20       out.append(str(error))\n\
         result = out",
    );
    let errors = outcome["result"].as_array().expect("three outcomes");
    let text = |i: usize| errors[i].as_str().unwrap_or_default().to_owned();
    assert!(
        text(0).contains("NoChannelFound") && text(0).contains("Red, Green, Blue"),
        "{outcome:#}"
    );
    assert!(text(1).contains("not joined to any channel"), "{outcome:#}");
    assert!(text(2).contains("\"type\""), "{outcome:#}");
}

#[test]
fn a_snippet_reads_the_current_context_broadcasts_and_raises_for_context_on_the_fdc3_reference_agent()
 {
    let agent = ReferenceAgent::start(1000);
    let bus = [
        "--dialect",
        "fdc3",
        "--bus",
        agent.url.as_str(),
        "--fdc3-identity-url",
        agent.identity_url.as_str(),
        "--fdc3-app-directory",
        agent.appd_url.as_str(),
    ];
    let outcome = exec(
        &bus,
        "ids = [c['id'] for c in channels.list()]\n\
         start = channels.current()\n\
         joined = channels.join('fdc3.channel.1')\n\
         looking_at = channels.get_context()\n\
         channels.broadcast({'type': 'fdc3.instrument', 'name': 'Apple', 'id': {'ticker': 'AAPL'}})\n\
         now = channels.get_context(context_type='fdc3.instrument')\n\
         chart = intents.raise_for_context({'type': 'fdc3.instrumentList', 'instruments': [now]})\n\
         try:\n\
         \x20   intents.raise_for_context({'type': 'fdc3.contact', 'name': 'Jane', 'id': {'email': 'jane@example.com'}})\n\
         \x20   choices = 'resolved without a choice'\n\
         except IntentNotResolvedError as error:\n\
         \x20   choices = sorted({(c['intent'], c['app']) for c in error.choices})\n\
         result = {'ids': ids, 'start': start, 'joined': joined['id'], 'looking_at': looking_at,\n\
         \x20         'now': now, 'current': channels.current()['id'], 'chart': chart, 'choices': choices}",
    );
    let result = &outcome["result"];
    let ids = result["ids"].as_array().expect("channel ids");
    assert!(
        ids.contains(&json!("fdc3.channel.1")) && ids.len() >= 8,
        "{outcome:#}"
    );
    assert_eq!(result["start"], Value::Null, "{outcome:#}");
    assert_eq!(result["joined"], json!("fdc3.channel.1"));
    assert_eq!(
        result["looking_at"],
        json!({"type": "fdc3.instrument", "name": "Microsoft", "id": {"ticker": "MSFT"}}),
        "chart-app's broadcast is the channel's current context: {outcome:#}"
    );
    assert_eq!(
        result["now"],
        json!({"type": "fdc3.instrument", "name": "Apple", "id": {"ticker": "AAPL"}})
    );
    assert_eq!(result["current"], json!("fdc3.channel.1"));
    // Only chart-app's ViewChart takes an fdc3.instrumentList.
    assert_eq!(result["chart"]["type"], json!("fdc3.chart"), "{outcome:#}");
    assert_eq!(
        result["chart"]["instruments"][0]["id"]["ticker"],
        json!("AAPL")
    );
    // fdc3.contact: crm-app's ViewContact and StartCall, dialer-app's StartChat.
    let choices = result["choices"].as_array().expect("choices");
    for wanted in [
        json!(["StartCall", "crm-app"]),
        json!(["StartChat", "dialer-app"]),
        json!(["ViewContact", "crm-app"]),
    ] {
        assert!(choices.contains(&wanted), "{wanted} in {outcome:#}");
    }
}
