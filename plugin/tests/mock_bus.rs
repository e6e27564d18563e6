//! Tests of the mock bus: raw GW3 frames against the gateway (`wire`), the real io.Connect
//! adapter against it (`adapter`), sample and synthetic apps (`apps`) and the CLI (`cli`).
//!
//! Every test starts its own bus on a free loopback port and shuts it down at the end.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

#[path = "mock_bus/adapter.rs"]
mod adapter;
#[path = "mock_bus/apps.rs"]
mod apps;
#[path = "mock_bus/cli.rs"]
mod cli;
#[path = "mock_bus/wire.rs"]
mod wire;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

use codemode::mock_bus::{MockBus, MockBusConfig, MockBusHandle};
use codemode_adapters::ioconnect::{IoConnectBus, IoConnectConfig};
use codemode_protocol::{
    MethodDefinition, MethodId, PeerId, RequestId,
    gw3::{
        self, Authentication, Call, Domain, Envelope, Gw3Message, Hello, Identity, Join, Register,
        Welcome,
    },
};

/// How long any single expected frame may take before the test fails.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts a bus with `config`.
async fn start(config: MockBusConfig) -> MockBusHandle {
    MockBus::start(config).await.expect("start the mock bus")
}

/// Starts a bus with the sample apps only.
async fn start_default() -> MockBusHandle {
    start(MockBusConfig::default()).await
}

/// An adapter configuration logging in as `user`, with quick reconnects.
fn adapter_config(bus: &MockBusHandle, user: &str) -> IoConnectConfig {
    let mut config = IoConnectConfig::new(bus.url(), Authentication::secret(user, "secret"));
    config.reconnect_initial_delay = Duration::from_millis(50);
    config.reconnect_max_delay = Duration::from_millis(200);
    config.call_timeout = Duration::from_secs(5);
    config
}

/// Connects the real adapter as `user`.
async fn connect_adapter(bus: &MockBusHandle, user: &str) -> IoConnectBus {
    IoConnectBus::connect(adapter_config(bus, user))
        .await
        .expect("adapter connects to the mock bus")
}

/// A raw GW3 client speaking typed frames over a WebSocket.
struct RawClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    peer_id: Option<PeerId>,
    counter: u64,
}

impl RawClient {
    async fn connect(url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket connect");
        Self {
            socket,
            peer_id: None,
            counter: 0,
        }
    }

