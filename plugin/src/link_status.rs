//! Whether the bus is connected, as the catalogue's readers need to know it.
//!
//! While the adapter is disconnected (the gateway restarting, the network gone), the service
//! keeps serving the last catalogue version it built: listings and stubs still help the model
//! write its snippet. [`LinkStatus`] follows the bus's `Disconnected`/`Reconnected` events so
//! those answers can say that the catalogue is stale and since when, and that calls fail with
//! `DisconnectedError` until the link is back.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use codemode_adapters::BusEvent;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_util::sync::{CancellationToken, DropGuard};

/// The bus link as seen by the service: connected, or disconnected since a moment.
#[derive(Debug, Default)]
pub struct LinkStatus {
    disconnected_since: Mutex<Option<SystemTime>>,
}

impl LinkStatus {
    /// Follows `events` in a task until the returned guard is dropped (or the bus closes);
    /// `None` outside a tokio runtime, where the status stays "connected".
    pub fn follow(self: &Arc<Self>, events: Receiver<BusEvent>) -> Option<DropGuard> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let token = CancellationToken::new();
        runtime.spawn(track(Arc::downgrade(self), events, token.clone()));
        Some(token.drop_guard())
    }

    /// When the link dropped, if it is down now.
    pub fn disconnected_since(&self) -> Option<SystemTime> {
        *self
            .disconnected_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an event of the bus.
    pub fn observe(&self, event: &BusEvent) {
        let mut since = self
            .disconnected_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match event {
            BusEvent::Disconnected { .. } | BusEvent::Reconnecting { .. } => {
                since.get_or_insert_with(SystemTime::now);
            }
            BusEvent::Reconnected { .. } => *since = None,
            BusEvent::CatalogueChanged { .. } => {}
        }
    }

    /// The line listings and stubs start with while disconnected; `None` when connected.
    pub fn stale_note(&self) -> Option<String> {
        let since = self.disconnected_since()?;
        let for_how_long = SystemTime::now().duration_since(since).unwrap_or_default();
        Some(format!(
            "# STALE: disconnected from the bus since {} ({} ago); this is the last catalogue \
             seen and apps may have changed. Calls fail with DisconnectedError until codemode \
             reconnects (it retries on its own).\n",
            utc_time(since),
            rounded(for_how_long)
        ))
    }
}

async fn track(
    status: std::sync::Weak<LinkStatus>,
    mut events: Receiver<BusEvent>,
    token: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            () = token.cancelled() => return,
            event = events.recv() => event,
        };
        let Some(status) = status.upgrade() else {
            return;
        };
        match event {
            Ok(event) => status.observe(&event),
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// `HH:MM:SS UTC` of `time`.
fn utc_time(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `42 s`, `3 min 5 s`.
fn rounded(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds < 60 {
        format!("{seconds} s")
    } else {
        format!("{} min {} s", seconds / 60, seconds % 60)
    }
}
