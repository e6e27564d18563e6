//! io.Connect channels: the shared contexts `___channel___<Name>` of the GW3 context domain,
//! read and written the way `@interopio/desktop`'s channels API does (see
//! `codemode_protocol::gw3::context` for the value's shape and `docs/channels-wire.md` for the
//! frames).
//!
//! [`ContextStore`] folds `context-added`/`-updated`/`-destroyed` and `subscribed-context`
//! (the link task feeds it every such frame, the handshake's too). A channel is subscribed the
//! first time it is read and stays subscribed, so later reads are local and current. Our own
//! updates are applied locally once the gateway confirms them (it does not echo them back).
//! The current channel is this plugin's own membership (`channels.join`), as a window's is.
//!
//! Raising for a context picks the intents whose handlers declare the context's type: one
//! intent is raised as `raise_intent` would; several are `ContextAmbiguous` with the choices.

use std::{collections::HashMap, sync::RwLock, time::Duration};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::oneshot;

use codemode_protocol::{
    PeerId, ProtocolError, RequestId,
    gw3::{
        Domain, Envelope, Gw3Message, SubscribeContext, UpdateContext,
        context::{ContextDelta, broadcast_commands, channel_context, channel_name, fdc3_key},
    },
};

use super::{IoConnectBus, connection::Command, connection::error_text};
use crate::{
    RaiseIntent,
    channels::{ChannelInfo, Channels, ContextRaise, no_channel, not_joined},
    error::BusError,
    model::{IntentHandler, IntentRequest, IntentResolution},
};

/// The shared contexts the gateway announced, with the values of those we subscribed to.
#[derive(Debug, Default)]
pub(crate) struct ContextStore {
    /// Context id → (name, value once subscribed), in announcement order of `order`.
    contexts: HashMap<String, (String, Option<Value>)>,
    /// Context ids in announcement order.
    order: Vec<String>,
}

impl ContextStore {
    /// Forgets everything (a new session gets new ids).
    pub(crate) fn clear(&mut self) {
        self.contexts.clear();
        self.order.clear();
    }

    /// Folds one frame; other messages are ignored.
    pub(crate) fn observe(&mut self, message: &Gw3Message) {
        match message {
            Gw3Message::ContextAdded(added) => {
                if !self.contexts.contains_key(&added.context_id) {
                    self.order.push(added.context_id.clone());
                }
                self.contexts
                    .insert(added.context_id.clone(), (added.name.clone(), None));
            }
            Gw3Message::SubscribedContext(subscribed) => {
                if let Some((_, value)) = self.contexts.get_mut(&subscribed.context_id) {
                    *value = Some(subscribed.data.clone());
                }
            }
            Gw3Message::ContextUpdated(updated) => {
                self.apply(&updated.context_id, &updated.delta);
            }
            Gw3Message::ContextDestroyed(destroyed) => {
                self.contexts.remove(&destroyed.context_id);
                self.order.retain(|id| *id != destroyed.context_id);
            }
            _ => {}
        }
    }

    /// Applies a delta to a subscribed context's value.
    fn apply(&mut self, context_id: &str, delta: &ContextDelta) {
        if let Some((_, Some(value))) = self.contexts.get_mut(context_id) {
            delta.apply(value);
        }
    }

    /// (channel name, context id, value if subscribed) of every channel, in order.
    fn channels(&self) -> Vec<(String, String, Option<Value>)> {
        self.order
            .iter()
            .filter_map(|id| {
                let (name, value) = self.contexts.get(id)?;
                Some((channel_name(name)?.to_owned(), id.clone(), value.clone()))
            })
            .collect()
    }
}