    /// Asks the gateway for a gateway token (`create-token`) and returns it.
    async fn create_token(&mut self) -> String {
        let request_id = self.request_id();
        let peer_id = self.peer();
        self.send(&Gw3Message::CreateToken(gw3::CreateToken {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer_id),
                ..Envelope::default()
            },
        }))
        .await;
        let (_, reply) = self.reply_to(&request_id).await;
        let Gw3Message::Token(token) = reply else {
            panic!("create-token answered {reply:?}");
        };
        token.token
    }

    /// Connects, says hello as `user` and returns the client with its welcome.
    async fn login(url: &str, user: &str) -> (Self, Welcome) {
        let mut client = Self::connect(url).await;
        let welcome = client.hello(user).await;
        (client, welcome)
    }

    /// Connects, logs in as `user` and joins `agm`; returns the bootstrap frames too.
    async fn joined(url: &str, user: &str) -> (Self, Vec<Gw3Message>) {
        let (mut client, _) = Self::login(url, user).await;
        let bootstrap = client.join_agm().await;
        (client, bootstrap)
    }

    fn request_id(&mut self) -> RequestId {
        self.counter += 1;
        RequestId::new(format!("raw-{}", self.counter))
    }

    fn peer(&self) -> PeerId {
        self.peer_id.clone().expect("logged in")
    }

    async fn send(&mut self, message: &Gw3Message) {
        self.send_text(&gw3::encode(message)).await;
    }

    async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .expect("send a frame");
    }

    async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.expect("send a frame");
    }

    /// The next GW3 message (control frames skipped).
    async fn recv(&mut self) -> Gw3Message {
        self.try_recv(FRAME_TIMEOUT)
            .await
            .expect("a frame before the timeout")
    }

    /// The next GW3 message, or `None` when none comes within `wait` or the socket closes.
    async fn try_recv(&mut self, wait: Duration) -> Option<Gw3Message> {
        loop {
            let frame = tokio::time::timeout(wait, self.socket.next())
                .await
                .ok()??;
            match frame {
                Ok(Message::Text(text)) => {
                    return Some(gw3::decode(text.as_str(), usize::MAX).expect("valid frame"));
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Reads until a message satisfies `done`; returns the ones before it and it.
    async fn recv_until(
        &mut self,
        mut done: impl FnMut(&Gw3Message) -> bool,
    ) -> (Vec<Gw3Message>, Gw3Message) {
        let mut before = Vec::new();
        loop {
            let message = self.recv().await;
            if done(&message) {
                return (before, message);
            }
            before.push(message);
        }
    }

    /// Reads until the reply (success/error/result/…) to `request_id`.
    async fn reply_to(&mut self, request_id: &RequestId) -> (Vec<Gw3Message>, Gw3Message) {
        let wanted = request_id.clone();
        self.recv_until(move |message| reply_id(message) == Some(&wanted))
            .await
    }

    async fn hello(&mut self, user: &str) -> Welcome {
        let reply = self
            .hello_with(identity("raw-test"), Authentication::secret(user, "secret"))
            .await;
        match reply {
            Gw3Message::Welcome(welcome) => welcome,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    async fn hello_with(
        &mut self,
        identity: Identity,
        authentication: Authentication,
    ) -> Gw3Message {
        let request_id = self.request_id();
        self.send(&Gw3Message::Hello(Hello {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(request_id.clone()),
                ..Envelope::default()
            },
            identity,
            authentication: Some(authentication),
        }))
        .await;
        let (_, reply) = self.reply_to(&request_id).await;
        if let Gw3Message::Welcome(welcome) = &reply {
            self.peer_id = Some(welcome.peer_id.clone());
        }
        reply
    }

    /// Joins `agm`; returns every frame before the join's `success`.
    async fn join_agm(&mut self) -> Vec<Gw3Message> {
        let request_id = self.request_id();
        let peer = self.peer();
        self.send(&Gw3Message::Join(Join {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer),
                ..Envelope::default()
            },
            destination: "agm".into(),
            restrictions: None,
            options: None,
        }))
        .await;
        let (before, reply) = self.reply_to(&request_id).await;
        assert!(
            matches!(&reply, Gw3Message::Success(success) if success.envelope.domain == Some(Domain::Agm)),
            "join agm answered {reply:?}"
        );
        // The channels' shared contexts are announced in the global domain right after the
        // welcome, as the real gateway does; they are not part of the agm bootstrap.
        before
            .into_iter()
            .filter(|message| !matches!(message, Gw3Message::ContextAdded(_)))
            .collect()
    }

    /// Registers `methods` and waits for the success; returns the frames before it.
    async fn register(&mut self, methods: Vec<MethodDefinition>) -> Vec<Gw3Message> {
        let request_id = self.request_id();
        let peer = self.peer();
        self.send(&Gw3Message::Register(Register {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer),
                ..Envelope::default()
            },
            methods,
        }))
        .await;
        let (before, reply) = self.reply_to(&request_id).await;
        assert!(
            matches!(reply, Gw3Message::Success(_)),
            "register: {reply:?}"
        );
        before
    }

    /// Sends a `call` and returns its request id.
    async fn call(
        &mut self,
        server: &PeerId,
        method_id: MethodId,
        arguments: Map<String, Value>,
    ) -> RequestId {
        let request_id = self.request_id();
        let peer = self.peer();
        self.send(&Gw3Message::Call(Call {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: Some(peer),
                ..Envelope::default()
            },
            server_id: server.clone(),
            method_id,
            arguments_kv: Some(arguments),
            arguments: None,
            context: None,
        }))
        .await;
        request_id
    }

    /// Calls `method_id` on `server` and returns the reply.
    async fn call_and_wait(
        &mut self,
        server: &PeerId,
        method_id: MethodId,
        arguments: Map<String, Value>,
    ) -> Gw3Message {
        let request_id = self.call(server, method_id, arguments).await;
        self.reply_to(&request_id).await.1
    }
}

/// An identity with a unique instance.
fn identity(application: &str) -> Identity {
    let mut identity = Identity::new();
    identity.insert("application".into(), json!(application));
    identity.insert(
        "instance".into(),
        json!(format!("{application}-{}", uuid::Uuid::new_v4().simple())),
    );
    identity
}

/// The request id a reply answers.
fn reply_id(message: &Gw3Message) -> Option<&RequestId> {
    match message {
        Gw3Message::Welcome(m) => m.request_id.as_ref(),
        Gw3Message::Success(m) => m.envelope.request_id.as_ref(),
        Gw3Message::Error(m) => m.request_id.as_ref(),
        Gw3Message::Result(m) => m.envelope.request_id.as_ref(),
        Gw3Message::Token(m) => m.envelope.request_id.as_ref(),
        Gw3Message::Subscribed(m) => m.envelope.request_id.as_ref(),
        _ => None,
    }
}

/// `{key: value, …}` as named arguments.
fn args(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("arguments must be an object, got {other}"),
    }
}

/// The peer id and method id of `name` in a bootstrap.
fn find_method(bootstrap: &[Gw3Message], name: &str) -> Option<(PeerId, MethodId)> {
    bootstrap.iter().find_map(|message| match message {
        Gw3Message::MethodsAdded(added) => added
            .methods
            .iter()
            .find(|method| method.name == name)
            .map(|method| (added.server_id.clone(), method.id.clone())),
        _ => None,
    })
}

/// A method definition with a string id.
fn method(id: &str, name: &str) -> MethodDefinition {
    MethodDefinition::new(MethodId::new(json!(id)), name)
}
