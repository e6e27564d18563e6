//! The one trait every bus dialect implements.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::{
    error::BusError,
    model::{
        CallOptions, Catalogue, IntentRequest, IntentResolution, MethodHandler, ServedMethod,
        ServerReply, Target,
    },
};

/// A connected interop bus: a live catalogue, calls, intents and served methods.
///
/// Implementations own their socket in one task and reconnect by themselves; every method here
/// is cheap to call from many tasks at once.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// A short name of the dialect, e.g. `ioconnect`.
    fn dialect(&self) -> &'static str;

    /// The current catalogue (cheap when nothing changed since the last call and a caller
    /// still holds the previous one).
    fn catalogue(&self) -> Arc<Catalogue>;

    /// The generation of the current catalogue (what [`Self::catalogue`]`().generation` would
    /// say), without building a snapshot.
    fn generation(&self) -> u64 {
        self.catalogue().generation
    }

    /// Connection and catalogue events from now on.
    fn events(&self) -> broadcast::Receiver<crate::model::BusEvent>;

    /// Invokes `method` on the servers chosen by `target`; one reply per server called.
    ///
    /// Fails as a whole only when no server could be called; per-server failures are in the
    /// replies.
    async fn invoke(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Vec<ServerReply>, BusError>;

    /// Invokes `method` on one server ("best", or the first matching a filter) and returns its
    /// result or error.
    async fn invoke_one(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Value, BusError> {
        let target = match target {
            Target::All => &Target::Best,
            other => other,
        };
        let replies = self.invoke(method, arguments, target, options).await?;
        match replies.into_iter().next() {
            Some(reply) => reply.outcome,
            None => Err(BusError::MethodNotFound {
                method: method.to_owned(),
            }),
        }
    }

    /// Raises an intent: picks a handler, starts its app if needed, returns its result.
    async fn raise_intent(&self, request: IntentRequest) -> Result<IntentResolution, BusError>;

    /// Offers `method` on the bus; invocations run `handler`. Survives reconnects.
    async fn serve(
        &self,
        method: ServedMethod,
        handler: Arc<dyn MethodHandler>,
    ) -> Result<(), BusError>;

    /// Leaves the bus: pending calls fail, the socket closes, the task ends.
    async fn close(&self);
}
