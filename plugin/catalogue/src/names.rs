//! Python identifiers from hostile bus names, and the table that keeps them collision-free.
//!
//! Every generated name is ASCII (Python would NFKC-normalise other identifiers, so two
//! different wire names could silently become one), never a keyword, never shadows a name the
//! generated module or a snippet relies on, and is capped in length. Collisions are resolved
//! by [`NameTable`]: the first member of a group (by a stable priority key) keeps the plain
//! name, later ones get `_2`, `_3`, … — skipping any suffixed name that is itself some other
//! group's plain name, so the result is a pure function of the current set of names whether it
//! was built at once or incrementally.

use std::sync::Arc;

use foldhash::HashMap;

/// Longest generated function, namespace or argument name (in ASCII characters).
const MAX_IDENT: usize = 48;
/// Longest generated TypedDict name.
const MAX_TYPE_NAME: usize = 48;

/// Python keywords (hard ones; soft keywords are valid names).
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Builtins and common modules a snippet uses; a namespace must never shadow them.
const MODULE_RESERVED: &[&str] = &[
    // builtins
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    // standard modules a snippet may import
    "asyncio",
    "base64",
    "collections",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "hashlib",
    "itertools",
    "json",
    "math",
    "operator",
    "os",
    "random",
    "re",
    "statistics",
    "string",
    "sys",
    "textwrap",
    "time",
    "typing",
    "uuid",
    // the generated module's own names
    "intents",
    "channels",
    "raise_intent",
    "find_intents",
    "overload",
    "cast",
    "self",
    "cls",
];

/// Names a function inside a namespace class must not take: the class body refers to them.
const CLASS_RESERVED: &[&str] = &[
    "raise_for_context",
    "bool",
    "datetime",
    "dict",
    "float",
    "int",
    "list",
    "object",
    "overload",
    "staticmethod",
    "str",
];

/// Argument names the generated signatures use themselves.
const ARG_RESERVED: &[&str] = &["target", "kwargs", "self", "cls"];

/// PascalCase names the module defines (or Python builtins); TypedDicts must not take them.
const TYPE_RESERVED: &[&str] = &[
    "Any",
    "ApprovalDeniedError",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BusError",
    "BusTimeoutError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "Context",
    "DeprecationWarning",
    "DisconnectedError",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "ChannelInfo",
    "IntentHandlerInfo",
    "IntentNotResolvedError",
    "IntentSummary",
    "IntentTarget",
    "InterruptedError",
    "InvalidArgumentsError",
    "InvocationFailedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "Literal",
    "LookupError",
    "Mapping",
    "MemoryError",
    "MethodNotFoundError",
    "ModuleNotFoundError",
    "NameError",
    "NoMatchingServerError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "NotRequired",
    "OSError",
    "OverflowError",
    "PeerLeftError",
    "PendingDeprecationWarning",
    "PermissionError",
    "PolicyError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "ServerResult",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "Target",
    "TimeoutError",
    "True",
    "TypeError",
    "TypedDict",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
];

/// True for a Python keyword.
pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// True when `name` can be written as a bare attribute or class-body field in generated code.
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(name)
}

/// Where a snake_case name will live; decides the reserved words and the digit prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    /// A namespace class at module level.
    Namespace,
    /// A function inside a namespace class.
    Function,
    /// A keyword argument.
    Argument,
}

/// Converts any text to a snake_case Python identifier for `kind` (never empty, never reserved).
pub(crate) fn snake_ident(text: &str, kind: NameKind) -> String {
    let mut name = snake_words(text);
    truncate_ident(&mut name, MAX_IDENT);
    let (fallback, prefix) = match kind {
        NameKind::Namespace => ("bus", "ns_"),
        NameKind::Function => ("unnamed", "fn_"),
        NameKind::Argument => ("arg", "arg_"),
    };
    if name.is_empty() {
        return fallback.to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, prefix);
    }
    let reserved = is_keyword(&name)
        || match kind {
            NameKind::Namespace => MODULE_RESERVED.contains(&name.as_str()),
            NameKind::Function => CLASS_RESERVED.contains(&name.as_str()),
            NameKind::Argument => ARG_RESERVED.contains(&name.as_str()),
        };
    if reserved {
        name.push('_');
    }
    name
}

/// Splits text into lower-case ASCII words (camelCase, digits and separators aware) joined by `_`.
fn snake_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_IDENT) + 4);
    let mut pending_sep = false;
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // The name is cut to MAX_IDENT later; stop early on long (or hostile) input.
        if out.len() > MAX_IDENT {
            break;
        }
        let before = prev;
        prev = Some(c);
        if !c.is_ascii() {
            // Latin letters with diacritics keep their base letters; anything else separates.
            if let Some(folded) = fold_latin(c) {
                let after_lower = before.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
                if (pending_sep || (c.is_uppercase() && after_lower)) && !out.is_empty() {
                    out.push('_');
                }
                pending_sep = false;
                out.push_str(folded);
            } else {
                pending_sep = true;
            }
            continue;
        }
        if !c.is_ascii_alphanumeric() {
            pending_sep = true;
            continue;
        }
        if c.is_ascii_uppercase() {
            let after_lower = before.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            let acronym_end = before.is_some_and(|p| p.is_ascii_uppercase())
                && chars.peek().is_some_and(char::is_ascii_lowercase);
            if after_lower || acronym_end {
                pending_sep = true;
            }
        }
        if pending_sep && !out.is_empty() {
            out.push('_');
        }
        pending_sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The lower-case ASCII base letters of a Latin letter with a diacritic (`Ü` → `u`, `ß` → `ss`).
fn fold_latin(c: char) -> Option<&'static str> {
    let lower = c.to_lowercase().next()?;
    Some(match lower {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ł' | 'ľ' | 'ĺ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' | 'ŕ' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'þ' => "th",
        _ => return None,
    })
}

