//! The `global` domain of the gateway: `hello` with its authentication, access and gateway
//! tokens, and `join`/`leave`, as another `impl Gateway` block.

use std::time::Instant;

use serde_json::{Value, json};

use codemode_protocol::{
    PeerId,
    gw3::{
        self, CreateToken, Domain, Envelope, Gw3Message, Hello, Identity, Join, Leave, Token,
        Welcome, reasons,
    },
};

use super::{
    ACCESS_TOKEN_PRUNE_AT, AuthPolicy, ConnId, Gateway, Grant, Peer, Principal, Route,
    available_domains, error_message, known_domain, success,
};

impl Gateway {
    pub(super) fn hello(&mut self, conn: ConnId, hello: Hello) {
        let envelope = Route {
            domain: Some("global".into()),
            request_id: hello.envelope.request_id.clone(),
            peer_id: None,
        };
        let principal = match self.authenticate(hello.authentication.as_ref()) {
            Ok(principal) => principal,
            Err(reason) => {
                tracing::info!(conn, %reason, "authentication failed");
                self.reply_error(
                    conn,
                    &envelope,
                    None,
                    reasons::AUTHENTICATION_FAILURE,
                    reason,
                );
                return;
            }
        };
        // The real gateway's welcome carries an access token except after a gateway-token
        // login.
        let by_gateway_token = hello
            .authentication
            .as_ref()
            .and_then(|authentication| authentication.method.as_deref())
            == Some("gateway-token");
        match self.admit(conn, hello.identity, principal.clone()) {
            Ok((peer_id, identity)) => {
                let options = (!by_gateway_token)
                    .then(|| json!({ "access_token": self.mint_access_token(principal) }));
                self.push(
                    conn,
                    Gw3Message::Welcome(Welcome {
                        domain: Some(Domain::Global),
                        request_id: hello.envelope.request_id,
                        peer_id: peer_id.clone(),
                        available_domains: Some(available_domains()),
                        resolved_identity: identity,
                        options,
                    }),
                );
                // Like the real gateway: every context that exists, right after the welcome.
                self.announce_contexts(conn, &peer_id);
                tracing::debug!(conn, %peer_id, "peer logged in");
            }
            Err((uri, reason)) => self.reply_error(conn, &envelope, None, uri, reason),
        }
    }

    pub(super) fn authenticate(
        &mut self,
        authentication: Option<&gw3::Authentication>,
    ) -> Result<Principal, String> {
        let Some(authentication) = authentication else {
            return Err("Missing login/secret".into());
        };
        if let Some(provider) = &authentication.provider {
            return Err(format!(
                "Requested authentication provider {provider} is not available"
            ));
        }
        let now = Instant::now();
        match authentication.method.as_deref().unwrap_or("secret") {
            "secret" => {
                let login = authentication.login.as_deref().unwrap_or("");
                let secret = authentication.secret.as_deref().unwrap_or("");
                if login.is_empty() || secret.is_empty() {
                    return Err("Missing login/secret".into());
                }
                if let AuthPolicy::Fixed(users) = &self.auth
                    && users.get(login).map(String::as_str) != Some(secret)
                {
                    return Err(format!("Invalid login/secret for user {login}"));
                }
                Ok(Principal {
                    user: Some(login.to_owned()),
                    login: Some(login.to_owned()),
                    service: false,
                })
            }
            "access-token" => {
                let token = authentication.token.as_deref().unwrap_or("");
                match self.tokens.get(token) {
                    Some(Grant::Access { principal, expires }) if *expires > now => {
                        Ok(principal.clone())
                    }
                    _ => Err("Invalid or expired token: invalid token".into()),
                }
            }
            "gateway-token" => {
                let token = authentication.token.as_deref().unwrap_or("");
                // Like the real gateway, a gateway token logs in as often as needed until it
                // expires (the docs call it one-shot; gateway-web does not enforce that).
                match self.tokens.get(token) {
                    Some(Grant::Gateway { principal, expires }) if *expires > now => {
                        Ok(principal.clone())
                    }
                    Some(Grant::Access { .. }) => Err("Invalid gateway token".into()),
                    _ => Err("Invalid or expired gateway token".into()),
                }
            }
            other => Err(format!("Unsupported authentication method {other}")),
        }
    }

