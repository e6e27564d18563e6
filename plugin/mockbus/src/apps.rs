//! Sample apps as data: the JSON schema of `samples/apps/*.json` ([`AppSpec`]), the copies
//! embedded in the binary, and loading from a directory (`--samples DIR`).
//!
//! An app declares its methods (name, description, `accepts`/`returns` signatures and a
//! [`Behaviour`]) and its intents (context types, result type and a behaviour). An app with
//! `running: false` is only declared: `T42.ACS.GetApplications` lists it and
//! `T42.ACS.StartApplication` starts it on demand.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use codemode_protocol::{MethodDefinition, MethodFlags, MethodId, gw3::INTENT_METHOD_PREFIX};

use super::{MockBusError, behaviour::Behaviour};

/// The sample apps shipped in `samples/apps/`, embedded so the binary runs from anywhere.
const EMBEDDED: &[(&str, &str)] = &[
    ("crm.json", include_str!("../../../samples/apps/crm.json")),
    (
        "portfolio.json",
        include_str!("../../../samples/apps/portfolio.json"),
    ),
    (
        "marketdata.json",
        include_str!("../../../samples/apps/marketdata.json"),
    ),
    (
        "charts.json",
        include_str!("../../../samples/apps/charts.json"),
    ),
    (
        "dialer.json",
        include_str!("../../../samples/apps/dialer.json"),
    ),
    (
        "notes.json",
        include_str!("../../../samples/apps/notes.json"),
    ),
    (
        "tasks.json",
        include_str!("../../../samples/apps/tasks.json"),
    ),
    (
        "diagnostics.json",
        include_str!("../../../samples/apps/diagnostics.json"),
    ),
];

/// Largest app file read from disk; app definitions are small.
const MAX_APP_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// One app: what `T42.ACS.GetApplications` lists and what its instances register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSpec {
    /// The application name (`identity.application`), e.g. `CRM`.
    pub name: String,
    /// A title for people.
    #[serde(default)]
    pub title: Option<String>,
    /// What the app is for (served as the app's `caption`).
    #[serde(default)]
    pub description: Option<String>,
    /// Whether `StartApplication` starts a new instance when one runs already.
    #[serde(default = "default_true")]
    pub allow_multiple: bool,
    /// Started with the bus (`true`) or only declared and started on demand (`false`).
    #[serde(default = "default_true")]
    pub running: bool,
    /// The interop methods it registers.
    #[serde(default)]
    pub methods: Vec<MethodSpec>,
    /// The intents it handles (registered as `Tick42.FDC3.Intents.<name>` methods).
    #[serde(default)]
    pub intents: Vec<IntentSpec>,
}

/// One interop method of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MethodSpec {
    /// The method name, e.g. `CRM.GetClients`.
    pub name: String,
    /// A display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// What it does; an AI model reads this.
    #[serde(default)]
    pub description: Option<String>,
    /// The `accepts` signature (doc §8 grammar).
    #[serde(default)]
    pub accepts: Option<String>,
    /// The `returns` signature.
    #[serde(default)]
    pub returns: Option<String>,
    /// Object types it deals with.
    #[serde(default)]
    pub object_types: Vec<String>,
    /// Whether it is a streaming method (subscribe instead of call).
    #[serde(default)]
    pub streaming: bool,
    /// Delay before every reply, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// What it does when invoked.
    pub behaviour: Behaviour,
}

/// One intent an app handles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntentSpec {
    /// The intent name, e.g. `ViewChart`.
    pub name: String,
    /// A display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// FDC3 context types it accepts, e.g. `fdc3.instrument`.
    #[serde(default)]
    pub contexts: Vec<String>,
    /// The type of its result, if any.
    #[serde(default)]
    pub result_type: Option<String>,
    /// Delay before every reply, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// What the handler does with the context (`arguments_kv` = `{type, data}`).
    pub behaviour: Behaviour,
}

fn default_true() -> bool {
    true
}

