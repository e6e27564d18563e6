//! The `codemode mock-bus` command: prints its URL once ready, serves, stops on Ctrl-C.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

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

#[tokio::test]
async fn mock_bus_prints_its_url_serves_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(["mock-bus", "--listen", "127.0.0.1:0", "--apps", "5"])
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
        for _ in 0..100 {
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
