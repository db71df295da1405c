//! Browsing like a store, in the window, against the embedded demo store: the Films section
//! narrowed by a filter and sorted, the TV section's series, a series page whose season is
//! bought in one confirmed order of its episodes (charged once each, never twice), a studio's
//! page from a title's sheet, "more like this", and Back through all of it.
//!
//! Saves `target/e2e/series-page.png`.

use std::time::Duration;

use fantoccini::Client;
use serde_json::Value;

use crate::common::*;

/// The demo catalog's series, its two episodes of season 1, and what one costs.
const SERIES: &str = "Orbital";
const EPISODES: [&str; 2] = ["orbital-s01e01", "orbital-s01e02"];
const EPISODE_CENTS: i64 = 200;

/// The names on the section's cards, in the order shown, once the grid shows `count` of them.
async fn section_names(c: &Client, what: &str, count: u64) -> Vec<String> {
    let names = poll(
        c,
        what,
        &format!(
            "const page = document.querySelector('[data-testid=section-page]');
             const n = page && page.querySelector('[data-testid=section-count]');
             if (!n || Number(n.dataset.count) !== {count}) return null;
             const names = [...page.querySelectorAll('[data-testid^=title-card-] .name')].map(e => e.textContent);
             return names.length === {count} ? names : null;"
        ),
        Duration::from_secs(30),
    )
    .await;
    names
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

/// Sets a `<select>` of the section's filters to `value`, as a person choosing an option does.
async fn choose(c: &Client, testid: &str, value: &str) {
    c.execute(
        "const [id, value] = arguments;
         const s = document.querySelector(`[data-testid=${id}]`);
         s.value = value;
         s.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![testid.into(), value.into()],
    )
    .await
    .unwrap();
}

async fn alt_left(c: &Client) {
    c.execute(
        "window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', altKey: true }));",
        vec![],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_sections_and_buy_a_season() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let (_xvfb, display) = start_xvfb();
    let (_driver, c) = launch_with(&display, profile.path(), &[], None).await;
    wait_for_catalog(&c, "neon-harbor").await;
    let before = wallet_cents(&c).await;

    // The Films section: every film once (Neon Harbor's SD and HD are one card), five in all.
    click(&c, "[data-testid=see-all-films]").await;
    let all = section_names(&c, "the Films section", 5).await;
    assert_eq!(
        all.iter().filter(|n| *n == "Neon Harbor").count(),
        1,
        "{all:?}"
    );
    // Free only: the two free films; then A–Z.
    choose(&c, "filter-price", "0").await;
    choose(&c, "sort", "name").await;
    let free = section_names(&c, "the free films, A–Z", 2).await;
    assert_eq!(free, ["Open Skies", "Paper Boats"]);
    // A genre that finds nothing among the free films says so, and clearing brings all back.
    choose(&c, "filter-genre", "Thriller").await;
    poll(
        &c,
        "no film to match",
        "return document.querySelector('[data-testid=section-empty]') !== null;",
        Duration::from_secs(10),
    )
    .await;
    click(&c, "[data-testid=filter-clear]").await;
    let sorted = section_names(&c, "every film again, A–Z", 5).await;
    let mut expected = sorted.clone();
    expected.sort();
    assert_eq!(sorted, expected, "A–Z is kept after clearing the filters");
    // HD only: the two 480-line films drop out; the one sold in both stays.
    click(&c, "[data-testid=filter-quality-hd]").await;
    let hd = section_names(&c, "the HD films", 3).await;
    assert!(!hd.contains(&"The Quiet Orchard".to_owned()), "{hd:?}");
    assert!(hd.contains(&"Neon Harbor".to_owned()), "{hd:?}");
    choose(&c, "filter-genre", "Thriller").await;
    section_names(&c, "the HD thrillers", 1).await;

    // TV lists series; a series' page lists its season's episodes.
    click(&c, "[data-testid=section-tv]").await;
    click(&c, &format!("[data-testid=series-card-{SERIES}]")).await;
    let listed = poll(
        &c,
        "the series page",
        "const page = document.querySelector('[data-testid=series-page]');
         if (!page) return null;
         const rows = [...page.querySelectorAll('[data-testid^=episode-]')].filter(r => r.tagName === 'BUTTON');
         return rows.length > 0 ? rows.map(r => r.dataset.testid) : null;",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        listed,
        Value::from(
            EPISODES
                .iter()
                .map(|e| format!("episode-{e}"))
                .collect::<Vec<_>>()
        ),
        "season 1's episodes in order, in HD on this screen"
    );
    let total = EPISODE_CENTS * EPISODES.len() as i64;
    poll(
        &c,
        "the posters on the series page",
        "const imgs = [...document.querySelectorAll('[data-testid=series-page] img')]
           .filter(i => i.getBoundingClientRect().top < innerHeight);
         return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);",
        Duration::from_secs(30),
    )
    .await;
    screenshot(&c, "the series page to settle", &out, "series-page.png").await;

    // Buy the season: one confirmation naming the total, then an order per episode.
    click(&c, "[data-testid=season-buy]").await;
    let said = poll(
        &c,
        "the season's confirmation",
        "const e = document.querySelector('[data-testid=confirm-order]'); return e ? e.textContent : null;",
        Duration::from_secs(10),
    )
    .await;
    let said = said.as_str().unwrap();
    assert!(
        said.contains(&format!("{SERIES}, season 1")) && said.contains("$4.00"),
        "{said}"
    );
    assert!(said.contains("All 2 episodes are yours to keep"), "{said}");
    click(&c, "[data-testid=confirm-accept]").await;
    // Each episode is its own order: the wallet goes down twice, to the confirmed total.
    let after = poll(
        &c,
        "the wallet charged the season's total",
        &format!(
            "const w = document.querySelector('[data-testid=wallet-balance]');
             return w && Number(w.dataset.balanceCents) === {} ? true : null;",
            before - total
        ),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(after, Value::Bool(true));
    let after = before - total;
    poll(
        &c,
        "both episodes held",
        "const page = document.querySelector('[data-testid=series-page]');
         return page.querySelectorAll('[data-testid=episode-held]').length === 2
           && page.querySelector('[data-testid=season-owned]') !== null
           && page.querySelector('[data-testid=season-buy]') === null;",
        Duration::from_secs(60),
    )
    .await;
    let held = poll(
        &c,
        "the episodes in the library",
        "const lib = await window.__TAURI_INTERNALS__.invoke('library_list');
         return lib.filter(e => e.title.id.startsWith('orbital-s01')).map(e => e.title.id).sort();",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(held, Value::from(EPISODES.to_vec()), "the HD episodes");

    // An episode's sheet from the page; its studio's page; "more like this" opens another sheet.
    click(&c, &format!("[data-testid=episode-{}]", EPISODES[0])).await;
    click(&c, "[data-testid=title-detail] [data-testid=studio-link]").await;
    let studio = poll(
        &c,
        "the studio's page",
        "const p = document.querySelector('[data-testid=studio-page]');
         return p ? p.querySelector('h1').textContent : null;",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(studio, "Deepfield Television");
    alt_left(&c).await;
    poll(
        &c,
        "Back to the episode's sheet",
        "const s = document.querySelector('[data-testid=title-detail]');
         return s !== null && s.querySelector('#detail-title').textContent.includes('First Light')
           && document.querySelector('[data-testid=studio-page]') === null;",
        Duration::from_secs(10),
    )
    .await;
    alt_left(&c).await;
    poll(
        &c,
        "Back to the series page",
        "return document.querySelector('[data-testid=title-detail]') === null
           && document.querySelector('[data-testid=series-page]') !== null;",
        Duration::from_secs(10),
    )
    .await;
    alt_left(&c).await;
    alt_left(&c).await;
    poll(
        &c,
        "Back to the Films section as it was left (HD thrillers)",
        "const n = document.querySelector('[data-testid=section-page][data-section=films] [data-testid=section-count]');
         return n !== null && n.dataset.count === '1';",
        Duration::from_secs(10),
    )
    .await;

    // "More like this" on a film's sheet leads to another title's sheet.
    click(&c, "[data-testid=section-home]").await;
    click(&c, &title_card("the-quiet-orchard")).await;
    let other = poll(
        &c,
        "more like this",
        "const like = document.querySelector('[data-testid=more-like-this]');
         const card = like && like.querySelector('[data-testid^=title-card-]');
         return card ? card.dataset.testid : null;",
        Duration::from_secs(10),
    )
    .await;
    click(
        &c,
        &format!(
            "[data-testid=more-like-this] [data-testid={}]",
            other.as_str().unwrap()
        ),
    )
    .await;
    poll(
        &c,
        "the other title's sheet",
        "const t = document.querySelector('#detail-title');
         return t !== null && t.textContent !== 'The Quiet Orchard';",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(wallet_cents(&c).await, after, "browsing charged nothing");
}
