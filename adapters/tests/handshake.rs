//! A broken handshake fails at once with its own cause and the bus URL, not after the 30 s
//! connect timeout with "no catalogue": a peer that answers `hello` with text that is not
//! JSON, with a malformed welcome, with a binary frame, or not at all, and a TCP peer that
//! never answers the WebSocket upgrade.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

use std::time::{Duration, Instant};

use codemode_adapters::ioconnect::{IoConnectBus, IoConnectConfig};
use codemode_protocol::gw3::Authentication;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy, Debug)]
enum Fault {
    NotJson,
    MalformedWelcome,
    Binary,
    Silent,
    NoUpgrade,
}

/// A one-connection fake gateway that commits `fault` in reply to `hello`.
async fn faulty_gateway(fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/gw", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        if matches!(fault, Fault::NoUpgrade) {
            tokio::time::sleep(Duration::from_mins(1)).await;
            drop(stream);
            return;
        }
        let mut socket = tokio_tungstenite::accept_async(stream)
            .await
            .expect("upgrade");
        let Some(Ok(Message::Text(hello))) = socket.next().await else {
            return;
        };
        let hello: Value = serde_json::from_str(hello.as_str()).expect("hello is JSON");
        let request_id = hello["request_id"].clone();
        let reply = match fault {
            Fault::NotJson => Some(Message::text("<html>this is not a gateway</html>")),
            Fault::MalformedWelcome => Some(Message::text(
                serde_json::json!({"type": "welcome", "domain": "global", "request_id": request_id, "peer_id": 42})
                    .to_string(),
            )),
            Fault::Binary => Some(Message::binary(vec![0_u8, 1, 2, 3])),
            Fault::Silent | Fault::NoUpgrade => None,
        };
        if let Some(reply) = reply {
            let _ = socket.send(reply).await;
        }
        tokio::time::sleep(Duration::from_mins(1)).await;
    });
    url
}

#[tokio::test]
async fn each_handshake_fault_fails_within_two_seconds_with_its_own_cause_and_the_url() {
    for (fault, cause) in [
        (Fault::NotJson, "not JSON"),
        (Fault::MalformedWelcome, "malformed"),
        (Fault::Binary, "binary frame"),
        (Fault::Silent, "sent nothing"),
        (Fault::NoUpgrade, "no WebSocket handshake"),
    ] {
        let url = faulty_gateway(fault).await;
        let mut config = IoConnectConfig::new(url.clone(), Authentication::secret("u", "p"));
        config.reconnect = false;
        let started = Instant::now();
        let error = IoConnectBus::connect(config)
            .await
            .err()
            .unwrap_or_else(|| panic!("{fault:?}: connected to a faulty gateway"));
        let took = started.elapsed();
        let text = error.to_string();
        assert!(
            took < Duration::from_millis(2_500),
            "{fault:?}: failed after {took:?}: {text}"
        );
        assert!(text.contains(&url), "{fault:?}: names the URL: {text}");
        assert!(text.contains(cause), "{fault:?}: names the cause: {text}");
    }
}
