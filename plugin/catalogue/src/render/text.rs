//! Foreign text made safe for Python source (string literals, docstrings, comments) and the
//! small text helpers of stubs and listings (quoting, lists cut short, first sentences).

use std::fmt::Write as _;

/// A Python string literal (double-quoted) holding exactly `text`.
pub(crate) fn py_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Docstring content: the text is kept readable but can never close the string early, end in
/// a backslash or smuggle control characters. Lines are indented by `indent`.
pub(crate) fn doc_text(text: &str, indent: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let chars: Vec<char> = normalized.chars().collect();
    let mut out = String::with_capacity(normalized.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => {
                let next = chars.get(i + 1).copied();
                if next.is_none() || next == Some('"') {
                    out.push_str("\\\"");
                } else {
                    out.push('"');
                }
            }
            '\n' => {
                out.push('\n');
                if chars.get(i + 1).is_some_and(|n| *n != '\n') {
                    out.push_str(indent);
                }
            }
            '\t' => out.push_str("    "),
            c if needs_escape(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Foreign text on one line: whitespace runs collapse, control and invisible characters go.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || needs_escape(c) {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// A `# comment` line body (one line, safe).
pub(crate) fn comment(text: &str) -> String {
    one_line(text)
}

/// Characters never written raw: controls, line/paragraph separators, bidi and zero-width marks.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Writes `c` as a Python escape sequence.
fn push_escape(out: &mut String, c: char) {
    let code = u32::from(c);
    if code <= 0xFF {
        let _ = write!(out, "\\x{code:02x}");
    } else if code <= 0xFFFF {
        let _ = write!(out, "\\u{code:04x}");
    } else {
        let _ = write!(out, "\\U{code:08x}");
    }
}

/// `"text"` for a docstring: foreign text, on one line, in quotes.
pub(crate) fn quoted(text: &str) -> String {
    format!("\"{}\"", one_line(text))
}

/// `a, b, c and 4 more`.
pub(crate) fn list_cut(items: &[String], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(|s| one_line(s)).collect();
    let mut out = shown.join(", ");
    if items.len() > max {
        let _ = write!(out, " and {} more", items.len() - max);
    }
    out
}

/// The first sentence of a one-line text.
pub(crate) fn first_sentence(text: &str) -> String {
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find(". ")) {
        let end = from + found;
        let before = text.get(..end).unwrap_or("");
        // "e.g. " and "i.e. " do not end a sentence.
        if !(before.ends_with("e.g") || before.ends_with("i.e") || before.ends_with("etc")) {
            return text.get(..=end).unwrap_or(text).to_owned();
        }
        from = end + 2;
    }
    text.to_owned()
}

/// Cuts text at a word boundary to at most `max` characters, adding `…`.
pub(crate) fn cut_words(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let trimmed = match cut.rfind(' ') {
        Some(space) if space > max / 2 => cut.get(..space).unwrap_or(&cut).to_owned(),
        _ => cut,
    };
    format!("{}…", trimmed.trim_end_matches([',', ';', ':', ' ', '.']))
}
