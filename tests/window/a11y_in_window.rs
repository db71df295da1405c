//! Accessibility in the real window: axe-core (from npm, `ui/node_modules/axe-core`) runs inside
//! the app's own webview on every page a person reaches (the store, a title's sheet, the
//! confirmation, the player, the library, downloads, the Live section, the account and settings
//! pages), in English and again in Arabic (right to left), against the embedded demo store. No
//! page may have a serious or critical finding. A film is also rented and played by keyboard
//! alone.
//!
//! Writes `target/e2e/a11y.json`: per page, the findings' counts by impact and each finding's
//! rule, impact, help text and first elements, so a page that fails names what to fix.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

/// A free film: plays at once, nothing is charged.
const FREE_TITLE: &str = "open-skies";
/// A library film, rented by keyboard: not the first card of its shelf, so the arrow keys
/// take the focus to it.
const BY_KEYBOARD: &str = "the-quiet-orchard";
const BY_KEYBOARD_CENTS: i64 = 300;
/// A rental: its sheet shows prices, the quality choice and the confirmation.
const RENTAL: &str = "neon-harbor";

/// The axe-core build the UI's packages hold, injected into the page as a WebDriver script
/// (scripts from WebDriver are not the page's, so the window's CSP does not apply to them).
fn axe_source() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): `cargo xtask test` installs the UI's packages",
            path.display()
        )
    })
}

/// Runs axe on the page as it is now, once it has settled; the findings, summarised.
async fn audit(c: &fantoccini::Client, page: &str) -> Value {
    painted(c, &format!("the {page} page to settle")).await;
    let loaded = c
        .execute(
            &format!(
                "if (!window.axe) {{ {} }} return typeof window.axe;",
                axe_source()
            ),
            vec![],
        )
        .await
        .expect("axe-core loads in the window");
    assert_eq!(loaded, "object", "axe-core did not load");
    poll(
        c,
        &format!("axe on the {page} page"),
        "const r = await axe.run(document, { resultTypes: ['violations'] });
         return r.violations.map(v => ({
           rule: v.id,
           impact: v.impact,
           help: v.help,
           count: v.nodes.length,
           elements: v.nodes.slice(0, 4).map(n => n.target.join(' ')),
           why: v.nodes.length ? v.nodes[0].failureSummary : null,
         }));",
        Duration::from_secs(120),
    )
    .await
}

/// Opens `title`'s sheet from its card, whatever the language, and waits for its button.
async fn open_to_rent_in_any_language(c: &fantoccini::Client, title: &str) {
    click(c, &title_card(title)).await;
    poll(
        c,
        "the title's sheet",
        "return document.querySelector('[data-testid=acquire]') !== null;",
        Duration::from_secs(30),
    )
    .await;
}

