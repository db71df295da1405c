//! Live relaying at 10, 100 and 1,000 viewers, at 1 and 4 Mbit/s, simulated on the real relay
//! with real signed chunks: latency 20–80 ms per link, 1 % loss, home upload lines of 1.2–5x
//! the bitrate, 10 % of the audience leaving and replaced every minute. Each size runs with
//! three seeds: the figures are their median, with the lowest and highest beside them (one
//! seed's run can sit far from another's). Beside each size, in the same run, the reference:
//! the same audience served straight from the broadcaster's own line (no relaying), and
//! BitTorrent Live's published five seconds of delay. Writes `target/bench/live.json`.
//!
//! `cargo bench -p marquee-live --bench live`; `LIVE_VIEWERS=100` for one size,
//! `LIVE_BITRATE_BPS=1000000` for one bitrate. Under `cargo test` it runs 10 viewers for 20 s,
//! both bitrates, three seeds, with the same checks, and writes nothing.

use std::time::Instant;

use marquee_live::sim::{simulate, SimConfig, SimReport};

/// The delay BitTorrent Live advertised, seconds.
const BITTORRENT_LIVE_LAG_S: f64 = 5.0;

/// The seeds each size runs with.
const SEEDS: [u64; 3] = [1, 2, 3];

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

fn entry(bitrate_bps: u64, runs: &[SimReport], direct: &SimReport) -> String {
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
            "\"continuity_on_the_same_line\": {:.4}, \"lag_p50_s_on_the_same_line\": {:.3}}}, ",
            "\"reference_bittorrent_live_lag_s\": {:.1}}}"
        ),
        bitrate_bps,
        runs[0].viewers,
        SEEDS,
        fields.join(", "),
        runs[0].viewers,
        direct.continuity,
        direct.lag_p50_s,
        BITTORRENT_LIVE_LAG_S,
    )
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
    let mut entries = Vec::new();
    for &bitrate_bps in &bitrates {
        for &viewers in &sizes {
            let started = Instant::now();
            let runs: Vec<SimReport> = SEEDS
                .iter()
                .map(|&seed| {
                    let mut config = SimConfig::new(viewers, seed);
                    config.stream_s = stream_s;
                    config.bitrate_bps = bitrate_bps;
                    simulate(&config)
                })
                .collect();
            let took = started.elapsed();
            let mut config = SimConfig::new(viewers, SEEDS[0]);
            config.stream_s = stream_s;
            config.bitrate_bps = bitrate_bps;
            config.direct = true;
            let direct = simulate(&config);
            let (lag50, lag50_lo, lag50_hi) = spread(&runs, |r| r.lag_p50_s);
            let (lag95, lag95_lo, lag95_hi) = spread(&runs, |r| r.lag_p95_s);
            let (start95, start95_lo, start95_hi) = spread(&runs, |r| r.startup_p95_s);
            let (cont, cont_lo, cont_hi) = spread(&runs, |r| r.continuity);
            let (hops, _, _) = spread(&runs, |r| f64::from(r.hops_p95));
            let (bup, _, _) = spread(&runs, |r| r.broadcaster_upload_x);
            let (vup, _, _) = spread(&runs, |r| r.viewer_upload_p95_x);
            println!(
                "live, {viewers} viewers at {} Mbit/s ({stream_s} s simulated, seeds {SEEDS:?}, in {:.1} s), \
                 median (lowest-highest): lag p50 {lag50:.2} s ({lag50_lo:.2}-{lag50_hi:.2}) \
                 p95 {lag95:.2} s ({lag95_lo:.2}-{lag95_hi:.2}) (BitTorrent Live: {BITTORRENT_LIVE_LAG_S} s), \
                 start-up p95 {start95:.2} s ({start95_lo:.2}-{start95_hi:.2}), \
                 continuity {cont:.4} ({cont_lo:.4}-{cont_hi:.4}), hops p95 {hops}, \
                 broadcaster upload {bup:.2}x the bitrate (without relaying it needs {viewers}x; \
                 on its own 4x line it plays {:.3} of chunks on time), viewer upload p95 {vup:.2}x",
                bitrate_bps as f64 / 1e6,
                took.as_secs_f64(),
                direct.continuity,
            );
            for r in &runs {
                assert_eq!(r.refused, 0);
                assert!(r.continuity > 0.8, "continuity {}", r.continuity);
            }
            entries.push(entry(bitrate_bps, &runs, &direct));
        }
    }
    let json = format!(
        "{{\n  \"stream_s\": {stream_s},\n  \"sizes\": [\n    {}\n  ]\n}}\n",
        entries.join(",\n    ")
    );
    run.write_figures("live", &json);
}
