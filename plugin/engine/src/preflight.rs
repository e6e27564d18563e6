//! Pre-flight: parse a snippet before it runs, check every catalogue call, decide whether the
//! run taints its worker, and rewrite the few constructs the interpreter needs help with.
//!
//! - **Checks.** Each call to a catalogue function (`crm.get_clients(...)`, `raise_intent(...)`)
//!   is bound against its [`FunctionSpec`]: an unknown function gets the closest names, unknown
//!   or missing keyword arguments a `TypeError` with the signature. A snippet that fails here
//!   makes no bus call at all.
//! - **Taint.** Dunder or private attributes, attribute stores, `setattr`/`delattr` and
//!   computed `getattr` can reach state shared with later runs; such a run is allowed, but
//!   its worker is recycled afterwards.
//! - **Rewrites** (same lines, so line numbers stay right):
//!   - `gather(a(), b())` → `gather(*__cm_defer__(lambda: (a(), b(),)))`, so the calls written
//!     inside `gather(...)` start concurrently instead of one after the other;
//!   - top-level `await x` → `__cm_await__(lambda: (x))`, which RustPython 0.5 cannot compile
//!     natively;
//!   - a final expression statement `e` → `__cm_last__ = (e)`, so its value is the answer.
//!
//! A function whose app left the bus stays in the [`FunctionSet`] as a *departed* spec
//! ([`departed_spec`]): a call to it is answered with why (who left, when, what to do) as a
//! `MethodNotFoundError`, not "not a catalogue function". Pre-flight refuses such a call only
//! where it is certain to run (see `reach`): inside a `try` that catches it, or in code that
//! cannot run, the snippet goes ahead and the call raises at run time.
//!
//! Names are resolved flow-insensitively: a name bound anywhere in the snippet is never
//! reported, so the checks have no false positives on working code.

use std::{collections::HashSet, fmt::Write as _};

use ruff_text_size::Ranged;
use rustpython_vm::compiler::{
    ast::{
        self, Expr, ExprContext, Stmt,
        visitor::{self, Visitor},
    },
    parser,
};

use super::spec::{FunctionSet, FunctionSpec, ParamSpec, closest};

mod reach;

/// The rewritten global names the engine provides.
pub const DEFER_FUNCTION: &str = "__cm_defer__";
/// See [`DEFER_FUNCTION`].
pub const AWAIT_FUNCTION: &str = "__cm_await__";
/// The global that holds the last expression's value.
pub const LAST_VALUE: &str = "__cm_last__";

/// The exception class pre-flight reports for a call to a departed function.
pub const DEPARTED_KIND: &str = "MethodNotFoundError";

/// A spec that keeps a departed function's name in the sandbox so that calling it says why it
/// is gone (`message`) instead of "unknown". It accepts any keywords (and, for intents, the
/// context), so a call made out of pre-flight's sight still reaches the host, which refuses it.
pub fn departed_spec(name: &str, message: &str) -> FunctionSpec {
    FunctionSpec {
        name: name.to_owned(),
        params: if name.starts_with("intents.") {
            vec![ParamSpec::positional("context", false)]
        } else {
            Vec::new()
        },
        accepts_target: true,
        var_keywords: true,
        doc: Some(message.to_owned()),
        departed: Some(message.to_owned()),
    }
}

/// The departure message of a spec made by [`departed_spec`]; `None` for a live function.
pub fn departed_message(spec: &FunctionSpec) -> Option<&str> {
    spec.departed.as_deref()
}

/// What pre-flight learned about a snippet that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The source to compile (rewritten; same line structure as the original).
    pub source: String,
    /// Why the worker must be recycled after this run, if it must.
    pub taint: Option<String>,
    /// Whether the last statement's value is captured in [`LAST_VALUE`].
    pub captures_last_value: bool,
}

/// A problem that stops the run before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The Python exception type to report (`SyntaxError`, `TypeError`, `AttributeError`,
    /// `NameError`).
    pub kind: &'static str,
    /// What is wrong, with suggestions.
    pub message: String,
    /// The 1-based line.
    pub line: u32,
}

/// What pre-flight checks against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The catalogue functions.
    pub functions: &'a FunctionSet,
    /// Names that exist before the snippet runs (builtins and injected globals).
    pub known_globals: &'a HashSet<String>,
}

