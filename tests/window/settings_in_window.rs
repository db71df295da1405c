//! The settings page changes the store: an address that is not one is refused in words with
//! nothing changed; a store process's address, once the person agrees, signs them out and
//! restarts Marquee on it; the next start asks them to sign in to that store.

use std::time::{Duration, Instant};

use crate::common::*;

async fn type_store(c: &fantoccini::Client, text: &str) {
    let field = c
        .find(fantoccini::Locator::Css("[data-testid=settings-store-url]"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_changed_from_the_settings_page_after_a_sign_out_and_a_restart() {
    let _one = ONE_WINDOW.lock().await;
    let data = tempfile::tempdir().unwrap();
    let store = start_store_process(data.path());
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, profile.path(), &[]).await;
    wait_for_catalog(&c, "neon-harbor").await;
    let first = app_with_profile(profile.path()).expect("the app runs");

    click(&c, "[data-testid=settings-open]").await;
    poll(
        &c,
        "the demo store named as the one in use",
        "const p = document.querySelector('[data-testid=settings-store-current]');
         return p && p.dataset.demo === 'true';",
        Duration::from_secs(30),
    )
    .await;

    // Not an address: refused in words once asked, and nothing changes.
    type_store(&c, "store.example.com").await;
    click(&c, "[data-testid=settings-store-use]").await;
    click(&c, "[data-testid=settings-store-accept]").await;
    let said = poll(
        &c,
        "the refusal",
        "const e = document.querySelector('[data-testid=settings-store-error]');
         return e && e.dataset.errorKind === 'settings_refused' ? e.innerText : null;",
        Duration::from_secs(20),
    )
    .await;
    assert!(
        said.as_str().unwrap().contains("is not a store's address"),
        "{said}"
    );
    assert!(!profile.path().join("settings.json").exists());

    // The store process: asked first, then signed out and restarted on it.
    type_store(&c, store.url()).await;
    click(&c, "[data-testid=settings-store-use]").await;
    let asked = poll(
        &c,
        "the question before the change",
        "const q = document.querySelector('[data-testid=settings-store-confirm]');
         return q ? q.innerText : null;",
        Duration::from_secs(10),
    )
    .await;
    assert!(asked.as_str().unwrap().contains(store.url()), "{asked}");
    click(&c, "[data-testid=settings-store-accept]").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let restarted = loop {
        let kept = std::fs::read(profile.path().join("settings.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let now = app_with_profile(profile.path());
        if let (Some(kept), Some(pid)) = (kept, now) {
            if pid != first {
                assert_eq!(kept["store_url"], store.url());
                break pid;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Marquee did not restart on the new store"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = c.close().await;
    drop(driver);
    stop_restarted(restarted).await;

    // Started again: the new store, and a sign-in to it.
    let (driver, c) = launch(&display, profile.path(), &[]).await;
    let info = poll(
        &c,
        "the account on the new store",
        "const a = await window.__TAURI_INTERNALS__.invoke('account_get');
         return a && a.store_url ? a : null;",
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(info["store_url"], store.url());
    assert_eq!(info["demo_store"], false);
    assert!(info["email"].is_null(), "signed out: {info}");
    click(&c, "[data-testid=account-open]").await;
    poll(
        &c,
        "the sign-in form",
        "return document.querySelector('[data-testid=sign-in-form], form input[type=password]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    let _ = c.close().await;
    drop(driver);
}

/// A tmpfs of `bytes` mounted on a folder of its own, unmounted when dropped: a disk without
/// room for the data folder. `None` when this user cannot mount (not root); under `CI=true`
/// that fails instead.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var_os("CI").is_none(),
                "a small disk needs `mount -t tmpfs` (root): CI runs as root"
            );
            eprintln!("SKIPPED the small-disk refusal: `mount -t tmpfs` needs root");
            return None;
        }
        Some(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

async fn type_into(c: &fantoccini::Client, css: &str, text: &str) {
    let field = c.find(fantoccini::Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// What the settings page says the data folder is.
async fn shown_folder(c: &fantoccini::Client) -> (String, f64) {
    let shown = poll(
        c,
        "the data folder on the settings page",
        "const p = document.querySelector('[data-testid=settings-data-path]');
         const s = document.querySelector('[data-testid=settings-data-size]');
         return p && s ? [p.innerText, Number(s.dataset.bytes)] : null;",
        Duration::from_secs(30),
    )
    .await;
    (
        shown[0].as_str().unwrap().to_owned(),
        shown[1].as_f64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_moves_with_its_files_and_a_disk_without_room_is_refused() {
    let _one = ONE_WINDOW.lock().await;
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, profile.path(), &[]).await;
    wait_for_catalog(&c, "open-skies").await;
    // Something worth moving: a free film downloaded and seeding.
    seed_free_title(&c, "open-skies", "data-move").await;
    let first = app_with_profile(profile.path()).expect("the app runs");

    click(&c, "[data-testid=settings-open]").await;
    let (path, bytes) = shown_folder(&c).await;
    assert_eq!(path, profile.path().display().to_string());
    assert!(bytes > 1_000_000.0, "the film counts: {bytes} bytes");

    // A disk a quarter of the folder's size: refused in words, with nothing changed.
    if let Some(small) = SmallDisk::mount(bytes as u64 / 4) {
        type_into(
            &c,
            "[data-testid=settings-data-target]",
            &small.dir.path().display().to_string(),
        )
        .await;
        click(&c, "[data-testid=settings-data-move]").await;
        click(&c, "[data-testid=settings-data-accept]").await;
        let said = poll(
            &c,
            "the refusal for want of room",
            "const e = document.querySelector('[data-testid=settings-data-error]');
             return e && e.dataset.errorKind === 'settings_refused' ? e.innerText : null;",
            Duration::from_secs(30),
        )
        .await;
        let said = said.as_str().unwrap();
        assert!(
            said.contains("free") && said.contains("another disk"),
            "{said}"
        );
        assert!(!profile.path().join("data-folder.json").exists());
        assert_eq!(std::fs::read_dir(small.dir.path()).unwrap().count(), 0);
        // Still running on the old folder: the store answers, nothing restarted.
        assert_eq!(app_with_profile(profile.path()), Some(first));
    }

    // A folder on a disk with room: asked first, then copied, switched and restarted there.
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("Marquee data");
    type_into(
        &c,
        "[data-testid=settings-data-target]",
        &target.display().to_string(),
    )
    .await;
    click(&c, "[data-testid=settings-data-move]").await;
    let asked = poll(
        &c,
        "the question before the move",
        "const q = document.querySelector('[data-testid=settings-data-confirm]');
         return q ? q.innerText : null;",
        Duration::from_secs(10),
    )
    .await;
    assert!(asked.as_str().unwrap().contains("Marquee data"), "{asked}");
    click(&c, "[data-testid=settings-data-accept]").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let restarted = loop {
        if let Some(pid) = app_with_profile(profile.path()).filter(|&p| p != first) {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "Marquee did not restart in the new folder"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Home keeps only the note of where the data went.
    let left: Vec<String> = std::fs::read_dir(profile.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["data-folder.json".to_owned()], "left at home");
    let _ = c.close().await;
    drop(driver);
    stop_restarted(restarted).await;

    // Started again: the new folder, the film still in the library and complete.
    let (driver, c) = launch(&display, profile.path(), &[]).await;
    click(&c, "[data-testid=settings-open]").await;
    let (path, moved) = shown_folder(&c).await;
    assert_eq!(path, target.display().to_string());
    // The log goes on growing; the rest is the same bytes.
    assert!(
        (moved - bytes).abs() < 1_000_000.0,
        "{bytes} bytes before, {moved} after"
    );
    poll(
        &c,
        "the film complete in the moved folder",
        "const list = await window.__TAURI_INTERNALS__.invoke('downloads_list');
         return list.some(d => d.progress.title_id === 'open-skies' && d.progress.state === 'seeding');",
        Duration::from_secs(60),
    )
    .await;
    let _ = c.close().await;
    drop(driver);
}
