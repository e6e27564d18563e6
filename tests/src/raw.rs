//! A raw GW3 peer for contract tests: typed frames over a plain WebSocket, no adapter logic,
//! so a test states exactly what a bus must send and receive.

use std::time::Duration;

use codemode_protocol::{
    MethodDefinition, MethodId, PeerId, RequestId,
    gw3::{
        self, Authentication, Domain, Envelope, Gw3Message, Hello, Identity, Join, Register,
        Welcome,
    },
};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

/// How long a contract test waits for one expected frame.
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

/// One raw connection to a bus.
pub struct RawPeer {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Our peer id after `hello`.
    pub peer_id: Option<PeerId>,
    /// Every frame received and not yet taken by [`RawPeer::expect`].
    backlog: Vec<Gw3Message>,
}

impl RawPeer {
    /// Opens a WebSocket to `url`.
    pub async fn connect(url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("open a WebSocket to the bus");
        Self {
            socket,
            peer_id: None,
            backlog: Vec::new(),
        }
    }

    /// Sends one message.
    pub async fn send(&mut self, message: &Gw3Message) {
        self.socket
            .send(Message::text(gw3::encode(message)))
            .await
            .expect("send a frame");
    }

    /// Sends raw text (for malformed-frame tests).
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .expect("send a frame");
    }

    /// The next message matching `wanted`, waiting up to [`FRAME_WAIT`]; earlier non-matching
    /// messages stay in the backlog for later `expect`s.
    pub async fn expect(&mut self, what: &str, wanted: impl Fn(&Gw3Message) -> bool) -> Gw3Message {
        if let Some(index) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(index);
        }
        let deadline = tokio::time::Instant::now() + FRAME_WAIT;
        loop {
            let message = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    match gw3::decode(text.as_str(), gw3::DEFAULT_MAX_FRAME_BYTES) {
                        Ok(message) => message,
                        Err(error) => panic!("the bus sent an undecodable frame ({error}): {text}"),
                    }
                }
                Ok(Some(Ok(_))) => continue,
                Ok(other) => panic!(
                    "waiting for {what}: the connection ended ({other:?}); backlog {:?}",
                    self.backlog
                ),
                Err(elapsed) => panic!(
                    "waiting for {what}: nothing within {FRAME_WAIT:?} ({elapsed}); backlog {:?}",
                    self.backlog
                ),
            };
            if wanted(&message) {
                return message;
            }
            self.backlog.push(message);
        }
    }

    /// Sends `hello` and returns the `welcome` or `error` reply.
    pub async fn hello(
        &mut self,
        identity: Identity,
        authentication: Authentication,
    ) -> Gw3Message {
        let request_id = RequestId::random();
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
        let reply = self
            .expect("the hello reply", |message| {
                message.request_id() == Some(&request_id)
            })
            .await;
        if let Gw3Message::Welcome(Welcome { peer_id, .. }) = &reply {
            self.peer_id = Some(peer_id.clone());
        }
        reply
    }

    /// Logs in with a secret as `user` under `application` and returns the welcome.
    pub async fn login(&mut self, user: &str, application: &str) -> Welcome {
        let mut identity = Identity::new();
        identity.insert("application".into(), Value::String(application.to_owned()));
        identity.insert(
            "instance".into(),
            Value::String(format!("{application}-{}", uuid::Uuid::new_v4().simple())),
        );
        match self
            .hello(identity, Authentication::secret(user, "secret"))
            .await
        {
            Gw3Message::Welcome(welcome) => welcome,
            other => panic!("login as {user} failed: {other:?}"),
        }
    }

    /// Sends `join` for `destination` and returns the request id (the reply is not awaited).
    pub async fn send_join(&mut self, destination: &str) -> RequestId {
        let request_id = RequestId::random();
        self.send(&Gw3Message::Join(Join {
            envelope: Envelope {
                domain: Some(Domain::Global),
                request_id: Some(request_id.clone()),
                peer_id: self.peer_id.clone(),
                ..Envelope::default()
            },
            destination: destination.to_owned(),
            restrictions: None,
            options: None,
        }))
        .await;
        request_id
    }

    /// Joins `agm` and returns everything announced before the join's `success`.
    pub async fn join_agm(&mut self) -> Vec<Gw3Message> {
        let request_id = self.send_join("agm").await;
        let mut before = Vec::new();
        loop {
            let message = self.expect("the join bootstrap", |_| true).await;
            match &message {
                Gw3Message::Success(success)
                    if success.envelope.request_id.as_ref() == Some(&request_id) =>
                {
                    return before;
                }
                Gw3Message::Error(error) if error.request_id.as_ref() == Some(&request_id) => {
                    panic!("join agm failed: {error:?}")
                }
                _ => before.push(message),
            }
        }
    }

    /// Registers `methods` and waits for the `success`.
    pub async fn register(&mut self, methods: Vec<MethodDefinition>) {
        let request_id = RequestId::random();
        self.send(&Gw3Message::Register(Register {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                request_id: Some(request_id.clone()),
                peer_id: self.peer_id.clone(),
                ..Envelope::default()
            },
            methods,
        }))
        .await;
        let reply = self
            .expect("the register reply", |message| {
                message.request_id() == Some(&request_id)
            })
            .await;
        assert!(
            matches!(reply, Gw3Message::Success(_)),
            "register failed: {reply:?}"
        );
    }
}

/// A method definition with the JavaScript clients' string id.
pub fn method(id: &str, name: &str, accepts: &str, returns: &str) -> MethodDefinition {
    MethodDefinition {
        input_signature: Some(accepts.to_owned()),
        result_signature: Some(returns.to_owned()),
        description: Some(format!("{name}, registered by a contract test.")),
        ..MethodDefinition::new(MethodId::new(Value::String(id.to_owned())), name)
    }
}
