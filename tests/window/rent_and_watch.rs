//! Rent and watch in the window: one click on "Rent & watch" pays from the wallet, gets a licence
//! for this PC, downloads the encrypted torrent from the store's seeder and plays it in the
//! window while it downloads. Then the app restarts and the rental plays again without a second
//! charge.
//!
//! Writes `target/e2e/rent-and-watch.json` (with `click_to_first_frame_ms`) and screenshots
//! `target/e2e/rent-and-watch.png`, `quality-choice.png` (the film is sold in SD and HD: the
//! person picks HD before paying) and `confirm-order.png`.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::common::*;

const TITLE: &str = "neon-harbor";
const PRICE_CENTS: i64 = 400;

/// Against the demo store the app embeds (no store configured): what a new user gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rent_and_watch_in_the_window() {
    rent_and_watch(None, "rent-and-watch").await;
}

async fn rent_and_watch(store_url: Option<&str>, name: &str) {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();

    // First run: rent and watch.
    let (driver, c) = launch_with(&display, profile.path(), &[], store_url).await;
    wait_for_catalog(&c, TITLE).await;
    let before = wallet_cents(&c).await;
    // The storefront as a person first sees it, once its posters have loaded.
    posters_on_screen(&c).await;
    if store_url.is_none() {
        screenshot(&c, "the storefront to settle", &out, "store.png").await;
    } else {
        painted(&c, "the storefront to settle").await;
    }
    open_to_rent(&c, TITLE).await;
    // The film is sold in SD and HD: the person picks HD before paying.
    choose_quality(&c, "hd").await;
    if store_url.is_none() {
        screenshot(
            &c,
            "the quality choice to settle",
            &out,
            "quality-choice.png",
        )
        .await;
    }

    // Nothing is charged before the person has seen what is bought, its price and its terms.
    click(&c, "[data-testid=acquire]").await;
    let confirmation = poll(
        &c,
        "the confirmation before the charge",
        "const e = document.querySelector('[data-testid=confirm-order]'); return e ? e.textContent : null;",
        Duration::from_secs(30),
    )
    .await;
    let confirmation = confirmation.as_str().unwrap().to_owned();
    for said in [
        "Rent “Neon Harbor” in HD",
        "$4.00",
        "30 days to start watching",
        "48 hours to finish",
        "→",
    ] {
        assert!(confirmation.contains(said), "{said:?} in {confirmation:?}");
    }
    assert_eq!(
        wallet_cents(&c).await,
        before,
        "nothing is charged before the confirmation"
    );
    if store_url.is_none() {
        screenshot(&c, "the confirmation to settle", &out, "confirm-order.png").await;
    }

    // Time from the click that charges to the first decoded frame, measured in the page: a frame callback
    // (or the first `playing` with time advancing) on the <video> as soon as it appears.
    c.execute(
        "window.__e2e = { t0: performance.now(), first: null };
         const mark = () => { if (window.__e2e.first === null) window.__e2e.first = performance.now(); };
         const hook = (v) => {
           if (v.__hooked) return; v.__hooked = true;
           if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(mark);
           v.addEventListener('timeupdate', () => { if (v.currentTime > 0) mark(); });
         };
         new MutationObserver(() => {
           const v = document.querySelector('[data-testid=player]');
           if (v) hook(v);
         }).observe(document.body, { childList: true, subtree: true });",
        vec![],
    )
    .await
    .unwrap();
    click(&c, "[data-testid=confirm-accept]").await;
    let first_frame_ms = poll(
        &c,
        "the first frame",
        "return window.__e2e.first !== null ? window.__e2e.first - window.__e2e.t0 : null;",
        Duration::from_secs(120),
    )
    .await
    .as_f64()
    .unwrap();
    let frame = assert_plays(&c).await;
    // The CSP in force names the playback server's port and no other loopback port: a fetch
    // to another one is a violation of `connect-src` (the video above played from its own).
    let blocked = poll(
        &c,
        "a fetch to another loopback port to be refused by the CSP",
        "const port = Number(new URL(document.querySelector('video').currentSrc).port);
         const violation = new Promise(r => document.addEventListener(
           'securitypolicyviolation', e => r(e.effectiveDirective), { once: true }));
         fetch(`http://127.0.0.1:${port === 9 ? 10 : 9}/`).catch(() => {});
         return await Promise.race([violation, new Promise(r => setTimeout(() => r('none'), 10000))]);",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(blocked, "connect-src");

    let after = assert_charged(&c, before, PRICE_CENTS).await;
    poll(
        &c,
        "download progress",
        "const p = document.querySelector('[data-testid=download-progress]'); return p ? p.innerText : null;",
        Duration::from_secs(10),
    )
    .await;
    screenshot(
        &c,
        "the player and the progress text to settle",
        &out,
        "rent-and-watch.png",
    )
    .await;
    // The first frame started the rental in the library; closing before that report arrived
    // would leave the restart below with a rental that never started.
    poll(
        &c,
        "the library to record the first frame (the rental running)",
        &format!(
            "const lib = await window.__TAURI_INTERNALS__.invoke('library_list');
             const e = lib.find(e => e.title.id === '{TITLE}');
             return e ? e.licence.status === 'running' : null;"
        ),
        Duration::from_secs(30),
    )
    .await;
    // SD while watching: the rental opens both qualities, so the switch charges nothing and
    // the SD video plays on from where the HD one was.
    let at = poll(
        &c,
        "the HD position",
        "const v = document.querySelector('[data-testid=player]'); return v && v.currentTime > 0 ? v.currentTime : null;",
        Duration::from_secs(30),
    )
    .await
    .as_f64()
    .unwrap();
    click(&c, "[data-testid=player-quality-sd]").await;
    let sd = poll(
        &c,
        "the SD variant to play on from the same moment",
        &format!(
            "const v = document.querySelector('[data-testid=player]');
             const on = document.querySelector('[data-testid=player-view] [role=radiogroup] [aria-checked=true]');
             return v && on && on.dataset.testid === 'player-quality-sd' && v.videoHeight === 480
               && v.currentTime > {at} - 1 && !v.paused ? v.currentTime : null;"
        ),
        Duration::from_secs(60),
    )
    .await;
    assert!(sd.as_f64().unwrap() >= at - 1.0, "{sd} from {at}");
    assert_eq!(
        wallet_cents(&c).await,
        after,
        "switching quality charged nothing"
    );
    let licensed = poll(
        &c,
        "the SD variant in the library, on the rental's clock",
        "const lib = await window.__TAURI_INTERNALS__.invoke('library_list');
         const e = lib.find(e => e.title.id === 'neon-harbor-sd');
         return e ? e.licence.status : null;",
        Duration::from_secs(30),
    )
    .await;
    assert!(
        licensed == "running" || licensed == "not_started",
        "a rental: {licensed}"
    );
    // Downloads lists the two qualities as two downloads, each named by its quality.
    click(&c, "[data-testid=player-back]").await;
    click(&c, "[data-testid=tab-downloads]").await;
    let qualities = poll(
        &c,
        "both qualities in Downloads, each named",
        &format!(
            "const q = (id) => document.querySelector(`[data-testid=download-${{id}}] [data-testid=download-quality]`);
             const hd = q('{TITLE}'), sd = q('{TITLE}-sd');
             return hd && sd ? [hd.textContent, sd.textContent] : null;"
        ),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(qualities, json!(["HD", "SD"]));
    c.close().await.unwrap();
    drop(driver);

    // Second run, same profile: the library is intact and the rental plays with no new charge.
    let (driver, c) = launch_with(&display, profile.path(), &[], store_url).await;
    let again = wallet_cents(&c).await;
    assert_eq!(again, after, "the restart charged nothing");
    click(&c, "[data-testid=tab-library]").await;
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(&format!("[data-testid=watch-{TITLE}]")))
        .await
        .unwrap();
    if store_url.is_none() {
        // The library after a restart: the rental, its time left, the finished download.
        poll(
            &c,
            "the library item to show the running rental, the whole download and its poster",
            &format!(
                "const item = document.querySelector('[data-testid=library-item-{TITLE}]');
                 if (!item) return null;
                 const licence = item.querySelector('[data-testid=licence-{TITLE}]');
                 const progress = item.querySelector('[data-testid=download-progress]');
                 return licence !== null && licence.classList.contains('running')
                   && licence.innerText.trim() !== ''
                   && progress !== null && progress.dataset.fraction === '1.000'
                   && progress.querySelector('[data-testid=download-announcement]').textContent === 'Downloaded'
                   && [...item.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0);"
            ),
            Duration::from_secs(60),
        )
        .await;
        screenshot(&c, "the library to settle", &out, "library.png").await;
    }
    watch_again(&c, TITLE, after).await;
    c.close().await.unwrap();
    drop(driver);

    let report = json!({
        "title": TITLE,
        "store": if store_url.is_some() { "marquee-store process" } else { "embedded demo store" },
        "click_to_first_frame_ms": first_frame_ms.round() as i64,
        "price_cents": PRICE_CENTS,
        "wallet_before_cents": before,
        "wallet_after_cents": after,
        "frame": frame,
    });
    std::fs::write(
        out.join(format!("{name}.json")),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    eprintln!("rent-and-watch: {report}");
}
