//! Tolerant parser for io.Connect `accepts`/`returns` signature strings.
//!
//! io.Connect (Glue42) interop methods describe their arguments and results
//! with free-form signature strings such as
//! `"String? adviser, Composite: { String id, Double aum }[] clients"`.
//! Gateways never validate them, so real applications write many loose
//! variants. This module turns any such string into a typed [`Signature`]
//! tree that later stages render as type hints.
//!
//! The parser never fails: text it cannot make sense of becomes
//! [`SigType::Any`] with the original text kept, and a malformed parameter
//! never drops its neighbours. Composite nesting is capped at
//! [`MAX_DEPTH`] levels so hostile input cannot exhaust the stack.

use std::convert::Infallible;
use std::str::FromStr;

use serde::Serialize;

/// Deepest composite nesting that is parsed; deeper schemas become a single
/// [`SigType::Any`] field holding their raw text.
pub const MAX_DEPTH: usize = 32;

/// Most array dimensions (`T[][]…`) accepted on one parameter; more make the
/// parameter [`SigType::Any`].
const MAX_ARRAY_DIMS: usize = 8;

/// Longest raw text shown by [`SigType::describe`] for an `Any` type.
const DESCRIBE_RAW_CHARS: usize = 40;

/// A parsed signature: the parameters in order plus the raw text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// The parameters, in source order (empty for a blank or absent signature).
    pub params: Vec<Param>,
    /// The signature text exactly as given.
    pub raw: String,
}

/// One parameter (or one composite field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    /// The parameter name; `None` when the signature omits it.
    pub name: Option<String>,
    /// The parameter type.
    pub ty: SigType,
    /// The `?` modifier.
    pub optional: bool,
    /// Text inside the trailing parentheses.
    pub description: Option<String>,
    /// The parameter's own source text, trimmed.
    pub raw: String,
}

/// The type of a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SigType {
    /// `bool` / `boolean`.
    Bool,
    /// `int` / `integer`.
    Int,
    /// `long`.
    Long,
    /// `double` / `float`.
    Double,
    /// `string`.
    String,
    /// `datetime` / `date`.
    DateTime,
    /// `composite`/`tuple`; `fields` is None when no `{…}` schema was given.
    Composite {
        /// True for `tuple`, false for `composite`.
        tuple: bool,
        /// The name written before the schema (`Composite:Client{…}`).
        type_name: Option<String>,
        /// The schema's fields; `None` when no `{…}` schema was given.
        fields: Option<Vec<Param>>,
    },
    /// `T[]`.
    Array {
        /// The element type.
        item: Box<SigType>,
    },
    /// Unknown or unparseable; `raw` keeps the original text.
    Any {
        /// The original text (a type word, or the whole parameter).
        raw: String,
    },
}

/// Parses a signature string; never fails (unparseable parts become `SigType::Any`).
pub fn parse_signature(text: &str) -> Signature {
    Signature {
        params: parse_list(text, 0),
        raw: text.to_owned(),
    }
}

impl Signature {
    /// True when every parameter parsed to a known type (no `Any` anywhere, recursively).
    pub fn is_fully_typed(&self) -> bool {
        let mut stack: Vec<&SigType> = self.params.iter().map(|p| &p.ty).collect();
        while let Some(ty) = stack.pop() {
            match ty {
                SigType::Any { .. } => return false,
                SigType::Array { item } => stack.push(item),
                SigType::Composite {
                    fields: Some(fields),
                    ..
                } => stack.extend(fields.iter().map(|p| &p.ty)),
                _ => {}
            }
        }
        true
    }

    /// Finds a parameter by name (exact match).
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name.as_deref() == Some(name))
    }
}

impl FromStr for Signature {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(parse_signature(s))
    }
}

