//! The device's policy: what snippets may see and call, what counts as a write, what needs a
//! person's approval, the caps, and which values are tokenized before they reach the model.
//!
//! It comes from the `[policy]` section of the config file ([`PolicyConfig`]), with
//! [`PolicyOverrides`] from command-line flags on top. [`PolicyStore`] holds the compiled
//! [`Policy`] and reloads the file when it changes: every snippet and every listing reads the
//! policy current when it starts, so an edit applies to the next snippet without a restart.
//!
//! # Read or write
//! [`Policy::classify`] decides per function, first match wins:
//! 1. the policy's own lists (`writes`, then `reads`, globs over wire or Python names);
//! 2. raising an intent is a write;
//! 3. the method's io.Connect metadata (`flags.metadata` as registered by the app):
//!    `readOnly: true|false`, or `sideEffects: "none"|"read"` (a read) / `"write"` (a write);
//!    when the servers of one function disagree, it is a write;
//! 4. the naming rule on the method's last dotted segment: `Get`, `List`, `Find`, `Search`,
//!    `Query`, `Read`, `Fetch`, `Lookup`, `Count`, `Describe`, `Is`, `Has` followed by an upper
//!    case letter, a digit or nothing are reads; everything else is a write.
//!
//! Any doubt is a write (fail closed).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Error;

/// The default limit of one wait for a person's approval.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_mins(2);

/// The `[policy]` section of the config file. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// What snippets may see; absent lists allow everything.
    pub allow: Selectors,
    /// What snippets may not see (wins over `allow`).
    pub deny: Selectors,
    /// Refuse every write before it reaches the bus.
    pub read_only: bool,
    /// Globs of functions that are reads whatever their name or metadata says.
    pub reads: Vec<String>,
    /// Globs of functions that are writes whatever their name or metadata says.
    pub writes: Vec<String>,
    /// Which calls need a person's approval by class.
    pub approve: ApproveClass,
    /// Globs of functions that need approval whatever their class.
    pub approve_also: Vec<String>,
    /// The longest wait for one approval, in seconds (default 120).
    pub approval_timeout_seconds: Option<f64>,
    /// Bus calls one snippet may make in all (the lower of this and the sandbox's limit).
    pub max_calls_per_snippet: Option<u32>,
    /// Calls one snippet may make to the functions matching each glob, e.g.
    /// `"OrderTicket.PlaceOrder" = 1`.
    pub caps: BTreeMap<String, u32>,
    /// What to tokenize before it reaches the model.
    pub pii: PiiConfig,
}

/// Globs over application names, method names and intent names.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Selectors {
    /// Application names (servers and intent handlers), e.g. `"CRM"`.
    pub apps: Option<Vec<String>>,
    /// Method names, e.g. `"CRM.*"`.
    pub methods: Option<Vec<String>>,
    /// Intent names, e.g. `"StartCall"`.
    pub intents: Option<Vec<String>>,
}

/// Which calls need approval by class.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ApproveClass {
    /// None by class (`approve_also` may still name some).
    #[default]
    None,
    /// Every write.
    Writes,
    /// Every call.
    All,
}

/// The `[policy.pii]` section: what is replaced by placeholders before the model sees it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PiiConfig {
    /// Field names or dotted paths whose string values are tokenized wherever they appear,
    /// e.g. `"email"`, `"client.phone"` (`[]` in a path matches any list index).
    pub fields: Vec<String>,
    /// Patterns found inside any string: `"email"`, `"phone"`, `"iban"`.
    pub patterns: Vec<String>,
    /// Fields holding people's names: their values are tokenized where they appear as
    /// fields and, once seen, inside any other string too.
    pub name_fields: Vec<String>,
}

/// Command-line overrides for the common cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyOverrides {
    /// `--read-only`.
    pub read_only: bool,
    /// `--approve writes|all|none`.
    pub approve: Option<ApproveClass>,
    /// `--deny-method GLOB` (added to the file's).
    pub deny_methods: Vec<String>,
    /// `--allow-app GLOB` (replaces the file's when given).
    pub allow_apps: Vec<String>,
}

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// No side effects.
    Read,
    /// May change something (or doubt).
    Write,
}

/// What decided a [`Class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassSource {
    /// The policy's `reads`/`writes` lists.
    Policy,
    /// An intent.
    Intent,
    /// The method's metadata.
    Metadata,
    /// The naming rule.
    Name,
    /// The context API's own kind (`channels.join`/`broadcast` and `raise_for_context` write).
    ContextApi,
}