/// Parses and checks `source`; returns the analysis, or every issue found (at most 10).
pub fn analyse(source: &str, context: Context<'_>) -> Result<Analysis, Vec<Issue>> {
    let lines = LineIndex::new(source);
    let parsed = parser::parse_module(source).map_err(|error| {
        vec![Issue {
            kind: "SyntaxError",
            message: error.error.to_string(),
            line: lines.line_of(error.location.start().to_usize()),
        }]
    })?;
    let module = parsed.syntax();

    let mut binder = Binder::default();
    binder.visit_body(&module.body);

    let mut checker = Checker {
        context,
        bound: &binder.bound,
        star_import: binder.star_import,
        lines: &lines,
        issues: Vec::new(),
        taint: None,
        edits: Vec::new(),
        depth: 0,
        function_depth: 0,
        uncertain: 0,
        called: HashSet::new(),
        vetted: HashSet::new(),
    };
    checker.visit_body(&module.body);
    if !checker.issues.is_empty() {
        checker.issues.truncate(10);
        return Err(checker.issues);
    }

    let mut edits = checker.edits;
    let mut captures_last_value = false;
    if let Some(Stmt::Expr(last)) = module.body.last()
        && !matches!(
            *last.value,
            Expr::Starred(_) | Expr::Yield(_) | Expr::YieldFrom(_)
        )
    {
        let range = last.value.range();
        edits.push(Edit::insert(
            range.start().to_usize(),
            format!("{LAST_VALUE} = ("),
            Order::open(0),
        ));
        edits.push(Edit::insert(
            range.end().to_usize(),
            ")".to_owned(),
            Order::close(0),
        ));
        captures_last_value = true;
    }
    let taint = checker.taint;
    match apply_edits(source, edits) {
        Some(rewritten) => Ok(Analysis {
            source: rewritten,
            taint,
            captures_last_value,
        }),
        None => Ok(Analysis {
            source: source.to_owned(),
            taint,
            captures_last_value: false,
        }),
    }
}

/// Renders issues as one message (the first issue's line is the error's line).
pub fn describe(issues: &[Issue]) -> String {
    match issues {
        [] => String::new(),
        [one] => one.message.clone(),
        many => {
            let mut text = format!("{} problems found before running:", many.len());
            for issue in many {
                let _ = write!(text, "\n  line {}: {}", issue.line, issue.message);
            }
            text
        }
    }
}

/// Collects every name the snippet binds anywhere.
#[derive(Default)]
struct Binder {
    bound: HashSet<String>,
    star_import: bool,
}

impl<'a> Visitor<'a> for Binder {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.bound.insert(def.name.id.to_string());
            }
            Stmt::ClassDef(class) => {
                self.bound.insert(class.name.id.to_string());
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let name = alias.asname.as_ref().map_or_else(
                        || alias.name.id.split('.').next().unwrap_or("").to_owned(),
                        |asname| asname.id.to_string(),
                    );
                    self.bound.insert(name);
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    if alias.name.id.as_str() == "*" {
                        self.star_import = true;
                    }
                    let name = alias.asname.as_ref().unwrap_or(&alias.name);
                    self.bound.insert(name.id.to_string());
                }
            }
            Stmt::Global(global) => {
                for name in &global.names {
                    self.bound.insert(name.id.to_string());
                }
            }
            Stmt::Nonlocal(nonlocal) => {
                for name in &nonlocal.names {
                    self.bound.insert(name.id.to_string());
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(name) = expr
            && !matches!(name.ctx, ExprContext::Load)
        {
            self.bound.insert(name.id.to_string());
        }
        visitor::walk_expr(self, expr);
    }

    fn visit_parameter(&mut self, parameter: &'a ast::Parameter) {
        self.bound.insert(parameter.name.id.to_string());
        visitor::walk_parameter(self, parameter);
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(handler_inner) = handler;
        if let Some(name) = &handler_inner.name {
            self.bound.insert(name.id.to_string());
        }
        visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a ast::Pattern) {
        match pattern {
            ast::Pattern::MatchAs(capture) => {
                if let Some(name) = &capture.name {
                    self.bound.insert(name.id.to_string());
                }
            }
            ast::Pattern::MatchStar(star) => {
                if let Some(name) = &star.name {
                    self.bound.insert(name.id.to_string());
                }
            }
            ast::Pattern::MatchMapping(mapping) => {
                if let Some(rest) = &mapping.rest {
                    self.bound.insert(rest.id.to_string());
                }
            }
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }
}

struct Checker<'c> {
    context: Context<'c>,
    bound: &'c HashSet<String>,
    star_import: bool,
    lines: &'c LineIndex,
    issues: Vec<Issue>,
    taint: Option<String>,
    edits: Vec<Edit>,
    depth: u32,
    function_depth: u32,
    /// Above zero inside code with a fallback for a departed function (a `try` that catches
    /// `MethodNotFoundError`) or code that cannot run.
    uncertain: u32,
    /// Attribute chains already checked as call targets (by start offset).
    called: HashSet<usize>,
    /// Reflective callees (`getattr`, `attrgetter`, …) called with plain literal names (by
    /// start offset); any other mention of them taints.
    vetted: HashSet<usize>,
}

