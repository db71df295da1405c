//! Live relaying at 10, 100 and 1,000 viewers, at 1 and 4 Mbit/s, simulated on the real relay
//! with real signed chunks: latency 20–80 ms per link, 1 % loss, home upload lines of 1.2–5x
//! the bitrate, 10 % of the audience leaving and replaced every minute. Each size runs with
//! three seeds: the figures are their median, with the lowest and highest beside them (one
//! seed's run can sit far from another's). Beside each size, in the same run, the reference:
//! the same audience served straight from the broadcaster's own line (no relaying), and
//! BitTorrent Live's published five seconds of delay. Writes `target/bench/live.json`.
//!
//! `cargo bench -p marquee-live --bench live`; `LIVE_VIEWERS=100` for one size,
//! `LIVE_BITRATE_BPS=1000000` for one bitrate, `LIVE_SEEDS=1` (or `1,2`) for fewer seeds while
//! tuning (each run's figures and tree shape are printed as it ends), `LIVE_REFERENCE=0` to skip
//! the no-relay reference. Under `cargo test` it runs 10 viewers for 20 s,
//! both bitrates, three seeds, with the same checks, and writes nothing.

use std::time::Instant;

use marquee_live::sim::{simulate, SimConfig, SimReport};

/// The delay BitTorrent Live advertised, seconds.
const BITTORRENT_LIVE_LAG_S: f64 = 5.0;

/// The seeds each size runs with (`LIVE_SEEDS` picks others while tuning).
const SEEDS: [u64; 3] = [1, 2, 3];

/// The seeds of this run: [`SEEDS`] unless `LIVE_SEEDS` lists others, comma-separated.
fn seeds() -> Vec<u64> {
    std::env::var("LIVE_SEEDS")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect::<Vec<u64>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| SEEDS.to_vec())
}

