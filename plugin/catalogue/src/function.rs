//! One Python function of the API, built from one bus method (one signature variant) or one
//! intent, with everything later stages need: names, typed parameters, the return type, the
//! text that search indexes, and what the call map records.

use std::sync::Arc;

use codemode_protocol::model::{IntentHandler, IntentInfo, MethodInfo};
use codemode_protocol::signature::{Param, SigType, parse_signature};

use super::{
    callmap::{ContextOp, ServerRef},
    fdc3,
    names::{NameKind, Priority, pascal_ident, snake_ident},
    types::{PyType, StructDef, convert, reachable, struct_def},
};

/// Signatures longer than this are not parsed: the function takes `**kwargs: Any`.
const MAX_SIGNATURE_CHARS: usize = 16 * 1024;
/// Parameters beyond this many are folded into `**kwargs: Any`.
const MAX_PARAMS: usize = 64;
/// Longest description kept (characters).
const MAX_DESCRIPTION_CHARS: usize = 1_500;
/// Longest display name, app name or raw signature kept for docs (characters).
const MAX_LABEL_CHARS: usize = 200;

/// What a function calls.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A bus method (one signature variant of it).
    Method {
        /// The wire method name.
        wire: String,
        /// Whether the method streams.
        streaming: bool,
        /// The servers offering this variant, in discovery order (shared with the call map).
        servers: Arc<[ServerRef]>,
        /// Other variants (other signatures) of the same wire name exist.
        shared_name: bool,
    },
    /// An intent.
    Intent {
        /// The intent name.
        name: String,
        /// Its handlers (running first, then declared).
        handlers: Vec<IntentHandler>,
        /// Context types the handlers accept, sorted.
        context_types: Vec<String>,
    },
    /// `raise_intent(name, context, target=None)`.
    RaiseIntent,
    /// `find_intents(name=None, context_type=None)`.
    FindIntents,
    /// A function of the context API (`channels.*`, `intents.raise_for_context`).
    Context(ContextOp),
}

/// One keyword argument.
#[derive(Debug, Clone)]
pub(crate) struct Arg {
    /// The Python name.
    pub(crate) python: String,
    /// The name on the wire.
    pub(crate) wire: String,
    /// Its type.
    pub(crate) ty: PyType,
    /// False when it may be omitted (`?`).
    pub(crate) required: bool,
    /// The signature's `(description)`.
    pub(crate) description: Option<String>,
    /// The parameter's raw text, shown when its type is loose (empty otherwise).
    pub(crate) raw: String,
}

/// One function of the Python API, before its final name is resolved.
#[derive(Debug, Clone)]
pub(crate) struct Function {
    /// What it calls.
    pub(crate) kind: Kind,
    /// The namespace (`crm`, `intents`; empty for module-level builtins).
    pub(crate) namespace: String,
    /// The wanted qualified name, e.g. `crm.get_clients`.
    pub(crate) candidate: String,
    /// Orders functions that want the same name (first keeps it).
    pub(crate) priority: Priority,
    /// Keyword arguments, in signature order.
    pub(crate) args: Vec<Arg>,
    /// True when unparsed parameters travel through `**kwargs`.
    pub(crate) var_kwargs: bool,
    /// The return type.
    pub(crate) returns: PyType,
    /// The method's description (trimmed, capped).
    pub(crate) description: Option<String>,
    /// The display name.
    pub(crate) display_name: Option<String>,
    /// The raw `accepts` text, when some of it could not be typed.
    pub(crate) loose_accepts: Option<String>,
    /// The raw `returns` text, when some of it could not be typed.
    pub(crate) loose_returns: Option<String>,
    /// Applications serving it (sorted, deduplicated).
    pub(crate) apps: Vec<String>,
    /// Object types the method declares.
    pub(crate) object_types: Vec<String>,
    /// Every TypedDict its signature uses (each once).
    pub(crate) structs: Vec<Arc<StructDef>>,
}

