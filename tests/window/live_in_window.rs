//! Live in the window: a `marquee-store` process whose directory lists a channel broadcast by a
//! `marquee-live broadcast` process, with ten `marquee-live watch` processes relaying it. The
//! app shows the channel in its Live section, plays it from the live edge in one click through
//! Media Source Extensions, says how far behind live it is and what it gives back, leaves
//! cleanly, and says so when the broadcaster ends the channel.
//!
//! Writes `target/e2e/live.json` (`lag_s`: now minus the capture time of the frame on screen,
//! measured in the page, median over ten seconds; `startup_s`: click to first frame, of which
//! `join_s` until the core answered, having joined the relay through the directory;
//! `upload_bytes_per_s`: what the app relayed to others), and saves `target/e2e/live-section.png`
//! and `target/e2e/live-playing.png` (the README shows both).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::json;

use crate::common::*;

/// Viewer processes relaying beside the app.
const VIEWERS: usize = 10;
const TITLE: &str = "Glass rain, live";

/// The `marquee-live` binary `cargo build --workspace` builds beside the app.
fn live_bin() -> PathBuf {
    let bin = target_dir()
        .join("debug")
        .join(format!("marquee-live{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: `cargo build --workspace` builds it",
        bin.display()
    );
    bin
}

fn demo_media() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/store/demo/media/glass-rain.webm")
}

/// A `marquee-live` process, killed when dropped; its first line read.
struct Live {
    child: Child,
    first: Vec<String>,
}

