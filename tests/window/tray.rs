//! Closing the window: while a title seeds, the close button hides the window and Marquee keeps
//! running (in the tray); a second launch of Marquee brings the same window back instead of
//! starting another app; with nothing transferring, the close button quits, cleanly.
//!
//! The close button is pressed the way a window manager presses it (a `WM_DELETE_WINDOW`
//! message, `close-window.c`): Xvfb has no window manager.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const FREE_TITLE: &str = "open-skies";

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        // A zombie has exited: only its parent has not collected it yet.
        .is_ok_and(|s| !s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_while_seeding_keeps_marquee_in_the_tray_and_a_second_launch_brings_it_back() {
    let _one = ONE_WINDOW.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let helper = close_helper(dir.path());
    let profile = dir.path().join("profile");
    let (_xvfb, display) = start_xvfb();
    let (_bus, bus_address) = start_session_bus(dir.path());
    let exe = Path::new(env!("CARGO_BIN_EXE_marquee"));
    let mut app = App::new(exe);
    app.env("MARQUEE_DATA_DIR", &profile)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus_address);
    let (driver, c) = launch_app(&display, &app).await;
    let pid = pid_of(exe);

    // A free title, downloaded and seeding.
    seed_free_title(&c, FREE_TITLE, "tray-free").await;

    // Close while seeding: hidden, still running.
    press_close(&helper, &display);
    poll(
        &c,
        "the window to hide",
        "return document.visibilityState === 'hidden';",
        Duration::from_secs(20),
    )
    .await;
    assert!(alive(pid), "closing the window while seeding quit Marquee");

    // A second launch: the same window comes back, and the second process exits.
    let second = Command::new(exe)
        .env("DISPLAY", &display)
        .env("MARQUEE_DATA_DIR", &profile)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut second = Guard::new(second, "the second marquee");
    let status = second.wait_for_exit(Duration::from_secs(30));
    assert_eq!(
        status.map(|s| s.success()),
        Some(true),
        "the second launch did not hand over"
    );
    poll(
        &c,
        "the window to come back",
        "return document.visibilityState === 'visible';",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(pid_of(exe), pid, "the window is the first app's");

    // Nothing transferring: the close button quits, stopping the session cleanly.
    poll(
        &c,
        "the seed to pause",
        &format!(
            "const invoke = window.__TAURI_INTERNALS__.invoke;
             await invoke('download_pause', {{ titleId: '{FREE_TITLE}' }});
             const list = await invoke('downloads_list');
             return list.every(d => d.progress.state !== 'seeding' && d.progress.state !== 'downloading');"
        ),
        Duration::from_secs(20),
    )
    .await;
    press_close(&helper, &display);
    let deadline = Instant::now() + Duration::from_secs(30);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "closing with nothing transferring did not quit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A clean close checkpoints SQLite's write-ahead log into the database and removes it.
    let wal: Vec<PathBuf> = std::fs::read_dir(&profile)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("-wal"))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .collect();
    assert!(wal.is_empty(), "the database was not closed: {wal:?}");
    let _ = c.close().await;
    drop(driver);
}
