//! Discovery time against catalogue size, on the mock bus.

use std::{
    fmt::Write as _,
    time::{Duration, Instant},
};

use codemode_adapters::{Bus, ioconnect::IoConnectBus, ioconnect::IoConnectConfig};
use codemode_protocol::{
    RequestId,
    gw3::{self, Authentication, Domain, Envelope, Gw3Message, Hello, Identity, Join},
};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::{BenchError, Summary};
use crate::{
    catalogue::{CatalogueConfig, PythonCatalogue},
    mock_bus::{MockBus, MockBusConfig},
};

/// One row of the discovery table.
#[derive(Debug, Clone)]
pub struct DiscoveryRow {
    /// Synthetic apps on the bus (the sample apps come on top).
    pub apps: usize,
    /// Peers the raw client saw.
    pub peers: usize,
    /// Methods the adapter's catalogue holds (platform methods hidden).
    pub methods: usize,
    /// Bytes of the raw bootstrap.
    pub bootstrap_bytes: usize,
    /// hello → join `success`, raw client.
    pub raw: Summary,
    /// `IoConnectBus::connect` until the catalogue is ready.
    pub adapter: Summary,
    /// The adapter's connect plus building the Python catalogue from its snapshot: when
    /// Code Mode can answer `list_python_definitions`.
    pub catalogue: Summary,
}

impl DiscoveryRow {
    /// Adapter time over raw bootstrap time (medians); the target is ≤ 1.2.
    pub fn ratio(&self) -> f64 {
        let raw = self.raw.median.as_secs_f64();
        if raw > 0.0 {
            self.adapter.median.as_secs_f64() / raw
        } else {
            0.0
        }
    }

    /// Catalogue-ready time over raw bootstrap time (medians); the target is ≤ 1.2.
    pub fn catalogue_ratio(&self) -> f64 {
        let raw = self.raw.median.as_secs_f64();
        if raw > 0.0 {
            self.catalogue.median.as_secs_f64() / raw
        } else {
            0.0
        }
    }
}

/// Measures discovery for each synthetic app count, `runs` times each.
pub async fn discovery(app_counts: &[usize], runs: usize) -> Result<Vec<DiscoveryRow>, BenchError> {
    let mut rows = Vec::new();
    for &apps in app_counts {
        let bus = MockBus::start(MockBusConfig {
            synthetic_apps: apps,
            ..MockBusConfig::default()
        })
        .await?;
        let row = discovery_at(
            &bus.url(),
            &Authentication::secret("bench", "bench"),
            apps,
            runs,
        )
        .await;
        bus.shutdown().await;
        rows.push(row?);
    }
    Ok(rows)
}

/// Measures discovery against any GW3 bus at `url` (the mock bus or the real gateway),
/// logged in with `authentication`; `apps` only labels the row.
pub async fn discovery_at(
    url: &str,
    authentication: &Authentication,
    apps: usize,
    runs: usize,
) -> Result<DiscoveryRow, BenchError> {
    // One warm-up of each, not counted.
    raw_bootstrap(url, authentication).await?;
    connect_adapter(url, authentication).await?.0.close().await;
    let mut raw_times = Vec::new();
    let mut adapter_times = Vec::new();
    let mut catalogue_times = Vec::new();
    let mut peers = 0;
    let mut bytes = 0;
    let mut methods = 0;
    for _ in 0..runs.max(1) {
        let (elapsed, seen_peers, seen_bytes) = raw_bootstrap(url, authentication).await?;
        raw_times.push(elapsed);
        peers = seen_peers;
        bytes = seen_bytes;
        let started = Instant::now();
        let (adapter, elapsed) = connect_adapter(url, authentication).await?;
        adapter_times.push(elapsed);
        let catalogue = PythonCatalogue::build(&adapter.catalogue(), CatalogueConfig::default());
        catalogue_times.push(started.elapsed());
        methods = adapter.catalogue().methods.len();
        drop(catalogue);
        adapter.close().await;
    }
    Ok(DiscoveryRow {
        apps,
        peers,
        methods,
        bootstrap_bytes: bytes,
        raw: Summary::of(&raw_times),
        adapter: Summary::of(&adapter_times),
        catalogue: Summary::of(&catalogue_times),
    })
}

