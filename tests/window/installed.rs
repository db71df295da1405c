//! Installed, not just built: the `.deb` that `cargo xtask test` bundles (`target/debug/bundle/
//! deb/`) goes on this machine with `apt-get install`, and the installed `/usr/bin/marquee` runs
//! from a folder that is not the repository, with a home of its own. In its window a film is
//! rented and plays from the demo catalog the package ships; a `magnet:` link opened the way
//! the desktop opens one (the desktop entry's `Exec` line) reaches the running window instead
//! of starting a second app. Then the package is purged and nothing of it is left.
//!
//! Needs root and Debian's apt (the CI machines have both); under `CI=true` a missing `.deb`,
//! root or tool fails the test, elsewhere it is skipped with a line saying why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const PACKAGE: &str = "marquee";
const TITLE: &str = "neon-harbor";
const FREE_TITLE: &str = "open-skies";

/// Skips (or, under `CI=true`, fails) with `why`.
fn unavailable(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the install test cannot run: {why}");
    }
    eprintln!("skipping the install test: {why}");
    true
}

fn apt_get(args: &[&str], cwd: &Path) -> String {
    run(Command::new("apt-get")
        .args(["-y", "-qq", "--no-install-recommends"])
        .args(args)
        .current_dir(cwd)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Every package the installed one depends on, all the way down (what apt would install on a
/// machine without the build packages).
fn dependency_closure() -> BTreeSet<String> {
    let out = run(Command::new("apt-cache").args([
        "depends",
        "--recurse",
        "--installed",
        "--no-recommends",
        "--no-suggests",
        "--no-conflicts",
        "--no-breaks",
        "--no-replaces",
        "--no-enhances",
        PACKAGE,
    ]));
    out.lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("|")
                .trim_start_matches("PreDepends: ")
                .trim_start_matches("Depends: ")
                .trim_matches(|c| c == '<' || c == '>')
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// The packages that own the shared libraries `/usr/bin/marquee` loads.
fn library_packages() -> BTreeSet<String> {
    let ldd = run(Command::new("ldd").arg("/usr/bin/marquee"));
    assert!(!ldd.contains("not found"), "a library is missing:\n{ldd}");
    let mut owners = BTreeSet::new();
    for lib in ldd.lines().filter_map(|l| l.split("=> ").nth(1)) {
        let path = lib.split(" (").next().unwrap_or_default().trim();
        if path.is_empty() {
            continue;
        }
        // Resolve /lib -> /usr/lib (merged /usr): dpkg knows one of the two names.
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
        let owner = [PathBuf::from(path), real.clone(), strip_usr(&real)]
            .iter()
            .find_map(|p| {
                let out = Command::new("dpkg").arg("-S").arg(p).output().ok()?;
                out.status.success().then(|| {
                    String::from_utf8_lossy(&out.stdout)
                        .split(':')
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
            });
        owners.insert(owner.unwrap_or_else(|| panic!("no package owns {path}")));
    }
    owners
}

fn strip_usr(p: &Path) -> PathBuf {
    p.strip_prefix("/usr")
        .map(|r| Path::new("/").join(r))
        .unwrap_or_else(|_| p.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deb_installs_rents_and_plays_takes_magnet_links_and_removes_cleanly() {
    let Some(deb) = built_deb("debug") else {
        unavailable("no .deb in target/debug/bundle/deb: `cargo xtask test` bundles it");
        return;
    };
    if run(Command::new("id").arg("-u")).trim() != "0" {
        unavailable("apt-get install needs root");
        return;
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        unavailable("apt-get is missing");
        return;
    }
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let elsewhere = scratch.path().join("elsewhere");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();

    // A package left by an earlier run that stopped half-way.
    let _ = Command::new("dpkg").args(["--purge", PACKAGE]).output();
    let before_install = std::time::SystemTime::now();
    let stamp = scratch.path().join("stamp");
    std::fs::write(&stamp, b"").unwrap();

    let deb_dir = deb.parent().unwrap();
    let deb_name = format!("./{}", deb.file_name().unwrap().to_string_lossy());
    let t = Instant::now();
    apt_get(&["install", &deb_name], deb_dir);
    eprintln!("installed {deb_name} in {:.1} s", t.elapsed().as_secs_f64());
    let files: Vec<PathBuf> = run(Command::new("dpkg").args(["-L", PACKAGE]))
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    for wanted in [
        "/usr/bin/marquee",
        "/usr/lib/Marquee/demo/catalog.json",
        "/usr/share/applications/Marquee.desktop",
        "/usr/share/icons/hicolor/128x128/apps/marquee.png",
    ] {
        assert!(
            files.contains(&PathBuf::from(wanted)),
            "{wanted} is not installed: {files:?}"
        );
    }

    // Depends is complete: every library the binary loads comes from a package that apt would
    // install with it, and the GStreamer plugins that play WebM and MP4 are among them.
    let closure = dependency_closure();
    let missing: Vec<String> = library_packages()
        .into_iter()
        .filter(|p| !closure.contains(p))
        .collect();
    assert!(missing.is_empty(), "Depends leaves out {missing:?}");
    for plugin in ["gstreamer1.0-plugins-good", "gstreamer1.0-libav"] {
        assert!(closure.contains(plugin), "Depends leaves out {plugin}");
    }

    // The desktop entry: opens `.torrent` files and `magnet:` links, passes them on, has an icon.
    let desktop = std::fs::read_to_string("/usr/share/applications/Marquee.desktop").unwrap();
    let mime = desktop
        .lines()
        .find_map(|l| l.strip_prefix("MimeType="))
        .expect("a MimeType line");
    let mime: Vec<&str> = mime.split(';').collect();
    assert!(mime.contains(&"x-scheme-handler/magnet"), "{desktop}");
    assert!(mime.contains(&"application/x-bittorrent"), "{desktop}");
    let exec = desktop
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .expect("an Exec line")
        .to_owned();
    assert!(
        exec.ends_with(" %U"),
        "the desktop entry must pass links on: {exec}"
    );
    assert!(desktop.contains("Icon=marquee"), "{desktop}");

    // The installed app, from a folder that is not the repository, with its own home.
    let (xvfb, display) = start_xvfb();
    let (bus, bus_address) = start_session_bus(scratch.path());
    let mut app = App::new(Path::new("/usr/bin/marquee"));
    app.env("HOME", &home)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"));
    app.cwd = Some(elsewhere.clone());
    let (driver, c) = launch_app(&display, &app).await;
    wait_for_catalog(&c, TITLE).await;
    let before = wallet_cents(&c).await;
    rent(&c, TITLE).await;
    assert_plays(&c).await;
    assert_charged(&c, before, 400).await;
    screenshot(&c, "the installed app playing", &out, "installed.png").await;
    // The app's own log, in its data folder.
    let logged =
        std::fs::read_to_string(home.join(".local/share/net.marquee.desktop/logs/marquee.log"))
            .unwrap_or_default();
    assert!(
        logged
            .lines()
            .any(|l| l.contains("the demo catalog") && l.contains("/usr/lib/Marquee/demo")),
        "the installed app did not use the demo catalog it ships:\n{logged}"
    );

    // A magnet link opened the way the desktop opens one: the entry's Exec line with the link
    // for %U. It reaches the running window, and the second process exits.
    click(&c, "[data-testid=player-back]").await;
    // The free title's magnet link (a free title in the library can be shared).
    let magnet = poll(
        &c,
        "a magnet link for the free title",
        &format!(
            "const invoke = window.__TAURI_INTERNALS__.invoke;
             await invoke('title_acquire', {{ titleId: '{FREE_TITLE}', clientOrderId: 'installed-free' }});
             const s = await invoke('title_share', {{ titleId: '{FREE_TITLE}' }});
             return s.magnet;"
        ),
        Duration::from_secs(30),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned();
    let program = exec.split_whitespace().next().unwrap();
    let second = Command::new(program)
        .arg(&magnet)
        .current_dir(&elsewhere)
        .env("DISPLAY", &display)
        .env("HOME", &home)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the installed marquee starts");
    let mut second = Guard::new(second, "the second marquee");
    let exited = second.wait_for_exit(Duration::from_secs(30));
    assert_eq!(
        exited.map(|s| s.success()),
        Some(true),
        "a second launch must hand its link to the running app and exit"
    );
    let shown = poll(
        &c,
        "the running window to show the link's title in the library",
        &format!(
            "const t = document.querySelector('[data-testid=toast]');
             const item = document.querySelector('[data-testid=library-item-{FREE_TITLE}]');
             return t && item && t.innerText.includes('already in your library') ? t.innerText : null;"
        ),
        Duration::from_secs(60),
    )
    .await;
    eprintln!("the magnet link opened in the running window: {shown}");
    screenshot(
        &c,
        "the library with the link's title",
        &out,
        "installed-magnet.png",
    )
    .await;
    c.close().await.unwrap();
    drop(driver);
    drop(bus);
    drop(xvfb);

    // Removed: none of the package's files remain, and the app wrote nothing outside its home.
    apt_get(&["purge", PACKAGE], deb_dir);
    let left: Vec<&PathBuf> = files.iter().filter(|p| p.exists()).collect();
    assert!(left.is_empty(), "left after purge: {left:?}");
    assert!(
        !Path::new("/usr/lib/Marquee").exists(),
        "/usr/lib/Marquee is left"
    );
    let written = run(Command::new("find")
        .args(["/usr", "/etc", "/opt", "/var", "-xdev", "-newer"])
        .arg(&stamp)
        .args(["-type", "f"]));
    // What apt and dpkg keep about any package, and the caches their triggers rebuild.
    let bookkeeping = [
        "/var/lib/dpkg/",
        "/var/lib/apt/",
        "/var/cache/",
        "/var/log/",
        "/var/lib/ucf/",
        "/usr/share/applications/mimeinfo.cache",
        "/usr/share/icons/hicolor/icon-theme.cache",
        "/etc/ld.so.cache",
    ];
    let strays: Vec<&str> = written
        .lines()
        .filter(|l| !bookkeeping.iter().any(|b| l.starts_with(b)))
        .collect();
    assert!(
        strays.is_empty(),
        "written outside the home folder: {strays:?}"
    );
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "the app wrote into the folder it started in"
    );
    assert!(
        home.join(".local/share/net.marquee.desktop").is_dir(),
        "the profile is in the data folder"
    );
    eprintln!(
        "install, rent, play, magnet and purge took {:.0} s",
        before_install.elapsed().unwrap().as_secs_f64()
    );
}
