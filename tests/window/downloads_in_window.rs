//! The Downloads tab in the window: a download limit typed in by the person slows the rental
//! enough to watch it in the list (progress, speeds, peers, time left), Pause and Resume change
//! its state, Remove asks before it does anything (and Escape leaves it alone), and clearing the
//! limit lets it finish and seed.
//!
//! With one download at a time set in the same form, two free titles got one after the other
//! leave the second waiting its turn, and "Move up" (pressed from the keyboard) swaps them.
//!
//! Writes the screenshots `target/e2e/downloads.png` and `target/e2e/downloads-queue.png`.

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

/// Types `text` into the limits form's field `key` in place of what it holds.
async fn fill(c: &Client, key: &str, text: &str) {
    let field = c
        .find(Locator::Css(&format!("[data-testid=limit-{key}]")))
        .await
        .unwrap();
    // Erased key by key: WebDriver's "clear" fires no input event, so the page would not hear
    // of it.
    field.click().await.unwrap();
    let erase: String = std::iter::repeat_n(&*Key::Backspace, 12).collect();
    field
        .send_keys(&format!("{}{erase}{text}", &*Key::End))
        .await
        .unwrap();
}

/// Saves the limits form and waits until the backend holds `expected` as the limit `key`.
async fn save_and_wait(c: &Client, key: &str, expected: &str) {
    click(c, "[data-testid=limits-save]").await;
    poll(
        c,
        "the limits to be stored",
        &format!(
            "const l = await window.__TAURI_INTERNALS__.invoke('downloads_limits_get');
             return String(l.{key}) === '{expected}';"
        ),
        Duration::from_secs(10),
    )
    .await;
}

/// Saves the download limit as typed (an empty field is unlimited) and waits until the backend
/// holds `expected` as the download limit.
async fn save_limits(c: &Client, download: &str, expected: &str) {
    fill(c, "download_kib_s", download).await;
    save_and_wait(c, "download_kib_s", expected).await;
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

/// The order of the download rows on the page, and each one's state and words.
const ROWS: &str = "return [...document.querySelectorAll('[data-testid=downloads-list] > li')].map(r =>
     `${r.dataset.testid.slice('download-'.length)}:${r.dataset.state}:${r.querySelector('[data-testid=download-state]').innerText}`);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_wait_their_turn_and_move_up_in_the_window() {
    const FIRST: &str = "open-skies";
    const SECOND: &str = "paper-boats";
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, profile.path(), &[]).await;

    wait_for_catalog(&c, FIRST).await;
    click(&c, "[data-testid=tab-downloads]").await;
    poll(
        &c,
        "the limits form",
        "return document.querySelector('[data-testid=limit-active_downloads]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    // One at a time, slow enough that the first is still downloading when the second comes.
    fill(&c, "download_kib_s", LIMIT_KIB_S).await;
    fill(&c, "active_downloads", "1").await;
    save_and_wait(&c, "active_downloads", "1").await;

    // Two free titles, one after the other: the second waits its turn, and says so.
    poll(
        &c,
        "two free titles got",
        &format!(
            "const invoke = window.__TAURI_INTERNALS__.invoke;
             if (!window.__got) {{
               window.__got = true;
               await invoke('title_acquire', {{ titleId: '{FIRST}', clientOrderId: 'queue-1' }});
               await invoke('title_acquire', {{ titleId: '{SECOND}', clientOrderId: 'queue-2' }});
               window.__gotBoth = true;
             }}
             return window.__gotBoth === true;"
        ),
        Duration::from_secs(60),
    )
    .await;
    let rows = poll(
        &c,
        "the first downloading and the second waiting",
        &format!(
            "const rows = (() => {{ {ROWS} }})();
             return rows.length === 2 && rows[0].startsWith('{FIRST}:downloading:')
               && rows[1] === '{SECOND}:queued:Waiting — 1st in line' ? rows : null;"
        ),
        Duration::from_secs(60),
    )
    .await;
    eprintln!("queued: {rows}");
    // The first in the queue cannot move up, the last cannot move down.
    let ends = poll(
        &c,
        "the move buttons at the ends of the queue",
        &format!(
            "const b = (id, dir) => document.querySelector(`[data-testid=download-${{id}}] [data-testid=download-move-${{dir}}]`);
             return b('{FIRST}', 'up') && b('{SECOND}', 'down')
               ? [b('{FIRST}', 'up').disabled, b('{FIRST}', 'down').disabled,
                  b('{SECOND}', 'up').disabled, b('{SECOND}', 'down').disabled,
                  b('{SECOND}', 'up').getAttribute('aria-label')]
               : null;"
        ),
        Duration::from_secs(10),
    )
    .await;
    let disabled: Vec<_> = (0..4).map(|i| ends[i].as_bool()).collect();
    assert_eq!(
        disabled,
        [Some(true), Some(false), Some(false), Some(true)],
        "{ends}"
    );
    let label = ends[4].as_str().unwrap();
    assert!(
        label.starts_with("Move Paper Boats") && label.ends_with("up in the queue"),
        "{label}"
    );

    // "Move up" on the waiting one, from the keyboard: they swap, and the focus, whose button
    // is now at the top and disabled, goes to "Move down" of the same title.
    c.execute(
        &format!(
            "document.querySelector('[data-testid=download-{SECOND}] [data-testid=download-move-up]').focus();"
        ),
        vec![],
    )
    .await
    .unwrap();
    c.active_element()
        .await
        .unwrap()
        .send_keys(&Key::Enter)
        .await
        .unwrap();
    let swapped = poll(
        &c,
        "the two to swap",
        &format!(
            "const rows = (() => {{ {ROWS} }})();
             const focused = document.activeElement;
             return rows.length === 2 && rows[0].startsWith('{SECOND}:downloading:')
               && rows[1] === '{FIRST}:queued:Waiting — 1st in line'
               && focused && focused.dataset.testid === 'download-move-down'
               && focused.closest('[data-testid=download-{SECOND}]') !== null ? rows : null;"
        ),
        Duration::from_secs(30),
    )
    .await;
    eprintln!("swapped: {swapped}");
    screenshot(&c, "the queue to settle", &out, "downloads-queue.png").await;

    c.close().await.unwrap();
    drop(driver);
}
