//! The shared contexts of GW3 (the `context` domain, version 2) and the channels io.Connect
//! keeps in them.
//!
//! The gateway joins every peer to the context domain at `welcome` and announces each context
//! that exists (`context-added`, `creator_id` null for ones made before); a peer subscribes to
//! read one (`subscribed-context` carries the whole value) and then hears every change
//! (`context-updated` with a delta). Although the domain is `context`, the gateway and the
//! `@interopio/*` clients send these messages with `"domain": "global"`; see
//! `docs/channels-wire.md` for frames captured from the real gateway.
//!
//! An io.Connect **channel** is the context named `___channel___<Name>` holding
//! `{name, meta: {color, …}, data: {…}, latest_fdc3_type}`. An FDC3 context of type `T` is kept
//! under `data["fdc3_" + T with "." written as "&"]` without its `type` key, and
//! `latest_fdc3_type` names the encoded type last broadcast. [`channel_context`] and
//! [`broadcast_commands`] convert between that and plain FDC3 contexts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Envelope;
use crate::ids::PeerId;

/// The name prefix of the contexts that are io.Connect channels.
pub const CHANNEL_PREFIX: &str = "___channel___";
/// The key naming the FDC3 type last broadcast on a channel (encoded, see [`fdc3_key`]).
pub const LATEST_FDC3_TYPE: &str = "latest_fdc3_type";

/// `create-context`: make a shared context (the creator is subscribed to it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateContext {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Its name, unique on the gateway.
    pub name: String,
    /// Its first value.
    #[serde(default)]
    pub data: Value,
    /// `retained` (outlives its creator), `ownership`, `ref-counted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<String>,
}

/// `context-created`: the reply to `create-context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextCreated {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The gateway's id of the new context.
    pub context_id: String,
}

/// `context-added`: a context exists (sent after `welcome` for every context, and to every
/// peer when one is created).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextAdded {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Who created it (`null` in the announcements after `welcome`).
    #[serde(default)]
    pub creator_id: Option<PeerId>,
    /// The gateway's id of the context.
    pub context_id: String,
    /// Its name.
    pub name: String,
}

/// `subscribe-context`: read a context and hear its changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribeContext {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The context.
    pub context_id: String,
}

/// `subscribed-context`: the reply to `subscribe-context`, with the whole value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribedContext {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The context.
    pub context_id: String,
    /// Its value now.
    #[serde(default)]
    pub data: Value,
}

/// `unsubscribe-context`: stop hearing a context's changes (replied with `success`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsubscribeContext {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The context.
    pub context_id: String,
}

/// `update-context`: change a context (replied with `success`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateContext {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The context.
    pub context_id: String,
    /// The change.
    pub delta: ContextDelta,
}

/// `context-updated`: a context changed (to its subscribers other than the updater).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextUpdated {
    /// Domain, request id, peer id (the recipient).
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Who changed it.
    #[serde(default)]
    pub updater_id: Option<PeerId>,
    /// The context.
    pub context_id: String,
    /// The change.
    pub delta: ContextDelta,
}

/// `context-destroyed`: a context is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextDestroyed {
    /// Domain, request id, peer id.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The context.
    pub context_id: String,
}

/// A change to a context: path commands (what current clients send), or the older top-level
/// `added`/`updated`/`removed`/`reset` form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextDelta {
    /// `set`/`remove` commands on dotted paths, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<ContextCommand>>,
    /// The whole new value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<Map<String, Value>>,
    /// Top-level keys added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<Map<String, Value>>,
    /// Top-level keys changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Map<String, Value>>,
    /// Top-level keys removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Vec<String>>,
}

/// One path command of a [`ContextDelta`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextCommand {
    /// `set` or `remove`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A dotted path from the context's root, e.g. `data.fdc3_fdc3&instrument`.
    pub path: String,
    /// The value for `set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl ContextDelta {
    /// Applies the change to `value` (made an object first if it is not one). Unknown command
    /// kinds are skipped; nothing here can fail or panic on hostile input.
    pub fn apply(&self, value: &mut Value) {
        if !value.is_object() {
            *value = Value::Object(Map::new());
        }
        let Value::Object(root) = value else {
            return;
        };
        if let Some(reset) = &self.reset {
            root.clone_from(reset);
        }
        for (key, item) in self.added.iter().chain(self.updated.iter()).flatten() {
            root.insert(key.clone(), item.clone());
        }
        for key in self.removed.iter().flatten() {
            root.remove(key);
        }
        for command in self.commands.iter().flatten() {
            let segments: Vec<&str> = command.path.split('.').collect();
            match command.kind.as_str() {
                "set" => set_path(
                    root,
                    &segments,
                    command.value.clone().unwrap_or(Value::Null),
                ),
                "remove" => remove_path(root, &segments),
                _ => {}
            }
        }
    }
}

fn set_path(object: &mut Map<String, Value>, segments: &[&str], value: Value) {
    match segments {
        [] => {}
        [last] => {
            object.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let child = object
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(child) = child {
                set_path(child, rest, value);
            }
        }
    }
}

fn remove_path(object: &mut Map<String, Value>, segments: &[&str]) {
    match segments {
        [] => {}
        [last] => {
            object.remove(*last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(child)) = object.get_mut(*first) {
                remove_path(child, rest);
            }
        }
    }
}

/// The channel name of a context name (`___channel___Red` → `Red`).
pub fn channel_name(context_name: &str) -> Option<&str> {
    context_name
        .strip_prefix(CHANNEL_PREFIX)
        .filter(|name| !name.is_empty())
}

/// The key an FDC3 context of `context_type` is kept under in a channel's `data`
/// (`fdc3.instrument` → `fdc3_fdc3&instrument`).
pub fn fdc3_key(context_type: &str) -> String {
    format!("fdc3_{}", context_type.replace('.', "&"))
}

/// The FDC3 context a channel's value holds: of `context_type` when given, else the type last
/// broadcast (`latest_fdc3_type`). `None` when the channel holds no such context.
pub fn channel_context(channel: &Value, context_type: Option<&str>) -> Option<Value> {
    let data = channel.get("data")?.as_object()?;
    let encoded = match context_type {
        Some(wanted) => wanted.replace('.', "&"),
        None => channel.get(LATEST_FDC3_TYPE)?.as_str()?.to_owned(),
    };
    let stored = data.get(&format!("fdc3_{encoded}"))?;
    let mut context = Map::new();
    context.insert("type".into(), Value::String(encoded.replace('&', ".")));
    if let Value::Object(fields) = stored {
        for (key, item) in fields {
            if key != "type" {
                context.insert(key.clone(), item.clone());
            }
        }
    }
    Some(Value::Object(context))
}

/// The `update-context` commands that broadcast an FDC3 `context` on a channel, as
/// `@interopio/desktop`'s `channels.publish(context, {fdc3: true})` writes them. `None` when
/// `context` has no string `type`.
pub fn broadcast_commands(context: &Value) -> Option<Vec<ContextCommand>> {
    let object = context.as_object()?;
    let context_type = object.get("type")?.as_str()?;
    let mut rest = object.clone();
    rest.remove("type");
    let key = fdc3_key(context_type);
    let encoded = key.trim_start_matches("fdc3_").to_owned();
    Some(vec![
        ContextCommand {
            kind: "set".into(),
            path: format!("data.{key}"),
            value: Some(Value::Object(rest)),
        },
        ContextCommand {
            kind: "set".into(),
            path: LATEST_FDC3_TYPE.into(),
            value: Some(Value::String(encoded)),
        },
    ])
}
