//! The Downloads tab in the window: a download limit typed in by the person slows the rental
//! enough to watch it in the list (progress, speeds, peers, time left), Pause and Resume change
//! its state, Remove asks before it does anything (and Escape leaves it alone), and clearing the
//! limit lets it finish and seed.
//!
//! Writes the screenshot `target/e2e/downloads.png`.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::common::*;

const TITLE: &str = "neon-harbor";
/// Slow enough that the 2.6 MB demo film takes about forty seconds.
const LIMIT_KIB_S: &str = "64";

/// Waits until the title's row is in `state`.
async fn row_state(c: &Client, state: &str) {
    poll(
        c,
        &format!("the download to be {state}"),
        &format!(
            "const r = document.querySelector('[data-testid=download-{TITLE}]');
             return r !== null && r.dataset.state === '{state}';"
        ),
        Duration::from_secs(60),
    )
    .await;
}

/// Saves both limit fields as typed (an empty field is unlimited) and waits until the backend
/// holds `expected` as the download limit.
async fn save_limits(c: &Client, download: &str, expected: &str) {
    let field = c
        .find(Locator::Css("[data-testid=limit-download_kib_s]"))
        .await
        .unwrap();
    // Erased key by key: WebDriver's "clear" fires no input event, so the page would not hear
    // of it.
    field.click().await.unwrap();
    let erase: String = std::iter::repeat_n(&*Key::Backspace, 12).collect();
    field
        .send_keys(&format!("{}{erase}{download}", &*Key::End))
        .await
        .unwrap();
    click(c, "[data-testid=limits-save]").await;
    poll(
        c,
        "the limits to be stored",
        &format!(
            "const l = await window.__TAURI_INTERNALS__.invoke('downloads_limits_get');
             return String(l.download_kib_s) === '{expected}';"
        ),
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_listed_paused_resumed_and_limited_in_the_window() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, profile.path(), &[]).await;

    wait_for_catalog(&c, TITLE).await;

    // Nothing yet; a limit first, so the rental is slow enough to watch.
    click(&c, "[data-testid=tab-downloads]").await;
    poll(
        &c,
        "the empty downloads page",
        "const p = document.querySelector('[data-testid=downloads-page]');
         return p !== null && document.querySelector('[data-testid=limit-download_kib_s]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    save_limits(&c, LIMIT_KIB_S, LIMIT_KIB_S).await;

    // Rent it; the player opens; back to the downloads.
    click(&c, "[data-testid=tab-store]").await;
    rent(&c, TITLE).await;
    click(&c, "[data-testid=player-back]").await;
    click(&c, "[data-testid=tab-downloads]").await;

    // Downloading at the limit: a partial bar, speeds, peers and time left.
    poll(
        &c,
        "the rental downloading with a time left",
        &format!(
            "const r = document.querySelector('[data-testid=download-{TITLE}]');
             if (!r || r.dataset.state !== 'downloading') return null;
             const eta = r.querySelector('[data-testid=download-eta]');
             const bar = r.querySelector('[role=progressbar]');
             const pct = Number(bar.getAttribute('aria-valuenow'));
             return eta !== null && pct > 0 && pct < 90 ? r.innerText : null;"
        ),
        Duration::from_secs(120),
    )
    .await;
    screenshot(&c, "the downloads page to settle", &out, "downloads.png").await;

    // Pause and resume, by the buttons.
    click(&c, "[data-testid=download-pause]").await;
    row_state(&c, "paused").await;
    click(&c, "[data-testid=download-resume]").await;
    row_state(&c, "downloading").await;

    // Remove asks first: keep or delete, with keyboard focus on the first choice; Escape closes
    // the question and changes nothing.
    click(&c, "[data-testid=download-remove]").await;
    let focused = poll(
        &c,
        "the remove question with its choices",
        "const q = document.querySelector('[data-testid=download-remove-confirm]');
         return q && document.activeElement && q.contains(document.activeElement)
           && q.querySelector('[data-testid=download-remove-delete]') !== null
           ? document.activeElement.dataset.testid : null;",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(focused, "download-remove-keep");
    c.active_element()
        .await
        .unwrap()
        .send_keys(&Key::Escape)
        .await
        .unwrap();
    poll(
        &c,
        "the remove question to close",
        "return document.querySelector('[data-testid=download-remove-confirm]') === null;",
        Duration::from_secs(10),
    )
    .await;
    row_state(&c, "downloading").await;

    // No limit: it finishes and seeds.
    save_limits(&c, "", "null").await;
    row_state(&c, "seeding").await;

    c.close().await.unwrap();
    drop(driver);
}
