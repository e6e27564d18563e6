//! Stream subscriptions: a streaming method's items as they arrive, for as long as the
//! [`Subscription`] lives.
//!
//! A dialect with streams hands out a [`Subscription`]: a receiver of [`StreamEvent`]s and a
//! closer. Dropping it closes the subscription on the bus (io.Connect sends `unsubscribe`), so
//! whatever ends the holder — the collection is complete, the snippet failed, its run was
//! cancelled or timed out and the future was dropped — no subscription is left behind.
//! [`Subscription::collect`] gathers items up to a count, a byte budget or a deadline.

use std::time::Duration;

use serde_json::Value;
use tokio::{sync::mpsc, time::Instant};

/// What a subscription receives.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// One item the server published (or posted to us alone).
    Item(Value),
    /// The server (or the gateway) ended the subscription.
    Cancelled {
        /// Why, as the bus said it.
        reason: String,
    },
}

/// A live subscription to a streaming method. Dropping it unsubscribes.
pub struct Subscription {
    id: String,
    events: mpsc::Receiver<StreamEvent>,
    closer: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Subscription")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a collection stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectEnd {
    /// It reached the item count it was asked for.
    Count,
    /// Its time was up.
    Deadline,
    /// The next item would have gone over the byte budget; it was not kept.
    Bytes,
    /// The server or gateway cancelled the subscription.
    Cancelled(String),
    /// The bus connection dropped.
    Disconnected,
}

/// What [`Subscription::collect`] gathered.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    /// The items, in arrival order.
    pub items: Vec<Value>,
    /// Their size as JSON, in bytes.
    pub bytes: usize,
    /// Why it stopped.
    pub end: CollectEnd,
}

impl Subscription {
    /// A subscription with the bus's id, fed by `events`; `closer` runs once, on drop.
    pub fn new(
        id: impl Into<String>,
        events: mpsc::Receiver<StreamEvent>,
        closer: impl FnOnce() + Send + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            events,
            closer: Some(Box::new(closer)),
        }
    }

    /// The bus's id for this subscription.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The next event; `None` once the connection carrying it is gone.
    pub async fn next(&mut self) -> Option<StreamEvent> {
        self.events.recv().await
    }

    /// Gathers items until `max_items` arrived, `window` passed, keeping one more would exceed
    /// `max_bytes` (as JSON), or the subscription ended.
    pub async fn collect(
        &mut self,
        max_items: usize,
        window: Duration,
        max_bytes: usize,
    ) -> Collected {
        let deadline = Instant::now()
            .checked_add(window)
            .unwrap_or_else(|| Instant::now() + Duration::from_hours(24));
        let mut items = Vec::new();
        let mut bytes = 0usize;
        if max_items == 0 {
            return Collected {
                items,
                bytes,
                end: CollectEnd::Count,
            };
        }
        let end = loop {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => break CollectEnd::Deadline,
                Ok(None) => break CollectEnd::Disconnected,
                Ok(Some(event)) => event,
            };
            match event {
                StreamEvent::Item(item) => {
                    let size = serde_json::to_string(&item).map_or(0, |text| text.len());
                    if bytes.saturating_add(size) > max_bytes {
                        break CollectEnd::Bytes;
                    }
                    bytes += size;
                    items.push(item);
                    if items.len() >= max_items {
                        break CollectEnd::Count;
                    }
                }
                StreamEvent::Cancelled { reason } => break CollectEnd::Cancelled(reason),
            }
        };
        Collected { items, bytes, end }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(closer) = self.closer.take() {
            closer();
        }
    }
}
