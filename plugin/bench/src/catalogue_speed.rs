//! Catalogue speed (`codemode bench perf`): building the Python API for a large bus, and
//! updating it when one app changes.
//!
//! The snapshot is the real one the adapter folds from the mock bus's bootstrap (samples plus
//! synthetic apps), so names, signatures and intents are those a user would see. The change is
//! one app re-registering its methods with new descriptions, applied two ways: as a whole new
//! snapshot ([`PythonCatalogue::update`], what the service does on every bus generation) and as
//! a delta naming only that app's methods ([`PythonCatalogue::update_partial`]).

use std::time::{Duration, Instant};

use codemode_adapters::{Bus, Catalogue, MethodInfo};

use super::{BenchError, PerfRow, Summary, tokens::thousands};
use crate::{
    catalogue::{CatalogueConfig, CatalogueDelta, PythonCatalogue},
    mock_bus::MockBusConfig,
};

/// Builds and updates the catalogue of a bus with about `methods` methods, `runs` times each.
pub(super) async fn catalogue_speed(
    methods: usize,
    runs: usize,
) -> Result<Vec<PerfRow>, BenchError> {
    let apps = super::synthetic_apps_for(methods);
    let snapshot = snapshot_of_mock_bus(apps).await?;
    tokio::task::spawn_blocking(move || measure(&snapshot, runs))
        .await
        .map_err(|error| BenchError::Scenario {
            what: format!("catalogue benchmark task: {error}"),
        })?
}

/// The adapter's catalogue of an in-process mock bus with `apps` synthetic apps.
async fn snapshot_of_mock_bus(apps: usize) -> Result<Catalogue, BenchError> {
    let (bus, adapter) = super::attached_mock_bus(MockBusConfig {
        synthetic_apps: apps,
        ..MockBusConfig::default()
    })
    .await?;
    let snapshot = Catalogue::clone(&adapter.catalogue());
    adapter.close().await;
    bus.shutdown().await;
    Ok(snapshot)
}

fn measure(snapshot: &Catalogue, runs: usize) -> Result<Vec<PerfRow>, BenchError> {
    let config = CatalogueConfig::default();
    // Warm the tokenizer's tables and the allocator.
    drop(PythonCatalogue::build(snapshot, config.clone()));

    let mut builds = Vec::with_capacity(runs);
    let mut functions = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let catalogue = PythonCatalogue::build(snapshot, config.clone());
        builds.push(started.elapsed());
        functions = catalogue.function_count();
    }
    let build = Summary::of(&builds);

    let (app, changed_names) = one_app(snapshot)?;
    let revised = [
        revision(snapshot, &changed_names, 1),
        revision(snapshot, &changed_names, 2),
    ];
    let mut catalogue = PythonCatalogue::build(snapshot, config);
    let mut generation = snapshot.generation;

    // Whole snapshots that differ from the previous one in that app only.
    let mut snapshots = [snapshot.clone(), snapshot.clone()];
    for (next, methods) in snapshots.iter_mut().zip(&revised) {
        replace_methods(next, &changed_names, methods);
    }
    let update_runs = runs.max(20);
    let mut updates = Vec::with_capacity(update_runs);
    let mut changed = 0;
    for turn in 0..update_runs {
        generation += 1;
        let next = &mut snapshots[turn % 2];
        next.generation = generation;
        let started = Instant::now();
        let stats = catalogue.update(next);
        updates.push(started.elapsed());
        changed = stats.added;
    }
    let update = Summary::of(&updates);
    if changed == 0 {
        return Err(BenchError::Scenario {
            what: format!(
                "changing app `{app}` changed no function: the update benchmark measured nothing"
            ),
        });
    }

    let partial_runs = runs.max(200);
    let mut partials = Vec::with_capacity(partial_runs);
    let mut partially_changed = 0;
    for turn in 0..partial_runs {
        generation += 1;
        let delta = CatalogueDelta {
            generation,
            method_names: &changed_names,
            methods: &revised[turn % 2],
            intent_names: &[],
            intents: &[],
        };
        let started = Instant::now();
        let stats = catalogue.update_partial(&delta);
        partials.push(started.elapsed());
        partially_changed = stats.added;
    }
    let partial = Summary::of(&partials);
    if partially_changed == 0 {
        return Err(BenchError::Scenario {
            what: format!(
                "the delta of app `{app}` changed no function: the update benchmark measured nothing"
            ),
        });
    }

    let size = format!(
        "{} apps, {} methods, {} functions",
        thousands(applications(snapshot)),
        thousands(snapshot.methods.len()),
        thousands(functions)
    );
    Ok(vec![
        PerfRow {
            measurement: format!("catalogue build ({size})"),
            result: build.render(),
            target: "≤ 100 ms".into(),
            met: Some(build.median <= Duration::from_millis(100)),
            note: "`PythonCatalogue::build` from the adapter's snapshot of the mock bus (names, \
                   stubs' types, search index, listing lines with their token counts)"
                .into(),
        },
        PerfRow {
            measurement: format!(
                "catalogue update, one app changed ({} methods), as a delta",
                changed_names.len()
            ),
            result: partial.render(),
            target: "≤ 1 ms".into(),
            met: Some(partial.median <= Duration::from_millis(1)),
            note: format!(
                "`update_partial` with that app's method names; {partially_changed} functions \
                 rebuilt per run"
            ),
        },
        PerfRow {
            measurement: "catalogue update, one app changed, as a whole new snapshot".into(),
            result: update.render(),
            target: "–".into(),
            met: None,
            note: format!(
                "`update` diffing all {} methods against the previous version; {changed} \
                 functions rebuilt per run",
                thousands(snapshot.methods.len())
            ),
        },
    ])
}

/// A synthetic app in the middle of the catalogue and the wire names of its methods.
fn one_app(snapshot: &Catalogue) -> Result<(String, Vec<String>), BenchError> {
    let application_of = |method: &MethodInfo| {
        method
            .servers
            .first()
            .and_then(|server| server.identity.application.as_deref())
            .map(str::to_owned)
    };
    let app = snapshot
        .methods
        .get(snapshot.methods.len() / 2)
        .and_then(application_of)
        .ok_or_else(|| BenchError::Scenario {
            what: "the snapshot has no methods".into(),
        })?;
    let names = snapshot
        .methods
        .iter()
        .filter(|method| application_of(method).as_deref() == Some(app.as_str()))
        .map(|method| method.name.clone())
        .collect();
    Ok((app, names))
}

/// The methods named `names` with descriptions marked as revision `revision`.
fn revision(snapshot: &Catalogue, names: &[String], revision: u32) -> Vec<MethodInfo> {
    snapshot
        .methods
        .iter()
        .filter(|method| names.contains(&method.name))
        .map(|method| {
            let mut revised = method.clone();
            let description = revised.description.unwrap_or_default();
            revised.description = Some(format!("{description} (revision {revision})"));
            revised
        })
        .collect()
}

/// Replaces the methods named `names` in `snapshot` by `methods`.
fn replace_methods(snapshot: &mut Catalogue, names: &[String], methods: &[MethodInfo]) {
    snapshot
        .methods
        .retain(|method| !names.contains(&method.name));
    snapshot.methods.extend_from_slice(methods);
    snapshot
        .methods
        .sort_by(|left, right| left.name.cmp(&right.name));
}

/// How many applications serve the snapshot's methods (samples and synthetic apps).
fn applications(snapshot: &Catalogue) -> usize {
    snapshot
        .methods
        .iter()
        .flat_map(|method| &method.servers)
        .filter_map(|server| server.identity.application.as_deref())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}