/// Functions that reach attributes by a name given at run time. Called with a literal public
/// name they are ordinary; passed around as values, or given a computed or private name, they
/// can walk to interpreter internals that no attribute in the source names.
const REFLECTIVE: &[&str] = &[
    "getattr",
    "hasattr",
    "setattr",
    "delattr",
    "attrgetter",
    "methodcaller",
];

/// Names whose use taints however they are used: they evaluate strings as code
/// (`typing.get_type_hints` evaluates string annotations), hand out objects by computed
/// attribute paths (`string.Formatter.get_field`), or change state every run shares (`csv`'s
/// dialect registry and field size limit).
const TAINTING_NAMES: &[&str] = &[
    "get_type_hints",
    "ForwardRef",
    "evaluate_forward_ref",
    "get_field",
    "register_dialect",
    "unregister_dialect",
    "field_size_limit",
];

/// Whether a reflective call names only literal, public attributes.
fn reflective_call_is_plain(name: &str, call: &ast::ExprCall) -> bool {
    let plain = |expr: &Expr| match expr {
        Expr::StringLiteral(text) => {
            let text = text.value.to_str();
            !text.is_empty() && !text.starts_with('_') && !text.contains("._")
        }
        _ => false,
    };
    let args = &call.arguments.args;
    match name {
        "getattr" | "hasattr" => args.get(1).is_some_and(plain),
        "attrgetter" => !args.is_empty() && args.iter().all(plain),
        "methodcaller" => args.first().is_some_and(plain),
        _ => false,
    }
}

