//! The neutral contract between the catalogue and the sandbox: which Python functions exist,
//! under which dotted path, with which parameters.
//!
//! The catalogue turns bus methods and intents into [`FunctionSpec`]s; the sandbox builds the
//! namespace objects (`crm`, `intents`, …) from them, checks calls before a run (pre-flight) and
//! during it (`TypeError`), and turns each call into one [`HostCall`](super::HostCall).

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt::Write as _,
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

/// One callable function as snippets see it, e.g. `crm.get_clients(*, adviser=None)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FunctionSpec {
    /// The dotted Python path: `crm.get_clients`, `intents.view_chart`, or a bare
    /// `raise_intent` for a global function. Every segment must be a Python identifier.
    pub name: String,
    /// The parameters, in order.
    pub params: Vec<ParamSpec>,
    /// Whether the function also takes `target=` (which servers to call), passed to the host
    /// separately from the arguments.
    pub accepts_target: bool,
    /// Whether keywords beyond `params` are accepted (part of the bus signature could not be
    /// typed; they travel under their own names).
    #[serde(default, skip_serializing_if = "is_false")]
    pub var_keywords: bool,
    /// A one-line description, shown by `help()`-like output and `__doc__`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Set when the function's app left the bus: why it is gone (who left, when, what to do).
    /// Its name stays in the sandbox so that a call says so instead of "unknown".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departed: Option<String>,
}

impl FunctionSpec {
    /// A function with keyword-only, optional parameters named `params`.
    pub fn keyword_only(name: impl Into<String>, params: &[&str]) -> Self {
        Self {
            name: name.into(),
            params: params
                .iter()
                .map(|param| ParamSpec::keyword(*param, false))
                .collect(),
            accepts_target: false,
            var_keywords: false,
            doc: None,
            departed: None,
        }
    }

    /// The last segment of the path (the function's `__name__`).
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// The signature as Python would print it: `crm.get_clients(*, adviser=None, region=None)`,
    /// ending in `**kwargs` when [`FunctionSpec::var_keywords`] is set.
    pub fn signature(&self) -> String {
        let mut out = format!("{}(", self.name);
        let mut first = true;
        let mut star_written = false;
        let mut separator = |out: &mut String| {
            if !std::mem::take(&mut first) {
                out.push_str(", ");
            }
        };
        for param in &self.params {
            if param.kind == ParamKind::KeywordOnly && !star_written {
                separator(&mut out);
                out.push('*');
                star_written = true;
            }
            separator(&mut out);
            out.push_str(&param.name);
            if !param.required {
                out.push_str("=None");
            }
        }
        if self.accepts_target {
            if !star_written {
                separator(&mut out);
                out.push('*');
            }
            separator(&mut out);
            out.push_str("target=None");
        }
        if self.var_keywords {
            // `**kwargs` needs no `*` before it (`f(*, **kwargs)` is not even valid Python).
            separator(&mut out);
            out.push_str("**kwargs");
        }
        out.push(')');
        out
    }

    /// Binds a call's shape to the parameters: `positional` arguments, then the keyword names.
    ///
    /// Returns the parameter names the positional arguments fill, in order. `open_keywords`
    /// is true when the call has `**kwargs` (so missing parameters cannot be judged).
    pub fn bind(
        &self,
        positional: usize,
        keywords: &[&str],
        open_keywords: bool,
    ) -> Result<Vec<String>, BindError> {
        let positional_params: Vec<&ParamSpec> = self
            .params
            .iter()
            .filter(|param| param.kind == ParamKind::PositionalOrKeyword)
            .collect();
        if positional > positional_params.len() {
            return Err(BindError::TooManyPositional {
                given: positional,
                accepted: positional_params.len(),
            });
        }
        let filled: Vec<String> = positional_params
            .iter()
            .take(positional)
            .map(|param| param.name.clone())
            .collect();
        for keyword in keywords {
            let known = self.var_keywords
                || self.params.iter().any(|param| param.name == *keyword)
                || (self.accepts_target && *keyword == "target");
            if !known {
                let mut candidates: Vec<&str> = self
                    .params
                    .iter()
                    .map(|param| param.name.as_str())
                    .collect();
                if self.accepts_target {
                    candidates.push("target");
                }
                return Err(BindError::UnknownKeyword {
                    keyword: (*keyword).to_owned(),
                    suggestions: closest(keyword, candidates, 2),
                });
            }
            if filled.iter().any(|name| name == keyword) {
                return Err(BindError::Duplicate {
                    keyword: (*keyword).to_owned(),
                });
            }
        }
        if !open_keywords {
            let missing: Vec<String> = self
                .params
                .iter()
                .filter(|param| param.required)
                .filter(|param| {
                    !filled.contains(&param.name) && !keywords.contains(&param.name.as_str())
                })
                .map(|param| param.name.clone())
                .collect();
            if !missing.is_empty() {
                return Err(BindError::Missing { names: missing });
            }
        }
        Ok(filled)
    }