/// A Markdown table of the rows.
pub fn render_discovery(rows: &[DiscoveryRow]) -> String {
    let mut table = String::from(
        "| synthetic apps | peers | methods | bootstrap | raw bootstrap, median (min–max) | adapter ready, median (min–max) | ratio | catalogue ready, median (min–max) | ratio |\n|---:|---:|---:|---:|---|---|---:|---|---:|\n",
    );
    for row in rows {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} KiB | {} | {} | {:.2} | {} | {:.2} |",
            row.apps,
            row.peers,
            row.methods,
            row.bootstrap_bytes / 1024,
            row.raw.render(),
            row.adapter.render(),
            row.ratio(),
            row.catalogue.render(),
            row.catalogue_ratio(),
        );
    }
    table.push_str(
        "\nraw = a plain WebSocket client doing hello + join agm until the join's success; \
         adapter = `IoConnectBus::connect` (the same, plus folding the catalogue and reading \
         `T42.ACS.GetApplications`); catalogue = adapter ready plus building the Python \
         catalogue (stubs, search index) from its snapshot.\n",
    );
    table
}

async fn connect_adapter(
    url: &str,
    authentication: &Authentication,
) -> Result<(IoConnectBus, Duration), BenchError> {
    let started = Instant::now();
    let bus = IoConnectBus::connect(IoConnectConfig::new(url, authentication.clone())).await?;
    Ok((bus, started.elapsed()))
}

/// hello + join agm with a plain socket; returns the time, peers announced and bytes received.
async fn raw_bootstrap(
    url: &str,
    authentication: &Authentication,
) -> Result<(Duration, usize, usize), BenchError> {
    let failed = |reason: String| BenchError::Raw { reason };
    let started = Instant::now();
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut identity = Identity::new();
    identity.insert("application".into(), Value::String("bench-raw".into()));
    identity.insert(
        "instance".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    let hello_id = RequestId::random();
    let hello = Gw3Message::Hello(Hello {
        envelope: Envelope {
            domain: Some(Domain::Global),
            request_id: Some(hello_id.clone()),
            ..Envelope::default()
        },
        identity,
        authentication: Some(authentication.clone()),
    });
    socket
        .send(Message::text(gw3::encode(&hello)))
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut peer_id = None;
    let mut join_id = None;
    let mut peers = 0;
    let mut bytes = 0;
    while let Some(frame) = socket.next().await {
        let Message::Text(text) = frame.map_err(|e| failed(e.to_string()))? else {
            continue;
        };
        bytes += text.len();
        let message = gw3::decode(text.as_str(), gw3::DEFAULT_MAX_FRAME_BYTES)
            .map_err(|e| failed(e.to_string()))?;
        match message {
            Gw3Message::Welcome(welcome) if peer_id.is_none() => {
                let id = RequestId::random();
                let join = Gw3Message::Join(Join {
                    envelope: Envelope {
                        domain: Some(Domain::Global),
                        request_id: Some(id.clone()),
                        peer_id: Some(welcome.peer_id.clone()),
                        ..Envelope::default()
                    },
                    destination: "agm".into(),
                    restrictions: None,
                    options: None,
                });
                socket
                    .send(Message::text(gw3::encode(&join)))
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                peer_id = Some(welcome.peer_id);
                join_id = Some(id);
            }
            Gw3Message::PeerAdded(_) => peers += 1,
            Gw3Message::Success(success)
                if success.envelope.request_id.is_some()
                    && success.envelope.request_id == join_id =>
            {
                let elapsed = started.elapsed();
                let _ = socket.close(None).await;
                return Ok((elapsed, peers, bytes));
            }
            Gw3Message::Error(error) => return Err(failed(format!("{error:?}"))),
            _ => {}
        }
    }
    Err(failed(
        "the bus closed the connection before the join's success".into(),
    ))
}