impl SigType {
    /// A compact canonical rendering such as `string`, `composite Client{...}[]`, for logs and docstrings.
    pub fn describe(&self) -> String {
        let mut dims = 0usize;
        let mut base = self;
        while let SigType::Array { item } = base {
            dims += 1;
            base = item;
        }
        let mut out = match base {
            SigType::Bool => "bool".to_owned(),
            SigType::Int => "int".to_owned(),
            SigType::Long => "long".to_owned(),
            SigType::Double => "double".to_owned(),
            SigType::String => "string".to_owned(),
            SigType::DateTime => "datetime".to_owned(),
            SigType::Composite {
                tuple,
                type_name,
                fields,
            } => {
                let mut s = if *tuple { "tuple" } else { "composite" }.to_owned();
                if let Some(name) = type_name {
                    s.push(' ');
                    s.push_str(name);
                }
                match fields {
                    Some(f) if f.is_empty() => s.push_str("{}"),
                    Some(_) => s.push_str("{...}"),
                    None => {}
                }
                s
            }
            SigType::Any { raw } => describe_any(raw),
            // Unreachable: arrays were peeled off above.
            SigType::Array { .. } => "any".to_owned(),
        };
        for _ in 0..dims {
            out.push_str("[]");
        }
        out
    }
}

/// Renders an `Any` type, keeping a short prefix of its raw text.
fn describe_any(raw: &str) -> String {
    let raw = raw.trim();
    if raw.is_empty() {
        return "any".to_owned();
    }
    let mut shown: String = raw.chars().take(DESCRIBE_RAW_CHARS).collect();
    if raw.chars().nth(DESCRIBE_RAW_CHARS).is_some() {
        shown.push('…');
    }
    format!("any({shown})")
}

/// Parses a comma-separated parameter list at composite nesting `depth`.
fn parse_list(text: &str, depth: usize) -> Vec<Param> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if depth >= MAX_DEPTH {
        return vec![any_param(trimmed)];
    }
    split_top_level(text)
        .into_iter()
        .map(str::trim)
        .filter(|seg| !seg.is_empty())
        .map(|seg| parse_param(seg, depth))
        .collect()
}

/// Splits on commas that are outside every `{…}` and `(…)` group.
/// Stray closers are ignored; an unclosed opener runs to the end of the text.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, ch) in text.char_indices() {
        match ch {
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(text.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text.get(start..).unwrap_or(""));
    out
}

/// A parameter whose text could not be understood at all.
fn any_param(raw: &str) -> Param {
    Param {
        name: None,
        ty: SigType::Any {
            raw: raw.to_owned(),
        },
        optional: false,
        description: None,
        raw: raw.to_owned(),
    }
}

/// Maps a lower-cased scalar keyword (or synonym) to its type.
fn scalar(word: &str) -> Option<SigType> {
    Some(match word {
        "bool" | "boolean" => SigType::Bool,
        "int" | "integer" => SigType::Int,
        "long" => SigType::Long,
        "double" | "float" => SigType::Double,
        "string" => SigType::String,
        "datetime" | "date" => SigType::DateTime,
        _ => return None,
    })
}

/// Parses one parameter: `type [array] [?] [name] [(description)]`.
fn parse_param(segment: &str, depth: usize) -> Param {
    let raw = segment.trim();
    let mut cur = Cursor::new(raw);
    let Some(word) = cur.ident() else {
        return any_param(raw);
    };
    let lower = word.to_ascii_lowercase();
    let mut dims = 0usize;
    let mut optional = false;
    let base = if let Some(ty) = scalar(&lower) {
        ty
    } else if lower == "composite" || lower == "tuple" {
        parse_complex(&mut cur, lower == "tuple", depth, &mut dims, &mut optional)
    } else {
        parse_unknown(&mut cur, word)
    };

    cur.modifiers(&mut dims, &mut optional);
    let name = cur.ident().map(str::to_owned);
    // Tolerate `name?` / `name[]` as well as the documented prefix order.
    cur.modifiers(&mut dims, &mut optional);
    let description = if cur.peek() == Some('(') {
        let text = cur.group().trim();
        (!text.is_empty()).then(|| text.to_owned())
    } else {
        None
    };
    cur.skip_ws();

    let ty = if !cur.at_end() || dims > MAX_ARRAY_DIMS {
        SigType::Any {
            raw: raw.to_owned(),
        }
    } else {
        (0..dims).fold(base, |item, _| SigType::Array {
            item: Box::new(item),
        })
    };
    Param {
        name,
        ty,
        optional,
        description,
        raw: raw.to_owned(),
    }
}