impl Function {
    /// Builds the function for one method variant; `shared_name` tells whether other variants
    /// of the same wire name exist.
    pub(crate) fn from_method(info: &MethodInfo, shared_name: bool) -> Self {
        let servers: Arc<[ServerRef]> = info
            .servers
            .iter()
            .map(|server| ServerRef {
                application: server.application().to_owned(),
                instance: server.instance().map(str::to_owned),
                peer_id: server.peer_id.clone(),
                local: server.local,
            })
            .collect();
        let mut apps: Vec<String> = servers
            .iter()
            .map(|server| clip(&server.application, MAX_LABEL_CHARS))
            .filter(|app| !app.is_empty())
            .collect();
        apps.sort();
        apps.dedup();

        let (namespace, base) = method_names(&info.name, apps.first().map(String::as_str));
        let candidate = format!("{namespace}.{base}");

        let accepts = info.input_signature.as_deref().unwrap_or("");
        let (mut args, var_kwargs, loose_in) = build_args(accepts);
        let returns_text = info.result_signature.as_deref().unwrap_or("");
        let (mut returns, loose_out) = build_returns(returns_text, &base);
        if info.streaming {
            add_stream_args(&mut args);
            returns = PyType::List(Box::new(returns));
        }

        let mut roots = Vec::new();
        for arg in &args {
            arg.ty.collect_structs(&mut roots);
        }
        returns.collect_structs(&mut roots);
        let structs = reachable(&roots);

        Self {
            kind: Kind::Method {
                wire: info.name.clone(),
                streaming: info.streaming,
                servers,
                shared_name,
            },
            namespace,
            candidate,
            priority: format!(
                "{}\u{0}{}\u{0}{}",
                info.name,
                info.input_signature.as_deref().unwrap_or(""),
                info.result_signature.as_deref().unwrap_or("")
            )
            .into(),
            args,
            var_kwargs,
            returns,
            description: info
                .description
                .as_deref()
                .map(|d| clip(d.trim(), MAX_DESCRIPTION_CHARS))
                .filter(|d| !d.is_empty()),
            display_name: info
                .display_name
                .as_deref()
                .map(|d| clip(d.trim(), MAX_LABEL_CHARS))
                .filter(|d| !d.is_empty()),
            loose_accepts: loose_in.then(|| clip(accepts, MAX_LABEL_CHARS)),
            loose_returns: loose_out.then(|| clip(returns_text, MAX_LABEL_CHARS)),
            apps,
            object_types: info
                .object_types
                .iter()
                .take(16)
                .map(|t| clip(t, MAX_LABEL_CHARS))
                .collect(),
            structs,
        }
    }

    /// Builds `intents.<name>` for one intent.
    pub(crate) fn from_intent(info: &IntentInfo) -> Self {
        let base = snake_ident(&info.name, NameKind::Function);
        let context_types = info.context_types();
        let mut members: Vec<PyType> = Vec::new();
        let mut unknown = false;
        for context_type in &context_types {
            match fdc3::by_context_type(context_type) {
                Some(block) => {
                    let ty = PyType::Named(block.class);
                    if !members.contains(&ty) {
                        members.push(ty);
                    }
                }
                None => unknown = true,
            }
        }
        if unknown || members.is_empty() {
            members.push(PyType::Named("Context"));
        }
        let context_ty = if members.len() == 1 {
            members.pop().unwrap_or(PyType::Named("Context"))
        } else {
            PyType::Union(members)
        };

        let mut apps: Vec<String> = info
            .handlers
            .iter()
            .map(|h| clip(&h.application, MAX_LABEL_CHARS))
            .filter(|a| !a.is_empty())
            .collect();
        apps.sort();
        apps.dedup();
        let display_name = info
            .handlers
            .iter()
            .find_map(|h| h.display_name.as_deref())
            .map(|d| clip(d.trim(), MAX_LABEL_CHARS))
            .filter(|d| !d.is_empty());

        Self {
            kind: Kind::Intent {
                name: info.name.clone(),
                handlers: info.handlers.iter().take(64).cloned().collect(),
                context_types,
            },
            namespace: "intents".to_owned(),
            candidate: format!("intents.{base}"),
            priority: info.name.as_str().into(),
            args: vec![
                Arg {
                    python: "context".to_owned(),
                    wire: "context".to_owned(),
                    ty: context_ty,
                    required: true,
                    description: None,
                    raw: String::new(),
                },
                Arg {
                    python: "app".to_owned(),
                    wire: "app".to_owned(),
                    ty: PyType::Str,
                    required: false,
                    description: Some("only handlers of this application".to_owned()),
                    raw: String::new(),
                },
                Arg {
                    python: "instance".to_owned(),
                    wire: "instance".to_owned(),
                    ty: PyType::Str,
                    required: false,
                    description: Some("exactly this running instance".to_owned()),
                    raw: String::new(),
                },
            ],
            var_kwargs: false,
            returns: PyType::Any,
            description: None,
            display_name,
            loose_accepts: None,
            loose_returns: None,
            apps,
            object_types: Vec::new(),
            structs: Vec::new(),
        }
    }