impl AppSpec {
    /// The wire definitions its instances register: methods, then intent handlers; ids are
    /// `"0"`, `"1"`, … as the JavaScript clients send them.
    pub fn method_definitions(&self) -> Vec<MethodDefinition> {
        let methods = self.methods.iter().map(|method| MethodDefinition {
            display_name: method.display_name.clone(),
            description: method.description.clone(),
            version: None,
            object_types: (!method.object_types.is_empty()).then(|| method.object_types.clone()),
            input_signature: method.accepts.clone(),
            result_signature: method.returns.clone(),
            flags: MethodFlags {
                metadata: Map::new(),
                streaming: method.streaming,
            },
            ..MethodDefinition::new(MethodId::new(Value::Null), method.name.clone())
        });
        let intents = self.intents.iter().map(|intent| {
            let mut info = Map::new();
            info.insert("contextTypes".into(), Value::from(intent.contexts.clone()));
            if let Some(display_name) = &intent.display_name {
                info.insert("displayName".into(), Value::String(display_name.clone()));
            }
            if let Some(result_type) = &intent.result_type {
                info.insert("resultType".into(), Value::String(result_type.clone()));
            }
            let mut metadata = Map::new();
            metadata.insert("intent".into(), Value::Object(info));
            MethodDefinition {
                flags: MethodFlags {
                    metadata,
                    streaming: false,
                },
                ..MethodDefinition::new(
                    MethodId::new(Value::Null),
                    format!("{INTENT_METHOD_PREFIX}{}", intent.name),
                )
            }
        });
        methods
            .chain(intents)
            .enumerate()
            .map(|(index, mut definition)| {
                definition.id = MethodId::new(Value::String(index.to_string()));
                definition
            })
            .collect()
    }

    /// The entry `T42.ACS.GetApplications` returns for this app.
    pub fn application_info(&self, with_intents: bool) -> Value {
        let mut info = Map::new();
        info.insert("name".into(), Value::String(self.name.clone()));
        info.insert(
            "title".into(),
            Value::String(self.title.clone().unwrap_or_else(|| self.name.clone())),
        );
        info.insert(
            "caption".into(),
            Value::String(self.description.clone().unwrap_or_default()),
        );
        info.insert("allowMultiple".into(), Value::Bool(self.allow_multiple));
        if with_intents {
            let intents = self
                .intents
                .iter()
                .map(|intent| {
                    let mut entry = Map::new();
                    entry.insert("name".into(), Value::String(intent.name.clone()));
                    if let Some(display_name) = &intent.display_name {
                        entry.insert("displayName".into(), Value::String(display_name.clone()));
                    }
                    entry.insert("contexts".into(), Value::from(intent.contexts.clone()));
                    if let Some(result_type) = &intent.result_type {
                        entry.insert("resultType".into(), Value::String(result_type.clone()));
                    }
                    Value::Object(entry)
                })
                .collect();
            info.insert("intents".into(), Value::Array(intents));
        }
        Value::Object(info)
    }
}

/// The sample apps embedded in the binary (the contents of `samples/apps/`).
pub fn embedded_samples() -> Result<Vec<AppSpec>, MockBusError> {
    EMBEDDED
        .iter()
        .map(|(file, text)| parse_app(Path::new(file), text))
        .collect()
}

/// Every `*.json` app in `dir`, sorted by file name.
pub fn load_samples(dir: &Path) -> Result<Vec<AppSpec>, MockBusError> {
    let invalid = |path: &Path, reason: String| MockBusError::Samples {
        path: path.to_path_buf(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|error| invalid(dir, error.to_string()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut apps = Vec::with_capacity(files.len());
    for path in files {
        let size = std::fs::metadata(&path)
            .map_err(|error| invalid(&path, error.to_string()))?
            .len();
        if size > MAX_APP_FILE_BYTES {
            return Err(invalid(
                &path,
                format!("{size} bytes is over the {MAX_APP_FILE_BYTES}-byte limit"),
            ));
        }
        let text =
            std::fs::read_to_string(&path).map_err(|error| invalid(&path, error.to_string()))?;
        apps.push(parse_app(&path, &text)?);
    }
    Ok(apps)
}

fn parse_app(path: &Path, text: &str) -> Result<AppSpec, MockBusError> {
    let app: AppSpec = serde_json::from_str(text).map_err(|error| MockBusError::Samples {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    if app.name.trim().is_empty() {
        return Err(MockBusError::Samples {
            path: path.to_path_buf(),
            reason: "the app has no name".into(),
        });
    }
    Ok(app)
}