/// Parses what follows a `composite`/`tuple` keyword:
/// `[":"] [array] [typename] ["{" signature "}"]`.
///
/// An identifier is a type name only when a `{` schema or another identifier
/// (the parameter name) follows it; otherwise it is left for the caller to
/// read as the parameter name (`composite: order`).
fn parse_complex(
    cur: &mut Cursor<'_>,
    tuple: bool,
    depth: usize,
    dims: &mut usize,
    optional: &mut bool,
) -> SigType {
    cur.skip_ws();
    cur.eat(':');
    cur.modifiers(dims, optional);

    let mut type_name = None;
    let before_ident = cur.pos;
    if let Some(id) = cur.ident() {
        let mut look = cur.clone();
        look.skip_ws();
        let is_type_name = look.peek() == Some('{') || {
            let (mut d, mut o) = (0usize, false);
            look.modifiers(&mut d, &mut o);
            look.ident().is_some()
        };
        if is_type_name {
            type_name = Some(id.to_owned());
        } else {
            cur.pos = before_ident;
        }
    }

    cur.skip_ws();
    let fields = if cur.peek() == Some('{') {
        Some(parse_list(cur.group(), depth + 1))
    } else {
        None
    };
    SigType::Composite {
        tuple,
        type_name,
        fields,
    }
}

/// An unknown type word, plus an immediately following `{…}` group if any.
fn parse_unknown(cur: &mut Cursor<'_>, word: &str) -> SigType {
    let start = cur.pos.saturating_sub(word.len());
    let mut look = cur.clone();
    look.skip_ws();
    if look.peek() == Some('{') {
        look.group();
        *cur = look;
    }
    let raw = cur.src.get(start..cur.pos).unwrap_or(word).trim();
    SigType::Any {
        raw: raw.to_owned(),
    }
}

/// True for characters allowed in names and type names.
fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '-')
}

/// A position in one parameter's text. All slicing goes through `str::get`.
#[derive(Clone)]
struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn at_end(&self) -> bool {
        self.rest().trim().is_empty()
    }

    /// The next non-whitespace character, after skipping whitespace.
    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Reads an identifier after optional whitespace.
    fn ident(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|&(_, c)| !is_ident_char(c))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return None;
        }
        let id = rest.get(..len)?;
        self.pos += len;
        Some(id)
    }

    /// Consumes `[ ]` (whitespace allowed inside).
    fn eat_array(&mut self) -> bool {
        let save = self.pos;
        if self.eat('[') && self.eat(']') {
            return true;
        }
        self.pos = save;
        false
    }

    /// Consumes any run of `[]` and `?` modifiers, in any order.
    fn modifiers(&mut self, dims: &mut usize, optional: &mut bool) {
        loop {
            if self.eat_array() {
                *dims += 1;
            } else if self.eat('?') {
                *optional = true;
            } else {
                break;
            }
        }
    }

    /// Consumes a `{…}` or `(…)` group starting at the next character and
    /// returns its inner text. Braces and parentheses nest together; an
    /// unclosed group runs to the end of the text.
    fn group(&mut self) -> &'a str {
        self.skip_ws();
        let rest = self.rest();
        let mut depth = 0usize;
        for (i, ch) in rest.char_indices() {
            match ch {
                '{' | '(' => depth += 1,
                '}' | ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += i + 1;
                        return rest.get(1..i).unwrap_or("");
                    }
                }
                _ => {}
            }
        }
        self.pos = self.src.len();
        rest.get(1..).unwrap_or("")
    }
}