    /// The two module-level intent helpers.
    pub(crate) fn builtins() -> [Self; 2] {
        let plain = |kind: Kind, name: &str, args: Vec<Arg>, returns: PyType, doc: &str| Self {
            kind,
            namespace: String::new(),
            candidate: name.to_owned(),
            priority: name.into(),
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
        };
        let arg = |name: &str, ty: PyType, required: bool, description: &str| Arg {
            python: name.to_owned(),
            wire: name.to_owned(),
            ty,
            required,
            description: Some(description.to_owned()),
            raw: String::new(),
        };
        [
            plain(
                Kind::RaiseIntent,
                "raise_intent",
                vec![
                    arg(
                        "name",
                        PyType::Str,
                        true,
                        "the intent name, e.g. \"ViewChart\"",
                    ),
                    arg(
                        "context",
                        PyType::Named("Context"),
                        true,
                        "an FDC3 context: a dict with a \"type\" key",
                    ),
                    arg(
                        "target",
                        PyType::Named("IntentTarget"),
                        false,
                        "{\"app\": ...} or {\"instance\": ...}; default: a running handler first",
                    ),
                ],
                PyType::Any,
                "Raises any intent, including ones not in this catalogue, and returns the handler's result.",
            ),
            plain(
                Kind::FindIntents,
                "find_intents",
                vec![
                    arg("name", PyType::Str, false, "only this intent"),
                    arg(
                        "context_type",
                        PyType::Str,
                        false,
                        "only intents accepting this context type, e.g. \"fdc3.instrument\"",
                    ),
                ],
                PyType::List(Box::new(PyType::Named("IntentSummary"))),
                "Lists intents with their handlers (running and declared) and context types.",
            ),
        ]
    }

    /// True for a method with more than one server (it takes `target=`).
    pub(crate) fn takes_target(&self) -> bool {
        matches!(&self.kind, Kind::Method { servers, .. } if servers.len() > 1)
    }

    /// The wire name (method or intent) or the builtin's name.
    pub(crate) fn wire_name(&self) -> &str {
        match &self.kind {
            Kind::Method { wire, .. } => wire,
            Kind::Intent { name, .. } => name,
            Kind::RaiseIntent => "raise_intent",
            Kind::FindIntents => "find_intents",
            Kind::Context(op) => op.python_name(),
        }
    }

    /// The texts search indexes, each with a weight (name words count three times).
    pub(crate) fn search_pieces(&self) -> Vec<(&str, u32)> {
        let mut pieces: Vec<(&str, u32)> = Vec::with_capacity(16 + self.args.len() * 2);
        let local = self.candidate.rsplit('.').next().unwrap_or("");
        pieces.push((local, 3));
        pieces.push((self.wire_name(), 3));
        pieces.push((&self.namespace, 1));
        for app in &self.apps {
            pieces.push((app, 1));
        }
        for piece in [&self.display_name, &self.description]
            .into_iter()
            .flatten()
        {
            pieces.push((piece, 1));
        }
        for arg in &self.args {
            pieces.push((&arg.python, 1));
            if arg.wire != arg.python {
                pieces.push((&arg.wire, 1));
            }
        }
        for object_type in &self.object_types {
            pieces.push((object_type, 1));
        }
        if let Kind::Intent {
            handlers,
            context_types,
            ..
        } = &self.kind
        {
            pieces.push(("intent", 1));
            for context_type in context_types {
                pieces.push((context_type, 1));
            }
            for handler in handlers {
                for piece in [
                    &handler.result_type,
                    &handler.app_title,
                    &handler.display_name,
                ]
                .into_iter()
                .flatten()
                {
                    pieces.push((piece, 1));
                }
            }
        }
        if matches!(self.kind, Kind::RaiseIntent | Kind::FindIntents) {
            pieces.push(("intent intents context", 1));
        }
        if let Kind::Context(op) = self.kind {
            pieces.push((
                "context contexts channel channels user looking at current instrument fdc3 broadcast",
                1,
            ));
            if op == ContextOp::RaiseForContext {
                pieces.push(("intent intents raise", 1));
            }
        }
        for def in &self.structs {
            pieces.push((&def.wanted, 1));
        }
        pieces
    }
}

/// The namespace and base name of a method: dotted prefix, else the serving app.
fn method_names(wire: &str, first_app: Option<&str>) -> (String, String) {
    let segments: Vec<&str> = wire
        .split('.')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match segments.split_last() {
        Some((last, prefix)) if !prefix.is_empty() => (
            snake_ident(&prefix.join("_"), NameKind::Namespace),
            snake_ident(last, NameKind::Function),
        ),
        Some((last, _)) => (
            snake_ident(first_app.unwrap_or(""), NameKind::Namespace),
            snake_ident(last, NameKind::Function),
        ),
        None => (
            snake_ident(first_app.unwrap_or(""), NameKind::Namespace),
            snake_ident(wire, NameKind::Function),
        ),
    }
}

