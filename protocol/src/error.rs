//! The protocol crate's one error type.

use std::time::Duration;

use thiserror::Error;

use crate::ids::RequestId;

/// Everything that can go wrong while decoding frames or correlating replies.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame larger than the configured cap; decoding it could exhaust memory.
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    FrameTooLarge {
        /// Size of the refused frame.
        len: usize,
        /// The configured cap.
        max: usize,
    },
    /// The frame is not JSON, not an object, or has no `type`.
    #[error("malformed frame: {reason}")]
    Malformed {
        /// What the decoder objected to.
        reason: String,
    },
    /// A known message type whose fields do not have the expected shape.
    #[error("malformed `{message_type}` message: {reason}")]
    BadMessage {
        /// The `type` of the message.
        message_type: String,
        /// What serde objected to.
        reason: String,
    },
    /// A request id that is already waiting for a reply.
    #[error("request id {0} is already pending")]
    DuplicateRequest(RequestId),
    /// The reply did not arrive before the request's deadline.
    #[error("no reply within {after:?}")]
    Timeout {
        /// How long the request waited.
        after: Duration,
    },
    /// The connection closed while the request was pending.
    #[error("connection closed while waiting for a reply{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed {
        /// Why the connection closed, when known.
        reason: Option<String>,
    },
}
