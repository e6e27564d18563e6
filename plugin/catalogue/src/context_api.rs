//! The context API as Python functions, the same in every dialect: `channels.current()`,
//! `channels.list()`, `channels.get_context(channel=None, context_type=None)`,
//! `channels.broadcast(context, channel=None)`, `channels.join(channel)` and
//! `intents.raise_for_context(context, app=None)`. Contexts are the FDC3 context TypedDicts
//! (`Context` and its subtypes from the official schemas); channels are `ChannelInfo`.

use super::{
    callmap::ContextOp,
    function::{Arg, Function, Kind},
    types::PyType,
};

/// The namespace of the channel functions.
pub(crate) const CHANNELS: &str = "channels";

fn arg(name: &str, ty: PyType, required: bool, description: &str) -> Arg {
    Arg {
        python: name.to_owned(),
        wire: name.to_owned(),
        ty,
        required,
        description: Some(description.to_owned()),
        raw: String::new(),
    }
}

fn optional(ty: PyType) -> PyType {
    PyType::Union(vec![ty, PyType::Named("None")])
}

/// The function of `op`.
pub(crate) fn function(op: ContextOp) -> Function {
    let context = || PyType::Named("Context");
    let channel = || PyType::Named("ChannelInfo");
    let (args, returns, doc): (Vec<Arg>, PyType, &str) = match op {
        ContextOp::CurrentChannel => (
            Vec::new(),
            optional(channel()),
            "The user channel this assistant is on (joined with channels.join), or None.",
        ),
        ContextOp::ListChannels => (
            Vec::new(),
            PyType::List(Box::new(channel())),
            "Every user channel with its name and colour, such as Red, Green or fdc3.channel.1.",
        ),
        ContextOp::GetContext => (
            vec![
                arg(
                    "channel",
                    PyType::Str,
                    false,
                    "a channel id from channels.list(); default: the current channel",
                ),
                arg(
                    "context_type",
                    PyType::Str,
                    false,
                    "only a context of this type, e.g. \"fdc3.instrument\"; default: the last one broadcast",
                ),
            ],
            optional(context()),
            "What the user is looking at: the FDC3 context last broadcast on a channel, such as the instrument or contact an app put there; None if there is none.",
        ),
        ContextOp::Broadcast => (
            vec![
                arg(
                    "context",
                    context(),
                    true,
                    "an FDC3 context: a dict with a \"type\" key",
                ),
                arg(
                    "channel",
                    PyType::Str,
                    false,
                    "a channel id; default: the current channel",
                ),
            ],
            PyType::Named("None"),
            "Puts a context on a channel: every app listening there receives it (a write).",
        ),
        ContextOp::JoinChannel => (
            vec![arg(
                "channel",
                PyType::Str,
                true,
                "a channel id (or name) from channels.list()",
            )],
            channel(),
            "Joins a user channel: it becomes the current channel for get_context and broadcast (a write).",
        ),
        ContextOp::RaiseForContext => (
            vec![
                arg(
                    "context",
                    context(),
                    true,
                    "an FDC3 context: a dict with a \"type\" key",
                ),
                arg(
                    "app",
                    PyType::Str,
                    false,
                    "only handlers of this application",
                ),
            ],
            PyType::Any,
            "Raises whatever intent handles this context and returns the handler's result.",
        ),
    };
    let qualified = op.python_name();
    let namespace = qualified.split('.').next().unwrap_or(CHANNELS).to_owned();
    Function {
        kind: Kind::Context(op),
        namespace,
        candidate: qualified.to_owned(),
        priority: qualified.into(),
        args,
        var_kwargs: false,
        returns,
        description: Some(doc.to_owned()),
        display_name: None,
        loose_accepts: None,
        loose_returns: None,
        apps: Vec::new(),
        object_types: Vec::new(),
        structs: Vec::new(),
    }
}

/// A one-line example call.
pub(crate) fn example(op: ContextOp, instrument: &str) -> String {
    match op {
        ContextOp::CurrentChannel => "channel = channels.current()".to_owned(),
        ContextOp::ListChannels => "names = [c[\"id\"] for c in channels.list()]".to_owned(),
        ContextOp::GetContext => {
            "context = channels.get_context(context_type=\"fdc3.instrument\")".to_owned()
        }
        ContextOp::Broadcast => format!("channels.broadcast({instrument})"),
        ContextOp::JoinChannel => "channels.join(\"Red\")  # an id from channels.list()".to_owned(),
        ContextOp::RaiseForContext => format!("result = intents.raise_for_context({instrument})"),
    }
}

/// The `Raises:` line.
pub(crate) fn raises(op: ContextOp) -> &'static str {
    match op {
        ContextOp::RaiseForContext => {
            "Raises: IntentNotResolvedError (no handler, or several: its context lists the choices), InvocationFailedError (the handler failed), BusTimeoutError."
        }
        _ => {
            "Raises: BusError (e.g. no such channel, or not joined to any channel), BusTimeoutError."
        }
    }
}