/// What kind of function a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callee<'a> {
    /// A bus method with its metadata (one map per server variant).
    Method {
        /// The variants' `flags.metadata`.
        metadata: &'a [&'a Map<String, Value>],
    },
    /// An intent (by name, or `raise_intent`).
    Intent,
    /// A call answered without the bus (`find_intents`).
    Local,
    /// A function of the context API (channels and raise-for-context).
    Context {
        /// Whether it changes what the user sees (join, broadcast, raise for context).
        write: bool,
    },
}

/// The compiled policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// As configured (flags applied).
    pub config: PolicyConfig,
    /// The approval wait limit.
    pub approval_timeout: Duration,
}

const READ_PREFIXES: &[&str] = &[
    "Get", "List", "Find", "Search", "Query", "Read", "Fetch", "Lookup", "Count", "Describe", "Is",
    "Has",
];

impl Policy {
    /// Compiles `config` with `overrides` applied.
    pub fn new(mut config: PolicyConfig, overrides: &PolicyOverrides) -> Result<Self, Error> {
        config.read_only |= overrides.read_only;
        if let Some(approve) = overrides.approve {
            config.approve = approve;
        }
        if !overrides.deny_methods.is_empty() {
            config
                .deny
                .methods
                .get_or_insert_with(Vec::new)
                .extend(overrides.deny_methods.iter().cloned());
        }
        if !overrides.allow_apps.is_empty() {
            config.allow.apps = Some(overrides.allow_apps.clone());
        }
        for pattern in &config.pii.patterns {
            if !matches!(pattern.as_str(), "email" | "phone" | "iban") {
                return Err(Error::Policy {
                    reason: format!(
                        "unknown pii pattern {pattern:?} (known: \"email\", \"phone\", \"iban\")"
                    ),
                });
            }
        }
        let approval_timeout = match config.approval_timeout_seconds {
            None => DEFAULT_APPROVAL_TIMEOUT,
            Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
                Duration::try_from_secs_f64(seconds).unwrap_or(DEFAULT_APPROVAL_TIMEOUT)
            }
            Some(seconds) => {
                return Err(Error::Policy {
                    reason: format!(
                        "approval_timeout_seconds must be a positive number, not {seconds}"
                    ),
                });
            }
        };
        Ok(Self {
            config,
            approval_timeout,
        })
    }

    /// Whether snippets may see the application `app`.
    pub fn app_visible(&self, app: &str) -> bool {
        visible(
            self.config.allow.apps.as_ref(),
            self.config.deny.apps.as_ref(),
            app,
        )
    }

    /// Whether snippets may see the method `name`.
    pub fn method_visible(&self, name: &str) -> bool {
        visible(
            self.config.allow.methods.as_ref(),
            self.config.deny.methods.as_ref(),
            name,
        )
    }

    /// Whether snippets may see the intent `name`.
    pub fn intent_visible(&self, name: &str) -> bool {
        visible(
            self.config.allow.intents.as_ref(),
            self.config.deny.intents.as_ref(),
            name,
        )
    }

    /// Read or write, and why (see the module doc). `names` are the function's wire and
    /// Python names (either may match the policy's globs).
    pub fn classify(&self, names: &[&str], callee: Callee<'_>) -> (Class, ClassSource) {
        if any_match(&self.config.writes, names) {
            return (Class::Write, ClassSource::Policy);
        }
        if any_match(&self.config.reads, names) {
            return (Class::Read, ClassSource::Policy);
        }
        let metadata = match callee {
            Callee::Local => return (Class::Read, ClassSource::Name),
            Callee::Intent => return (Class::Write, ClassSource::Intent),
            Callee::Context { write } => {
                let class = if write { Class::Write } else { Class::Read };
                return (class, ClassSource::ContextApi);
            }
            Callee::Method { metadata } => metadata,
        };
        let declared: Vec<Option<Class>> =
            metadata.iter().map(|meta| metadata_class(meta)).collect();
        if declared.iter().any(Option::is_some) {
            // Every variant must say "read" for a read; one silent or "write" variant is doubt.
            let class = if declared.iter().all(|class| *class == Some(Class::Read)) {
                Class::Read
            } else {
                Class::Write
            };
            return (class, ClassSource::Metadata);
        }
        let wire = names.first().copied().unwrap_or_default();
        (name_class(wire), ClassSource::Name)
    }

    /// Whether a call of `class` to the function named `names` needs approval.
    pub fn needs_approval(&self, names: &[&str], class: Class) -> bool {
        match self.config.approve {
            ApproveClass::All => true,
            ApproveClass::Writes if class == Class::Write => true,
            ApproveClass::Writes | ApproveClass::None => {
                any_match(&self.config.approve_also, names)
            }
        }
    }

    /// Whether approvals can be asked for at all under this policy.
    pub fn approvals_on(&self) -> bool {
        self.config.approve != ApproveClass::None || !self.config.approve_also.is_empty()
    }

    /// The per-snippet cap on calls to the function named `names`, if one matches (the
    /// lowest when several do), with its glob.
    pub fn cap(&self, names: &[&str]) -> Option<(&str, u32)> {
        self.config
            .caps
            .iter()
            .filter(|(glob, _)| names.iter().any(|name| glob_match(glob, name)))
            .map(|(glob, cap)| (glob.as_str(), *cap))
            .min_by_key(|(_, cap)| *cap)
    }
}

