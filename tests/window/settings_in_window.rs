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
