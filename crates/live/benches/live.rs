//! Live relaying at 10, 100 and 1,000 viewers, simulated on the real relay with real signed
//! chunks: latency 20–80 ms per link, 1 % loss, home upload lines of 1.2–5x the bitrate, 10 %
//! of the audience leaving and replaced every minute. Beside each size, in the same run, the
//! reference: the same audience served straight from the broadcaster's own line (no relaying),
//! and BitTorrent Live's published five seconds of delay. Writes `target/bench/live.json`.
//!
//! `cargo bench -p marquee-live --bench live`; `LIVE_VIEWERS=100` for one size. Under
//! `cargo test` it runs 10 viewers for 20 s with the same checks and writes nothing.

use std::time::Instant;

use marquee_live::sim::{simulate, SimConfig, SimReport};

/// The delay BitTorrent Live advertised, seconds.
const BITTORRENT_LIVE_LAG_S: f64 = 5.0;

fn entry(r: &SimReport, direct: &SimReport) -> String {
    format!(
        concat!(
            "{{\"viewers\": {}, \"lag_p50_s\": {:.3}, \"lag_p95_s\": {:.3}, ",
            "\"startup_p50_s\": {:.3}, \"startup_p95_s\": {:.3}, \"continuity\": {:.4}, ",
            "\"hops_p95\": {}, \"broadcaster_upload_x\": {:.3}, \"viewer_upload_p50_x\": {:.3}, ",
            "\"viewer_upload_p95_x\": {:.3}, \"repaired_share\": {:.3}, \"duplicate_share\": {:.3}, ",
            "\"reference_direct\": {{\"broadcaster_upload_needed_x\": {}, ",
            "\"continuity_on_the_same_line\": {:.4}, \"lag_p50_s_on_the_same_line\": {:.3}}}, ",
            "\"reference_bittorrent_live_lag_s\": {:.1}}}"
        ),
        r.viewers,
        r.lag_p50_s,
        r.lag_p95_s,
        r.startup_p50_s,
        r.startup_p95_s,
        r.continuity,
        r.hops_p95,
        r.broadcaster_upload_x,
        r.viewer_upload_p50_x,
        r.viewer_upload_p95_x,
        r.repaired_share,
        r.duplicate_share,
        r.viewers,
        direct.continuity,
        direct.lag_p50_s,
        BITTORRENT_LIVE_LAG_S,
    )
}

fn main() {
    let Some(run) = marquee_bench::Run::from_args("live") else {
        return;
    };
    let sizes: Vec<usize> = if run.measuring() {
        match std::env::var("LIVE_VIEWERS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(n) => vec![n],
            None => vec![10, 100, 1000],
        }
    } else {
        vec![10]
    };
    let stream_s = run.size(90, 20, "LIVE_STREAM_S");
    let mut entries = Vec::new();
    for viewers in sizes {
        let mut config = SimConfig::new(viewers, 1);
        config.stream_s = stream_s;
        let started = Instant::now();
        let r = simulate(&config);
        let took = started.elapsed();
        config.direct = true;
        let direct = simulate(&config);
        println!(
            "live, {viewers} viewers ({stream_s} s simulated in {:.1} s): lag p50 {:.2} s p95 {:.2} s \
             (BitTorrent Live: {BITTORRENT_LIVE_LAG_S} s), start-up p50 {:.2} s p95 {:.2} s, \
             continuity {:.4} (steady {:.4}), hops p95 {}, broadcaster upload {:.2}x the bitrate \
             (without relaying it needs {viewers}x; on its own 4x line it plays {:.3} of chunks on time), \
             viewer upload p50 {:.2}x p95 {:.2}x",
            took.as_secs_f64(),
            r.lag_p50_s,
            r.lag_p95_s,
            r.startup_p50_s,
            r.startup_p95_s,
            r.continuity,
            r.continuity_steady,
            r.hops_p95,
            r.broadcaster_upload_x,
            direct.continuity,
            r.viewer_upload_p50_x,
            r.viewer_upload_p95_x,
        );
        assert_eq!(r.refused, 0);
        assert!(r.continuity > 0.8, "continuity {}", r.continuity);
        entries.push(entry(&r, &direct));
    }
    let json = format!(
        "{{\n  \"bitrate_bps\": {},\n  \"stream_s\": {stream_s},\n  \"sizes\": [\n    {}\n  ]\n}}\n",
        SimConfig::new(1, 1).bitrate_bps,
        entries.join(",\n    ")
    );
    run.write_figures("live", &json);
}
