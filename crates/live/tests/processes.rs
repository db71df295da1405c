//! Real processes over real sockets: a `marquee-store` whose directory lists the channel, one
//! `marquee-live broadcast` and a swarm of `marquee-live watch` viewers on 127.0.0.1 that join
//! through the store and talk QUIC through iroh.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use marquee_live::net::Report;

const BIN: &str = env!("CARGO_BIN_EXE_marquee-live");
const MEDIA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../store/demo/media/glass-rain.webm"
);
const VIEWERS: usize = 16;
const KILLED: usize = 3;

/// A child process whose JSON report lines are read as they come. Killed when dropped, so a
/// failing test leaves nothing running.
struct Proc {
    child: Child,
    /// The words of its first line (`node <id> addr <addr>`, the broadcaster's with `channel`).
    first: Vec<String>,
    latest: Arc<Mutex<Option<Report>>>,
    /// Every report with when it came, to show how a viewer fared over time.
    history: Arc<Mutex<Vec<(Instant, Report)>>>,
}

impl Proc {
    fn spawn(args: &[String]) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            // The broadcaster lists its channel with the demo store's account.
            .env("MARQUEE_EMAIL", marquee_store::DEMO_EMAIL)
            .env("MARQUEE_PASSWORD", marquee_store::DEMO_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("marquee-live starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let latest = Arc::new(Mutex::new(None));
        let (first_tx, first_rx) = mpsc::channel();
        let shared = latest.clone();
        let history = Arc::new(Mutex::new(Vec::new()));
        let log = history.clone();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = first_tx.send(line);
            }
            for line in lines.map_while(Result::ok) {
                if let Ok(report) = serde_json::from_str::<Report>(&line) {
                    log.lock().unwrap().push((Instant::now(), report.clone()));
                    *shared.lock().unwrap() = Some(report);
                }
            }
        });
        let first = first_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("marquee-live prints its address");
        Proc {
            child,
            first: first.split_whitespace().map(String::from).collect(),
            latest,
            history,
        }
    }

    /// The value after `key` on the first line.
    fn field(&self, key: &str) -> String {
        let at = self.first.iter().position(|w| w == key).expect(key);
        self.first[at + 1].clone()
    }

    fn report(&self) -> Option<Report> {
        self.latest.lock().unwrap().clone()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` every 100 ms until it holds; panics with `what` and the figures at `deadline`.
fn wait_until(what: &str, within: Duration, viewers: &[&Proc], done: impl Fn(&[Report]) -> bool) {
    let deadline = Instant::now() + within;
    loop {
        let reports: Vec<Report> = viewers.iter().filter_map(|v| v.report()).collect();
        if reports.len() == viewers.len() && done(&reports) {
            return;
        }
        if Instant::now() > deadline {
            for r in &reports {
                eprintln!("{r:?}");
            }
            panic!(
                "timed out waiting until {what} ({} of {} viewers reporting)",
                reports.len(),
                viewers.len()
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn continuity(r: &Report) -> f64 {
    r.played as f64 / (r.played + r.missed).max(1) as f64
}

fn percentile(mut values: Vec<u64>, p: usize) -> u64 {
    values.sort_unstable();
    values[(values.len() * p / 100).min(values.len() - 1)]
}

#[test]
fn a_swarm_of_viewer_processes_plays_and_survives_killed_relays() {
    let _turn = crate::heavy();
    let data = tempfile::tempdir().unwrap();
    let store = marquee_testsupport::StoreProcess::start(
        &marquee_testsupport::store_bin(),
        data.path(),
        "127.0.0.1:0",
    );
    let started = Instant::now();
    let report = ["--json".to_string(), "--report-ms".into(), "250".into()];
    let mut args = vec!["broadcast".to_string(), MEDIA.into()];
    args.extend([
        "--store".into(),
        store.url().into(),
        "--title".into(),
        "Glass rain, live".into(),
    ]);
    args.extend(report.clone());
    let broadcaster = Proc::spawn(&args);
    let channel = broadcaster.field("channel");
    let listed = listed_channels(store.url());
    assert_eq!(
        listed["channels"][0]["channel"],
        channel.as_str(),
        "{listed}"
    );
    assert_eq!(listed["channels"][0]["title"], "Glass rain, live");

    // Each viewer knows only the store: it joins through the directory, which hands it peers
    // with room near the root (the broadcaster while the trees are small).
    let mut viewers: Vec<Proc> = Vec::new();
    for i in 0..VIEWERS {
        let mut args = vec!["watch".to_string(), channel.clone()];
        args.extend(["--store".into(), store.url().into()]);
        // Home lines as in the simulator: from barely above the bitrate to fibre.
        let upload_x = [1.2, 2.0, 3.0, 5.0][i % 4];
        args.extend(["--upload-x".into(), upload_x.to_string()]);
        args.extend(report.clone());
        let viewer = Proc::spawn(&args);
        // The next one starts once this one receives the stream: viewers arrive one after
        // another rather than all in the same second (a flash crowd is the simulator's to
        // measure; here the transport is under test).
        wait_until(
            "a new viewer receives chunks",
            Duration::from_secs(20),
            &[&viewer],
            |rs| rs[0].received > 0,
        );
        viewers.push(viewer);
    }
    let all: Vec<&Proc> = viewers.iter().collect();
    wait_until(
        "every viewer played 20 chunks",
        Duration::from_secs(40),
        &all,
        |rs| rs.iter().all(|r| r.played >= 20),
    );
    let warm = started.elapsed();
    let counted = listed_channels(store.url())["channels"][0]["viewers"].as_u64();
    assert_eq!(
        counted,
        Some(VIEWERS as u64),
        "the directory counts every viewer"
    );

    // Kill three viewers spread over the join order, as viewers leave without a word. (Killing
    // instead the three that relay the most, three of the four stripes' first relays, stops
    // three stripes for everyone until the orphans re-join: continuity 0.90–0.94 measured
    // here, too close to the bar for a test that must not flake.)
    let killed = [2, 7, 12];
    let killed_at = Instant::now();
    for &i in &killed {
        viewers[i].child.kill().expect("kill a viewer");
    }
    let survivors: Vec<&Proc> = viewers
        .iter()
        .enumerate()
        .filter(|(i, _)| !killed.contains(i))
        .map(|(_, v)| v)
        .collect();
    let at_kill: Vec<Report> = survivors.iter().map(|v| v.report().unwrap()).collect();
    let before: Vec<u64> = at_kill.iter().map(|r| r.played).collect();
    wait_until(
        "every survivor played 160 more chunks",
        Duration::from_secs(40),
        &survivors,
        |rs| rs.iter().zip(&before).all(|(r, b)| r.played >= b + 160),
    );

    let reports: Vec<Report> = survivors.iter().map(|v| v.report().unwrap()).collect();
    let b = broadcaster.report().expect("the broadcaster reports");
    let received: Vec<u64> = reports.iter().map(|r| r.bytes_received).collect();
    let one_stream = percentile(received, 50).max(1);
    let missed_at_kill: u64 = at_kill.iter().map(|r| r.missed).sum();
    eprintln!("viewer  played missed   lag_ms startup_ms hops_p95 upload_x repaired joins orphaned rebuf dropped lost");
    for r in &reports {
        eprintln!(
            "{}  {:6} {:6} {:8} {:10} {:8} {:8.2} {:8} {:5} {:8} {:5} {:7} {:4}",
            &r.node[..6],
            r.played,
            r.missed,
            r.lag_ms.unwrap_or(0),
            r.startup_ms.unwrap_or(0),
            r.hops_p95.unwrap_or(0),
            r.bytes_sent as f64 / r.bytes_received.max(1) as f64,
            r.repaired,
            r.joins,
            r.orphaned,
            r.rebuffers,
            r.dropped,
            r.lost,
        );
    }
    // How the viewer that missed most fared around the kill, a line a second.
    if let Some(worst) = survivors
        .iter()
        .max_by_key(|v| v.report().map_or(0, |r| r.missed))
    {
        eprintln!(
            "worst viewer over time (s from the kill: played missed orphaned joins neighbours)"
        );
        let history = worst.history.lock().unwrap();
        let mut next = -5.0;
        for (at, r) in history.iter() {
            let t = at.duration_since(started).as_secs_f64()
                - killed_at.duration_since(started).as_secs_f64();
            if t >= next {
                next = t + 1.0;
                eprint!(
                    "{t:+.1}: {} {} {} {} {} | ",
                    r.played, r.missed, r.orphaned, r.joins, r.neighbours
                );
            }
        }
        eprintln!();
    }
    let lags: Vec<u64> = reports
        .iter()
        .map(|r| r.lag_ms.unwrap_or(u64::MAX))
        .collect();
    let startups: Vec<u64> = reports
        .iter()
        .map(|r| r.startup_ms.unwrap_or(u64::MAX))
        .collect();
    let worst_continuity = reports.iter().map(continuity).fold(1.0, f64::min);
    let played: u64 = reports.iter().map(|r| r.played).sum();
    let missed: u64 = reports.iter().map(|r| r.missed).sum();
    let played_later: u64 = reports.iter().map(|r| r.played_later).sum();
    let missed_later: u64 = reports.iter().map(|r| r.missed_later).sum();
    let overall = played as f64 / (played + missed).max(1) as f64;
    let upload: Vec<u64> = reports
        .iter()
        .map(|r| r.bytes_sent * 100 / r.bytes_received.max(1))
        .collect();
    eprintln!(
        "processes: {VIEWERS} viewers ({KILLED} killed midway), lag p50 {} ms p95 {} ms, \
         startup p50 {} ms p95 {} ms, continuity {:.4} (worst viewer {:.4}; from 10 s after the \
         first frame {:.4}), hops p95 {}, \
         broadcaster upload {:.2}x, viewer upload p95 {:.2}x, warm after {:.1} s, total {:.1} s; \
         missed before the kill {missed_at_kill}, after {}",
        percentile(lags.clone(), 50),
        percentile(lags.clone(), 95),
        percentile(startups.clone(), 50),
        percentile(startups, 95),
        overall,
        worst_continuity,
        played_later as f64 / (played_later + missed_later).max(1) as f64,
        reports.iter().filter_map(|r| r.hops_p95).max().unwrap_or(0),
        b.bytes_sent as f64 / one_stream as f64,
        percentile(upload, 95) as f64 / 100.0,
        warm.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        missed - missed_at_kill,
    );

    // With the demo's 2 s segments one late chunk costs the rest of its segment (the player
    // skips to the next keyframe), up to 18 chunks: a viewer with three such skips in a run this
    // short is at 0.75 (the worst viewer measured 0.72–0.92), so the bar for each viewer only
    // catches one left behind. The swarm measured 0.92–0.97 over most runs, and 0.81 once with
    // the whole test suite competing for the two cores: these bars only catch a swarm falling
    // apart (real processes on a loaded machine are not a benchmark; the 0.99 goal is the
    // benchmark's to show). Every viewer playing through the kills is the point.
    assert!(overall > 0.6, "continuity {overall}");
    for r in &reports {
        assert!(continuity(r) > 0.3, "continuity of {r:?}");
        assert!(r.lag_ms.is_some_and(|l| l < 10_000), "lag of {r:?}");
        assert_eq!(r.refused, 0, "{r:?}");
    }
    assert_eq!(b.refused, 0);
}

/// `GET /api/v1/channels` of the store at `url`, as JSON.
fn listed_channels(url: &str) -> serde_json::Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = marquee_protocol::StoreClient::new(url).unwrap();
    let listed = runtime
        .block_on(client.channels())
        .expect("the directory answers");
    serde_json::to_value(listed).unwrap()
}
