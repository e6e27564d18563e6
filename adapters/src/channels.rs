//! What the user is looking at: user channels and the FDC3 contexts on them, in both dialects
//! through one capability, [`Channels`]. io.Connect keeps channels as shared contexts of the
//! gateway (`___channel___<Name>`); FDC3 agents answer DACP's channel requests. "Current" is
//! this plugin's own membership, as an app's is in either dialect: it starts on no channel
//! (or the configured one) and moves with [`Channels::join`].
//!
//! Each operation says whether it reads or writes ([`ChannelOp::is_write`]): joining and
//! broadcasting change what other apps see, the rest only read.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use crate::{
    bus::Bus,
    error::BusError,
    model::{IntentResolution, IntentTarget},
};

/// One user channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelInfo {
    /// Its id (io.Connect: the channel name, e.g. `Red`; FDC3: e.g. `fdc3.channel.1`).
    pub id: String,
    /// Its name for people.
    pub name: Option<String>,
    /// Its colour.
    pub color: Option<String>,
}

/// The channel operations, for logs and for policy: which of them change what others see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelOp {
    /// `channels.current()`.
    Current,
    /// `channels.list()`.
    List,
    /// `channels.get_context(...)`.
    GetContext,
    /// `channels.broadcast(...)`.
    Broadcast,
    /// `channels.join(...)`.
    Join,
}

impl ChannelOp {
    /// True for the operations that change what other apps see (join, broadcast).
    pub fn is_write(self) -> bool {
        matches!(self, Self::Broadcast | Self::Join)
    }
}

/// A request to raise whatever intent handles a context.
#[derive(Debug, Clone)]
pub struct ContextRaise {
    /// The FDC3 context (an object with a `type`).
    pub context: Value,
    /// Which handler, if not the default choice.
    pub target: IntentTarget,
    /// How long the handler (and a start on demand) may take.
    pub timeout: Duration,
}

/// User channels and their contexts.
#[async_trait]
pub trait Channels: Send + Sync {
    /// The channel this plugin is on, if any.
    async fn current_channel(&self) -> Result<Option<ChannelInfo>, BusError>;

    /// Every user channel.
    async fn list_channels(&self) -> Result<Vec<ChannelInfo>, BusError>;

    /// The context on `channel` (default: the current one) of `context_type` (default: the last
    /// broadcast of any type); `None` when there is none.
    async fn channel_context(
        &self,
        channel: Option<&str>,
        context_type: Option<&str>,
    ) -> Result<Option<Value>, BusError>;

    /// Broadcasts `context` on `channel` (default: the current one).
    async fn broadcast(&self, context: Value, channel: Option<&str>) -> Result<(), BusError>;

    /// Joins `channel`; returns it.
    async fn join_channel(&self, channel: &str) -> Result<ChannelInfo, BusError>;
}

/// The error of a channel operation that needs a current channel when there is none.
pub(crate) fn not_joined(request: &str) -> BusError {
    BusError::Refused {
        request: request.to_owned(),
        reason: "not joined to any channel: pass channel= or call channels.join(...) first".into(),
    }
}

/// The error of an unknown channel.
pub(crate) fn no_channel(request: &str, channel: &str, known: &[ChannelInfo]) -> BusError {
    let names: Vec<&str> = known.iter().map(|c| c.id.as_str()).collect();
    BusError::Refused {
        request: request.to_owned(),
        reason: format!(
            "NoChannelFound: no channel `{channel}`; the channels are: {}",
            names.join(", ")
        ),
    }
}

/// The capabilities through any bus, a missing one as `Unsupported`.
impl dyn Bus {
    /// The bus's [`Channels`], or `Unsupported`.
    pub fn channels_or_error(&self) -> Result<&dyn Channels, BusError> {
        self.channels().ok_or_else(|| BusError::Unsupported {
            operation: "channels".into(),
            dialect: self.display_name().to_owned(),
        })
    }

    /// [`crate::RaiseIntent::raise_for_context`], or `IntentNotResolved` without intents.
    pub async fn raise_for_context(
        &self,
        request: ContextRaise,
    ) -> Result<IntentResolution, BusError> {
        match self.intent_raiser() {
            Some(raiser) => raiser.raise_for_context(request).await,
            None => Err(BusError::IntentNotResolved {
                intent: "(any intent)".into(),
                reason: format!("{} has no intents", self.display_name()),
            }),
        }
    }
}