/// The class a method's metadata declares, if it declares one.
fn metadata_class(metadata: &Map<String, Value>) -> Option<Class> {
    if let Some(read_only) = metadata.get("readOnly").and_then(Value::as_bool) {
        return Some(if read_only { Class::Read } else { Class::Write });
    }
    match metadata.get("sideEffects").and_then(Value::as_str) {
        Some("none" | "read") => Some(Class::Read),
        Some(_) => Some(Class::Write),
        None => None,
    }
}

/// The naming rule on the last dotted segment of a wire name.
pub fn name_class(wire: &str) -> Class {
    let last = wire.rsplit('.').next().unwrap_or(wire);
    let read = READ_PREFIXES.iter().any(|prefix| {
        last.strip_prefix(prefix).is_some_and(|rest| {
            rest.chars().next().is_none_or(|next| {
                next.is_ascii_uppercase() || next.is_ascii_digit() || next == '_'
            })
        })
    });
    if read { Class::Read } else { Class::Write }
}

fn visible(allow: Option<&Vec<String>>, deny: Option<&Vec<String>>, name: &str) -> bool {
    let allowed = allow.is_none_or(|globs| globs.iter().any(|glob| glob_match(glob, name)));
    let denied = deny.is_some_and(|globs| globs.iter().any(|glob| glob_match(glob, name)));
    allowed && !denied
}

fn any_match(globs: &[String], names: &[&str]) -> bool {
    globs
        .iter()
        .any(|glob| names.iter().any(|name| glob_match(glob, name)))
}