/// The median of the runs' values, and the lowest and highest.
fn spread(runs: &[SimReport], value: impl Fn(&SimReport) -> f64) -> (f64, f64, f64) {
    let mut v: Vec<f64> = runs.iter().map(value).collect();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// `"name": median, "name_range": [low, high]`; `null` where a run had nothing to measure
/// (no viewer stayed 20 s in a short run, say).
fn field(name: &str, runs: &[SimReport], value: impl Fn(&SimReport) -> f64) -> String {
    let (mid, low, high) = spread(runs, value);
    let n = |x: f64| {
        if x.is_finite() {
            format!("{x:.4}")
        } else {
            "null".into()
        }
    };
    format!(
        "\"{name}\": {}, \"{name}_range\": [{}, {}]",
        n(mid),
        n(low),
        n(high)
    )
}

fn entry(
    bitrate_bps: u64,
    seeds: &[u64],
    runs: &[SimReport],
    direct: Option<&SimReport>,
) -> String {
    let fields = [
        field("lag_p50_s", runs, |r| r.lag_p50_s),
        field("lag_p95_s", runs, |r| r.lag_p95_s),
        field("startup_p50_s", runs, |r| r.startup_p50_s),
        field("startup_p95_s", runs, |r| r.startup_p95_s),
        field("continuity", runs, |r| r.continuity),
        field("continuity_steady", runs, |r| r.continuity_steady),
        field("hops_p95", runs, |r| f64::from(r.hops_p95)),
        field("broadcaster_upload_x", runs, |r| r.broadcaster_upload_x),
        field("viewer_upload_p50_x", runs, |r| r.viewer_upload_p50_x),
        field("viewer_upload_p95_x", runs, |r| r.viewer_upload_p95_x),
        field("repaired_share", runs, |r| r.repaired_share),
        field("duplicate_share", runs, |r| r.duplicate_share),
    ];
    format!(
        concat!(
            "{{\"bitrate_bps\": {}, \"viewers\": {}, \"seeds\": {:?}, {}, ",
            "\"reference_direct\": {{\"broadcaster_upload_needed_x\": {}, ",
            "\"continuity_on_the_same_line\": {}, \"lag_p50_s_on_the_same_line\": {}}}, ",
            "\"reference_bittorrent_live_lag_s\": {:.1}}}"
        ),
        bitrate_bps,
        runs[0].viewers,
        seeds,
        fields.join(", "),
        runs[0].viewers,
        // `null` when the reference was skipped (`LIVE_REFERENCE=0`).
        direct.map_or("null".into(), |d| format!("{:.4}", d.continuity)),
        direct.map_or("null".into(), |d| format!("{:.3}", d.lag_p50_s)),
        BITTORRENT_LIVE_LAG_S,
    )
}

/// One run's figures and where its trees are deep: viewers by depth over all stripes (the last
/// entry: not connected), and how much of the viewers' slots their home stripe fills.
fn print_run(seed: u64, r: &SimReport) {
    println!(
        "  seed {seed}: lag p50 {:.2} p95 {:.2} s, start-up p50 {:.2} p95 {:.2} s, \
         continuity {:.4} (steady {:.4}), hops p95 {}, broadcaster {:.3}x, \
         viewer p95 {:.2}x, repaired {:.3}, duplicates {:.3}, first chunk p95 {:.2} s, \
         start delay p50 {:.2} s, rebuffers {}, caught up {}; \
         depths {:?}, home slot use {:.2}; {:?}",
        r.lag_p50_s,
        r.lag_p95_s,
        r.startup_p50_s,
        r.startup_p95_s,
        r.continuity,
        r.continuity_steady,
        r.hops_p95,
        r.broadcaster_upload_x,
        r.viewer_upload_p95_x,
        r.repaired_share,
        r.duplicate_share,
        r.first_chunk_p95_s,
        r.start_delay_p50_s,
        r.rebuffers,
        r.caught_up,
        r.depth_histogram,
        r.home_slot_use,
        r.tree,
    );
}

/// A number from the environment, if set and valid.
fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    let Some(run) = marquee_bench::Run::from_args("live") else {
        return;
    };
    let sizes: Vec<usize> = if run.measuring() {
        env("LIVE_VIEWERS").map_or(vec![10, 100, 1000], |n| vec![n])
    } else {
        vec![10]
    };
    let bitrates: Vec<u64> =
        env("LIVE_BITRATE_BPS").map_or(vec![1_000_000, 4_000_000], |b| vec![b]);
    let stream_s = run.size(90, 20, "LIVE_STREAM_S");
    let seeds = seeds();
    let mut entries = Vec::new();
    for &bitrate_bps in &bitrates {
        for &viewers in &sizes {
            let started = Instant::now();
            let runs: Vec<SimReport> = seeds
                .iter()
                .map(|&seed| {
                    let mut config = SimConfig::new(viewers, seed);
                    config.stream_s = stream_s;
                    config.bitrate_bps = bitrate_bps;
                    let r = simulate(&config);
                    print_run(seed, &r);
                    r
                })
                .collect();
            let took = started.elapsed();
            let mut config = SimConfig::new(viewers, seeds[0]);
            config.stream_s = stream_s;
            config.bitrate_bps = bitrate_bps;
            config.direct = true;
            let direct = (env::<u8>("LIVE_REFERENCE") != Some(0)).then(|| simulate(&config));
            let (lag50, lag50_lo, lag50_hi) = spread(&runs, |r| r.lag_p50_s);
            let (lag95, lag95_lo, lag95_hi) = spread(&runs, |r| r.lag_p95_s);
            let (start95, start95_lo, start95_hi) = spread(&runs, |r| r.startup_p95_s);
            let (cont, cont_lo, cont_hi) = spread(&runs, |r| r.continuity);
            let (hops, _, _) = spread(&runs, |r| f64::from(r.hops_p95));
            let (bup, _, _) = spread(&runs, |r| r.broadcaster_upload_x);
            let (vup, _, _) = spread(&runs, |r| r.viewer_upload_p95_x);
            println!(
                "live, {viewers} viewers at {} Mbit/s ({stream_s} s simulated, seeds {seeds:?}, in {:.1} s), \
                 median (lowest-highest): lag p50 {lag50:.2} s ({lag50_lo:.2}-{lag50_hi:.2}) \
                 p95 {lag95:.2} s ({lag95_lo:.2}-{lag95_hi:.2}) (BitTorrent Live: {BITTORRENT_LIVE_LAG_S} s), \
                 start-up p95 {start95:.2} s ({start95_lo:.2}-{start95_hi:.2}), \
                 continuity {cont:.4} ({cont_lo:.4}-{cont_hi:.4}), hops p95 {hops}, \
                 broadcaster upload {bup:.2}x the bitrate (without relaying it needs {viewers}x; \
                 on its own 4x line it plays {:.3} of chunks on time), viewer upload p95 {vup:.2}x",
                bitrate_bps as f64 / 1e6,
                took.as_secs_f64(),
                direct.as_ref().map_or(f64::NAN, |d| d.continuity),
            );
            for r in &runs {
                assert_eq!(r.refused, 0);
                assert!(r.continuity > 0.8, "continuity {}", r.continuity);
            }
            entries.push(entry(bitrate_bps, &seeds, &runs, direct.as_ref()));
        }
    }
    let json = format!(
        "{{\n  \"stream_s\": {stream_s},\n  \"sizes\": [\n    {}\n  ]\n}}\n",
        entries.join(",\n    ")
    );
    run.write_figures("live", &json);
}
