//! The window in Arabic and Italian. Started with an Arabic system language, the app speaks
//! Arabic and mirrors its layout (the document is right to left, the brand and the tabs sit on
//! the right and the account on the left, the shelves read from the right); choosing Italian on
//! the settings page switches every sentence at once, and the choice outlives a restart; a film
//! is then rented in Italian (its price with a decimal comma, its terms and the time left in the
//! library in Italian).
//!
//! Saves `target/e2e/store-ar.png`, `target/e2e/settings-ar.png` and `target/e2e/store-it.png`
//! (the README shows them).

use std::time::Duration;

use fantoccini::Client;
use serde_json::Value;

use crate::common::*;

/// Where an element sits across the window: its centre, from 0 (left edge) to 1 (right edge).
async fn across(c: &Client, css: &str) -> f64 {
    poll(
        c,
        &format!("{css} on screen"),
        &format!(
            "const e = document.querySelector(\"{css}\");
             if (!e) return null;
             const r = e.getBoundingClientRect();
             return r.width > 0 ? (r.left + r.width / 2) / innerWidth : null;"
        ),
        Duration::from_secs(30),
    )
    .await
    .as_f64()
    .unwrap()
}

async fn text_of(c: &Client, css: &str) -> String {
    c.execute(
        &format!(
            "const e = document.querySelector(\"{css}\"); return e ? e.innerText.trim() : null;"
        ),
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Launches the app on `profile` with `language` as the system's (`LANGUAGE`, as a desktop
/// session sets it).
async fn launch_in(display: &str, profile: &std::path::Path, language: &str) -> (Guard, Client) {
    let mut app = App::new(std::path::Path::new(env!("CARGO_BIN_EXE_marquee")));
    app.env("MARQUEE_DATA_DIR", profile)
        .env("LANGUAGE", language);
    launch_app(display, &app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_from_the_system_mirrored_then_italian_from_the_settings() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();

    let (driver, c) = launch_in(&display, profile.path(), "ar").await;
    wait_for_catalog(&c, "neon-harbor").await;
    posters_on_screen(&c).await;
    let root: Value = c
        .execute(
            "return [document.documentElement.lang, document.documentElement.dir];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(root, serde_json::json!(["ar", "rtl"]));
    assert_eq!(text_of(&c, "[data-testid=tab-store]").await, "المتجر");
    // Mirrored: the store's tab and the search field on the right half, the account on the
    // left, and a shelf's first card to the right of its second.
    assert!(across(&c, "[data-testid=tab-store]").await > 0.5);
    assert!(across(&c, "[data-testid=search-input]").await > 0.5);
    assert!(across(&c, "[data-testid=account-open]").await < 0.5);
    let first = across(&c, "[data-testid=shelf-films] [data-key=neon-harbor]").await;
    let second = across(&c, "[data-testid=shelf-films] [data-key=midnight-circuit]").await;
    assert!(
        first > second,
        "the first card at {first}, the second at {second}"
    );
    // No English word left on the storefront (titles and studios are the catalog's own names).
    let english: Value = c
        .execute(
            "const names = new Set([...document.querySelectorAll('[data-testid^=title-card-] .name, [data-testid^=title-card-] .sub, .hero h1, .hero .meta')]
               .map(e => e.innerText));
             const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
             const left = [];
             for (let n = walk.nextNode(); n; n = walk.nextNode()) {
               const text = n.textContent.trim();
               const el = n.parentElement;
               if (!text || !el || el.closest('svg') || !el.getClientRects().length) continue;
               if ([...names].some(x => x.includes(text))) continue;
               if (/[A-Za-z]{3,}/.test(text) && !/^(Marquee|HD|SD)$/.test(text)) left.push(text);
             }
             return left.slice(0, 20);",
            vec![],
        )
        .await
        .unwrap();
    eprintln!("Latin words on the Arabic storefront (catalog names aside): {english}");
    screenshot(&c, "the Arabic storefront to settle", &out, "store-ar.png").await;

    // Italian from the settings page: every sentence changes at once.
    click(&c, "[data-testid=settings-open]").await;
    poll(
        &c,
        "the settings page with the version",
        "const v = document.querySelector('[data-testid=settings-version]');
         return v && /Marquee \\d/.test(v.innerText);",
        Duration::from_secs(30),
    )
    .await;
    screenshot(&c, "the Arabic settings to settle", &out, "settings-ar.png").await;
    click(&c, "[data-testid=language-it]").await;
    poll(
        &c,
        "the window in Italian, left to right",
        "return document.documentElement.lang === 'it' && document.documentElement.dir === 'ltr';",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(text_of(&c, "[data-testid=tab-store]").await, "Negozio");
    let _ = c.close().await;
    drop(driver);

    // The choice outlives a restart, whatever the system says.
    let (driver, c) = launch_in(&display, profile.path(), "ar").await;
    wait_for_catalog(&c, "neon-harbor").await;
    posters_on_screen(&c).await;
    assert_eq!(text_of(&c, "[data-testid=tab-store]").await, "Negozio");
    screenshot(&c, "the Italian storefront to settle", &out, "store-it.png").await;

    // Renting in Italian: the button, the price as Italians write it, the terms with their
    // durations, and the time left in the library.
    click(&c, &title_card("neon-harbor")).await;
    let button = poll(
        &c,
        "the sheet's button in Italian",
        "const b = document.querySelector('[data-testid=acquire]'); return b ? b.innerText : null;",
        Duration::from_secs(30),
    )
    .await;
    let button = button.as_str().unwrap();
    assert!(button.starts_with("Noleggia"), "{button}");
    click(&c, "[data-testid=acquire]").await;
    let price = poll(
        &c,
        "the Italian confirmation",
        "const p = document.querySelector('[data-testid=confirm-price]');
         const t = document.querySelector('[data-testid=confirm-terms]');
         return p && t ? [p.innerText, t.innerText] : null;",
        Duration::from_secs(30),
    )
    .await;
    let (price, terms) = (price[0].as_str().unwrap(), price[1].as_str().unwrap());
    // A decimal comma, never a point: "4,00 USD" or "US$ 4,00", as Intl writes it in Italian.
    assert!(price.contains(",00") && !price.contains(".00"), "{price}");
    assert!(
        terms.starts_with("Hai ") && terms.contains("ore"),
        "{terms}"
    );
    click(&c, "[data-testid=confirm-accept]").await;
    // Playing starts the rental's 48 hours (its first decrypted bytes).
    assert_plays(&c).await;
    click(&c, "[data-testid=player-back]").await;
    click(&c, "[data-testid=tab-library]").await;
    let said = poll(
        &c,
        "the rental in the Italian library",
        "const i = document.querySelector('[data-testid=library-item-neon-harbor]');
         return i ? i.innerText : null;",
        Duration::from_secs(30),
    )
    .await;
    let said = said.as_str().unwrap();
    // Started by playing: "Ancora 47 h 59 min" (the time left, in Italian).
    assert!(said.contains("Ancora "), "{said}");
    let _ = c.close().await;
    drop(driver);
}
