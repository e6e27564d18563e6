//! Where a call is certain to run, for the departed-function check: not in code that cannot
//! run (a constant-false branch, statements after `return`/`raise`/`break`/`continue`), and
//! not in a `try` whose handlers catch the error a departed function raises
//! (`MethodNotFoundError` or a base class: `BusError`, `Exception`, `BaseException`, a bare
//! `except`). There the snippet has a fallback, so the run goes ahead and the call raises
//! `MethodNotFoundError` at run time.

use rustpython_vm::compiler::ast::{self, Expr, Stmt};

/// The classes whose handler catches `MethodNotFoundError`.
const CATCHES_DEPARTURE: &[&str] = &[
    "MethodNotFoundError",
    "BusError",
    "Exception",
    "BaseException",
];

/// Whether one of `handlers` catches `MethodNotFoundError`.
pub(super) fn catches_departure(handlers: &[ast::ExceptHandler]) -> bool {
    handlers.iter().any(|handler| {
        let ast::ExceptHandler::ExceptHandler(handler) = handler;
        handler.type_.as_deref().is_none_or(names_a_catching_class)
    })
}

fn names_a_catching_class(expr: &Expr) -> bool {
    match expr {
        Expr::Name(name) => CATCHES_DEPARTURE.contains(&name.id.as_str()),
        Expr::Attribute(attribute) => CATCHES_DEPARTURE.contains(&attribute.attr.id.as_str()),
        Expr::Tuple(tuple) => tuple.elts.iter().any(names_a_catching_class),
        _ => false,
    }
}

/// The truth of a constant test (`False`, `0`, `None`, `""`, `TYPE_CHECKING`, `not True`…);
/// `None` when it depends on the run.
pub(super) fn constant_truth(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::BooleanLiteral(literal) => Some(literal.value),
        Expr::NoneLiteral(_) => Some(false),
        Expr::NumberLiteral(number) => match &number.value {
            ast::Number::Int(int) => Some(*int != ast::Int::ZERO),
            ast::Number::Float(float) => Some(*float != 0.0),
            ast::Number::Complex { real, imag } => Some(*real != 0.0 || *imag != 0.0),
        },
        Expr::StringLiteral(text) => Some(!text.value.to_str().is_empty()),
        Expr::Name(name) if name.id.as_str() == "TYPE_CHECKING" => Some(false),
        Expr::UnaryOp(unary) if matches!(unary.op, ast::UnaryOp::Not) => {
            constant_truth(&unary.operand).map(|truth| !truth)
        }
        _ => None,
    }
}

/// Whether nothing after `stmt` in its block can run.
pub(super) fn ends_block(stmt: &Stmt) -> bool {
    matches!(
        stmt,
        Stmt::Return(_) | Stmt::Raise(_) | Stmt::Break(_) | Stmt::Continue(_)
    )
}