/// Counts of findings by impact.
fn counts(findings: &Value) -> BTreeMap<String, u64> {
    let mut by = BTreeMap::new();
    for impact in ["critical", "serious", "moderate", "minor"] {
        by.insert(impact.to_owned(), 0);
    }
    for f in findings.as_array().into_iter().flatten() {
        let impact = f["impact"].as_str().unwrap_or("minor").to_owned();
        *by.entry(impact).or_default() += f["count"].as_u64().unwrap_or(1);
    }
    by
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_with_no_serious_or_critical_finding() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, profile.path(), &[]).await;
    let mut pages = BTreeMap::new();

    wait_for_catalog(&c, RENTAL).await;
    posters_on_screen(&c).await;
    pages.insert("store", audit(&c, "store").await);

    // A rental's sheet, with its quality choice, then its confirmation.
    open_to_rent(&c, RENTAL).await;
    pages.insert("title sheet", audit(&c, "title sheet").await);
    click(&c, "[data-testid=acquire]").await;
    poll(
        &c,
        "the confirmation",
        "return document.querySelector('[data-testid=confirm-order]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    pages.insert("confirmation", audit(&c, "confirmation").await);
    // Backing out: the confirmation, then the sheet (Escape, as a person would).
    click(&c, "[data-testid=confirm-cancel]").await;
    c.execute(
        "window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));",
        vec![],
    )
    .await
    .unwrap();
    poll(
        &c,
        "the sheet to close",
        "return document.querySelector('[data-testid=acquire]') === null;",
        Duration::from_secs(10),
    )
    .await;

    // A free film playing.
    seed_free_title(&c, FREE_TITLE, "a11y-free").await;
    click(&c, "[data-testid=tab-library]").await;
    click(&c, &format!("[data-testid=library-item-{FREE_TITLE}]")).await;
    pages.insert("library", audit(&c, "library").await);
    click(&c, &format!("[data-testid=watch-{FREE_TITLE}]")).await;
    assert_plays(&c).await;
    pages.insert("player", audit(&c, "player").await);
    click(&c, "[data-testid=player-back]").await;

    click(&c, "[data-testid=tab-downloads]").await;
    poll(
        &c,
        "the download listed",
        "return document.querySelector('[data-testid=downloads-list] li') !== null;",
        Duration::from_secs(30),
    )
    .await;
    pages.insert("downloads", audit(&c, "downloads").await);

    click(&c, "[data-testid=tab-live]").await;
    poll(
        &c,
        "the Live section",
        "return document.querySelector('[data-testid=live-page]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    pages.insert("live", audit(&c, "live").await);

    click(&c, "[data-testid=account-open]").await;
    poll(
        &c,
        "the account page",
        "return document.querySelector('[data-testid=account-page]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    pages.insert("account", audit(&c, "account").await);

    // The settings page, then every page again in Arabic, right to left, chosen there.
    click(&c, "[data-testid=settings-open]").await;
    poll(
        &c,
        "the settings page",
        "return document.querySelector('[data-testid=settings-page]') !== null;",
        Duration::from_secs(30),
    )
    .await;
    pages.insert("settings", audit(&c, "settings").await);
    click(&c, "[data-testid=language-ar]").await;
    poll(
        &c,
        "the window in Arabic",
        "return document.documentElement.dir === 'rtl';",
        Duration::from_secs(10),
    )
    .await;
    pages.insert("ar: settings", audit(&c, "Arabic settings").await);
    for (tab, page) in [
        ("store", "ar: store"),
        ("library", "ar: library"),
        ("downloads", "ar: downloads"),
        ("live", "ar: live"),
    ] {
        click(&c, &format!("[data-testid=tab-{tab}]")).await;
        painted(&c, page).await;
        pages.insert(page, audit(&c, page).await);
    }
    click(&c, "[data-testid=account-open]").await;
    pages.insert("ar: account", audit(&c, "Arabic account").await);
    click(&c, "[data-testid=tab-store]").await;
    open_to_rent_in_any_language(&c, RENTAL).await;
    pages.insert("ar: title sheet", audit(&c, "Arabic title sheet").await);

    let report: BTreeMap<&str, Value> = pages
        .iter()
        .map(|(page, findings)| {
            (
                *page,
                json!({ "counts": counts(findings), "findings": findings }),
            )
        })
        .collect();
    std::fs::write(
        out.join("a11y.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    let mut failing = Vec::new();
    for (page, findings) in &pages {
        let by = counts(findings);
        eprintln!("axe, {page}: {by:?}");
        for f in findings.as_array().into_iter().flatten() {
            if matches!(f["impact"].as_str(), Some("serious" | "critical")) {
                failing.push(format!(
                    "{page}: {} ({}, {} elements: {}) e.g. {}",
                    f["rule"], f["impact"], f["count"], f["help"], f["elements"]
                ));
            }
        }
    }
    assert!(
        failing.is_empty(),
        "serious or critical accessibility findings:\n{}",
        failing.join("\n")
    );
    let _ = c.close().await;
    drop(driver);
}

/// Presses `key` on whatever has the focus, as a keyboard does (WebDriver key actions, no
/// pointer anywhere).
async fn press(c: &fantoccini::Client, key: fantoccini::key::Key) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let value = key.chars().next().expect("a key code");
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value })
        .then(KeyAction::Up { value });
    c.perform_actions(keys).await.expect("a key press");
}

/// Shift+Tab, as a keyboard does.
async fn shift_tab(c: &fantoccini::Client) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    use fantoccini::key::Key;
    let (shift, tab) = (
        Key::Shift.chars().next().unwrap(),
        Key::Tab.chars().next().unwrap(),
    );
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: shift })
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab })
        .then(KeyAction::Up { value: shift });
    c.perform_actions(keys).await.expect("Shift+Tab");
}

/// What has the focus: its test id (or its own, for a card), and whether a focus ring shows.
async fn focused(c: &fantoccini::Client) -> Value {
    c.execute(
        "const e = document.activeElement;
         if (!e || e === document.body) return null;
         // The ring may be drawn by the control, its box (a search field's) or its picture (a
         // card's poster).
         const drawn = el => {
           if (!el) return false;
           const s = getComputedStyle(el);
           return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
         };
         const ring = drawn(e) || drawn(e.parentElement) || drawn(e.querySelector('.art'));
         return { id: e.dataset.testid || e.tagName, ring };",
        vec![],
    )
    .await
    .unwrap()
}

