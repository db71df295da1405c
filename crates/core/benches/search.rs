//! Full-text search of a 100,000-title catalog (SQLite FTS5 in the library), beside a plain
//! in-memory scan of the same titles measured in the same run.
//!
//! `cargo bench -p marquee-core --bench search` (or `cargo xtask bench`). Indexes the titles,
//! then runs 200 queries (one or two words taken from the catalog, as a person types them) and
//! prints the median and p99 latency of each method and the ratio `scan / index`. Writes
//! `target/bench/search.json`. `MARQUEE_BENCH_TITLES` changes the size; under `cargo test`
//! (no `--bench`) it runs on 2,000 titles and writes nothing.

use std::time::Instant;

use marquee_core::catalog::SearchIndex;
use marquee_store::api::FeedTitle;

/// The reference: every word must prefix a word of the name, series, studio, genre or synopsis.
/// Like the index, it looks at every title (a search must find all matches to rank them), then
/// keeps the first 60.
fn scan<'a>(titles: &'a [FeedTitle], query: &str) -> Vec<&'a str> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    titles
        .iter()
        .filter(|t| {
            let text = format!(
                "{} {} {} {} {}",
                t.name,
                t.series.as_ref().map(|s| s.series.as_str()).unwrap_or(""),
                t.studio,
                t.genre,
                t.synopsis
            )
            .to_lowercase();
            let tokens: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
            words
                .iter()
                .all(|w| tokens.iter().any(|tok| tok.starts_with(w.as_str())))
        })
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .into_iter()
        .take(60)
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let Some(run) = marquee_bench::Run::from_args("search") else {
        return;
    };
    let count: usize = run.size(100_000, 2_000, "MARQUEE_BENCH_TITLES");
    let titles = marquee_store::generate::synthetic_catalog(count);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = rt
        .block_on(SearchIndex::open(&dir.path().join("library.db")))
        .unwrap();

    let t = Instant::now();
    rt.block_on(lib.index_catalog(&titles)).unwrap();
    let index_ms = t.elapsed().as_secs_f64() * 1000.0;

    // Queries as people type them: a word of a name, sometimes the start of a second one.
    let queries: Vec<String> = (0..200)
        .map(|i| {
            let t = &titles[(i * 7919) % titles.len()];
            let mut words = t.name.split_whitespace();
            let first = words.next().unwrap_or("film").to_owned();
            match words.next() {
                Some(second) if i % 2 == 0 => format!("{first} {}", &second[..second.len().min(3)]),
                _ => first,
            }
        })
        .collect();

    let (mut fts, mut reference) = (Vec::new(), Vec::new());
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        let found = rt.block_on(lib.search(q, 60)).unwrap();
        fts.push(t.elapsed().as_secs_f64() * 1000.0);
        hits += found.len();
        let t = Instant::now();
        std::hint::black_box(scan(&titles, q));
        reference.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    assert!(hits > 0, "the queries find titles");
    fts.sort_by(f64::total_cmp);
    reference.sort_by(f64::total_cmp);
    let (fts_median, fts_p99) = (percentile(&fts, 0.5), percentile(&fts, 0.99));
    let (ref_median, ref_p99) = (percentile(&reference, 0.5), percentile(&reference, 0.99));
    let ratio = ref_median / fts_median;
    println!(
        "search {count} titles: index {index_ms:.0} ms; query median {fts_median:.2} ms, p99 {fts_p99:.2} ms; \
         in-memory scan median {ref_median:.2} ms, p99 {ref_p99:.2} ms; scan/index {ratio:.1}x"
    );
    let json = format!(
        "{{\n  \"titles\": {count},\n  \"queries\": {},\n  \"index_ms\": {index_ms:.1},\n  \"median_ms\": {fts_median:.3},\n  \"p99_ms\": {fts_p99:.3},\n  \"scan_median_ms\": {ref_median:.3},\n  \"scan_p99_ms\": {ref_p99:.3},\n  \"ratio_scan_vs_index\": {ratio:.2}\n}}\n",
        queries.len()
    );
    run.write_figures("search", &json);
}