impl Live {
    fn spawn(args: &[&str]) -> Live {
        let mut child = Command::new(live_bin())
            .args(args)
            // The broadcaster lists its channel with the demo store's account.
            .env("MARQUEE_EMAIL", marquee_store::DEMO_EMAIL)
            .env("MARQUEE_PASSWORD", marquee_store::DEMO_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("marquee-live starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep reading so the process never blocks on a full pipe.
            for _ in lines.map_while(Result::ok) {}
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("marquee-live prints its address");
        Live {
            child,
            first: first.split_whitespace().map(String::from).collect(),
        }
    }

    fn field(&self, key: &str) -> String {
        let at = self.first.iter().position(|w| w == key).expect(key);
        self.first[at + 1].clone()
    }

    /// SIGTERM: a broadcaster ends its channel in the directory before it exits.
    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("marquee-live did not stop on SIGTERM");
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A number the page holds in a data attribute of `css`, once it holds one.
async fn data_number(c: &Client, what: &str, css: &str, attribute: &str) -> f64 {
    poll(
        c,
        what,
        &format!(
            "const e = document.querySelector('{css}');
             if (!e) return null;
             const v = e.getAttribute('{attribute}');
             return v === null || v === '' ? null : Number(v);"
        ),
        Duration::from_secs(60),
    )
    .await
    .as_f64()
    .expect("a number")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_a_channel_relayed_by_viewer_processes_from_the_live_edge() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let data = tempfile::tempdir().unwrap();
    let store = start_store_process(data.path());
    let url = store.url().to_owned();
    let media = demo_media();
    let mut broadcaster = Live::spawn(&[
        "broadcast",
        media.to_str().unwrap(),
        "--store",
        &url,
        "--title",
        TITLE,
    ]);
    let channel = broadcaster.field("channel");
    let _viewers: Vec<Live> = (0..VIEWERS)
        .map(|_| Live::spawn(&["watch", &channel, "--store", &url]))
        .collect();

    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch_with(&display, profile.path(), &[], Some(&url)).await;

    // The Live section lists the channel with its viewers.
    click(&c, "[data-testid=tab-live]").await;
    let tile = format!("[data-testid=live-channel][data-channel='{channel}']");
    poll(
        &c,
        "the channel in the Live section with its relaying viewers",
        &format!(
            "const t = document.querySelector(\"{tile}\");
             return t && t.innerText.includes('{TITLE}') && /1[0-9] viewers|[2-9][0-9] viewers/.test(t.getAttribute('aria-label'));"
        ),
        Duration::from_secs(60),
    )
    .await;
    screenshot(&c, "the Live section to settle", &out, "live-section.png").await;

    // One click: it plays from the live edge.
    click(&c, &tile).await;
    poll(
        &c,
        "the live video to advance",
        "const v = document.querySelector('[data-testid=live-video]');
         if (!v) return null;
         if (window.__liveFirst === undefined) { window.__liveFirst = v.currentTime; return null; }
         return v.currentTime > window.__liveFirst + 2 ? v.currentTime : null;",
        Duration::from_secs(60),
    )
    .await;
    let frame = frame_is_picture(&c, "[data-testid=live-video]").await;
    let startup_ms = data_number(
        &c,
        "the time to the first frame",
        "[data-testid=live-video]",
        "data-startup-ms",
    )
    .await;

    let join_ms = data_number(
        &c,
        "the time to join the relay",
        "[data-testid=live-video]",
        "data-join-ms",
    )
    .await;

    // Ten seconds of playing: the lag behind live, and what this computer gives back.
    let mut lags = Vec::new();
    let mut uploads = Vec::new();
    for _ in 0..20 {
        lags.push(
            data_number(&c, "the lag", "[data-testid=live-video]", "data-lag-ms").await / 1000.0,
        );
        uploads.push(
            data_number(
                &c,
                "the upload rate",
                "[data-testid=live-giving]",
                "data-upload",
            )
            .await,
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let behind = poll(
        &c,
        "the player to say how far behind live it is",
        "const e = document.querySelector('[data-testid=live-behind]');
         return e && /behind live/.test(e.innerText) ? e.innerText : null;",
        Duration::from_secs(10),
    )
    .await;
    // A seek toward the schedule shows black until the next frame: shoot a frame on screen.
    frame_is_picture(&c, "[data-testid=live-video]").await;
    screenshot(&c, "the live player to settle", &out, "live-playing.png").await;
    let lag_s = median(lags.clone());
    let startup_s = startup_ms / 1000.0;
    let upload = uploads.iter().sum::<f64>() / uploads.len() as f64;
    let figures = json!({
        "viewers": VIEWERS,
        "lag_s": lag_s,
        "lag_s_max": lags.iter().cloned().fold(0.0, f64::max),
        "startup_s": startup_s,
        "join_s": join_ms / 1000.0,
        "upload_bytes_per_s": upload,
        "frame": frame,
        "goals": { "lag_s": 3.0, "startup_s": 2.0 },
    });
    std::fs::write(
        out.join("live.json"),
        serde_json::to_string_pretty(&figures).unwrap(),
    )
    .unwrap();
    eprintln!("live in the window: {figures} ({behind})");

    // Leaving closes the player and the stream; the section is back.
    click(&c, "[data-testid=live-back]").await;
    poll(
        &c,
        "the Live section after leaving",
        "return document.querySelector('[data-testid=live-player-view]') === null
             && document.querySelector('[data-testid=live-page]') !== null;",
        Duration::from_secs(20),
    )
    .await;

    // Watching again, then the broadcaster ends the channel: the player says so in words.
    click(&c, &tile).await;
    poll(
        &c,
        "the live video to play again",
        "const v = document.querySelector('[data-testid=live-video]');
         return v && v.currentTime > 0 && !v.paused;",
        Duration::from_secs(60),
    )
    .await;
    broadcaster.terminate();
    poll(
        &c,
        "the player to say the broadcast ended",
        "const e = document.querySelector('[data-testid=live-ended]');
         return e && /has ended/.test(e.innerText);",
        Duration::from_secs(60),
    )
    .await;
    click(&c, "[data-testid=live-ended] button").await;
    poll(
        &c,
        "the Live section to say nobody is live",
        "return document.querySelector('[data-testid=live-empty]') !== null;",
        Duration::from_secs(30),
    )
    .await;

    let _ = c.close().await;
    drop(driver);
}