    /// The `TypeError` text for a failed bind: names the function and its signature.
    pub fn bind_error_message(&self, error: &BindError) -> String {
        let what = match error {
            BindError::TooManyPositional { given, accepted } => format!(
                "takes {accepted} positional argument{} but {given} {} given",
                if *accepted == 1 { "" } else { "s" },
                if *given == 1 { "was" } else { "were" }
            ),
            BindError::UnknownKeyword {
                keyword,
                suggestions,
            } => {
                let mut text = format!("got an unexpected keyword argument '{keyword}'");
                if let Some(first) = suggestions.first() {
                    let _ = write!(text, " (did you mean '{first}'?)");
                }
                text
            }
            BindError::Duplicate { keyword } => {
                format!("got multiple values for argument '{keyword}'")
            }
            BindError::Missing { names } => format!(
                "missing required argument{}: {}",
                if names.len() == 1 { "" } else { "s" },
                names
                    .iter()
                    .map(|name| format!("'{name}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!("{}() {what}; expected {}", self.name, self.signature())
    }
}

/// One parameter of a [`FunctionSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParamSpec {
    /// The Python name (an identifier).
    pub name: String,
    /// Whether a call must pass it.
    pub required: bool,
    /// Whether it may be passed positionally.
    #[serde(default)]
    pub kind: ParamKind,
}

impl ParamSpec {
    /// A keyword-only parameter.
    pub fn keyword(name: impl Into<String>, required: bool) -> Self {
        Self {
            name: name.into(),
            required,
            kind: ParamKind::KeywordOnly,
        }
    }

    /// A parameter that may also be passed positionally (e.g. an intent's `context`).
    pub fn positional(name: impl Into<String>, required: bool) -> Self {
        Self {
            name: name.into(),
            required,
            kind: ParamKind::PositionalOrKeyword,
        }
    }
}

/// How a parameter may be passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// By keyword only (after `*` in the signature); the default for bus method arguments.
    #[default]
    KeywordOnly,
    /// By position or keyword.
    PositionalOrKeyword,
}

/// Why a call does not fit a [`FunctionSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    /// More positional arguments than positional parameters.
    TooManyPositional {
        /// How many were passed.
        given: usize,
        /// How many the function takes.
        accepted: usize,
    },
    /// A keyword no parameter has.
    UnknownKeyword {
        /// The keyword.
        keyword: String,
        /// The closest parameter names.
        suggestions: Vec<String>,
    },
    /// A parameter passed both positionally and by keyword.
    Duplicate {
        /// The parameter.
        keyword: String,
    },
    /// Required parameters not passed.
    Missing {
        /// Their names.
        names: Vec<String>,
    },
}

/// An immutable, indexed set of [`FunctionSpec`]s with a content fingerprint, so a worker only
/// receives it again when it changed.
#[derive(Debug, Clone)]
pub struct FunctionSet {
    inner: Arc<FunctionSetInner>,
}

#[derive(Debug)]
struct FunctionSetInner {
    specs: Vec<FunctionSpec>,
    by_name: HashMap<String, usize>,
    fingerprint: u64,
    namespaces: BTreeMap<String, BTreeSet<String>>,
}

impl FunctionSet {
    /// Indexes `specs`. Specs with a malformed or duplicate name are dropped (the first wins),
    /// so a misbehaving catalogue cannot break the sandbox.
    pub fn new(specs: Vec<FunctionSpec>) -> Self {
        let mut kept = Vec::with_capacity(specs.len());
        let mut by_name = HashMap::new();
        let mut namespaces: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for spec in specs {
            if !is_dotted_identifier(&spec.name)
                || by_name.contains_key(&spec.name)
                || namespaces.contains_key(&spec.name)
                || !spec.params.iter().all(|param| is_identifier(&param.name))
            {
                continue;
            }
            let segments: Vec<&str> = spec.name.split('.').collect();
            let mut conflict = false;
            for depth in 1..segments.len() {
                if by_name.contains_key(&segments[..depth].join(".")) {
                    conflict = true;
                }
            }
            if conflict {
                continue;
            }
            for depth in 1..segments.len() {
                let parent = segments[..depth].join(".");
                namespaces
                    .entry(parent)
                    .or_default()
                    .insert(segments[depth].to_owned());
            }
            namespaces
                .entry(String::new())
                .or_default()
                .insert(segments[0].to_owned());
            by_name.insert(spec.name.clone(), kept.len());
            kept.push(spec);
        }
        let mut hasher = DefaultHasher::new();
        kept.hash(&mut hasher);
        Self {
            inner: Arc::new(FunctionSetInner {
                fingerprint: hasher.finish(),
                specs: kept,
                by_name,
                namespaces,
            }),
        }
    }

