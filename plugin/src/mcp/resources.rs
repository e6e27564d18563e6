//! The Python API as MCP resources, for clients that let the user (or the model) attach files:
//! the whole generated module and one stub file per namespace.
//!
//! - `codemode://python/module.py`: every stub, runnable (what `codemode catalogue module`
//!   prints);
//! - `codemode://python/<namespace>.pyi`: one namespace's stubs (what `get_python_definitions`
//!   returns for the namespace), also offered as the template `codemode://python/{namespace}.pyi`
//!   whose `namespace` completes.
//!
//! When the bus's apps come and go so that namespaces appear or disappear, the session gets
//! `notifications/resources/list_changed` ([`watch_catalogue`]).

use std::{collections::BTreeSet, sync::Arc};

use tokio_util::sync::CancellationToken;

use rmcp::{
    ErrorData, Peer, RoleServer,
    model::{
        ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
        ResourceContents, ResourceTemplate,
    },
};

use crate::service::CodeMode;

/// The URI of the whole module.
pub(crate) const MODULE_URI: &str = "codemode://python/module.py";
/// Prefix of a namespace's stub file.
const NAMESPACE_PREFIX: &str = "codemode://python/";
/// Suffix of a namespace's stub file.
const NAMESPACE_SUFFIX: &str = ".pyi";
/// The template of the namespace stub files.
pub(crate) const NAMESPACE_TEMPLATE: &str = "codemode://python/{namespace}.pyi";
/// MIME type of Python source.
const PYTHON: &str = "text/x-python";

/// The namespace's stub URI.
fn namespace_uri(namespace: &str) -> String {
    format!("{NAMESPACE_PREFIX}{namespace}{NAMESPACE_SUFFIX}")
}

/// The namespaces of the catalogue now.
pub(crate) fn namespaces(service: &CodeMode) -> Vec<String> {
    service
        .version()
        .catalogue
        .namespace_names()
        .map(str::to_owned)
        .collect()
}

/// `resources/list`: the module, then one stub file per namespace.
pub(crate) fn list(service: &CodeMode) -> ListResourcesResult {
    let mut resources = vec![
        Resource::new(MODULE_URI, "module.py")
            .with_title("The whole Python API")
            .with_description(
                "Every function of the desktop apps as one Python module (stubs and types).",
            )
            .with_mime_type(PYTHON),
    ];
    resources.extend(namespaces(service).into_iter().map(|namespace| {
        Resource::new(namespace_uri(&namespace), format!("{namespace}.pyi"))
            .with_title(format!("Python stubs: {namespace}"))
            .with_description(format!("Typed stubs of the `{namespace}` functions."))
            .with_mime_type(PYTHON)
    }));
    ListResourcesResult::with_all_items(resources)
}

/// `resources/templates/list`.
pub(crate) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(NAMESPACE_TEMPLATE, "namespace stubs")
            .with_title("Python stubs of one namespace")
            .with_description("Typed stubs of one namespace's functions; `namespace` completes.")
            .with_mime_type(PYTHON),
    ])
}

/// `resources/read`; an unknown URI is `-32002` (resource not found) naming what exists.
pub(crate) fn read(service: &CodeMode, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let text = if uri == MODULE_URI {
        service.module_source()
    } else if let Some(namespace) = uri
        .strip_prefix(NAMESPACE_PREFIX)
        .and_then(|rest| rest.strip_suffix(NAMESPACE_SUFFIX))
        .filter(|namespace| namespaces(service).iter().any(|known| known == namespace))
    {
        service.get(&[namespace.to_owned()]).text
    } else {
        return Err(ErrorData::resource_not_found(
            format!(
                "no resource {uri}: read {MODULE_URI} or codemode://python/<namespace>.pyi \
                 (resources/list names them)"
            ),
            None,
        ));
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(PYTHON),
    ]))
}

/// Sends `notifications/resources/list_changed` to `peer` whenever the catalogue's namespaces
/// change; ends when `session_ended` is cancelled (the session's handler is dropped), when the
/// peer is gone, or when the service stops publishing.
///
/// Without `session_ended` the watcher of a closed session lived on, holding its peer and its
/// namespace set, until the catalogue next changed: about 7 KiB per closed session on a stable
/// bus (found by the soak test).
pub(crate) fn watch_catalogue(
    service: &Arc<CodeMode>,
    peer: Peer<RoleServer>,
    session_ended: CancellationToken,
) {
    let mut changes = service.catalogue_changes();
    let mut known: BTreeSet<String> = namespaces(service).into_iter().collect();
    tokio::spawn(async move {
        loop {
            let changed = tokio::select! {
                () = session_ended.cancelled() => break,
                changed = changes.changed() => changed,
            };
            if changed.is_err() {
                break;
            }
            let current: BTreeSet<String> = changes
                .borrow_and_update()
                .catalogue
                .namespace_names()
                .map(str::to_owned)
                .collect();
            if current == known {
                continue;
            }
            known = current;
            if let Err(error) = peer.notify_resource_list_changed().await {
                tracing::debug!(%error, "resources/list_changed not delivered; session gone");
                break;
            }
            tracing::debug!(namespaces = known.len(), "sent resources/list_changed");
        }
    });
}