impl Checker<'_> {
    fn issue(&mut self, kind: &'static str, message: String, offset: usize) {
        self.issues.push(Issue {
            kind,
            message,
            line: self.lines.line_of(offset),
        });
    }

    fn taint(&mut self, why: impl FnOnce() -> String) {
        if self.taint.is_none() {
            self.taint = Some(why());
        }
    }

    /// Whether a root name refers to the catalogue (not shadowed by the snippet).
    fn is_catalogue_root(&self, name: &str) -> bool {
        !self.bound.contains(name) && self.context.functions.top_level().any(|top| top == name)
    }

    fn is_known(&self, name: &str) -> bool {
        self.bound.contains(name)
            || self.context.known_globals.contains(name)
            || self.is_catalogue_root(name)
            || self.star_import
    }

    fn check_call(&mut self, call: &ast::ExprCall) {
        let Some(path) = dotted_path(&call.func) else {
            self.check_taint_call(call);
            return;
        };
        let offset = call.range.start().to_usize();
        let root = path.split('.').next().unwrap_or("");
        if !self.is_known(root) {
            // Catalogue names first: a typo of `crm` should not suggest `chr`.
            let suggestions = closest(root, self.context.functions.top_level(), 3);
            let hint = if suggestions.is_empty() {
                // A plain Python name: CPython's wording, with its one best guess.
                let mut candidates: Vec<&str> = self
                    .context
                    .known_globals
                    .iter()
                    .map(String::as_str)
                    .collect();
                candidates.extend(self.bound.iter().map(String::as_str));
                closest(root, candidates, 1)
                    .first()
                    .map(|name| format!(". Did you mean: '{name}'?"))
                    .unwrap_or_default()
            } else {
                did_you_mean(&suggestions)
            };
            self.issue(
                "NameError",
                format!("name '{root}' is not defined{hint}"),
                offset,
            );
            return;
        }
        if !self.is_catalogue_root(root) {
            self.check_taint_call(call);
            return;
        }
        self.called.insert(call.func.range().start().to_usize());
        let functions = self.context.functions;
        let Some(spec) = functions.get(&path) else {
            self.report_unknown_path(&path, offset, true);
            return;
        };
        if let Some(message) = departed_message(spec) {
            if self.uncertain == 0 {
                self.issue(DEPARTED_KIND, message.to_owned(), offset);
            }
            return;
        }
        let starred = call
            .arguments
            .args
            .iter()
            .any(|arg| matches!(arg, Expr::Starred(_)));
        let keywords: Vec<&str> = call
            .arguments
            .keywords
            .iter()
            .filter_map(|keyword| keyword.arg.as_ref().map(|arg| arg.id.as_str()))
            .collect();
        let open_keywords = starred
            || call
                .arguments
                .keywords
                .iter()
                .any(|keyword| keyword.arg.is_none());
        let positional = if starred {
            0
        } else {
            call.arguments.args.len()
        };
        if let Err(error) = spec.bind(positional, &keywords, open_keywords) {
            let message = spec.bind_error_message(&error);
            self.issue("TypeError", message, offset);
        }
    }

    /// An unknown catalogue path: name the closest functions, or the namespace's members.
    fn report_unknown_path(&mut self, path: &str, offset: usize, called: bool) {
        let functions = self.context.functions;
        if functions.is_namespace(path) {
            if called {
                let members: Vec<&str> = functions
                    .members(path)
                    .filter(|member| {
                        functions
                            .get(&format!("{path}.{member}"))
                            .is_none_or(|spec| departed_message(spec).is_none())
                    })
                    .take(8)
                    .collect();
                self.issue(
                    "TypeError",
                    format!(
                        "'{path}' is a namespace, not a function; it has: {}",
                        members.join(", ")
                    ),
                    offset,
                );
            }
            return;
        }
        // A prefix that is a function (e.g. `crm.get_clients.__doc__`) is not a catalogue path.
        let segments: Vec<&str> = path.split('.').collect();
        for depth in 1..segments.len() {
            if functions.get(&segments[..depth].join(".")).is_some() {
                return;
            }
        }
        // Departed functions are no help: suggest live ones only.
        let suggestions: Vec<String> = functions
            .suggest(path, 8)
            .into_iter()
            .filter(|name| {
                functions
                    .get(name)
                    .is_some_and(|spec| departed_message(spec).is_none())
            })
            .take(3)
            .collect();
        // With the signature, the model can fix the call without looking it up.
        let signatures: Vec<String> = suggestions
            .iter()
            .filter_map(|name| functions.get(name).map(FunctionSpec::signature))
            .collect();
        self.issue(
            "AttributeError",
            format!(
                "'{path}' is not a catalogue function{}",
                did_you_mean(&signatures)
            ),
            offset,
        );
    }

    /// Taints a mention of a reflective function other than a vetted call, and any mention of
    /// a tainting name (a snippet's own variable of that name is fine).
    fn check_reflective_mention(&mut self, name: &str, offset: usize) {
        if TAINTING_NAMES.contains(&name) {
            self.taint(|| format!("uses `{name}`"));
        } else if REFLECTIVE.contains(&name) && !self.vetted.contains(&offset) {
            self.taint(|| format!("uses `{name}` other than with a literal name"));
        }
    }

    fn check_taint_call(&mut self, call: &ast::ExprCall) {
        let callee = match &*call.func {
            Expr::Name(name) => Some(name.id.as_str()),
            Expr::Attribute(attribute) => Some(attribute.attr.id.as_str()),
            _ => None,
        };
        if let Some(callee) = callee
            && REFLECTIVE.contains(&callee)
        {
            if reflective_call_is_plain(callee, call) {
                self.vetted.insert(call.func.range().start().to_usize());
            } else {
                self.taint(|| format!("calls `{callee}` with a computed or private name"));
            }
        }
        if let Expr::Attribute(attribute) = &*call.func
            && attribute.attr.id.as_str() == "register"
        {
            // `collections.abc.Mapping.register(cls)` changes a registry every run shares.
            self.taint(|| "calls a `register` method".to_owned());
        }
        let Expr::Name(name) = &*call.func else {
            return;
        };
        if self.bound.contains(name.id.as_str()) {
            return;
        }
        match name.id.as_str() {
            "setattr" | "delattr" => self.taint(|| format!("calls `{}`", name.id)),
            "getattr" | "hasattr" => {
                let literal = call.arguments.args.get(1).and_then(|arg| match arg {
                    Expr::StringLiteral(text) => Some(text.value.to_str().to_owned()),
                    _ => None,
                });
                match literal {
                    Some(text) if !text.starts_with('_') => {}
                    _ => self.taint(|| format!("calls `{}` with a computed name", name.id)),
                }
            }
            _ => {}
        }
    }

    fn rewrite_gather(&mut self, call: &ast::ExprCall) {
        let Expr::Name(name) = &*call.func else {
            return;
        };
        if name.id.as_str() != "gather" || self.bound.contains("gather") {
            return;
        }
        let args = &call.arguments.args;
        let (Some(first), Some(last)) = (args.first(), args.last()) else {
            return;
        };
        let positional_end = last.range().end().to_usize();
        if call
            .arguments
            .keywords
            .iter()
            .any(|keyword| keyword.range.start().to_usize() < positional_end)
        {
            return;
        }
        let bare_generator = args.len() == 1
            && matches!(first, Expr::Generator(generator) if !generator.parenthesized);
        let (open, close) = if bare_generator {
            (format!("*{DEFER_FUNCTION}(lambda: (("), "),))")
        } else {
            (format!("*{DEFER_FUNCTION}(lambda: ("), ",))")
        };
        self.edits.push(Edit::insert(
            first.range().start().to_usize(),
            open,
            Order::open(self.depth),
        ));
        self.edits.push(Edit::insert(
            positional_end,
            close.to_owned(),
            Order::close(self.depth),
        ));
    }
}

