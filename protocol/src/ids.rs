//! Newtype identifiers used on the wire, so a peer id can never be passed where a request id
//! belongs. All of them are opaque strings minted by the gateway or by us, except
//! [`MethodId`], which is kept as raw JSON because servers send `"0"` or `0` and the gateway
//! wants the exact value echoed back.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a wire string without checking it: ids are opaque.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The id as it travels on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
    };
}

string_id!(
    /// A peer on the gateway (`p-<node>-<n>`); servers are peers too.
    PeerId
);
string_id!(
    /// A client-chosen id that correlates a request with its reply. Ours are uuids.
    RequestId
);
string_id!(
    /// The gateway's id for one invocation of a served method (`r-<node>-<n>`).
    InvocationId
);
string_id!(
    /// The gateway's id for one stream subscription.
    SubscriptionId
);

#[cfg(feature = "runtime")]
impl RequestId {
    /// A fresh, globally unique request id (uuid v4, simple form).
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// A server-local method id, kept as the raw JSON the server registered it with.
///
/// JavaScript clients register `"0"`, other SDKs may register `0`; the gateway compares the
/// `method_id` of a `call` with what was registered, so it must be echoed verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MethodId(Value);

impl MethodId {
    /// Wraps a raw JSON id.
    pub fn new(value: Value) -> Self {
        Self(value)
    }

    /// The raw JSON value.
    pub fn as_value(&self) -> &Value {
        &self.0
    }

    /// A hashable key that keeps `"0"` and `0` apart, as the gateway does.
    pub fn key(&self) -> String {
        self.0.to_string()
    }
}

impl fmt::Display for MethodId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Value::String(text) => f.write_str(text),
            other => write!(f, "{other}"),
        }
    }
}