    /// An empty set (snippets that make no bus calls).
    pub fn empty() -> Self {
        Self::new(Vec::new())
    }

    /// Every spec, in the order given.
    pub fn specs(&self) -> &[FunctionSpec] {
        &self.inner.specs
    }

    /// The spec at a dotted path.
    pub fn get(&self, name: &str) -> Option<&FunctionSpec> {
        self.inner
            .by_name
            .get(name)
            .and_then(|index| self.inner.specs.get(*index))
    }

    /// A hash of the content; equal sets have equal fingerprints.
    pub fn fingerprint(&self) -> u64 {
        self.inner.fingerprint
    }

    /// Whether `path` is a namespace (`crm`, or `crm.clients` for deeper paths).
    pub fn is_namespace(&self, path: &str) -> bool {
        !path.is_empty() && self.inner.namespaces.contains_key(path)
    }

    /// The names directly under a namespace (`""` for the top level).
    pub fn members(&self, namespace: &str) -> impl Iterator<Item = &str> {
        self.inner
            .namespaces
            .get(namespace)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The top-level names: namespaces and global functions.
    pub fn top_level(&self) -> impl Iterator<Item = &str> {
        self.members("")
    }

    /// The closest existing function paths to a wrong one, best first (at most `count`).
    pub fn suggest(&self, wrong: &str, count: usize) -> Vec<String> {
        closest(
            wrong,
            self.inner.specs.iter().map(|spec| spec.name.as_str()),
            count,
        )
    }
}

/// The `count` candidates closest to `wrong` by edit distance (case-insensitive, with a bonus
/// for a shared last segment), keeping only plausible ones.
pub fn closest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    count: usize,
) -> Vec<String> {
    let wrong_lower = wrong.to_lowercase();
    let wrong_last = wrong_lower
        .rsplit('.')
        .next()
        .unwrap_or(&wrong_lower)
        .to_owned();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let last = lower.rsplit('.').next().unwrap_or(&lower);
            let whole = levenshtein(&wrong_lower, &lower);
            let tail = levenshtein(&wrong_last, last);
            let score = whole.min(tail + 1);
            let budget = (wrong.chars().count().max(3) / 2).max(2);
            let contains = last.contains(wrong_last.as_str()) || wrong_last.contains(last);
            (score <= budget || contains).then_some((score, candidate))
        })
        .collect();
    scored.sort_by(|left, right| left.0.cmp(&right.0).then(left.1.cmp(right.1)));
    scored.dedup_by(|left, right| left.1 == right.1);
    scored
        .into_iter()
        .take(count)
        .map(|(_, name)| name.to_owned())
        .collect()
}

/// Edit distance over chars (insert, delete, substitute, swap two neighbours).
fn levenshtein(left: &str, right: &str) -> usize {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    let width = right.len() + 1;
    let mut table = vec![0usize; (left.len() + 1) * width];
    for (j, cell) in table.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=left.len() {
        table[i * width] = i;
        for j in 1..=right.len() {
            let cost = usize::from(left[i - 1] != right[j - 1]);
            let mut best = (table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1)
                .min(table[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && left[i - 1] == right[j - 2] && left[i - 2] == right[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[left.len() * width + right.len()]
}

/// Whether `text` is a Python identifier (ASCII letters, digits, `_`; not a digit first) and
/// not a keyword.
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|char| char.is_ascii_alphanumeric() || char == '_')
        && !PYTHON_KEYWORDS.contains(&text)
}

fn is_dotted_identifier(text: &str) -> bool {
    text.split('.').all(is_identifier)
}

const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if signature"
)]
fn is_false(value: &bool) -> bool {
    !*value
}