    /// Resolves the identity and creates the peer; `Err((reason_uri, reason))` on refusal.
    pub(super) fn admit(
        &mut self,
        conn: ConnId,
        requested: Identity,
        principal: Principal,
    ) -> Result<(PeerId, Identity), (&'static str, String)> {
        let machine = self
            .connections
            .get(&conn)
            .map(|connection| connection.machine.clone())
            .unwrap_or_default();
        let mut identity = Identity::new();
        identity.insert("machine".into(), Value::String(machine));
        identity.extend(requested);
        if let Some(user) = &principal.user {
            identity.insert("user".into(), Value::String(user.clone()));
        }
        if let Some(login) = &principal.login {
            identity.insert("login".into(), Value::String(login.clone()));
        }
        if identity.get("instance").is_none_or(Value::is_null) {
            self.next_instance += 1;
            identity.insert(
                "instance".into(),
                Value::String(format!("i-{}-{}", self.node, self.next_instance)),
            );
        }
        let instance_key = identity
            .get("instance")
            .map(Value::to_string)
            .unwrap_or_default();
        let duplicate = self.by_instance.get(&instance_key).is_some_and(|peers| {
            peers.iter().any(|peer| {
                self.peers
                    .get(peer)
                    .is_some_and(|peer| peer.identity == identity)
            })
        });
        if duplicate {
            return Err((reasons::ALREADY_SEEN, "Hello already received once".into()));
        }
        self.next_peer += 1;
        let peer_id = PeerId::new(format!("p-{}-{}", self.node, self.next_peer));
        for value in identity.values_mut() {
            if value.as_str() == Some("?") {
                *value = Value::String(peer_id.to_string());
            }
        }
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.peers.push(peer_id.clone());
        }
        self.by_instance
            .entry(
                identity
                    .get("instance")
                    .map(Value::to_string)
                    .unwrap_or_default(),
            )
            .or_default()
            .push(peer_id.clone());
        self.peers.insert(
            peer_id.clone(),
            Peer {
                conn,
                identity: identity.clone(),
                principal,
                agm: None,
                methods: Vec::new(),
            },
        );
        Ok((peer_id, identity))
    }

    pub(super) fn mint_access_token(&mut self, principal: Principal) -> String {
        let now = Instant::now();
        if self.tokens.len() >= ACCESS_TOKEN_PRUNE_AT {
            self.tokens.retain(|_, grant| match grant {
                Grant::Access { expires, .. } | Grant::Gateway { expires, .. } => *expires > now,
            });
        }
        let token = format!("at-{}", uuid::Uuid::new_v4().simple());
        self.tokens.insert(
            token.clone(),
            Grant::Access {
                principal,
                expires: now + self.token_ttl.saturating_mul(6),
            },
        );
        token
    }

    pub(super) fn create_token(&mut self, conn: ConnId, peer: &PeerId, request: CreateToken) {
        let Some(principal) = self.peers.get(peer).map(|peer| peer.principal.clone()) else {
            return;
        };
        let token = format!("gwt-{}", uuid::Uuid::new_v4().simple());
        self.tokens.insert(
            token.clone(),
            Grant::Gateway {
                principal,
                expires: Instant::now() + self.token_ttl,
            },
        );
        self.push(
            conn,
            Gw3Message::Token(Token {
                envelope: Envelope {
                    domain: Some(Domain::Global),
                    request_id: request.envelope.request_id,
                    peer_id: Some(peer.clone()),
                    ..Envelope::default()
                },
                token,
            }),
        );
    }

    pub(super) fn join(&mut self, conn: ConnId, peer: &PeerId, join: Join) {
        match join.destination.as_str() {
            "agm" => {
                if join.restrictions.is_some() {
                    tracing::debug!(%peer, "join restrictions are not supported; ignored");
                }
                self.agm_join(conn, peer, join.envelope.request_id);
            }
            other => match known_domain(other) {
                Some(domain) => self.push(conn, success(domain, join.envelope.request_id, peer)),
                None => self.push(
                    conn,
                    error_message(
                        Domain::Global,
                        join.envelope.request_id,
                        Some(peer.clone()),
                        reasons::INVALID_DOMAIN,
                        format!("Unable to join missing domain {other}"),
                    ),
                ),
            },
        }
    }

    pub(super) fn leave(&mut self, conn: ConnId, peer: &PeerId, leave: Leave) {
        match leave.destination.as_str() {
            "agm" => {
                self.remove_from_agm(peer);
                self.push(conn, success(Domain::Agm, leave.envelope.request_id, peer));
            }
            other => match known_domain(other) {
                Some(domain) => self.push(conn, success(domain, leave.envelope.request_id, peer)),
                None => self.push(
                    conn,
                    error_message(
                        Domain::Global,
                        leave.envelope.request_id,
                        Some(peer.clone()),
                        reasons::INVALID_DOMAIN,
                        format!("Unable to leave missing domain {other}"),
                    ),
                ),
            },
        }
    }
}
