//! The MCP resource `codemode://context/current`: what the user is looking at (the current
//! channel and the FDC3 context last broadcast on it) without running a snippet. One small
//! hook, [`read_current`], so a policy (PII tokenization, issue 15) can wrap it later.

use rmcp::{
    ErrorData,
    model::{ReadResourceResult, Resource, ResourceContents},
};

use crate::{context_calls::current_context, service::CodeMode};

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

/// Reads the resource from the bus.
pub async fn read_current(service: &CodeMode, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    if uri != CURRENT_CONTEXT_URI {
        return Err(ErrorData::resource_not_found(
            format!("no resource {uri}; the one resource is {CURRENT_CONTEXT_URI}"),
            None,
        ));
    }
    let value = current_context(service.bus().as_ref())
        .await
        .map_err(|error| ErrorData::internal_error(error.to_string(), None))?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(value.to_string(), CURRENT_CONTEXT_URI)
            .with_mime_type("application/json"),
    ]))
}
