//! Immutable catalogue versions and the one updater that publishes them.
//!
//! A [`CatalogueVersion`] is everything one answer needs, frozen: the Python catalogue (list,
//! get, module, search, `find_intents`), the call map, the departed functions and the function
//! set snippets see. The [`CatalogueUpdater`] is the only place a catalogue changes: it folds the
//! bus's snapshots in and publishes each result as a new `Arc<CatalogueVersion>`. Readers keep the
//! version they started with for as long as they like; nothing they hold is ever written again.
//!
//! A run's host sees later versions through a [`VersionFeed`]: it reads what was published and
//! may ask the follower task for a refresh by message, so it never takes the updater's lock or
//! calls back into the service.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use codemode_adapters::Bus;
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    bridge::{DepartedMap, function_set_with_departed},
    catalogue::{CallMap, PythonCatalogue},
    sandbox::FunctionSet,
};

/// One published state of the catalogue. Immutable: a change makes a new version.
#[derive(Debug)]
pub struct CatalogueVersion {
    /// The catalogue version (the bus generation it was built from).
    pub number: u64,
    /// The Python API: list, get, module, search, `find_intents`.
    pub catalogue: Arc<PythonCatalogue>,
    /// The functions; shared with later versions whose functions did not change.
    pub map: Arc<CallMap>,
    /// The functions that had left by then.
    pub departed: Arc<DepartedMap>,
    /// What the sandbox sees: `map` plus a departed spec per function that left.
    pub functions: Arc<FunctionSet>,
}

impl CatalogueVersion {
    /// The version of `catalogue` as it is now.
    fn of(catalogue: Arc<PythonCatalogue>) -> Self {
        let map = catalogue.call_map();
        let departed = catalogue.departed();
        let functions = function_set_with_departed(&map, &departed);
        Self {
            number: catalogue.version(),
            catalogue,
            map: Arc::new(map),
            departed: Arc::new(departed),
            functions: Arc::new(functions),
        }
    }
}

/// Folds a bus's catalogue changes into new [`CatalogueVersion`]s and publishes them.
pub struct CatalogueUpdater {
    bus: Arc<dyn Bus>,
    /// The catalogue the next version is built from. Copied on write when a reader still holds
    /// it, so published versions never change under their readers.
    building: Mutex<Arc<PythonCatalogue>>,
    published: watch::Sender<Arc<CatalogueVersion>>,
}

impl std::fmt::Debug for CatalogueUpdater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueUpdater")
            .field("version", &self.current().number)
            .finish_non_exhaustive()
    }
}

impl CatalogueUpdater {
    /// An updater over `bus`, starting from `catalogue` (published at once).
    pub fn new(bus: Arc<dyn Bus>, catalogue: PythonCatalogue) -> Self {
        let catalogue = Arc::new(catalogue);
        let first = Arc::new(CatalogueVersion::of(Arc::clone(&catalogue)));
        let (published, _) = watch::channel(first);
        Self {
            bus,
            building: Mutex::new(catalogue),
            published,
        }
    }

    /// The bus this updater follows.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    /// The version published last, without looking at the bus.
    pub fn current(&self) -> Arc<CatalogueVersion> {
        Arc::clone(&self.published.borrow())
    }

    /// Every version published from now on (the current one is marked seen).
    pub fn subscribe(&self) -> watch::Receiver<Arc<CatalogueVersion>> {
        self.published.subscribe()
    }

    /// How many receivers from [`Self::subscribe`] are alive (one per MCP session watching
    /// for `list_changed`, plus each run's version feed).
    pub fn subscribers(&self) -> usize {
        self.published.receiver_count()
    }

    /// Folds the bus's latest catalogue in if its generation moved and returns the version
    /// published now. The call map and function set are rebuilt only when functions changed.
    pub fn refresh(&self) -> Arc<CatalogueVersion> {
        // The generation first: the bus builds a snapshot only when one is needed.
        let generation = self.bus.generation();
        let current = self.current();
        if current.number == generation {
            return current;
        }
        let Ok(mut building) = self.building.lock() else {
            return current;
        };
        // Another caller may have folded it in while this one waited for the lock.
        let current = self.current();
        let snapshot = self.bus.catalogue();
        if current.number == snapshot.generation {
            return current;
        }
        let catalogue = Arc::make_mut(&mut building);
        let stats = catalogue.update(&snapshot);
        if stats.removed > 0 {
            catalogue.stamp_departed(stats.version, unix_ms_now());
        }
        let fresh = if stats.added == 0 && stats.removed == 0 && stats.renamed == 0 {
            tracing::debug!(
                version = stats.version,
                "catalogue version moved; no function changed"
            );
            CatalogueVersion {
                number: stats.version,
                catalogue: Arc::clone(&building),
                map: Arc::clone(&current.map),
                departed: Arc::clone(&current.departed),
                functions: Arc::clone(&current.functions),
            }
        } else {
            tracing::info!(
                version = stats.version,
                added = stats.added,
                removed = stats.removed,
                renamed = stats.renamed,
                functions = catalogue.function_count(),
                "catalogue updated"
            );
            CatalogueVersion::of(Arc::clone(&building))
        };
        let fresh = Arc::new(fresh);
        // Published while the builder is still locked: versions go out in order.
        self.published.send_replace(Arc::clone(&fresh));
        fresh
    }

    /// A feed of this updater's versions for a run's host; `refresh` reaches the task that
    /// owns refreshes (see [`RefreshRequests`]), if one runs.
    pub fn feed(&self, refresh: Option<RefreshRequests>) -> VersionFeed {
        VersionFeed {
            versions: self.published.subscribe(),
            refresh,
        }
    }
}

/// A request to fold the bus's latest changes in; answered with the version published after.
pub type RefreshRequest = oneshot::Sender<Arc<CatalogueVersion>>;

/// Where refresh requests go: the follower task that owns asynchronous refreshes.
pub type RefreshRequests = mpsc::UnboundedSender<RefreshRequest>;

/// What a run's host sees of the catalogue after its run started: the versions published since,
/// and a way to ask for a refresh by message.
#[derive(Debug, Clone)]
pub struct VersionFeed {
    versions: watch::Receiver<Arc<CatalogueVersion>>,
    refresh: Option<RefreshRequests>,
}

/// How long a host waits for a refresh it asked for before it uses the latest version.
const REFRESH_WAIT: Duration = Duration::from_secs(2);

impl VersionFeed {
    /// The version published last.
    pub fn latest(&self) -> Arc<CatalogueVersion> {
        Arc::clone(&self.versions.borrow())
    }

    /// Asks for the bus's latest changes to be folded in and returns the version published
    /// then (the latest one if nobody answers in time).
    pub async fn refreshed(&self) -> Arc<CatalogueVersion> {
        let Some(requests) = &self.refresh else {
            return self.latest();
        };
        let (answer, answered) = oneshot::channel();
        if requests.send(answer).is_err() {
            return self.latest();
        }
        match tokio::time::timeout(REFRESH_WAIT, answered).await {
            Ok(Ok(version)) => version,
            Ok(Err(_)) | Err(_) => self.latest(),
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}
