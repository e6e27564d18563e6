//! FDC3 user channels and contexts over DACP (`getCurrentChannel`, `getUserChannels`,
//! `joinUserChannel`, `getCurrentContext`, `broadcast`), and `raiseIntentForContext`.
//!
//! The agent keeps our channel membership; the current channel is whatever it says. A
//! `raiseIntentForContextResponse` is either a resolution (then the handler's result follows
//! as `raiseIntentResultResponse`, as for `raiseIntent`) or `appIntents` to choose from, which
//! becomes `ContextAmbiguous` listing each (intent, app) pair.

use async_trait::async_trait;
use serde_json::Value;

use codemode_protocol::fdc3::{
    AppIdentifier, AppIntent, BroadcastRequest, Channel, DacpRequest, GetCurrentChannelRequest,
    GetCurrentContextRequest, GetUserChannelsRequest, IntentResolution, JoinUserChannelRequest,
    RAISE_INTENT_RESULT_RESPONSE, RaiseIntentForContextRequest, ResolveError,
};

use super::{Fdc3Bus, choice, field, gone, refused, reply_outcome};
use crate::{
    channels::{ChannelInfo, Channels, ContextRaise, no_channel, not_joined},
    error::BusError,
    model::IntentResolution as Resolution,
};

fn info(channel: Channel) -> ChannelInfo {
    let display = channel.display_metadata.unwrap_or_default();
    ChannelInfo {
        id: channel.id,
        name: display.name,
        color: display.color,
    }
}

impl Fdc3Bus {
    /// The channel `channel` names, or the current one; an error when there is none.
    async fn channel_id(&self, channel: Option<&str>, request: &str) -> Result<String, BusError> {
        match channel {
            Some(id) => Ok(id.to_owned()),
            None => self
                .current_channel()
                .await?
                .map(|channel| channel.id)
                .ok_or_else(|| not_joined(request)),
        }
    }

    /// `raiseIntentForContext`, then the handler's result.
    pub(super) async fn raise_context(
        &self,
        request: ContextRaise,
    ) -> Result<Resolution, BusError> {
        let context_type = request
            .context
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let label = format!("(intent for {context_type})");
        let not_resolved = |reason: String| BusError::IntentNotResolved {
            intent: label.clone(),
            reason,
        };
        let app = match (&request.target.app, &request.target.instance) {
            (None, None) => None,
            (Some(app), instance) => Some(AppIdentifier {
                app_id: app.clone(),
                instance_id: instance.clone(),
                desktop_agent: None,
            }),
            (None, Some(_)) => {
                return Err(not_resolved(
                    "a target instance needs its app too (app=...)".into(),
                ));
            }
        };
        let raise = RaiseIntentForContextRequest {
            context: request.context,
            app,
        };
        let result_timeout = self.config.result_timeout.max(request.timeout);
        let mut receivers = self
            .send(
                &raise,
                &[
                    (RaiseIntentForContextRequest::RESPONSE, request.timeout),
                    (RAISE_INTENT_RESULT_RESPONSE, result_timeout),
                ],
            )
            .await?;
        let result_receiver = receivers.pop().ok_or_else(gone)?;
        let resolution_receiver = receivers.pop().ok_or_else(gone)?;
        let response = reply_outcome(&label, resolution_receiver.await)?;
        if let Some(reason) = response.error() {
            return Err(not_resolved(reason.to_owned()));
        }
        if response.payload.get("appIntents").is_some() {
            let app_intents: Vec<AppIntent> = field(&response, "appIntents")?;
            let catalogue = crate::Bus::catalogue(self);
            let choices: Vec<(String, crate::IntentHandler)> = app_intents
                .iter()
                .flat_map(|app_intent| {
                    let catalogue = &catalogue;
                    app_intent.apps.iter().map(move |app| {
                        (
                            app_intent.intent.name.clone(),
                            choice(catalogue, &app_intent.intent.name, app),
                        )
                    })
                })
                .collect();
            if choices.is_empty() {
                return Err(not_resolved(ResolveError::NoAppsFound.to_string()));
            }
            return Err(BusError::ContextAmbiguous {
                context_type,
                choices,
            });
        }
        let resolution: IntentResolution = field(&response, "intentResolution")?;
        let intent = resolution.intent.clone();
        self.deliver(intent, resolution, result_receiver).await
    }
}

#[async_trait]
impl Channels for Fdc3Bus {
    async fn current_channel(&self) -> Result<Option<ChannelInfo>, BusError> {
        let reply = self
            .request(
                &GetCurrentChannelRequest {},
                self.message_timeout(),
                refused(GetCurrentChannelRequest::TYPE),
            )
            .await?;
        let channel: Option<Channel> = field(&reply, "channel")?;
        Ok(channel.map(info))
    }

    async fn list_channels(&self) -> Result<Vec<ChannelInfo>, BusError> {
        let reply = self
            .request(
                &GetUserChannelsRequest {},
                self.message_timeout(),
                refused(GetUserChannelsRequest::TYPE),
            )
            .await?;
        let channels: Vec<Channel> = field(&reply, "userChannels")?;
        Ok(channels.into_iter().map(info).collect())
    }

    async fn channel_context(
        &self,
        channel: Option<&str>,
        context_type: Option<&str>,
    ) -> Result<Option<Value>, BusError> {
        let channel_id = self
            .channel_id(channel, GetCurrentContextRequest::TYPE)
            .await?;
        let reply = self
            .request(
                &GetCurrentContextRequest {
                    channel_id: Some(channel_id),
                    context_type: context_type.map(str::to_owned),
                },
                self.message_timeout(),
                refused(GetCurrentContextRequest::TYPE),
            )
            .await?;
        Ok(reply
            .payload
            .get("context")
            .filter(|context| context.is_object())
            .cloned())
    }

    async fn broadcast(&self, context: Value, channel: Option<&str>) -> Result<(), BusError> {
        let channel_id = self.channel_id(channel, BroadcastRequest::TYPE).await?;
        self.request(
            &BroadcastRequest {
                channel_id,
                context,
            },
            self.message_timeout(),
            refused(BroadcastRequest::TYPE),
        )
        .await?;
        Ok(())
    }

    async fn join_channel(&self, channel: &str) -> Result<ChannelInfo, BusError> {
        let channels = self.list_channels().await?;
        let Some(found) = channels
            .iter()
            .find(|known| known.id == channel || known.name.as_deref() == Some(channel))
            .cloned()
        else {
            return Err(no_channel(JoinUserChannelRequest::TYPE, channel, &channels));
        };
        self.request(
            &JoinUserChannelRequest {
                channel_id: found.id.clone(),
            },
            self.message_timeout(),
            refused(JoinUserChannelRequest::TYPE),
        )
        .await?;
        Ok(found)
    }
}
