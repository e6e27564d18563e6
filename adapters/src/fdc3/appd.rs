//! App Directory v2 records: what each app declares it listens for.
//!
//! DACP can tell which apps handle an intent, but not always with which context and result
//! types; an App Directory (`GET /v2/apps`, or the same JSON in a file) is the authoritative
//! source. Only the fields the catalogue needs are read; everything else is ignored.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{error::BusError, tls::TlsConfig};

/// One app's declared intent handler.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeclaredIntent {
    pub(crate) app_id: String,
    pub(crate) app_title: Option<String>,
    pub(crate) intent: String,
    pub(crate) display_name: Option<String>,
    pub(crate) contexts: Vec<String>,
    pub(crate) result_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Directory {
    Wrapped { applications: Vec<Value> },
    Bare(Vec<Value>),
}

/// Loads the directory from an `http(s)://` URL (`https://` verified with `tls`) or a file
/// path.
pub(crate) async fn load(location: &str, tls: &TlsConfig) -> Result<Vec<DeclaredIntent>, BusError> {
    let failed = |reason: String| BusError::Config {
        what: format!("cannot read the App Directory at {location}"),
        reason,
    };
    let is_url = |scheme: &str| {
        location
            .get(..scheme.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme))
    };
    let text = if is_url("http://") || is_url("https://") {
        fetch(location, tls).await.map_err(failed)?
    } else {
        tokio::fs::read_to_string(location)
            .await
            .map_err(|error| failed(error.to_string()))?
    };
    parse(&text).map_err(failed)
}

/// `GET url`'s body; a status other than 2xx is an error.
async fn fetch(url: &str, tls: &TlsConfig) -> Result<String, String> {
    let explained =
        |error: reqwest::Error| crate::tls::explain(&error).unwrap_or_else(|| describe(&error));
    let response = tls
        .http_client()?
        .get(url)
        .send()
        .await
        .map_err(explained)?;
    let response = response.error_for_status().map_err(explained)?;
    response.text().await.map_err(explained)
}

/// reqwest's message and what it wraps (its own `Display` stops at "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(error) = source {
        message = format!("{message}: {error}");
        source = error.source();
    }
    message
}

/// Reads `{applications: [...]}` or a bare array of AppD records.
pub(crate) fn parse(text: &str) -> Result<Vec<DeclaredIntent>, String> {
    let directory: Directory = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let records = match directory {
        Directory::Wrapped { applications } => applications,
        Directory::Bare(records) => records,
    };
    let mut declared = Vec::new();
    for record in &records {
        let Some(app_id) = record.get("appId").and_then(Value::as_str) else {
            continue;
        };
        let app_title = record
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let listens_for = record
            .pointer("/interop/intents/listensFor")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(Map::new);
        for (intent, details) in listens_for {
            declared.push(DeclaredIntent {
                app_id: app_id.to_owned(),
                app_title: app_title.clone(),
                intent,
                display_name: details
                    .get("displayName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                contexts: details
                    .get("contexts")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                result_type: details
                    .get("resultType")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
    }
    Ok(declared)
}
