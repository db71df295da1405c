//! Live in the window: a `marquee-store` process whose directory lists a channel broadcast by a
//! `marquee-live broadcast` process, with ten `marquee-live watch` processes relaying it. The
//! app shows the channel in its Live section, plays it from the live edge in one click through
//! Media Source Extensions, says how far behind live it is and what it gives back, leaves
//! cleanly, and says so when the broadcaster ends the channel. Closing the window while
//! watching stops watching, though the app stays running to seed (a window of its own).
//!
//! Going live from the app: the "Go live" sheet takes a video opened with Marquee, checks it,
//! takes a poster frame from its preview, and broadcasts it; a `marquee-live watch` process plays it through the store's directory;
//! closing the window keeps the broadcast on the air; Stop ends it and the viewer process exits.
//!
//! Writes `target/e2e/live.json` (`lag_s`: now minus the capture time of the frame on screen,
//! measured in the page, median over ten seconds; `startup_s`: click to first frame, of which
//! `join_s` until the core answered, having joined the relay through the directory;
//! `upload_bytes_per_s`: what the app relayed to others), and saves `target/e2e/live-section.png`
//! and `target/e2e/live-playing.png`, `target/e2e/golive-sheet.png` and
//! `target/e2e/broadcasting.png` (the README shows them).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::json;

use crate::common::*;