/// Converts text to a PascalCase type name (ASCII, no underscores, never reserved-free-checked).
pub(crate) fn pascal_ident(text: &str) -> String {
    let mut out = String::new();
    for word in snake_words(text).split('_').filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    truncate_ident(&mut out, MAX_TYPE_NAME);
    if out.is_empty() {
        return "Struct".to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// A plausible singular for an array item's type name (`clients` → `Client`).
pub(crate) fn singular(word: &str) -> &str {
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word.get(..word.len() - 1).unwrap_or(word)
    } else {
        word
    }
}

/// True when `name` is a reserved PascalCase name (builtins, prelude, FDC3 classes).
pub(crate) fn is_reserved_type_name(name: &str) -> bool {
    TYPE_RESERVED.contains(&name) || super::fdc3::class_exists(name)
}

/// Cuts an ASCII identifier to `max` characters and drops trailing underscores.
fn truncate_ident(name: &mut String, max: usize) {
    if name.len() > max {
        name.truncate(max);
    }
    while name.ends_with('_') {
        name.pop();
    }
}

/// Splits `base_<k>` (k ≥ 2, no leading zero) into its base and k.
fn split_suffix(name: &str) -> Option<(&str, u32)> {
    let (base, digits) = name.rsplit_once('_')?;
    if base.is_empty() || digits.is_empty() || digits.starts_with('0') {
        return None;
    }
    let k: u32 = digits.parse().ok()?;
    (k >= 2).then_some((base, k))
}

/// A stable identity of one function within its collision group; shared by the function, its
/// name group and the TypedDicts it uses (it holds the method's signatures, so it is long).
pub(crate) type Priority = Arc<str>;

/// Resolves candidate names (`namespace.base`) to unique qualified Python names.
///
/// Keys are qualified names (`crm.get_clients`); `.` never occurs inside a generated name, so
/// the key is unambiguous. Members of a group are ordered by their [`Priority`].
#[derive(Debug, Clone, Default)]
pub(crate) struct NameTable {
    /// Candidate qualified name → members ordered by priority, each once. Nearly every group
    /// has one member: a sorted vector, not a set with a B-tree node per group.
    groups: HashMap<String, Vec<(Priority, u32)>>,
    /// Qualified name → the function that holds it.
    taken: HashMap<String, u32>,
    /// Function → its resolved qualified name.
    assigned: HashMap<u32, String>,
}

impl NameTable {
    /// The resolved qualified name of `id`.
    pub(crate) fn name_of(&self, id: u32) -> Option<&str> {
        self.assigned.get(&id).map(String::as_str)
    }

    /// Adds function `id` with candidate `candidate`; returns every function whose name changed
    /// (including `id` itself).
    pub(crate) fn insert(&mut self, candidate: &str, priority: Priority, id: u32) -> Vec<u32> {
        let mut changed = Vec::new();
        let is_new_group = !self.groups.contains_key(candidate);
        let members = self.groups.entry(candidate.to_owned()).or_default();
        let member = (priority, id);
        if let Err(index) = members.binary_search(&member) {
            members.insert(index, member);
        }
        if is_new_group {
            // The candidate may be some other group's suffixed name: that group must move.
            if let Some((base, _)) = split_suffix(candidate)
                && self.groups.contains_key(base)
            {
                let base = base.to_owned();
                self.resolve(&base, &mut changed);
            }
        }
        self.resolve(candidate, &mut changed);
        changed
    }

    /// Removes function `id` (which had candidate `candidate`); returns the functions whose
    /// names changed (not `id` itself, which simply loses its name).
    pub(crate) fn remove(&mut self, candidate: &str, priority: &Priority, id: u32) -> Vec<u32> {
        let mut changed = Vec::new();
        if let Some(old) = self.assigned.remove(&id)
            && self.taken.get(&old) == Some(&id)
        {
            self.taken.remove(&old);
        }
        let now_empty = match self.groups.get_mut(candidate) {
            Some(members) => {
                if let Ok(index) = members.binary_search_by(|(p, i)| {
                    p.as_ref().cmp(priority.as_ref()).then_with(|| i.cmp(&id))
                }) {
                    members.remove(index);
                }
                members.is_empty()
            }
            None => false,
        };
        if now_empty {
            self.groups.remove(candidate);
            // The plain name is free again: a group that skipped it may now take it.
            if let Some((base, _)) = split_suffix(candidate)
                && self.groups.contains_key(base)
            {
                let base = base.to_owned();
                self.resolve(&base, &mut changed);
            }
        } else {
            self.resolve(candidate, &mut changed);
        }
        changed
    }

    /// Reassigns every member of group `candidate`; pushes the ids whose names changed.
    fn resolve(&mut self, candidate: &str, changed: &mut Vec<u32>) {
        let Some(members) = self.groups.get(candidate) else {
            return;
        };
        let ids: Vec<u32> = members.iter().map(|(_, id)| *id).collect();
        for id in &ids {
            if let Some(old) = self.assigned.get(id)
                && self.taken.get(old) == Some(id)
            {
                self.taken.remove(old);
            }
        }
        let mut k: u32 = 1;
        for id in ids {
            let name = if k == 1 {
                candidate.to_owned()
            } else {
                loop {
                    let name = format!("{candidate}_{k}");
                    if !self.groups.contains_key(&name) && !self.taken.contains_key(&name) {
                        break name;
                    }
                    k = k.saturating_add(1);
                }
            };
            k = k.saturating_add(1);
            if self.assigned.get(&id) != Some(&name) {
                changed.push(id);
            }
            self.taken.insert(name.clone(), id);
            self.assigned.insert(id, name);
        }
    }
}
