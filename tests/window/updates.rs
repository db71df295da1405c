//! Updates, installed: the `.deb` of this version goes on the machine with apt; a loopback
//! update server offers a newer signed `.deb` (built by `cargo xtask test` with the version
//! raised, `MARQUEE_UPDATE_DEB`). First the manifest carries a signature that does not match the
//! package: the window says so and the installed version keeps working. Then the right one:
//! the app installs it on consent and restarts into the new version.
//!
//! Ignored by plain `cargo test`: the newer package exists only after the step of
//! `cargo xtask test` that builds it, which then runs this test with `--ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

fn tauri_cli() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/node_modules/.bin/tauri")
}

/// Signs `file` for `version` with the key at `key`; the signature's text.
fn sign(key: &Path, file: &Path, version: &str) -> String {
    run(Command::new(tauri_cli())
        .args(["signer", "sign", "-p", ""])
        .arg("-f")
        .arg(key)
        .args(["--app-version", version])
        .arg(file));
    let sig = PathBuf::from(format!("{}.sig", file.display()));
    std::fs::read_to_string(sig).unwrap()
}

fn installed_version() -> String {
    run(Command::new("dpkg-query").args(["-W", "-f=${Version}", "marquee"]))
}

/// A one-route-per-file HTTP server on loopback: `/latest.json` from the shared manifest, and
/// the package.
fn serve(manifest: Arc<Mutex<String>>, package: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let manifest = manifest.clone();
            let package = package.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let (status, kind, body) = if path == "/latest.json" {
                    let body = manifest.lock().unwrap().clone().into_bytes();
                    ("200 OK", "application/json", body)
                } else if path == "/marquee-update.deb" {
                    let mut body = Vec::new();
                    std::fs::File::open(&package)
                        .unwrap()
                        .read_to_end(&mut body)
                        .unwrap();
                    ("200 OK", "application/vnd.debian.binary-package", body)
                } else {
                    ("404 Not Found", "text/plain", b"not here".to_vec())
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    port
}

fn manifest(version: &str, port: u16, signature: &str) -> String {
    serde_json::json!({
        "version": version,
        "notes": "Faster start.\nThe tray says what is downloading.",
        "pub_date": "2026-12-02T00:00:00Z",
        "platforms": {
            "linux-x86_64-deb": {
                "url": format!("http://127.0.0.1:{port}/marquee-update.deb"),
                "signature": signature,
            }
        }
    })
    .to_string()
}

/// Processes running `exe`.
fn pids_of(exe: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| {
                p == exe
                    || p.to_string_lossy()
                        .starts_with(&format!("{} (", exe.display()))
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by `cargo xtask test` once it has built the newer package"]
async fn a_signed_update_installs_on_consent_and_a_bad_signature_is_refused() {
    let update = PathBuf::from(
        std::env::var_os("MARQUEE_UPDATE_DEB").expect("MARQUEE_UPDATE_DEB names the newer .deb"),
    );
    let new_version = std::env::var("MARQUEE_UPDATE_VERSION").expect("MARQUEE_UPDATE_VERSION");
    let current = target_dir().join(format!(
        "debug/bundle/deb/Marquee_{}_amd64.deb",
        env!("CARGO_PKG_VERSION")
    ));
    assert!(
        current.exists() && update.exists(),
        "{current:?} and {update:?}"
    );
    assert!(
        Command::new("sudo").arg("--version").output().is_ok(),
        "sudo is missing: the updater installs packages through pkexec or sudo"
    );
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    // The release key of this test, and the newer package signed with it; a wrong signature:
    // the same key's signature of another file, for the same version.
    let key = scratch.path().join("release.key");
    run(Command::new(tauri_cli())
        .args(["signer", "generate", "--ci", "-p", ""])
        .arg("-w")
        .arg(&key));
    let pubkey = std::fs::read_to_string(scratch.path().join("release.key.pub")).unwrap();
    let package = scratch.path().join("marquee-update.deb");
    std::fs::copy(&update, &package).unwrap();
    let good = sign(&key, &package, &new_version);
    let other = scratch.path().join("other.deb");
    std::fs::copy(&current, &other).unwrap();
    let bad = sign(&key, &other, &new_version);
    let served = Arc::new(Mutex::new(String::new()));
    let port = serve(served.clone(), package.clone());
    *served.lock().unwrap() = manifest(&new_version, port, &bad);

    let _ = Command::new("dpkg").args(["--purge", "marquee"]).output();
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .arg(&current)
        .env("DEBIAN_FRONTEND", "noninteractive"));
    assert_eq!(installed_version(), env!("CARGO_PKG_VERSION"));

    let exe = Path::new("/usr/bin/marquee");
    let (_xvfb, display) = start_xvfb();
    let mut app = App::new(exe);
    app.env("HOME", &home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env(
            "MARQUEE_UPDATE_ENDPOINT",
            format!("http://127.0.0.1:{port}/latest.json"),
        )
        .env("MARQUEE_UPDATE_PUBKEY", pubkey.trim());
    app.cwd = Some(scratch.path().to_owned());
    let (driver, c) = launch_app(&display, &app).await;
    let first_pid = pid_of(exe);

    // Offered, with what is new.
    let banner = poll(
        &c,
        "the update banner",
        "const b = document.querySelector('[data-testid=update-banner]'); return b ? b.innerText : null;",
        Duration::from_secs(120),
    )
    .await;
    let banner = banner.as_str().unwrap().to_owned();
    assert!(
        banner.contains(&new_version) && banner.contains("Faster start"),
        "{banner}"
    );
    screenshot(&c, "the update offer", &out, "update-offer.png").await;

    // The bad signature: refused in words, nothing installed, the app keeps working.
    click(&c, "[data-testid=update-install]").await;
    let refusal = poll(
        &c,
        "the refusal of a badly signed update",
        "const e = document.querySelector('[data-testid=error]');
         return e && e.dataset.errorKind === 'update_refused' ? e.innerText : null;",
        Duration::from_secs(120),
    )
    .await;
    let refusal = refusal.as_str().unwrap().to_owned();
    assert!(
        refusal.contains("not signed by Marquee's release key"),
        "{refusal}"
    );
    assert!(
        refusal.contains(&format!(
            "Marquee {} keeps working",
            env!("CARGO_PKG_VERSION")
        )),
        "{refusal}"
    );
    screenshot(&c, "the refusal", &out, "update-refused.png").await;
    assert_eq!(installed_version(), env!("CARGO_PKG_VERSION"));
    poll(
        &c,
        "the storefront still working",
        "return (await window.__TAURI_INTERNALS__.invoke('catalog_list')).length > 0;",
        Duration::from_secs(30),
    )
    .await;

    // The right signature: installed on consent, restarted into the new version.
    *served.lock().unwrap() = manifest(&new_version, port, &good);
    // A restart of the page (WebDriver waits for the reload) checks again.
    c.refresh().await.unwrap();
    poll(
        &c,
        "the update banner again",
        "return document.querySelector('[data-testid=update-install]') !== null;",
        Duration::from_secs(120),
    )
    .await;
    click(&c, "[data-testid=update-install]").await;
    let deadline = Instant::now() + Duration::from_secs(180);
    let restarted = loop {
        let now: Vec<u32> = pids_of(exe)
            .into_iter()
            .filter(|&p| p != first_pid)
            .collect();
        if installed_version() == new_version {
            if let Some(&pid) = now.first() {
                break pid;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the update was not installed and restarted (installed: {})",
            installed_version()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let log = home.join(".local/share/net.marquee.desktop/logs/marquee.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().any(|l| {
            l.contains("Marquee starting") && l.contains(&format!("version={new_version}"))
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted app is not {new_version}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = c.close().await;
    drop(driver);
    stop_restarted(restarted).await;
    run(Command::new("apt-get")
        .args(["purge", "-y", "-qq", "marquee"])
        .env("DEBIAN_FRONTEND", "noninteractive"));
}
