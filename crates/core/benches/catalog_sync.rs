//! Keeping the catalog current at 100,000 titles: the app's first sync (an empty profile walks
//! the signed feed page by page into its rows and search index) beside a repeat start (the
//! offline copy read and verified, then one question to the store, answered `304`), measured
//! in the same run, with the plain download of the whole feed as one answer for reference.
//!
//! `cargo bench -p marquee-core --bench catalog_sync` (or `cargo xtask bench`). Prints each
//! time, the ratio `repeat / first` (goal: at most 5 %) and writes
//! `target/bench/catalog_sync.json`. `MARQUEE_BENCH_TITLES` changes the size; under
//! `cargo test` (no `--bench`) it runs on 3,000 titles and writes nothing.

use std::time::{Duration, Instant};

use marquee_core::{Core, CoreConfig, MachineIdSource};
use marquee_store::{Store, StoreConfig};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let Some(run) = marquee_bench::Run::from_args("catalog_sync") else {
        return Ok(());
    };
    let count: usize = run.size(100_000, 3_000, "MARQUEE_BENCH_TITLES");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(bench(&run, count))
}

fn profile(dir: &std::path::Path, store: &Store) -> CoreConfig {
    let mut c = CoreConfig::signed_out(dir, store.url());
    c.machine_id = MachineIdSource::Fixed("0123456789abcdef0123456789abcdef".into());
    c
}

async fn bench(run: &marquee_bench::Run, count: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = StoreConfig::loopback(dir.path().join("store"), None);
    marquee_store::cli::generate_catalog(&config, count).await?;
    let store = Store::start(config).await?;

    // Reference: the whole feed as one answer, downloaded and verified, no rows, no index.
    let started = Instant::now();
    let signed: marquee_store::api::SignedFeed =
        reqwest::get(format!("{}/api/v1/catalog", store.url()))
            .await?
            .json()
            .await?;
    let whole = marquee_core::verify_feed(&store.public_key(), &signed)?;
    let reference = started.elapsed();
    anyhow::ensure!(whole.titles.len() == count);
    let whole_bytes = signed.feed.len();
    drop((signed, whole));

    let profile_dir = dir.path().join("profile");
    let core = Core::open(profile(&profile_dir, &store)).await?;
    let started = Instant::now();
    let first = core.catalog_sync().await?;
    let first_time = started.elapsed();
    anyhow::ensure!(first.titles as usize == count, "first sync: {first:?}");
    anyhow::ensure!(core.catalog_list().await?.len() == count);
    drop(core);

    // A second start of the app: the copy is read and verified, then the store asked once.
    let core = Core::open(profile(&profile_dir, &store)).await?;
    let started = Instant::now();
    let repeat = core.catalog_sync().await?;
    let repeat_time = started.elapsed();
    anyhow::ensure!(
        repeat.not_modified && repeat.requests == 1,
        "repeat: {repeat:?}"
    );
    // Once running, each later check is the question alone.
    let started = Instant::now();
    let again = core.catalog_sync().await?;
    let again_time = started.elapsed();
    anyhow::ensure!(again.not_modified, "again: {again:?}");
    anyhow::ensure!(core.catalog_list().await?.len() == count);

    let ratio = repeat_time.as_secs_f64() / first_time.as_secs_f64();
    println!(
        "catalog_sync: {count} titles, pages of {}",
        marquee_core::catalog::SYNC_PAGE
    );
    println!(
        "  first sync        {:>9.0} ms   {} requests, {:.1} MB",
        ms(first_time),
        first.requests,
        first.bytes as f64 / 1e6
    );
    println!(
        "  repeat start      {:>9.0} ms   1 request (304), {} bytes   repeat/first {:.1} % (goal <= 5 %)",
        ms(repeat_time),
        repeat.bytes,
        ratio * 100.0
    );
    println!(
        "  later check       {:>9.1} ms   (304, while running)",
        ms(again_time)
    );
    println!(
        "  reference: the whole feed in one answer, downloaded and verified {:.0} ms ({:.1} MB)",
        ms(reference),
        whole_bytes as f64 / 1e6
    );
    let out = serde_json::json!({
        "titles": count,
        "page_size": marquee_core::catalog::SYNC_PAGE,
        "first_sync_ms": ms(first_time),
        "first_sync_requests": first.requests,
        "first_sync_bytes": first.bytes,
        "repeat_start_sync_ms": ms(repeat_time),
        "repeat_start_bytes": repeat.bytes,
        "repeat_over_first": ratio,
        "repeat_over_first_goal": 0.05,
        "later_check_ms": ms(again_time),
        "reference_whole_feed_ms": ms(reference),
        "reference_whole_feed_bytes": whole_bytes,
    });
    run.write_figures("catalog_sync", &serde_json::to_string_pretty(&out)?);
    store.shutdown().await;
    Ok(())
}
