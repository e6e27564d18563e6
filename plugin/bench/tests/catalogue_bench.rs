//! Build and update timings of the catalogue at 1,000 apps / 10,000 methods (ignored by
//! default; timings are reported, not asserted). Run in release:
//! `cargo test --release -p codemode --test catalogue_bench -- --ignored --nocapture`
//!
//! Each figure is given twice: the median wall time, and the CPU time of this thread per
//! operation over many repetitions (from `/proc/thread-self/stat` on Linux), which stays
//! meaningful on a busy machine.

#[path = "../../tests/catalogue_common/mod.rs"]
pub mod catalogue_common;

use std::time::{Duration, Instant};

use catalogue_common::{replace_app, synthetic, synthetic_app, synthetic_app_name};

use codemode::catalogue::{CatalogueConfig, CatalogueDelta, ListRequest, PythonCatalogue};

/// CPU time used by this thread so far (Linux; zero elsewhere).
fn thread_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // `rest` starts at field 3 (state), so field n is at index n - 3; 100 ticks per second.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Runs `f` `runs` times: (median wall time, CPU time per run).
fn measure(runs: u32, mut f: impl FnMut() -> Duration) -> (Duration, Duration) {
    let cpu_start = thread_cpu();
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    let cpu = thread_cpu().saturating_sub(cpu_start) / runs;
    times.sort();
    (times[times.len() / 2], cpu)
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn build_and_update_1000_apps() {
    let apps = 1_000;
    let per_app = 10;
    let snapshot = synthetic(apps, per_app, 1);
    assert_eq!(snapshot.methods.len(), apps * per_app);

    // Warm the tokenizer and the allocator.
    let warm = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
    let _ = warm.list(&ListRequest::default());
    drop(warm);

    let mut built = Vec::new();
    let build = measure(10, || {
        let start = Instant::now();
        let catalogue = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
        let elapsed = start.elapsed();
        built.push(catalogue);
        elapsed
    });
    drop(built);

    // Two snapshots that differ in one app (10 methods); updates alternate between them.
    let mut catalogue = PythonCatalogue::build(&snapshot, CatalogueConfig::default());
    let mut other = snapshot.clone();
    replace_app(&mut other, 500, per_app, 1);
    let pair = [&other, &snapshot];
    let mut turn = 0usize;
    let mut full_stats = None;
    let update = measure(50, || {
        let next = pair[turn % 2];
        turn += 1;
        let start = Instant::now();
        full_stats = Some(catalogue.update(next));
        start.elapsed()
    });
    let current = pair[(turn + 1) % 2];

    // The same change as a delta naming only that app's methods.
    let prefix = format!("{}.", synthetic_app_name(500));
    let names: Vec<String> = current
        .methods
        .iter()
        .filter(|m| m.name.starts_with(&prefix))
        .map(|m| m.name.clone())
        .collect();
    let revisions = [
        synthetic_app(500, per_app, 2),
        synthetic_app(500, per_app, 3),
    ];
    let mut partial_stats = None;
    let mut generation = current.generation;
    let partial = measure(2_000, || {
        generation += 1;
        let delta = CatalogueDelta {
            generation,
            method_names: &names,
            methods: &revisions[usize::try_from(generation % 2).unwrap_or(0)],
            intent_names: &[],
            intents: &[],
        };
        let start = Instant::now();
        partial_stats = Some(catalogue.update_partial(&delta));
        start.elapsed()
    });
    catalogue.update(current);
    let unchanged = measure(50, || {
        let start = Instant::now();
        catalogue.update(current);
        start.elapsed()
    });

    let page = catalogue.list(&ListRequest::default());
    let first_page = measure(20, || {
        let start = Instant::now();
        let _ = catalogue.list(&ListRequest::default());
        start.elapsed()
    });
    let search_request = ListRequest {
        query: Some("bond price yield".into()),
        ..ListRequest::default()
    };
    let search = catalogue.list(&search_request);
    let search_time = measure(20, || {
        let start = Instant::now();
        let _ = catalogue.list(&search_request);
        start.elapsed()
    });
    let stubs = measure(20, || {
        let start = Instant::now();
        let _ = catalogue.get(&["rates_desk0000.get_quotes", "intents.view_chart"]);
        start.elapsed()
    });
    let mut module_len = 0;
    let module = measure(5, || {
        let start = Instant::now();
        module_len = catalogue.module_source().len();
        start.elapsed()
    });

    println!("functions: {}", catalogue.function_count());
    println!("(median wall, CPU per op)");
    println!("build, 1,000 apps / 10,000 methods: {build:?}");
    println!("update(snapshot) after one app (10 methods) changed: {update:?}; {full_stats:?}");
    println!("update_partial(delta of that app): {partial:?}; {partial_stats:?}");
    println!("update(snapshot) with nothing changed: {unchanged:?}");
    println!(
        "first listing page: {first_page:?}, {} tokens, {} lines",
        page.tokens, page.shown
    );
    println!(
        "search page: {search_time:?}, {} tokens, {} of {} matches",
        search.tokens, search.shown, search.matches
    );
    println!("get two stubs: {stubs:?}");
    println!("module source: {module:?}, {module_len} bytes");
}