fn channel_info(name: &str, value: Option<&Value>) -> ChannelInfo {
    let meta = value.and_then(|value| value.get("meta"));
    ChannelInfo {
        id: name.to_owned(),
        name: Some(name.to_owned()),
        color: meta
            .and_then(|meta| meta.get("color"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

impl IoConnectBus {
    fn store(&self) -> &RwLock<ContextStore> {
        &self.shared.contexts
    }

    /// Sends a context-domain request built with our request and peer ids; its reply.
    async fn context_request(
        &self,
        what: &str,
        build: impl FnOnce(Envelope) -> Gw3Message + Send + 'static,
    ) -> Result<Gw3Message, BusError> {
        let (responder, reply) = oneshot::channel();
        let gone = || BusError::Disconnected {
            reason: Some("the bus connection is closed".into()),
        };
        let command = Command::Request {
            build: Box::new(move |request_id: RequestId, peer_id: PeerId| {
                build(Envelope {
                    domain: Some(Domain::Global),
                    request_id: Some(request_id),
                    peer_id: Some(peer_id),
                    ..Envelope::default()
                })
            }),
            timeout: self.config.call_timeout,
            responder,
        };
        self.link.send(command).await.map_err(|_| gone())?;
        match reply.await.map_err(|_| gone())? {
            Ok(Gw3Message::Error(error)) => Err(BusError::Refused {
                request: what.to_owned(),
                reason: error_text(&error),
            }),
            Ok(message) => Ok(message),
            Err(ProtocolError::Timeout { after }) => Err(BusError::Timeout {
                method: what.to_owned(),
                after,
            }),
            Err(ProtocolError::Closed { reason }) => Err(BusError::Disconnected { reason }),
            Err(other) => Err(BusError::Protocol(other)),
        }
    }

    /// The channel's context id and value, subscribing to it the first time.
    async fn channel_value(&self, name: &str, what: &str) -> Result<(String, Value), BusError> {
        let channels = self
            .store()
            .read()
            .map(|store| store.channels())
            .unwrap_or_default();
        let Some((_, context_id, value)) = channels.iter().find(|(n, ..)| n == name).cloned()
        else {
            let known: Vec<ChannelInfo> = channels
                .iter()
                .map(|(n, _, v)| channel_info(n, v.as_ref()))
                .collect();
            return Err(no_channel(what, name, &known));
        };
        if let Some(value) = value {
            return Ok((context_id, value));
        }
        let id = context_id.clone();
        let reply = self
            .context_request("subscribe-context", move |envelope| {
                Gw3Message::SubscribeContext(SubscribeContext {
                    envelope,
                    context_id: id,
                })
            })
            .await?;
        match reply {
            Gw3Message::SubscribedContext(subscribed) => Ok((context_id, subscribed.data)),
            other => Err(BusError::Refused {
                request: "subscribe-context".into(),
                reason: format!("unexpected `{}` reply", other.message_type()),
            }),
        }
    }

    /// The channel `channel` names, or the current one.
    fn channel_or_current(&self, channel: Option<&str>, what: &str) -> Result<String, BusError> {
        match channel {
            Some(name) => Ok(name.to_owned()),
            None => self.current_name().ok_or_else(|| not_joined(what)),
        }
    }

    fn current_name(&self) -> Option<String> {
        self.channel.lock().ok().and_then(|current| current.clone())
    }
}

#[async_trait]
impl Channels for IoConnectBus {
    async fn current_channel(&self) -> Result<Option<ChannelInfo>, BusError> {
        let Some(name) = self.current_name() else {
            return Ok(None);
        };
        let (_, value) = self.channel_value(&name, "current channel").await?;
        Ok(Some(channel_info(&name, Some(&value))))
    }

    async fn list_channels(&self) -> Result<Vec<ChannelInfo>, BusError> {
        let names: Vec<String> = self
            .store()
            .read()
            .map(|store| store.channels())
            .unwrap_or_default()
            .into_iter()
            .map(|(name, ..)| name)
            .collect();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let (_, value) = self.channel_value(&name, "list channels").await?;
            out.push(channel_info(&name, Some(&value)));
        }
        Ok(out)
    }

    async fn channel_context(
        &self,
        channel: Option<&str>,
        context_type: Option<&str>,
    ) -> Result<Option<Value>, BusError> {
        let name = self.channel_or_current(channel, "get context")?;
        let (_, value) = self.channel_value(&name, "get context").await?;
        Ok(channel_context(&value, context_type))
    }

    async fn broadcast(&self, context: Value, channel: Option<&str>) -> Result<(), BusError> {
        let name = self.channel_or_current(channel, "broadcast")?;
        let Some(commands) = broadcast_commands(&context) else {
            return Err(BusError::Refused {
                request: "broadcast".into(),
                reason: "MalformedContext: the context must be a dict with a string \"type\""
                    .into(),
            });
        };
        let (context_id, _) = self.channel_value(&name, "broadcast").await?;
        let delta = ContextDelta {
            commands: Some(commands),
            ..ContextDelta::default()
        };
        let id = context_id.clone();
        let sent = delta.clone();
        self.context_request("update-context", move |envelope| {
            Gw3Message::UpdateContext(UpdateContext {
                envelope,
                context_id: id,
                delta: sent,
            })
        })
        .await?;
        // The gateway does not echo our own update: apply it to our copy.
        if let Ok(mut store) = self.store().write() {
            store.apply(&context_id, &delta);
        }
        let key = fdc3_key(context.get("type").and_then(Value::as_str).unwrap_or(""));
        tracing::debug!(channel = %name, %key, "broadcast a context");
        Ok(())
    }

    async fn join_channel(&self, channel: &str) -> Result<ChannelInfo, BusError> {
        let (_, value) = self.channel_value(channel, "join channel").await?;
        if let Ok(mut current) = self.channel.lock() {
            *current = Some(channel.to_owned());
        }
        Ok(channel_info(channel, Some(&value)))
    }
}

/// Raises whatever intent handles `request.context` on io.Connect.
pub(super) async fn raise_for_context(
    bus: &IoConnectBus,
    request: ContextRaise,
) -> Result<IntentResolution, BusError> {
    let context_type = request
        .context
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let intents = bus.shared.intents();
    let mut choices: Vec<(String, IntentHandler)> = Vec::new();
    for intent in &intents.intents {
        for handler in &intent.handlers {
            let type_ok = handler.context_types.contains(&context_type);
            let app_ok = request
                .target
                .app
                .as_ref()
                .is_none_or(|app| handler.application.eq_ignore_ascii_case(app));
            let instance_ok = request
                .target
                .instance
                .as_ref()
                .is_none_or(|id| handler.instance.as_deref() == Some(id.as_str()));
            if type_ok && app_ok && instance_ok {
                choices.push((intent.name.clone(), handler.clone()));
            }
        }
    }
    let mut names: Vec<&str> = choices.iter().map(|(name, _)| name.as_str()).collect();
    names.dedup();
    match names.as_slice() {
        [] => Err(BusError::IntentNotResolved {
            intent: format!("(intent for {context_type})"),
            reason: "NoAppsFound".into(),
        }),
        [intent] => {
            let intent = (*intent).to_owned();
            bus.raise_intent(IntentRequest {
                intent,
                context: request.context,
                target: request.target,
                timeout: request.timeout.max(Duration::from_millis(1)),
            })
            .await
        }
        _ => Err(BusError::ContextAmbiguous {
            context_type,
            choices,
        }),
    }
}