/// `*` matches any run of characters (dots included), `?` one character; ASCII case is
/// ignored. Linear in practice (iterative backtracking over the last `*`).
pub fn glob_match(glob: &str, text: &str) -> bool {
    let glob: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut g, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some('*') => {
                star = Some((g, t));
                g += 1;
            }
            Some(&c) if c == '?' || c.eq_ignore_ascii_case(&text[t]) => {
                g += 1;
                t += 1;
            }
            _ => match star {
                Some((star_g, star_t)) => {
                    g = star_g + 1;
                    t = star_t + 1;
                    star = Some((star_g, star_t + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|c| *c == '*')
}

/// The policy of a running service: the file it comes from, the flags on top, and the
/// compiled policy, reloaded when the file changes.
#[derive(Debug)]
pub struct PolicyStore {
    path: Option<PathBuf>,
    overrides: PolicyOverrides,
    state: Mutex<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    modified: Option<SystemTime>,
    policy: Arc<Policy>,
    /// Counts reloads that changed what is visible (see [`PolicyStore::visibility_epoch`]).
    epoch: u64,
}

impl PolicyStore {
    /// A fixed policy (no file).
    pub fn fixed(policy: Policy) -> Self {
        Self {
            path: None,
            overrides: PolicyOverrides::default(),
            state: Mutex::new(Loaded {
                modified: None,
                policy: Arc::new(policy),
                epoch: 0,
            }),
        }
    }

    /// The `[policy]` section of the config file at `path` (none: the default policy), with
    /// `overrides`; fails on a file that cannot be read or a policy that does not parse.
    pub fn from_file(path: Option<PathBuf>, overrides: PolicyOverrides) -> Result<Self, Error> {
        let (modified, config) = match &path {
            Some(path) => read_section(path)?,
            None => (None, PolicyConfig::default()),
        };
        let policy = Policy::new(config, &overrides)?;
        Ok(Self {
            path,
            overrides,
            state: Mutex::new(Loaded {
                modified,
                policy: Arc::new(policy),
                epoch: 0,
            }),
        })
    }

    /// The policy now: the file is read again when its modification time changed. A file that
    /// no longer parses keeps the last good policy (and says so in the log).
    pub fn current(&self) -> Arc<Policy> {
        let Ok(mut state) = self.state.lock() else {
            return Arc::new(Policy::default());
        };
        if let Some(path) = &self.path {
            let modified = std::fs::metadata(path)
                .and_then(|meta| meta.modified())
                .ok();
            if modified != state.modified {
                state.modified = modified;
                match read_section(path)
                    .and_then(|(_, config)| Policy::new(config, &self.overrides))
                {
                    Ok(policy) => {
                        if policy.config.allow != state.policy.config.allow
                            || policy.config.deny != state.policy.config.deny
                        {
                            state.epoch += 1;
                        }
                        tracing::info!(path = %path.display(), "policy reloaded");
                        state.policy = Arc::new(policy);
                    }
                    Err(error) => {
                        tracing::error!(path = %path.display(), %error, "policy not reloaded; the previous one stays");
                    }
                }
            }
        }
        Arc::clone(&state.policy)
    }

    /// Increases whenever a reload changed what snippets may see.
    pub fn visibility_epoch(&self) -> u64 {
        let _ = self.current();
        self.state.lock().map_or(0, |state| state.epoch)
    }
}

/// The `[policy]` section of the TOML file at `path`, with the file's modification time.
fn read_section(path: &Path) -> Result<(Option<SystemTime>, PolicyConfig), Error> {
    let failed = |reason: String| Error::Policy {
        reason: format!("{}: {reason}", path.display()),
    };
    let modified = std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok();
    let text = std::fs::read_to_string(path).map_err(|error| failed(error.to_string()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|error| failed(error.to_string()))?;
    let config = match table.get("policy") {
        None => PolicyConfig::default(),
        Some(section) => section
            .clone()
            .try_into()
            .map_err(|error: toml::de::Error| failed(format!("[policy]: {error}")))?,
    };
    Ok((modified, config))
}

#[cfg(test)]
mod tests {
    use super::{Callee, Class, ClassSource, Policy, PolicyConfig, glob_match, name_class};

    #[test]
    fn the_sample_policy_file_parses() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/config/policy.toml");
        let (_, config) = super::read_section(&path).expect("samples/config/policy.toml parses");
        assert_eq!(config.approve, super::ApproveClass::Writes);
        Policy::new(config, &super::PolicyOverrides::default()).expect("valid");
    }

    #[test]
    fn globs_match_dots_and_ignore_ascii_case() {
        assert!(glob_match("CRM.*", "crm.SetAdviser"));
        assert!(glob_match("*.Place*", "OrderTicket.PlaceOrder"));
        assert!(glob_match("Get?", "GetX"));
        assert!(!glob_match("CRM.*", "CRMX.Get"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acbx"));
    }

    #[test]
    fn the_naming_rule_reads_only_read_verbs() {
        assert_eq!(name_class("CRM.GetClients"), Class::Read);
        assert_eq!(name_class("MarketData.SearchInstruments"), Class::Read);
        assert_eq!(
            name_class("Feed.Listen"),
            Class::Write,
            "List + lower case is not a read"
        );
        assert_eq!(name_class("CRM.SetAdviser"), Class::Write);
        assert_eq!(name_class("OrderTicket.PlaceOrder"), Class::Write);
        assert_eq!(name_class("Getaway"), Class::Write);
    }

    #[test]
    fn policy_lists_beat_metadata_which_beats_the_name() {
        let config: PolicyConfig =
            toml::from_str("reads = [\"Dialer.HangUp\"]\nwrites = [\"CRM.GetAndLock*\"]")
                .expect("parses");
        let policy = Policy::new(config, &super::PolicyOverrides::default()).expect("valid");
        let none = serde_json::Map::new();
        let read_only: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"readOnly": true}"#).expect("json");
        assert_eq!(
            policy.classify(&["Dialer.HangUp"], Callee::Method { metadata: &[&none] }),
            (Class::Read, ClassSource::Policy)
        );
        assert_eq!(
            policy.classify(
                &["CRM.GetAndLockClient"],
                Callee::Method {
                    metadata: &[&read_only]
                }
            ),
            (Class::Write, ClassSource::Policy)
        );
        assert_eq!(
            policy.classify(
                &["Blotter.Refresh"],
                Callee::Method {
                    metadata: &[&read_only]
                }
            ),
            (Class::Read, ClassSource::Metadata)
        );
        assert_eq!(
            policy.classify(
                &["Blotter.Refresh"],
                Callee::Method {
                    metadata: &[&read_only, &none]
                }
            ),
            (Class::Write, ClassSource::Metadata),
            "servers that disagree: doubt is a write"
        );
        assert_eq!(
            policy.classify(&["ViewChart"], Callee::Intent),
            (Class::Write, ClassSource::Intent)
        );
    }
}
