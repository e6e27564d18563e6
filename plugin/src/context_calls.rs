//! The context API's calls from a snippet (`channels.*`, `intents.raise_for_context`) on the
//! bus's [`Channels`](codemode_adapters::Channels) and intent capabilities, plus
//! [`current_context`], what the assistant may read without a snippet.

use std::time::Duration;

use codemode_adapters::{Bus, ChannelInfo, ContextRaise, IntentTarget};
use serde_json::{Map, Value, json};

use crate::{
    bridge::host_call_error,
    catalogue::ContextOp,
    sandbox::{HostCallError, HostErrorKind},
};

fn text(arguments: &Map<String, Value>, name: &str) -> Result<Option<String>, HostCallError> {
    match arguments.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(HostCallError::new(
            HostErrorKind::InvalidArguments,
            format!("{name} must be a string, not {other}"),
        )),
    }
}

fn context(arguments: &mut Map<String, Value>, function: &str) -> Result<Value, HostCallError> {
    let context = arguments.remove("context").unwrap_or(Value::Null);
    if context.get("type").is_some_and(Value::is_string) {
        Ok(context)
    } else {
        Err(HostCallError::new(
            HostErrorKind::InvalidArguments,
            format!(
                "{function}() needs an FDC3 context: a dict with a \"type\" key, e.g. {{\"type\": \"fdc3.instrument\", \"id\": {{\"ticker\": \"AAPL\"}}}}"
            ),
        ))
    }
}

fn channel_value(channel: ChannelInfo) -> Value {
    let ChannelInfo { id, name, color } = channel;
    json!({"id": id, "name": name, "color": color})
}

/// Performs one context-API call.
pub(crate) async fn perform(
    bus: &dyn Bus,
    op: ContextOp,
    mut arguments: Map<String, Value>,
    timeout: Duration,
) -> Result<Value, HostCallError> {
    if op == ContextOp::RaiseForContext {
        let context = context(&mut arguments, "raise_for_context")?;
        let target = IntentTarget {
            app: text(&arguments, "app")?,
            instance: None,
        };
        let resolution = bus
            .raise_for_context(ContextRaise {
                context,
                target,
                timeout,
            })
            .await
            .map_err(host_call_error)?;
        return Ok(resolution.result);
    }
    let channels = bus.channels_or_error().map_err(host_call_error)?;
    let outcome = match op {
        ContextOp::CurrentChannel => channels
            .current_channel()
            .await
            .map(|channel| channel.map_or(Value::Null, channel_value)),
        ContextOp::ListChannels => channels
            .list_channels()
            .await
            .map(|list| Value::Array(list.into_iter().map(channel_value).collect())),
        ContextOp::GetContext => {
            let channel = text(&arguments, "channel")?;
            let context_type = text(&arguments, "context_type")?;
            channels
                .channel_context(channel.as_deref(), context_type.as_deref())
                .await
                .map(|context| context.unwrap_or(Value::Null))
        }
        ContextOp::Broadcast => {
            let context = context(&mut arguments, "broadcast")?;
            let channel = text(&arguments, "channel")?;
            channels
                .broadcast(context, channel.as_deref())
                .await
                .map(|()| Value::Null)
        }
        ContextOp::JoinChannel => {
            let Some(channel) = text(&arguments, "channel")? else {
                return Err(HostCallError::new(
                    HostErrorKind::InvalidArguments,
                    "join() needs the channel id as a string",
                ));
            };
            channels.join_channel(&channel).await.map(channel_value)
        }
        ContextOp::RaiseForContext => return Ok(Value::Null),
    };
    outcome.map_err(host_call_error)
}

/// What the user is looking at, for the assistant without a snippet: the current channel and
/// the context last broadcast on it, `{"channel": …, "context": …}`. When codemode has joined no
/// channel, every channel that holds a context instead: `{"channel": null, "channels":
/// [{"channel": …, "context": …}]}`. Kept small on purpose: a later policy (PII tokenization)
/// wraps this one call.
pub async fn current_context(bus: &dyn Bus) -> Result<Value, codemode_adapters::BusError> {
    let channels = bus.channels_or_error()?;
    if let Some(channel) = channels.current_channel().await? {
        let context = channels.channel_context(Some(&channel.id), None).await?;
        return Ok(json!({"channel": channel_value(channel), "context": context}));
    }
    let mut holding = Vec::new();
    for channel in channels.list_channels().await? {
        if let Some(context) = channels.channel_context(Some(&channel.id), None).await? {
            holding.push(json!({"channel": channel_value(channel), "context": context}));
        }
    }
    Ok(json!({"channel": null, "channels": holding}))
}