impl<'a> Checker<'_> {
    /// Visits `body` as code that may not run.
    fn visit_uncertain(&mut self, body: &'a [Stmt]) {
        self.uncertain += 1;
        self.visit_body(body);
        self.uncertain -= 1;
    }
}

impl<'a> Visitor<'a> for Checker<'_> {
    fn visit_body(&mut self, body: &'a [Stmt]) {
        let mut dead = false;
        for stmt in body {
            if dead {
                self.visit_uncertain(std::slice::from_ref(stmt));
            } else {
                self.visit_stmt(stmt);
                dead = reach::ends_block(stmt);
            }
        }
    }

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.depth += 1;
        match stmt {
            Stmt::Try(try_stmt) if reach::catches_departure(&try_stmt.handlers) => {
                self.visit_uncertain(&try_stmt.body);
                for handler in &try_stmt.handlers {
                    self.visit_except_handler(handler);
                }
                self.visit_body(&try_stmt.orelse);
                self.visit_body(&try_stmt.finalbody);
            }
            Stmt::If(if_stmt) => {
                // A branch cannot run when its test is constant-false or an earlier test is
                // constant-true.
                self.visit_expr(&if_stmt.test);
                let truth = reach::constant_truth(&if_stmt.test);
                if truth == Some(false) {
                    self.visit_uncertain(&if_stmt.body);
                } else {
                    self.visit_body(&if_stmt.body);
                }
                let mut taken = truth == Some(true);
                for clause in &if_stmt.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.visit_expr(test);
                    }
                    let truth = clause
                        .test
                        .as_ref()
                        .map_or(Some(true), reach::constant_truth);
                    if taken || truth == Some(false) {
                        self.visit_uncertain(&clause.body);
                    } else {
                        self.visit_body(&clause.body);
                    }
                    taken |= truth == Some(true);
                }
            }
            Stmt::While(while_stmt) if reach::constant_truth(&while_stmt.test) == Some(false) => {
                self.visit_expr(&while_stmt.test);
                self.visit_uncertain(&while_stmt.body);
                self.visit_body(&while_stmt.orelse);
            }
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.visit_parameters(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_annotation(returns);
                }
                self.function_depth += 1;
                self.visit_body(&def.body);
                self.function_depth -= 1;
            }
            Stmt::For(for_stmt) if for_stmt.is_async && self.function_depth == 0 => {
                self.issue(
                    "SyntaxError",
                    "'async for' outside an async function: put it in `async def main()` and \
                     `await main()`"
                        .to_owned(),
                    for_stmt.range.start().to_usize(),
                );
            }
            Stmt::With(with) if with.is_async && self.function_depth == 0 => {
                self.issue(
                    "SyntaxError",
                    "'async with' outside an async function: put it in `async def main()` and \
                     `await main()`"
                        .to_owned(),
                    with.range.start().to_usize(),
                );
            }
            _ => visitor::walk_stmt(self, stmt),
        }
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.depth += 1;
        match expr {
            Expr::Call(call) => {
                self.check_call(call);
                self.rewrite_gather(call);
                visitor::walk_expr(self, expr);
            }
            Expr::Attribute(attribute) => {
                let attr = attribute.attr.id.as_str();
                if REFLECTIVE.contains(&attr) || TAINTING_NAMES.contains(&attr) {
                    self.check_reflective_mention(attr, attribute.range.start().to_usize());
                }
                if attr.starts_with('_') {
                    self.taint(|| format!("uses the attribute `{attr}`"));
                }
                if !matches!(attribute.ctx, ExprContext::Load) {
                    self.taint(|| format!("assigns or deletes the attribute `{attr}`"));
                }
                let start = attribute.range.start().to_usize();
                if matches!(attribute.ctx, ExprContext::Load)
                    && !self.called.contains(&start)
                    && let Some(path) = dotted_path(expr)
                    && self.is_catalogue_root(path.split('.').next().unwrap_or(""))
                    && self.context.functions.get(&path).is_none()
                {
                    self.report_unknown_path(&path, start, false);
                }
                // Do not re-check the inner chain (`crm` of `crm.x`) as a separate path.
                if dotted_path(expr).is_some() {
                    self.called
                        .insert(attribute.value.range().start().to_usize());
                }
                visitor::walk_expr(self, expr);
            }
            Expr::StringLiteral(text) => {
                let value = text.value.to_str();
                if is_dunder(value) && value != "__main__" {
                    self.taint(|| format!("mentions `{value}`"));
                }
            }
            Expr::Name(name) => {
                let id = name.id.as_str();
                self.check_reflective_mention(id, name.range.start().to_usize());
                if id.starts_with("__") && id.ends_with("__") && id != "__name__" && id != "__doc__"
                {
                    self.taint(|| format!("uses the name `{id}`"));
                }
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameters(parameters);
                }
                self.function_depth += 1;
                self.visit_expr(&lambda.body);
                self.function_depth -= 1;
            }
            Expr::Await(await_expr) if self.function_depth == 0 => {
                let start = await_expr.range.start().to_usize();
                self.edits.push(Edit {
                    at: start,
                    remove_to: start + "await".len(),
                    text: format!("{AWAIT_FUNCTION}(lambda: ("),
                    order: Order::open(self.depth),
                });
                self.edits.push(Edit::insert(
                    await_expr.range.end().to_usize(),
                    "))".to_owned(),
                    Order::close(self.depth),
                ));
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
        self.depth -= 1;
    }
}

