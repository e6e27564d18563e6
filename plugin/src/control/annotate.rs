//! The class of each function in the text the model reads: a listing line ends with
//! `[writes — needs approval]`, a stub gets a `# writes — needs approval` comment above its
//! `def`, so the model plans for approvals (and for refusals in read-only mode).

use std::collections::HashMap;

/// Labels by Python name (functions without a label are plain reads).
pub type Labels = HashMap<String, &'static str>;

/// The label of a function of `writes` class under the policy's approval and read-only rules
/// (none when neither applies to it).
pub fn label(writes: bool, needs_approval: bool, read_only: bool) -> Option<&'static str> {
    match (writes, needs_approval, read_only) {
        (true, _, true) => Some("writes — refused (read-only policy)"),
        (true, true, false) => Some("writes — needs approval"),
        (false, true, _) => Some("reads — needs approval"),
        // Without approvals or read-only mode the class changes nothing for the model.
        (true | false, false, _) => None,
    }
}

/// Appends ` [label]` to listing lines `name(...) ...`.
pub fn listing(text: &str, labels: &Labels) -> String {
    if labels.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(body);
        if let Some((name, _)) = body.split_once('(')
            && !name.contains(' ')
            && let Some(label) = labels.get(name)
        {
            out.push_str(" [");
            out.push_str(label);
            out.push(']');
        }
        out.push_str(newline);
    }
    out
}

/// Puts `# label` above the first `def` of each labelled function in stub text.
pub fn stubs(text: &str, labels: &Labels) -> String {
    if labels.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut namespace: Option<&str> = None;
    let mut done: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("class ") {
            namespace = rest.split([':', '(']).next().map(str::trim);
        } else if !line.starts_with([' ', '\t', '\n', '@', '#']) && !line.trim().is_empty() {
            namespace = None;
        }
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("def ")
            && let Some((name, _)) = rest.split_once('(')
        {
            let indent = &line[..line.len() - trimmed.len()];
            let qualified = match (indent.is_empty(), namespace) {
                (true, _) | (false, None) => name.to_owned(),
                (false, Some(namespace)) => format!("{namespace}.{name}"),
            };
            if let Some(label) = labels.get(&qualified)
                && !done.contains(&qualified)
            {
                out.push_str(indent);
                out.push_str("# ");
                out.push_str(label);
                out.push('\n');
                done.push(qualified);
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Labels, listing, stubs};

    #[test]
    fn listing_lines_and_stubs_carry_the_class() {
        let labels: Labels = [("crm.set_adviser".to_owned(), "writes — needs approval")].into();
        let text = "# crm — CRM · 2 functions\ncrm.get_clients(adviser?) -> R — Lists.\ncrm.set_adviser(client_id, adviser) -> Any — Sets.\n";
        let out = listing(text, &labels);
        assert!(out.contains(
            "crm.set_adviser(client_id, adviser) -> Any — Sets. [writes — needs approval]\n"
        ));
        assert!(out.contains("crm.get_clients(adviser?) -> R — Lists.\n"));
        let stub = "class crm:\n    @staticmethod\n    def set_adviser(*, client_id: str) -> Any:\n        \"\"\"Sets.\"\"\"\n";
        let out = stubs(stub, &labels);
        assert!(
            out.contains("    # writes — needs approval\n    def set_adviser("),
            "{out}"
        );
    }
}
