//! The MCP resource `codemode://context/current`: what the user is looking at (the current
//! channel and the FDC3 context last broadcast on it) without running a snippet. Like a
//! snippet's answer, it goes through the policy's PII tokenization first: a contact's email or
//! name reaches the model as the session's placeholder.

use rmcp::{
    ErrorData,
    model::{ReadResourceResult, Resource, ResourceContents},
};

use crate::{context_calls::current_context, control::PiiSession, service::CodeMode};

/// The resource's URI.
pub const CURRENT_CONTEXT_URI: &str = "codemode://context/current";

/// The resource as `resources/list` shows it.
pub fn current_context_resource() -> Resource {
    Resource::new(CURRENT_CONTEXT_URI, "current-context")
        .with_title("What the user is looking at")
        .with_description(
            "The user's current channel and the FDC3 context on it (e.g. the instrument or contact shown), as JSON {channel, context}.",
        )
        .with_mime_type("application/json")
}

/// Reads the resource from the bus, tokenized for `pii`'s session by the policy.
pub async fn read_current(
    service: &CodeMode,
    uri: &str,
    pii: &PiiSession,
) -> Result<ReadResourceResult, ErrorData> {
    if uri != CURRENT_CONTEXT_URI {
        return Err(ErrorData::resource_not_found(
            format!("no resource {uri}; the one resource is {CURRENT_CONTEXT_URI}"),
            None,
        ));
    }
    let mut value = current_context(service.bus().as_ref())
        .await
        .map_err(|error| ErrorData::internal_error(error.to_string(), None))?;
    pii.tokenize_value(&service.policy().config.pii, &mut value);
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(value.to_string(), CURRENT_CONTEXT_URI)
            .with_mime_type("application/json"),
    ]))
}