/// Rents and plays a film with the keyboard alone: Tab to the shelves, the arrow keys along a
/// shelf to the film, Enter on its card, Enter on "Rent & watch", Enter on the confirmation;
/// the film plays. Every stop on the way shows a focus ring.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_film_is_rented_and_played_by_keyboard_alone() {
    use fantoccini::key::Key;
    let _one = ONE_WINDOW.lock().await;
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch(&display, profile.path(), &[]).await;
    wait_for_catalog(&c, BY_KEYBOARD).await;
    painted(&c, "the storefront to settle").await;
    let before = wallet_cents(&c).await;
    let card = format!("title-card-{BY_KEYBOARD}");

    // Tab from the top: the bar, the search field, the sections, the hero, then one stop per
    // shelf, until a shelf that holds the film further along than its first card.
    let mut path = Vec::new();
    let mut shelves = Vec::new();
    let mut along = None;
    for _ in 0..40 {
        press(&c, Key::Tab).await;
        let now = focused(&c).await;
        assert_eq!(now["ring"], true, "no focus ring on {now}");
        if now["id"] == "tab-store" && !shelves.is_empty() {
            break; // round the whole window
        }
        path.push(now["id"].as_str().unwrap_or("?").to_owned());
        // Where the focus is on a shelf: the shelf, and the film's place in it past the focus.
        let here = c
            .execute(
                &format!(
                    "const slot = document.activeElement && document.activeElement.closest('.slot');
                     if (!slot) return null;
                     const shelf = slot.closest('section').dataset.testid;
                     const keys = [...slot.parentElement.parentElement.querySelectorAll('.slot')]
                       .map(s => s.dataset.key);
                     return [shelf, keys.indexOf('{BY_KEYBOARD}') - keys.indexOf(slot.dataset.key)];"
                ),
                vec![],
            )
            .await
            .unwrap();
        if let Some([shelf, ahead]) = here.as_array().map(|a| [a[0].clone(), a[1].clone()]) {
            assert!(
                !shelves.contains(&shelf),
                "Tab stopped twice in {shelf}: a shelf is one stop ({path:?})"
            );
            shelves.push(shelf);
            if ahead.as_i64().unwrap_or(0) > 0 {
                along = ahead.as_i64();
                break;
            }
        }
    }
    let along = along
        .unwrap_or_else(|| panic!("Tab never reached a shelf with the film along it: {path:?}"));
    // Along the shelf with the arrow keys, one card a press; one back and forth again.
    for _ in 0..along {
        press(&c, Key::Right).await;
        path.push(focused(&c).await["id"].as_str().unwrap_or("?").to_owned());
    }
    press(&c, Key::Left).await;
    press(&c, Key::Right).await;
    assert_eq!(focused(&c).await["id"], card.as_str(), "{path:?}");
    assert_eq!(focused(&c).await["ring"], true);
    // Tab leaves the shelf and Shift+Tab comes back to the same card.
    press(&c, Key::Tab).await;
    assert_ne!(focused(&c).await["id"], card.as_str());
    shift_tab(&c).await;
    assert_eq!(
        focused(&c).await["id"],
        card.as_str(),
        "the shelf remembers its card"
    );
    eprintln!("by keyboard to the film: {}", path.join(" → "));

    // Enter opens its sheet with "Rent & watch" focused; Enter again asks to confirm, with the
    // confirmation's button focused; Enter pays and plays.
    press(&c, Key::Enter).await;
    poll(
        &c,
        "the sheet with Rent & watch focused",
        "return document.activeElement && document.activeElement.dataset.testid === 'acquire';",
        Duration::from_secs(20),
    )
    .await;
    press(&c, Key::Enter).await;
    poll(
        &c,
        "the confirmation with its button focused",
        "return document.activeElement && document.activeElement.dataset.testid === 'confirm-accept';",
        Duration::from_secs(20),
    )
    .await;
    press(&c, Key::Enter).await;
    assert_plays(&c).await;
    assert_charged(&c, before, BY_KEYBOARD_CENTS).await;
    // Escape leaves the player for the store.
    press(&c, Key::Escape).await;
    poll(
        &c,
        "the store after the player",
        "return document.querySelector('[data-testid=player]') === null;",
        Duration::from_secs(20),
    )
    .await;
    let _ = c.close().await;
    drop(driver);
}
