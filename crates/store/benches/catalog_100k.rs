//! The catalog at 100,000 titles: generate them, then time over loopback HTTP the first feed
//! page, a full paged walk and an ETag revalidation, beside a reference measured in the same
//! run (serialising the same titles with serde_json alone). Writes `target/bench/catalog.json`.
//!
//! Run with `cargo bench -p marquee-store --bench catalog_100k`. Under `cargo test` it walks
//! 2,000 titles in pages of 100, with the same checks, and writes nothing.

use std::time::{Duration, Instant};

use marquee_store::api::{CatalogFeed, SignedFeed};
use marquee_store::{Store, StoreConfig};

const TITLES: usize = 100_000;
const PAGE: u32 = 1000;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let Some(run) = marquee_bench::Run::from_args("catalog_100k") else {
        return Ok(());
    };
    let (titles, page) = if run.measuring() {
        (TITLES, PAGE)
    } else {
        (2_000, 100)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(catalog(&run, titles, page))
}

async fn get_page(http: &reqwest::Client, url: &str) -> anyhow::Result<(CatalogFeed, String)> {
    let resp = http.get(url).send().await?;
    anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
    let etag = resp.headers()["etag"].to_str()?.to_owned();
    let signed: SignedFeed = resp.json().await?;
    Ok((serde_json::from_str(&signed.feed)?, etag))
}

async fn catalog(run: &marquee_bench::Run, count: usize, page_size: u32) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = StoreConfig::loopback(dir.path().join("store"), None);
    let started = Instant::now();
    marquee_store::cli::generate_catalog(&config, count).await?;
    let generate = started.elapsed();
    let started = Instant::now();
    let store = Store::start(config).await?;
    let start = started.elapsed();
    let base = store.url();
    let http = reqwest::Client::new();

    // Reference: the same titles serialised by serde_json alone, no store, no HTTP.
    let titles = marquee_store::generate::synthetic_catalog(count);
    let started = Instant::now();
    let json = serde_json::to_string(&titles)?;
    let reference_full = started.elapsed();
    let started = Instant::now();
    let page_json = serde_json::to_string(&titles[..page_size as usize])?;
    let reference_page = started.elapsed();
    drop((json, page_json));

    let started = Instant::now();
    let (first, etag) =
        get_page(&http, &format!("{base}/api/v1/catalog?limit={page_size}")).await?;
    let first_page = started.elapsed();
    anyhow::ensure!(first.titles.len() == page_size as usize);
    anyhow::ensure!(first.total == Some(count as u64));

    let started = Instant::now();
    let mut seen = 0usize;
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &after {
            Some(a) => format!("{base}/api/v1/catalog?limit={page_size}&after={a}"),
            None => format!("{base}/api/v1/catalog?limit={page_size}"),
        };
        let (page, _) = get_page(&http, &url).await?;
        seen += page.titles.len();
        pages += 1;
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    let walk = started.elapsed();
    anyhow::ensure!(seen == count, "the walk saw {seen} titles");

    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        let resp = http
            .get(format!("{base}/api/v1/catalog?limit={page_size}"))
            .header("if-none-match", &etag)
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 304, "revalidation: {}", resp.status());
    }
    let revalidate = started.elapsed() / rounds;

    let started = Instant::now();
    let resp = http.get(format!("{base}/api/v1/catalog")).send().await?;
    let full_bytes = resp.bytes().await?.len();
    let full = started.elapsed();

    println!("catalog_100k: {count} synthetic titles");
    println!("  generate + insert     {:>9.0} ms", ms(generate));
    println!("  store start (load)    {:>9.0} ms", ms(start));
    println!(
        "  first page ({page_size})     {:>9.1} ms   reference: serde_json of {page_size} titles {:.1} ms",
        ms(first_page),
        ms(reference_page)
    );
    println!(
        "  full paged walk       {:>9.0} ms   ({pages} pages)   reference: serde_json of all {:.0} ms",
        ms(walk),
        ms(reference_full)
    );
    println!(
        "  ETag revalidation     {:>9.2} ms   (304, mean of {rounds})",
        ms(revalidate)
    );
    println!(
        "  whole feed, one call  {:>9.0} ms   ({:.1} MB)",
        ms(full),
        full_bytes as f64 / 1e6
    );

    let out = serde_json::json!({
        "titles": count,
        "page_size": page_size,
        "generate_ms": ms(generate),
        "start_ms": ms(start),
        "first_page_ms": ms(first_page),
        "walk_ms": ms(walk),
        "pages": pages,
        "revalidate_ms": ms(revalidate),
        "full_feed_ms": ms(full),
        "full_feed_bytes": full_bytes,
        "reference_page_serialize_ms": ms(reference_page),
        "reference_full_serialize_ms": ms(reference_full),
    });
    run.write_figures("catalog", &serde_json::to_string_pretty(&out)?);
    store.shutdown().await;
    Ok(())
}
