//! Streams from snippets against a real stream: `codemode serve` on the real open-source
//! io.Connect gateway, where the real `@interopio/desktop` app Ticker offers `Ticker.Prices`
//! with `interop.createStream`. A real client runs snippets through `CodeMode.ExecutePythonCode`
//! and asks the Ticker (`Ticker.Subscriptions`, what the gateway's `add-interest` and
//! `remove-interest` told it) whether codemode's subscriptions were closed — while `codemode
//! serve` stays connected, so it is codemode's `unsubscribe`, not a disconnect, that closes them.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use codemode_tests::{GatewayOptions, RealGateway, probe_url};
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

fn serve(gateway: &RealGateway) -> Running {
    Running(
        Command::new(BINARY)
            .args(["serve", "--mcp", "none", "--bus", &gateway.url])
            .args(["--user", &gateway.user, "--secret", &gateway.secret])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start codemode serve"),
    )
}

/// The Ticker's count of subscriptions (`open`, `added`, `removed`), polled until none is open
/// or 10 s passed.
fn ticker_after_close(gateway: &RealGateway) -> Value {
    let started = Instant::now();
    loop {
        let counts = invoke(gateway, "Ticker.Subscriptions", &json!({}))["returned"].clone();
        if counts["open"] == json!(0) || started.elapsed() > Duration::from_secs(10) {
            return counts;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_snippet_collects_a_real_apps_stream_within_its_cap_and_the_subscription_is_closed_after() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let _serve = serve(&gateway);

    let answer = invoke(
        &gateway,
        "CodeMode.ExecutePythonCode",
        &json!({"code": "ticks = ticker.prices(symbol='AAPL', max_items=5, seconds=20)\n\
                         async def first_three():\n\
                         \x20   seen = []\n\
                         \x20   async for tick in stream(ticker.prices, symbol='MSFT', max_items=3, seconds=20):\n\
                         \x20       seen.append(tick['symbol'])\n\
                         \x20   return seen\n\
                         streamed = await first_three()\n\
                         result = {'n': len(ticks), 'symbols': sorted({t['symbol'] for t in ticks}),\n\
                         \x20         'seqs_rise': all(a['seq'] < b['seq'] for a, b in zip(ticks, ticks[1:])),\n\
                         \x20         'streamed': streamed}"}),
    );
    assert_eq!(answer["ok"], json!(true), "{answer:#}");
    let result = &answer["returned"]["result"];
    assert_eq!(result["n"], json!(5), "max_items caps the list: {answer:#}");
    assert_eq!(result["symbols"], json!(["AAPL"]), "{answer:#}");
    assert_eq!(
        result["seqs_rise"],
        json!(true),
        "ticks in order: {answer:#}"
    );
    assert_eq!(
        result["streamed"],
        json!(["MSFT", "MSFT", "MSFT"]),
        "the async iterator form holds its cap too: {answer:#}"
    );

    let counts = ticker_after_close(&gateway);
    assert_eq!(
        counts,
        json!({"open": 0, "added": 2, "removed": 2}),
        "both subscriptions were added and removed while codemode stayed connected"
    );
}

#[test]
fn a_snippet_that_times_out_while_collecting_leaves_no_subscription_open() {
    let gateway = RealGateway::start(&GatewayOptions::default());
    let _serve = serve(&gateway);

    let started = Instant::now();
    let answer = invoke(
        &gateway,
        "CodeMode.ExecutePythonCode",
        &json!({"code": "result = ticker.prices(symbol='AAPL', max_items=1000, seconds=25)",
                "timeoutSeconds": 2}),
    );
    assert_eq!(
        answer["ok"],
        json!(false),
        "the snippet times out: {answer:#}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it stopped at its time limit, not at the end of the window"
    );
    let counts = ticker_after_close(&gateway);
    assert_eq!(counts["open"], json!(0), "{counts}");
    assert_eq!(counts["added"], json!(1), "{counts}");
    assert_eq!(counts["removed"], json!(1), "{counts}");

    // The same server still streams to the next snippet.
    let again = invoke(
        &gateway,
        "CodeMode.ExecutePythonCode",
        &json!({"code": "result = len(ticker.prices(symbol='AAPL', max_items=2, seconds=20))"}),
    );
    assert_eq!(again["returned"]["result"], json!(2), "{again:#}");
}