/// Viewer processes relaying beside the app: ten, or `MARQUEE_LIVE_VIEWERS` to measure the lag
/// with as many as the machine holds.
fn viewers() -> usize {
    std::env::var("MARQUEE_LIVE_VIEWERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}
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

/// A `marquee-live` process, killed when dropped; its first line read, then its JSON reports.
struct Live {
    child: Child,
    first: Vec<String>,
    latest: std::sync::Arc<std::sync::Mutex<Option<serde_json::Value>>>,
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
        let latest = std::sync::Arc::new(std::sync::Mutex::new(None));
        let reports = latest.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep reading so the process never blocks on a full pipe.
            for line in lines.map_while(Result::ok) {
                if let Ok(report) = serde_json::from_str(&line) {
                    *reports.lock().unwrap() = Some(report);
                }
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("marquee-live prints its address");
        Live {
            child,
            first: first.split_whitespace().map(String::from).collect(),
            latest,
        }
    }

    /// Chunks played on time, by its latest report (`--json`).
    fn played(&self) -> u64 {
        self.latest
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|r| r["played"].as_u64())
            .unwrap_or(0)
    }

    /// Waits until it has played `chunks` more chunks than `from`, for at most `within`.
    fn wait_played(&self, what: &str, from: u64, chunks: u64, within: Duration) -> u64 {
        let deadline = Instant::now() + within;
        loop {
            let played = self.played();
            if played >= from + chunks {
                return played;
            }
            assert!(Instant::now() < deadline, "{what}: played {played}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for it to exit by itself (a viewer exits when the channel ends).
    fn wait_exit(&mut self, what: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{what}: marquee-live still runs");
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
    let count = viewers();
    let _viewers: Vec<Live> = (0..count)
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
             const n = t && /(\\d+) viewers/.exec(t.getAttribute('aria-label'));
             return t && t.innerText.includes('{TITLE}') && n && Number(n[1]) >= {count};"
        ),
        // The store lets 30 viewers join from one address at once, then one every 2 s.
        Duration::from_secs(60 + 2 * count.saturating_sub(30) as u64),
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
    let mut samples = Vec::new();
    for _ in 0..20 {
        // What the player was doing, for a lag that misses its goal.
        samples.push(
            c.execute(
                "const v = document.querySelector('[data-testid=live-video]');
                 const b = v.buffered;
                 return [v.currentTime, b.length ? b.end(b.length - 1) : null, b.length,
                         v.playbackRate, v.paused, v.readyState,
                         Number(v.getAttribute('data-delay-ms')), Number(v.getAttribute('data-lag-ms'))];",
                vec![],
            )
            .await
            .unwrap_or_default(),
        );
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
    // The player never refused the stream while it was measured (it once appended the start
    // of a segment onto a broken one, and the decoder failed: the lag then grew without end).
    let refused = c
        .execute(
            "const e = document.querySelector('[data-testid=live-error]'); return e ? e.innerText : null;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        refused.is_null(),
        "the live player refused the stream: {refused}"
    );
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
        "viewers": count,
        "lag_s": lag_s,
        "lag_s_max": lags.iter().cloned().fold(0.0, f64::max),
        "startup_s": startup_s,
        "join_s": join_ms / 1000.0,
        "upload_bytes_per_s": upload,
        "frame": frame,
        "goals": { "lag_s": 3.0, "startup_s": 2.0 },
        // Every half second: currentTime, end of the buffer, buffered ranges, playbackRate,
        // paused, readyState, the relay's delay (ms), the lag (ms).
        "samples": samples,
    });
    std::fs::write(
        out.join("live.json"),
        serde_json::to_string_pretty(&figures).unwrap(),
    )
    .unwrap();
    eprintln!("live in the window: {figures} ({behind})");
    if lag_s > 3.0 {
        eprintln!("MISSED: the lag's goal of 3 s");
    }

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

/// Closing the window while watching stops watching, even when the app stays running for
/// something else (here, seeding a free title): the window hides, and the directory stops
/// counting this computer once its last report has aged out. A window of its own: the embedded
/// demo store, signed in for the person, lists the channel. After the click the test asks the
/// store's directory over HTTP and the X server, not the page: in two full runs of
/// `cargo xtask test` a window watching a channel it alone relayed stopped answering scripts
/// (its web process busy compositing on llvmpipe; see the README's live section).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_window_while_watching_stops_watching() {
    let _one = ONE_WINDOW.lock().await;
    let data = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, profile.path(), &[]).await;
    let url = demo_store_url(&c).await;
    seed_free_title(&c, "open-skies", "live-free").await;
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
    let tile = format!("[data-testid=live-channel][data-channel='{channel}']");
    click(&c, "[data-testid=tab-live]").await;
    click(&c, &tile).await;
    // How many viewers the directory counts on the channel, asked as any client would.
    let directory = marquee_protocol::StoreClient::new(&url).unwrap();
    let viewers = || {
        let (directory, channel) = (directory.clone(), channel.clone());
        async move {
            let listed = directory.channels().await.ok()?;
            listed
                .channels
                .iter()
                .find(|c| c.channel == channel)
                .map(|c| c.viewers)
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while viewers().await.unwrap_or(0) < 1 {
        assert!(
            Instant::now() < deadline,
            "the directory never counted this computer"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let app = app_with_profile(profile.path()).expect("the app runs");
    let helper = close_helper(data.path());
    press_close(&helper, &display);
    let closed = Instant::now();
    while viewers().await != Some(0) {
        assert!(
            closed.elapsed() < Duration::from_secs(90),
            "the directory still counts this computer {:?} after the window closed",
            closed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "closing the window while watching: the directory stopped counting this computer after {:.1?}",
        closed.elapsed()
    );
    assert_eq!(
        app_with_profile(profile.path()),
        Some(app),
        "closing the window while seeding quit Marquee"
    );
    broadcaster.terminate();
    // Bounded: a page that stopped answering must not hold the session's end either.
    let _ = tokio::time::timeout(Duration::from_secs(30), c.close()).await;
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_live_from_the_app_and_a_viewer_process_plays_it_through_the_directory() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("Evening_Show.webm");
    std::fs::copy(demo_media(), &video).unwrap();
    let profile = dir.path().join("profile");
    let helper = close_helper(dir.path());
    let (_xvfb, display) = start_xvfb();
    let (_bus, bus_address) = start_session_bus(dir.path());
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_marquee"));
    let mut app = App::new(exe);
    app.env("MARQUEE_DATA_DIR", &profile)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus_address);
    let (driver, c) = launch_app(&display, &app).await;
    // The embedded demo store, signed in to its demo account: where viewers find the channel.
    let store = demo_store_url(&c).await;

    // The sheet waits for a video; one opened with Marquee goes to it, checked, with a title
    // made from its name.
    let open_with_marquee = |file: &std::path::Path| {
        let handed = std::process::Command::new(exe)
            .arg(file)
            .env("DISPLAY", &display)
            .env("MARQUEE_DATA_DIR", &profile)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(
            handed.success(),
            "the second launch did not hand the video over"
        );
    };
    let sheet_waits = "const s = document.querySelector('[data-testid=golive-sheet]'); return s && s.dataset.state === 'choose';";
    click(&c, "[data-testid=tab-live]").await;
    click(&c, "[data-testid=golive-open]").await;
    poll(
        &c,
        "the Go live sheet to wait for a video",
        sheet_waits,
        Duration::from_secs(10),
    )
    .await;

    open_with_marquee(&video);
    poll(
        &c,
        "the video checked, with its title",
        "const s = document.querySelector('[data-testid=golive-sheet]');
         const t = document.querySelector('[data-testid=golive-title]');
         return s && s.dataset.state === 'ready' && t && t.value === 'Evening Show';",
        Duration::from_secs(60),
    )
    .await;
    // A poster: a frame of the preview, played as the channel will send it.
    poll(
        &c,
        "the preview to play",
        "const v = document.querySelector('[data-testid=golive-preview]'); return v && v.currentTime > 2.5;",
        Duration::from_secs(30),
    )
    .await;
    click(&c, "[data-testid=golive-poster-pick]").await;
    poll(
        &c,
        "the chosen poster",
        "const i = document.querySelector('[data-testid=golive-poster]'); return i && i.naturalWidth === 480;",
        Duration::from_secs(10),
    )
    .await;
    // Paused on the poster's frame for the picture: WebKit under Xvfb may paint a playing
    // video black in a screenshot.
    c.execute(
        "document.querySelector('[data-testid=golive-preview]').pause();",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "the Go live sheet to settle", &out, "golive-sheet.png").await;
    click(&c, "[data-testid=golive-start]").await;
    let channel = poll(
        &c,
        "the broadcast panel",
        "const p = document.querySelector('[data-testid=broadcast-panel]');
         return p ? p.dataset.channel : null;",
        Duration::from_secs(30),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned();
    // The channel's tile shows the poster, fetched from the store like its other pictures.
    poll(
        &c,
        "the channel's tile with its poster",
        &format!(
            "const i = document.querySelector(\"[data-testid=live-channel][data-channel='{channel}'] img\");
             return i && i.complete && i.naturalWidth === 480;"
        ),
        Duration::from_secs(30),
    )
    .await;

    // A viewer process that knows only the store plays it, and the app counts it.
    let mut viewer = Live::spawn(&[
        "watch",
        &channel,
        "--store",
        &store,
        "--json",
        "--report-ms",
        "250",
    ]);
    let played = viewer.wait_played(
        "the viewer to play the app's channel",
        0,
        40,
        Duration::from_secs(60),
    );
    poll(
        &c,
        "the panel to count the viewer and this computer's upload",
        "const v = document.querySelector('[data-testid=broadcast-viewers]');
         const u = document.querySelector('[data-testid=broadcast-upload]');
         return v && Number(v.innerText) >= 1 && u && Number(u.dataset.upload) > 0;",
        Duration::from_secs(30),
    )
    .await;
    screenshot(
        &c,
        "the broadcast panel to settle",
        &out,
        "broadcasting.png",
    )
    .await;

    // Closing the window keeps the broadcast on the air.
    press_close(&helper, &display);
    poll(
        &c,
        "the window to hide",
        "return document.visibilityState === 'hidden';",
        Duration::from_secs(20),
    )
    .await;
    let played = viewer.wait_played(
        "the viewer to keep playing with the window closed",
        played,
        40,
        Duration::from_secs(30),
    );

    // Stop: the directory forgets the channel and the viewer exits.
    poll(
        &c,
        "the broadcast to stop",
        "await window.__TAURI_INTERNALS__.invoke('live_broadcast_stop'); return true;",
        Duration::from_secs(20),
    )
    .await;
    viewer.wait_exit(
        "the viewer to leave the ended channel",
        Duration::from_secs(30),
    );
    eprintln!("go live: the viewer process played {played} chunks of the app's channel");
    let _ = c.close().await;
    drop(driver);
}
