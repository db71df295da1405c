//! The installer and the installed app, measured (`cargo xtask bench` runs `cargo xtask bundle`
//! first): the `.deb`'s size with and without the demo media, its installed size, the whole
//! app's memory 30 s after opening on the store page beside a bare WebKitGTK window showing a
//! blank page (the floor no WebKit app goes below), and the time from starting the process to
//! the store page painted with its posters. The app measured is the binary inside the release
//! `.deb`, the one that ships. Writes `target/bench/bundle.json`.
//!
//! Under `cargo test` (a debug build) it checks the debug `.deb` that `cargo xtask test` bundles
//! the same way, without starting windows, and writes nothing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use marquee_bench::Run;
use serde_json::json;

// Xvfb, tauri-driver and waiting on the page: the window tests' own helpers.
#[allow(dead_code)]
#[path = "../window/common.rs"]
mod common;

/// How long the app sits on the store page before its memory is read.
const IDLE: Duration = Duration::from_secs(30);

fn main() {
    let Some(run) = Run::from_args("bundle") else {
        return;
    };
    if !cfg!(target_os = "linux") {
        println!("bundle: the .deb and its memory are measured on Linux only");
        return;
    }
    let profile = if run.measuring() { "release" } else { "debug" };
    let Some(deb) = common::built_deb(profile) else {
        let how = if run.measuring() {
            "`cargo xtask bundle` builds it (`cargo xtask bench` runs it first)"
        } else {
            "`cargo xtask test` bundles it before the tests"
        };
        if run.measuring() || std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("bundle: no {profile} .deb in target/{profile}/bundle/deb: {how}");
        }
        println!("bundle: skipped: no {profile} .deb yet: {how}");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let sizes = sizes(&deb, work.path());
    println!(
        "bundle: {} {:.1} MB, {:.1} MB without the demo media, {:.1} MB installed",
        deb.file_name().unwrap().to_string_lossy(),
        sizes.deb as f64 / 1e6,
        sizes.without_demo as f64 / 1e6,
        sizes.installed as f64 / 1e6
    );
    assert!(sizes.without_demo < sizes.deb && sizes.installed > sizes.deb);
    if !run.measuring() {
        run.write_figures("bundle", "");
        return;
    }
    let app = work.path().join("root/usr/bin/marquee");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (xvfb, display) = common::start_xvfb();
    let floor = floor_pss_mb(&display, work.path());
    let measured = rt.block_on(app_figures(&display, &app, work.path()));
    drop(xvfb);
    let ratio = measured.idle_pss_mb / floor;
    println!(
        "bundle: idle memory {:.0} MB (app {:.0}, its WebKit processes {:.0}) vs a blank WebKitGTK window {:.0} MB: {ratio:.2}x (goal <= 2x)",
        measured.idle_pss_mb, measured.app_pss_mb, measured.idle_pss_mb - measured.app_pss_mb, floor
    );
    println!(
        "bundle: start to the store page painted with posters {} ms (first run, fresh profile: {} ms; goal <= 1000 ms)",
        measured.cold_start_ms, measured.first_run_ms
    );
    println!(
        "bundle: .deb without demo media {:.1} MB (goal <= 15 MB)",
        sizes.without_demo as f64 / 1e6
    );
    let figures = json!({
        "deb_bytes": sizes.deb,
        "deb_without_demo_bytes": sizes.without_demo,
        // Tauri's AppImage step downloads its tools from GitHub: built by the release workflow only.
        "appimage_bytes": null,
        "installed_bytes": sizes.installed,
        "idle_pss_mb": round1(measured.idle_pss_mb),
        "app_pss_mb": round1(measured.app_pss_mb),
        "floor_pss_mb": round1(floor),
        "idle_vs_floor": (ratio * 100.0).round() / 100.0,
        "cold_start_ms": measured.cold_start_ms,
        "first_run_ms": measured.first_run_ms,
    });
    run.write_figures("bundle", &serde_json::to_string_pretty(&figures).unwrap());
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

struct Sizes {
    deb: u64,
    without_demo: u64,
    installed: u64,
}

/// The package's size; the same package without the demo media, repacked with `dpkg-deb` at
/// the bundler's compression (gzip); and the bytes of every file it installs. Leaves the
/// unpacked package in `work/root`.
fn sizes(deb: &Path, work: &Path) -> Sizes {
    let root = work.join("root");
    common::run(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&root));
    let installed = tree_bytes(&root.join("usr"));
    let lean = work.join("lean");
    common::run(Command::new("cp").arg("-a").arg(&root).arg(&lean));
    std::fs::remove_dir_all(lean.join("usr/lib/Marquee/demo/media")).unwrap();
    let lean_deb = work.join("lean.deb");
    common::run(
        Command::new("dpkg-deb")
            .args(["-Zgzip", "--root-owner-group", "--build"])
            .arg(&lean)
            .arg(&lean_deb),
    );
    Sizes {
        deb: std::fs::metadata(deb).unwrap().len(),
        without_demo: std::fs::metadata(&lean_deb).unwrap().len(),
        installed,
    }
}

fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            total += tree_bytes(&entry.path());
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    total
}

/// PSS of a process and every process below it, MB (`/proc/<pid>/smaps_rollup`).
fn tree_pss_mb(root: u32) -> (f64, f64) {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command may hold spaces and parentheses: the fields start after the last ')'.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = rest.split_whitespace().nth(1).unwrap().parse().unwrap();
        parents.push((pid, ppid));
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    let pss = |pid: u32| -> f64 {
        std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Pss:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
            .unwrap_or(0.0)
            / 1024.0
    };
    (tree.iter().map(|&p| pss(p)).sum(), pss(root))
}

/// Builds and runs the bare WebKitGTK window; its memory after [`IDLE`].
fn floor_pss_mb(display: &str, work: &Path) -> f64 {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bench/blank-webkit.c");
    let bin = work.join("blank-webkit");
    let flags =
        common::run(Command::new("pkg-config").args(["--cflags", "--libs", "webkit2gtk-4.1"]));
    common::run(
        Command::new("cc")
            .arg("-O2")
            .arg(&source)
            .arg("-o")
            .arg(&bin)
            .args(flags.split_whitespace()),
    );
    let child = Command::new(&bin)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _guard = common::Guard::new(child, "blank-webkit");
    std::thread::sleep(IDLE);
    tree_pss_mb(pid).0
}

struct AppFigures {
    idle_pss_mb: f64,
    app_pss_mb: f64,
    cold_start_ms: u64,
    first_run_ms: u64,
}

/// When the process started, in ms since the epoch (clock ticks since boot, from /proc).
fn started_at_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let ticks: f64 = rest.split_whitespace().nth(19).unwrap().parse().unwrap();
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // USER_HZ is 100 on every Linux this runs on.
    btime * 1000.0 + ticks * 10.0
}

/// Starts the app on `profile` and returns the ms from its process start to the store page
/// painted with the posters in view, the process id, and the session.
async fn start_to_posters(
    display: &str,
    exe: &Path,
    profile: &Path,
) -> (u64, u32, common::Guard, fantoccini::Client) {
    let mut app = common::App::new(exe);
    app.env("MARQUEE_DATA_DIR", profile);
    let (driver, c) = common::launch_app(display, &app).await;
    let pid = common::pid_of(exe);
    // Checked every 50 ms (up to 50 ms late); the page stamps the wall clock when it sees them.
    let painted_at = common::poll(
        &c,
        "the store page painted with its posters",
        "const seen = [...document.images].filter(i => i.getBoundingClientRect().top < innerHeight);
         if (!(seen.length > 0 && seen.every(i => i.complete && i.naturalWidth > 0))) return null;
         await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
         return performance.timeOrigin + performance.now();",
        Duration::from_secs(180),
    )
    .await
    .as_f64()
    .unwrap();
    let ms = (painted_at - started_at_ms(pid)).max(0.0) as u64;
    (ms, pid, driver, c)
}

async fn app_figures(display: &str, exe: &Path, work: &Path) -> AppFigures {
    let profile = work.join("profile");
    // The first run: a fresh profile (the demo store packages its titles).
    let (first_run_ms, _, driver, c) = start_to_posters(display, exe, &profile).await;
    c.close().await.unwrap();
    drop(driver);
    // A later start, the page cache dropped where this runs as root.
    let _ = std::fs::write("/proc/sys/vm/drop_caches", "3");
    let (cold_start_ms, pid, driver, c) = start_to_posters(display, exe, &profile).await;
    std::thread::sleep(IDLE);
    let (idle_pss_mb, app_pss_mb) = tree_pss_mb(pid);
    c.close().await.unwrap();
    drop(driver);
    AppFigures {
        idle_pss_mb,
        app_pss_mb,
        cold_start_ms,
        first_run_ms,
    }
}