/// Keyword arguments from an `accepts` signature: (args, needs `**kwargs`, has loose parts).
/// The arguments a streaming method's function adds to its own: how many items to collect and
/// for how long (see [`crate::STREAM_MAX_ITEMS`]). A method that declares an argument of the same
/// name keeps its own.
fn add_stream_args(args: &mut Vec<Arg>) {
    let controls = [
        (
            crate::STREAM_ITEMS_ARG,
            PyType::Int,
            format!(
                "collect at most this many items (default {}, at most {})",
                crate::STREAM_DEFAULT_ITEMS,
                crate::STREAM_MAX_ITEMS
            ),
        ),
        (
            crate::STREAM_SECONDS_ARG,
            PyType::Float,
            format!(
                "collect for at most this long (default {} s; the snippet's time limit bounds it)",
                crate::STREAM_DEFAULT_SECONDS
            ),
        ),
    ];
    for (name, ty, description) in controls {
        if args
            .iter()
            .any(|arg| arg.python == name || arg.wire == name)
        {
            continue;
        }
        args.push(Arg {
            python: name.to_owned(),
            wire: name.to_owned(),
            ty,
            required: false,
            description: Some(description),
            raw: String::new(),
        });
    }
}

fn build_args(accepts: &str) -> (Vec<Arg>, bool, bool) {
    if accepts.len() > MAX_SIGNATURE_CHARS {
        return (Vec::new(), true, true);
    }
    let signature = parse_signature(accepts);
    let mut args: Vec<Arg> = Vec::with_capacity(signature.params.len());
    let mut var_kwargs = signature.params.len() > MAX_PARAMS;
    for (index, param) in signature.params.iter().take(MAX_PARAMS).enumerate() {
        let Some(wire) = param.name.as_deref() else {
            var_kwargs = true;
            continue;
        };
        if args.iter().any(|a| a.wire == wire) {
            continue;
        }
        let mut python = snake_ident(wire, NameKind::Argument);
        if python == "arg" {
            python = format!("arg{}", index + 1);
        }
        if args.iter().any(|a| a.python == python) {
            let mut k = 2u32;
            while args.iter().any(|a| a.python == format!("{python}_{k}")) {
                k = k.saturating_add(1);
            }
            python = format!("{python}_{k}");
        }
        let ty = convert(&param.ty, wire, 0);
        // The raw text is shown only for a loose type: don't keep it otherwise.
        let raw = if ty.is_loose() {
            clip(&param.raw, MAX_LABEL_CHARS)
        } else {
            String::new()
        };
        args.push(Arg {
            python,
            wire: wire.to_owned(),
            ty,
            required: !param.optional,
            description: param
                .description
                .as_deref()
                .map(|d| clip(d, MAX_LABEL_CHARS)),
            raw,
        });
    }
    let loose = var_kwargs || !signature.is_fully_typed();
    (args, var_kwargs, loose)
}

/// The return type from a `returns` signature: (type, has loose parts).
///
/// Results travel as objects keyed by the parameter names, so a named list becomes
/// `<Function>Result`; a single unnamed composite is returned as its own TypedDict.
fn build_returns(returns: &str, base: &str) -> (PyType, bool) {
    if returns.trim().is_empty() {
        return (PyType::Any, false);
    }
    if returns.len() > MAX_SIGNATURE_CHARS {
        return (PyType::Any, true);
    }
    let signature = parse_signature(returns);
    let loose = !signature.is_fully_typed();
    if let [
        Param {
            name: None,
            ty: ty @ SigType::Composite { .. },
            ..
        },
    ] = signature.params.as_slice()
    {
        return (convert(ty, &format!("{base}_result"), 0), loose);
    }
    let named: Vec<Param> = signature
        .params
        .into_iter()
        .filter(|p| p.name.is_some())
        .take(MAX_PARAMS)
        .collect();
    if named.is_empty() {
        return (PyType::Any, true);
    }
    let wanted = pascal_ident(&format!("{base}_result"));
    (
        PyType::Struct(Arc::new(struct_def(wanted, &named, 0))),
        loose,
    )
}

/// The first `max` characters of `text` (with `…` when cut).
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => {
            let mut out = text.get(..cut).unwrap_or("").to_owned();
            out.push('…');
            out
        }
        None => text.to_owned(),
    }
}
