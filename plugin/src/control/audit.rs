//! The audit log: one JSON line per snippet (written by the service) and per approval request
//! and decision (written by the guard), appended to one file; approvals also go to tracing.
//! Arguments are written as the approver saw them, PII tokenized; the placeholder mapping is
//! never written.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    sync::Mutex,
};

use serde_json::Value;

use crate::Error;

/// An append-only JSON-lines file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl AuditLog {
    /// Opens (creates) `path` for appending.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| Error::AuditLog {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line.
    pub fn write(&self, line: &Value) {
        if let Ok(mut file) = self.file.lock()
            && let Err(error) = writeln!(file, "{line}")
        {
            tracing::warn!(%error, "writing the audit log failed");
        }
    }
}
