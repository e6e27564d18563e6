//! What a bus can do, split by capability. Every dialect is a [`Bus`] (a live catalogue,
//! events, close); calling methods ([`Invoke`]), raising intents ([`RaiseIntent`]) and offering
//! methods ([`Serve`]) are capabilities a dialect has or has not, so none claims what it cannot
//! do. Callers that hold a `dyn Bus` use its helpers ([`dyn Bus::invoke`](Bus) and friends),
//! which turn a missing capability into the error users have always seen.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::{
    channels::{Channels, ContextRaise},
    error::BusError,
    model::{
        BusEvent, CallOptions, Catalogue, IntentRequest, IntentResolution, MethodHandler,
        ServedMethod, ServerReply, Target,
    },
    streams::Subscription,
};

/// A connected interop bus: a live catalogue and its events, plus whichever capabilities the
/// dialect has.
///
/// Implementations own their socket in one task and reconnect by themselves; every method here
/// is cheap to call from many tasks at once.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// A short name of the dialect, e.g. `ioconnect`.
    fn dialect(&self) -> &'static str;

    /// The dialect's name for people, e.g. `io.Connect`, `FDC3`.
    fn display_name(&self) -> &'static str {
        self.dialect()
    }

    /// The current catalogue (cheap when nothing changed since the last call and a caller
    /// still holds the previous one).
    fn catalogue(&self) -> Arc<Catalogue>;

    /// The generation of the current catalogue (what [`Self::catalogue`]`().generation` would
    /// say), without building a snapshot.
    fn generation(&self) -> u64 {
        self.catalogue().generation
    }

    /// Connection and catalogue events from now on.
    fn events(&self) -> broadcast::Receiver<BusEvent>;

    /// Calling methods on servers, if the dialect has methods.
    fn invoker(&self) -> Option<&dyn Invoke> {
        None
    }

    /// Raising intents, if the dialect has intents.
    fn intent_raiser(&self) -> Option<&dyn RaiseIntent> {
        None
    }

    /// Offering methods of our own, if the dialect can.
    fn method_server(&self) -> Option<&dyn Serve> {
        None
    }

    /// User channels and their contexts, if the dialect has them.
    fn channels(&self) -> Option<&dyn Channels> {
        None
    }

    /// Subscribing to streaming methods, if the dialect has streams.
    fn subscriber(&self) -> Option<&dyn Subscribe> {
        None
    }

    /// Leaves the bus: pending calls fail, the socket closes, the task ends.
    async fn close(&self);
}

/// Calling methods on the bus's servers.
#[async_trait]
pub trait Invoke: Send + Sync {
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
}

/// Raising intents.
#[async_trait]
pub trait RaiseIntent: Send + Sync {
    /// Raises an intent: picks a handler, starts its app if needed, returns its result.
    async fn raise_intent(&self, request: IntentRequest) -> Result<IntentResolution, BusError>;

    /// Raises whatever intent handles `request.context`: one intent with one handler is raised;
    /// several are `ContextAmbiguous` with the choices.
    async fn raise_for_context(&self, request: ContextRaise) -> Result<IntentResolution, BusError>;
}

/// Subscribing to streaming methods.
#[async_trait]
pub trait Subscribe: Send + Sync {
    /// Subscribes to `method` on one server ("best", or the first matching a filter) and
    /// returns once the server accepted; `options.timeout` bounds the wait for that. Dropping
    /// the [`Subscription`] unsubscribes.
    async fn subscribe(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Subscription, BusError>;
}

/// Offering methods on the bus.
#[async_trait]
pub trait Serve: Send + Sync {
    /// Offers `method` on the bus; invocations run `handler`. Survives reconnects.
    async fn serve(
        &self,
        method: ServedMethod,
        handler: Arc<dyn MethodHandler>,
    ) -> Result<(), BusError>;
}

/// The capabilities through any bus: a missing one is the error a caller of that dialect has
/// always seen (a method that is not found, an intent not resolved, serving unsupported).
impl dyn Bus {
    /// [`Invoke::invoke`], or `MethodNotFound` on a dialect without methods.
    pub async fn invoke(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Vec<ServerReply>, BusError> {
        match self.invoker() {
            Some(invoker) => invoker.invoke(method, arguments, target, options).await,
            None => Err(self.no_methods(method)),
        }
    }

    /// [`Invoke::invoke_one`], or `MethodNotFound` on a dialect without methods.
    pub async fn invoke_one(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Value, BusError> {
        match self.invoker() {
            Some(invoker) => invoker.invoke_one(method, arguments, target, options).await,
            None => Err(self.no_methods(method)),
        }
    }

    /// [`RaiseIntent::raise_intent`], or `IntentNotResolved` on a dialect without intents.
    pub async fn raise_intent(&self, request: IntentRequest) -> Result<IntentResolution, BusError> {
        match self.intent_raiser() {
            Some(raiser) => raiser.raise_intent(request).await,
            None => Err(BusError::IntentNotResolved {
                intent: request.intent,
                reason: format!("{} has no intents", self.display_name()),
            }),
        }
    }

    /// [`Subscribe::subscribe`], or `Unsupported` on a dialect without streams.
    pub async fn subscribe(
        &self,
        method: &str,
        arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Subscription, BusError> {
        match self.subscriber() {
            Some(subscriber) => {
                subscriber
                    .subscribe(method, arguments, target, options)
                    .await
            }
            None => Err(BusError::Unsupported {
                operation: format!("subscribing to the stream `{method}`"),
                dialect: self.display_name().to_owned(),
            }),
        }
    }

    /// [`Serve::serve`], or `Unsupported` on a dialect that cannot offer methods.
    pub async fn serve(
        &self,
        method: ServedMethod,
        handler: Arc<dyn MethodHandler>,
    ) -> Result<(), BusError> {
        match self.method_server() {
            Some(server) => server.serve(method, handler).await,
            None => Err(BusError::Unsupported {
                operation: format!("serving the method `{}`", method.name),
                dialect: self.display_name().to_owned(),
            }),
        }
    }

    fn no_methods(&self, method: &str) -> BusError {
        BusError::MethodNotFound {
            method: format!(
                "{method} (the {} bus offers intents, not methods)",
                self.display_name()
            ),
        }
    }
}
