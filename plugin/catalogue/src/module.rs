//! The whole API as one runnable Python module: the prelude (imports, helper types, errors and
//! the `_codemode_call` hook), the FDC3 context types, every app TypedDict (dependencies first),
//! one class per namespace with `@staticmethod` functions, the `intents` class and the two
//! builtins. The sandbox executes it and installs the real `_codemode_call`; the tests
//! type-check it with mypy.

use std::sync::Arc;

use super::{
    PythonCatalogue, fdc3, group_of,
    render::{Mode, comment, one_line, ordered_structs, prelude, struct_code},
    types::StructDef,
};

impl PythonCatalogue {
    /// The complete module source for this catalogue version.
    pub fn module_source(&self) -> String {
        let mut out = prelude(self.version);
        out.reserve(self.slots.len() * 600);
        for block in fdc3::blocks() {
            out.push_str("\n\n");
            out.push_str(&block.code);
        }

        let roots: Vec<Arc<StructDef>> = self
            .registry
            .all()
            .into_iter()
            .map(|(_, def)| def)
            .collect();
        for (name, def) in ordered_structs(&roots, &self.registry) {
            out.push_str("\n\n");
            out.push_str(&struct_code(&name, &def, &self.registry));
        }

        let mut current: Option<&str> = None;
        let mut builtins: Vec<u32> = Vec::new();
        for &id in self.ordered.values() {
            let Some(view) = self.view(id) else {
                continue;
            };
            if view.function.namespace.is_empty() {
                builtins.push(id);
                continue;
            }
            let group = group_of(view.qualified);
            if current == Some(group) {
                out.push('\n');
            } else {
                out.push_str("\n\nclass ");
                out.push_str(group);
                out.push_str(":\n");
                if let Some(stats) = self.namespaces.get(group) {
                    let apps: Vec<&str> = stats
                        .apps
                        .iter()
                        .take(5)
                        .map(|(app, _)| app.as_str())
                        .collect();
                    if !apps.is_empty() {
                        out.push_str("    # apps: ");
                        out.push_str(&comment(&one_line(&apps.join(", "))));
                        out.push('\n');
                    }
                }
                current = Some(group);
            }
            out.push_str(&view.code(Mode::Module));
        }
        for id in builtins {
            if let Some(view) = self.view(id) {
                out.push_str("\n\n");
                out.push_str(&view.code(Mode::Module));
            }
        }
        out
    }
}