/// `a.b.c` for an attribute chain rooted at a name; `None` for anything else.
fn dotted_path(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(name) => Some(name.id.to_string()),
        Expr::Attribute(attribute) => {
            let mut base = dotted_path(&attribute.value)?;
            base.push('.');
            base.push_str(attribute.attr.id.as_str());
            Some(base)
        }
        _ => None,
    }
}

fn is_dunder(text: &str) -> bool {
    text.len() > 4
        && text.starts_with("__")
        && text.ends_with("__")
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        many => format!("; did you mean one of: {}?", many.join(", ")),
    }
}

/// Byte offset → 1-based line.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(index, _)| index + 1),
        );
        Self { starts }
    }

    fn line_of(&self, offset: usize) -> u32 {
        let line = match self.starts.binary_search(&offset) {
            Ok(index) => index + 1,
            Err(index) => index,
        };
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

/// Where an edit sits among others at the same offset: closings of inner nodes first, then
/// openings of outer nodes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Order(u8, i64);

impl Order {
    /// An opening edit of a node at `depth`.
    fn open(depth: u32) -> Self {
        Self(1, i64::from(depth))
    }

    /// A closing edit of a node at `depth`.
    fn close(depth: u32) -> Self {
        Self(0, -i64::from(depth))
    }
}

struct Edit {
    at: usize,
    remove_to: usize,
    text: String,
    order: Order,
}

impl Edit {
    fn insert(at: usize, text: String, order: Order) -> Self {
        Self {
            at,
            remove_to: at,
            text,
            order,
        }
    }
}

/// Applies non-overlapping edits; `None` if they overlap (then the snippet runs unrewritten).
fn apply_edits(source: &str, mut edits: Vec<Edit>) -> Option<String> {
    edits.sort_by(|left, right| left.at.cmp(&right.at).then(left.order.cmp(&right.order)));
    let mut out = String::with_capacity(source.len() + edits.len() * 24);
    let mut cursor = 0;
    for edit in edits {
        if edit.at < cursor || !source.is_char_boundary(edit.at) {
            return None;
        }
        out.push_str(source.get(cursor..edit.at)?);
        out.push_str(&edit.text);
        cursor = edit.remove_to;
    }
    out.push_str(source.get(cursor..)?);
    Some(out)
}
