//! `completion/complete`: namespace and function names for the prompts' `namespace` and
//! `function` arguments and the namespace stub template's `namespace`.
//!
//! Matching is case-insensitive on a prefix of the whole name or, for functions, of the part
//! after the namespace (`get_c` finds `crm.get_clients`). Anything else completes to nothing,
//! which the spec allows.

use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};

use super::resources::NAMESPACE_TEMPLATE;
use crate::service::CodeMode;

/// What an argument completes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Namespace,
    Function,
}

fn kind(request: &CompleteRequestParams) -> Option<Kind> {
    let argument = request.argument.name.as_str();
    match &request.r#ref {
        Reference::Resource(template) if template.uri == NAMESPACE_TEMPLATE => {
            (argument == "namespace").then_some(Kind::Namespace)
        }
        Reference::Prompt(_) => match argument {
            "namespace" => Some(Kind::Namespace),
            "function" => Some(Kind::Function),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `name` matches what was typed so far.
fn matches(name: &str, typed: &str, kind: Kind) -> bool {
    let name = name.to_lowercase();
    name.starts_with(typed)
        || (kind == Kind::Function
            && name
                .rsplit_once('.')
                .is_some_and(|(_, short)| short.starts_with(typed)))
}

/// The completion of `request` over the catalogue now.
pub(crate) fn complete(service: &CodeMode, request: &CompleteRequestParams) -> CompleteResult {
    let Some(kind) = kind(request) else {
        return CompleteResult::new(CompletionInfo::default());
    };
    let typed = request.argument.value.trim().to_lowercase();
    let version = service.version();
    let names: Vec<String> = match kind {
        Kind::Namespace => version
            .catalogue
            .namespace_names()
            .filter(|name| matches(name, &typed, kind))
            .map(str::to_owned)
            .collect(),
        Kind::Function => version
            .catalogue
            .function_names()
            .filter(|name| matches(name, &typed, kind))
            .map(str::to_owned)
            .collect(),
    };
    let total = u32::try_from(names.len()).unwrap_or(u32::MAX);
    let has_more = names.len() > CompletionInfo::MAX_VALUES;
    let values: Vec<String> = names.into_iter().take(CompletionInfo::MAX_VALUES).collect();
    let info = CompletionInfo::with_pagination(values, Some(total), has_more).unwrap_or_default();
    CompleteResult::new(info)
}
