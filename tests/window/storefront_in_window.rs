//! The storefront at catalog size, in the window: a store process with 5,000 generated titles
//! beside the demo ones, measured as a person meets it, and the same measures at the demo
//! catalog for reference.
//!
//! - `storefront_ms`: from the app process's start to the storefront painted with its titles,
//!   on a second start (the catalog kept from the first); `storefront_first_ms` the same on the
//!   first start, which fetches the whole catalog; `storefront_parts_ms` where the second
//!   start's time went (to the page, to asking for the catalog, the catalog, to painted);
//! - `search_p95_ms`: from a keystroke in the search box to its results painted (each prefix of
//!   a few queries typed in turn);
//! - `janky_frames_pct`: frames longer than 20 ms while a shelf scrolls for 2.5 s, then the Films
//!   section's grid of every film for 2.5 s (`janky_frames_pct_grid` and `frame_p90_ms_grid`: the
//!   grid's part alone);
//! - `webview_pss_mb` beside `webview_pss_mb_demo`: the window's web process after all that.
//!
//! At 5,000 the Films section is narrowed by genre and decade and sorted (`films_narrowed`).
//! Writes `target/e2e/storefront.json` and saves `target/e2e/storefront-5000.png` and
//! `target/e2e/section-films-5000.png`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fantoccini::Client;
use serde_json::{json, Value};

use crate::common::*;

const GENERATED: usize = 5000;

/// What a person types: words of the demo titles and of the generated ones.
const QUERIES: [&str; 6] = [
    "neon harbor",
    "silent",
    "crimson tide",
    "golden archive",
    "paper",
    "electric signal",
];

#[derive(Debug)]
struct Measured {
    storefront_first_ms: f64,
    storefront_ms: f64,
    /// Where the second start's `storefront_ms` went.
    start: StartParts,
    search_ms: Vec<f64>,
    frames: u64,
    janky_frames: u64,
    /// The Films grid's part of `frames` and `janky_frames`, and its 90th percentile frame.
    grid_frames: u64,
    grid_janky_frames: u64,
    grid_frame_p90_ms: f64,
    cards_in_page: u64,
    pss_mb: f64,
}

/// Where a start's time went, in ms: from the process's start to the page's (`to_page`), to the
/// page asking for the catalog (`to_asked`), the catalog's answer in the page (`catalog_list`),
/// and from the answer to the storefront painted (`to_painted`).
#[derive(Debug)]
struct StartParts {
    to_page: f64,
    to_asked: f64,
    catalog_list: f64,
    to_painted: f64,
}

impl StartParts {
    fn json(&self) -> Value {
        json!({
            "to_page": self.to_page.round(),
            "to_asked": self.to_asked.round(),
            "catalog_list": self.catalog_list.round(),
            "to_painted": self.to_painted.round(),
        })
    }
}

/// The page's own marks of a start (`ui/src/lib/store/catalog.svelte.ts` and `StorePage`),
/// given when its process started.
async fn start_parts(c: &Client, started_ms: f64) -> StartParts {
    let marks = c
        .execute(
            "const at = (name) => performance.getEntriesByName(name)[0].startTime;
             return [performance.timeOrigin, at('marquee:catalog-asked'),
                     at('marquee:catalog-answered'), at('marquee:storefront-painted')];",
            vec![],
        )
        .await
        .expect("the page's start marks");
    let m: Vec<f64> = marks
        .as_array()
        .expect("four times")
        .iter()
        .map(|v| v.as_f64().expect("a time"))
        .collect();
    StartParts {
        to_page: m[0] - started_ms,
        to_asked: m[1],
        catalog_list: m[2] - m[1],
        to_painted: m[3] - m[2],
    }
}

/// When the page marked its storefront painted, in ms since the Unix epoch.
async fn painted_at_ms(c: &Client) -> f64 {
    poll(
        c,
        "the storefront to be painted",
        "const m = performance.getEntriesByName('marquee:storefront-painted')[0];
         return m ? performance.timeOrigin + m.startTime : null;",
        Duration::from_secs(180),
    )
    .await
    .as_f64()
    .expect("a time")
}

/// Waits until the posters on the first screen have loaded.
async fn first_posters(c: &Client) {
    poll(
        c,
        "the first posters",
        "const seen = [...document.images].filter(i => i.getBoundingClientRect().top < innerHeight);
         return seen.length > 0 && seen.every(i => i.complete);",
        Duration::from_secs(60),
    )
    .await;
}

/// The binaries measured: the app and the store it buys from.
pub struct Binaries {
    /// The app (the test's debug build, or the release one inside the `.deb`).
    pub app: PathBuf,
    /// `marquee-store`, built in the same profile.
    pub store: PathBuf,
}

/// Starts the app on `profile` against `store_url` and answers how long from its process's
/// start to the painted storefront and where that went, with the session.
async fn start_and_time(
    display: &str,
    app: &Path,
    profile: &Path,
    store_url: &str,
) -> (Guard, Client, f64, StartParts, u32) {
    let (driver, c) = launch_exe(display, app, profile, &[], Some(store_url)).await;
    let painted = painted_at_ms(&c).await;
    let app = exe_with_profile(app, profile).expect("the app runs");
    let started = started_at_ms(app);
    let parts = start_parts(&c, started).await;
    (driver, c, painted - started, parts, app)
}

async fn measure(
    display: &str,
    bins: &Binaries,
    dir: &Path,
    generated: usize,
    shot: Option<&Path>,
) -> Measured {
    let data = dir.join("store");
    if generated > 0 {
        run(Command::new(&bins.store)
            .args([
                "catalog",
                "generate",
                "--count",
                &generated.to_string(),
                "--data",
            ])
            .arg(&data));
    }
    let store = marquee_testsupport::StoreProcess::start(&bins.store, &data, "127.0.0.1:0");
    let profile = dir.join("profile");

    // The first start fetches the catalog; the second reads it from the profile.
    let (driver, c, storefront_first_ms, _, _) =
        start_and_time(display, &bins.app, &profile, store.url()).await;
    // As a person's first start would, it shows its first posters (kept for the next start).
    first_posters(&c).await;
    c.close().await.unwrap();
    drop(driver);
    let (_driver, c, storefront_ms, start, app) =
        start_and_time(display, &bins.app, &profile, store.url()).await;
    first_posters(&c).await;
    let cards_in_page = c
        .execute(
            "return document.querySelectorAll('[data-testid^=title-card-]').length;",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();

    // A shelf scrolled to its end shows its last title: the row is whole, only not all in the
    // page at once.
    let last_film = poll(
        &c,
        "the films shelf to reach its last title",
        "const row = document.querySelector('[data-testid=shelf-films] .row');
         row.scrollLeft = row.scrollWidth;
         await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
         const cards = [...row.querySelectorAll('[data-testid^=title-card-]')];
         const box = row.getBoundingClientRect();
         const shown = cards.filter(c => { const b = c.getBoundingClientRect(); return b.right > box.left && b.left < box.right; });
         return shown.length > 0 && row.scrollLeft + row.clientWidth >= row.scrollWidth - 4 ? shown.length : null;",
        Duration::from_secs(30),
    )
    .await;
    assert!(
        last_film.as_u64().unwrap() > 0,
        "cards at the end of the shelf"
    );

    // Frames while a shelf scrolls, then the Films section's whole grid (every film, the page
    // scrolled from top to bottom as far as 2.5 s takes it).
    let frames = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const row = document.querySelector('[data-testid=shelf-films] .row');
             row.scrollLeft = 0;
             const gaps = [], gridGaps = [];
             let last = null, start = null, grid = false;
             async function toGrid() {
               document.querySelector('[data-testid=see-all-films]').click();
               while (!document.querySelector('[data-testid=section-page] [data-testid^=title-card-]'))
                 await new Promise(r => requestAnimationFrame(r));
               grid = true;
             }
             function step(t) {
               if (start === null) start = t;
               if (last !== null) (grid ? gridGaps : gaps).push(t - last);
               last = t;
               const spent = t - start;
               if (spent < 2500) row.scrollLeft += 30;
               else if (!grid) { toGrid().then(() => { last = null; requestAnimationFrame(step); }); return; }
               else document.scrollingElement.scrollTop += 30;
               if (spent < 5000) requestAnimationFrame(step);
               else {
                 const janky = (g) => g.filter(x => x > 20).length;
                 const sorted = [...gridGaps].sort((a, b) => a - b);
                 done({
                   frames: gaps.length + gridGaps.length,
                   janky: janky(gaps) + janky(gridGaps),
                   grid_frames: gridGaps.length,
                   grid_janky: janky(gridGaps),
                   grid_p90: sorted.length ? sorted[Math.floor((sorted.length - 1) * 0.9)] : 0,
                 });
               }
             }
             requestAnimationFrame(step);",
            vec![],
        )
        .await
        .unwrap();
    c.execute("scrollTo(0, 0);", vec![]).await.unwrap();
    click(&c, "[data-testid=section-home]").await;

    // Keystroke to results painted, for each prefix of each query.
    let mut search_ms = Vec::new();
    for query in QUERIES {
        let times = c
            .execute_async(
                "const [query, done] = arguments;
                 const input = document.querySelector('[data-testid=search-input]');
                 const times = [];
                 let previous = '';
                 for (let i = 1; i <= query.length; i++) {
                   const typed = query.slice(0, i);
                   const want = typed.trim().replace(/\\s+/g, ' ');
                   if (want === previous) continue;
                   previous = want;
                   const t0 = performance.now();
                   input.value = typed;
                   input.dispatchEvent(new Event('input', { bubbles: true }));
                   await new Promise(resolve => {
                     const check = () => {
                       const r = document.querySelector('[data-testid=search-results]');
                       if (r && r.dataset.answered === want) requestAnimationFrame(resolve);
                       else requestAnimationFrame(check);
                     };
                     check();
                   });
                   times.push(performance.now() - t0);
                 }
                 input.value = '';
                 input.dispatchEvent(new Event('input', { bubbles: true }));
                 await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                 done(times);",
                vec![json!(query)],
            )
            .await
            .unwrap();
        search_ms.extend(
            times
                .as_array()
                .expect("the keystrokes' times")
                .iter()
                .filter_map(Value::as_f64),
        );
    }
    let found = poll(
        &c,
        "results for a generated title's words",
        "const input = document.querySelector('[data-testid=search-input]');
         input.value = 'golden';
         input.dispatchEvent(new Event('input', { bubbles: true }));
         const r = document.querySelector('[data-testid=search-results]');
         if (!r || r.dataset.answered !== 'golden') return null;
         if (r.querySelector('[data-testid=search-empty]')) return 0;
         const cards = r.querySelectorAll('[data-testid^=title-card-]').length;
         return cards > 0 ? cards : null;",
        Duration::from_secs(30),
    )
    .await;
    if generated > 0 {
        assert!(
            found.as_u64().unwrap() > 0,
            "the generated titles are found"
        );
    }
    c.execute(
        "const input = document.querySelector('[data-testid=search-input]');
         input.value = ''; input.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();

    if generated > 0 {
        one_card_per_work(&c).await;
        if let Some(dir) = shot {
            films_narrowed(&c, dir).await;
        }
    }
    let page = web_process_of(app).expect("the window's web process");
    let pss_mb = pss_mb(page);
    if let Some(dir) = shot {
        c.execute(
            "document.querySelector('[data-testid=shelf-new]').scrollIntoView({ block: 'start' });",
            vec![],
        )
        .await
        .unwrap();
        screenshot(
            &c,
            "the storefront at 5,000 titles",
            dir,
            "storefront-5000.png",
        )
        .await;
    }
    Measured {
        storefront_first_ms,
        storefront_ms,
        start,
        search_ms,
        frames: frames["frames"].as_u64().unwrap(),
        janky_frames: frames["janky"].as_u64().unwrap(),
        grid_frames: frames["grid_frames"].as_u64().unwrap(),
        grid_janky_frames: frames["grid_janky"].as_u64().unwrap(),
        grid_frame_p90_ms: frames["grid_p90"].as_f64().unwrap(),
        cards_in_page,
        pss_mb,
    }
}

/// The Films section at catalog size: narrowed to one genre and decade, newest first, every card
/// shown says so; the grid keeps only the rows near the screen in the page. Saves
/// `section-films-5000.png`.
async fn films_narrowed(c: &Client, dir: &Path) {
    click(c, "[data-testid=section-films]").await;
    let all = poll(
        c,
        "the Films section",
        "const n = document.querySelector('[data-testid=section-page] [data-testid=section-count]');
         return n ? Number(n.dataset.count) : null;",
        Duration::from_secs(30),
    )
    .await
    .as_u64()
    .unwrap();
    c.execute(
        "for (const [id, value] of [['filter-genre', 'Drama'], ['filter-decade', '2010'], ['sort', 'newest']]) {
           const s = document.querySelector(`[data-testid=${id}]`);
           s.value = value;
           s.dispatchEvent(new Event('change', { bubbles: true }));
         }",
        vec![],
    )
    .await
    .unwrap();
    let shown = poll(
        c,
        "the dramas of the 2010s, newest first",
        &format!(
            "const page = document.querySelector('[data-testid=section-page]');
             const n = Number(page.querySelector('[data-testid=section-count]').dataset.count);
             if (n === {all}) return null;
             const subs = [...page.querySelectorAll('[data-testid^=title-card-] .sub')].map(e => e.textContent);
             return subs.length > 0 ? {{ n, subs }} : null;"
        ),
        Duration::from_secs(30),
    )
    .await;
    let subs: Vec<&str> = shown["subs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let years: Vec<i32> = subs
        .iter()
        .map(|s| {
            assert!(s.ends_with(" · Drama"), "a drama: {s}");
            s[..4].parse().unwrap()
        })
        .collect();
    assert!(
        years.iter().all(|y| (2010..2020).contains(y)) && years.windows(2).all(|w| w[0] >= w[1]),
        "of the 2010s, newest first: {years:?}"
    );
    let n = shown["n"].as_u64().unwrap();
    assert!(n > 0 && n < all / 10, "{n} of {all} films");
    assert!(
        (subs.len() as u64) < 300,
        "only the rows near the screen: {}",
        subs.len()
    );
    screenshot(
        c,
        "the Films section at 5,000 titles",
        dir,
        "section-films-5000.png",
    )
    .await;
    click(c, "[data-testid=section-home]").await;
}

/// A work offered in SD and HD is one card saying so; its sheet offers the choice, HD first
/// on this screen, and choosing SD shows the SD variant. Then Back (Alt+Left, the mouse's back
/// button) retraces the way.
async fn one_card_per_work(c: &Client) {
    let card = poll(
        c,
        "a card offering SD and HD",
        "const chip = document.querySelector('[data-testid=shelf-films] [data-testid=qualities]');
         if (!chip) return null;
         const names = [...document.querySelectorAll('[data-testid=shelf-films] [data-testid^=title-card-] .name')]
           .map(n => n.textContent);
         const card = chip.closest('[data-testid^=title-card-]');
         return { text: chip.textContent.trim(), id: card.dataset.testid, names };",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(card["text"], "SD · HD", "{card}");
    let names: Vec<&str> = card["names"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        names.windows(2).all(|w| w[0] != w[1]),
        "no work shows twice side by side: {names:?}"
    );
    click(
        c,
        &format!("[data-testid={}]", card["id"].as_str().unwrap()),
    )
    .await;
    let checked = poll(
        c,
        "the quality choice",
        "const q = document.querySelector('[data-testid=quality-choice]');
         if (!q) return null;
         const on = q.querySelector('[aria-checked=true]');
         return { options: q.querySelectorAll('[role=radio]').length, on: on && on.dataset.testid };",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(checked["options"], 2, "{checked}");
    assert_eq!(
        checked["on"], "quality-hd",
        "HD first on a 1280-pixel screen"
    );
    click(c, "[data-testid=quality-sd]").await;
    poll(
        c,
        "SD chosen",
        "const on = document.querySelector('[data-testid=quality-choice] [aria-checked=true]');
         const facts = document.querySelector('[data-testid=title-detail] .facts');
         return on && on.dataset.testid === 'quality-sd' && facts.textContent.includes('SD');",
        Duration::from_secs(10),
    )
    .await;
    // Back, as in a browser: Alt+Left closes the sheet (the place before it); from another tab
    // the mouse's back button returns to the Store.
    c.execute(
        "window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', altKey: true }));",
        vec![],
    )
    .await
    .unwrap();
    poll(
        c,
        "Alt+Left to close the sheet",
        "return document.querySelector('[data-testid=title-detail]') === null;",
        Duration::from_secs(10),
    )
    .await;
    click(c, "[data-testid=tab-library]").await;
    poll(
        c,
        "the Library",
        "return document.querySelector('[data-testid=store]') === null;",
        Duration::from_secs(10),
    )
    .await;
    c.execute(
        "window.dispatchEvent(new MouseEvent('mouseup', { button: 3 }));",
        vec![],
    )
    .await
    .unwrap();
    poll(
        c,
        "the back button to return to the Store",
        "return document.querySelector('[data-testid=shelf-films]') !== null;",
        Duration::from_secs(30),
    )
    .await;
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_titles_stay_fluid() {
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let bins = Binaries {
        app: PathBuf::from(env!("CARGO_BIN_EXE_marquee")),
        store: store_bin(),
    };
    let figures = storefront_figures(&bins, &out).await;
    std::fs::write(
        out.join("storefront.json"),
        serde_json::to_string_pretty(&figures).unwrap(),
    )
    .unwrap();
}

/// Measures `bins` at the demo catalog and at 5,000 titles (screenshots into `shots`), checks
/// what must hold at any speed, prints the figures beside their goals and answers them.
pub async fn storefront_figures(bins: &Binaries, shots: &Path) -> Value {
    let (_xvfb, display) = start_xvfb();
    let demo_dir = tempfile::tempdir().unwrap();
    let demo = measure(&display, bins, demo_dir.path(), 0, None).await;
    let big_dir = tempfile::tempdir().unwrap();
    let big = measure(&display, bins, big_dir.path(), GENERATED, Some(shots)).await;
    eprintln!("demo: {demo:?}\n5,000: {big:?}");

    assert!(
        big.cards_in_page < 300,
        "only the cards near the visible part are in the page: {}",
        big.cards_in_page
    );
    assert!(big.frames > 0 && !big.search_ms.is_empty());
    let janky_pct = 100.0 * big.janky_frames as f64 / big.frames as f64;
    let grid_janky_pct = 100.0 * big.grid_janky_frames as f64 / big.grid_frames.max(1) as f64;
    let figures = json!({
        "titles": GENERATED,
        "storefront_ms": big.storefront_ms,
        "storefront_ms_goal": 1000,
        "storefront_first_ms": big.storefront_first_ms,
        "storefront_ms_demo": demo.storefront_ms,
        "storefront_parts_ms": big.start.json(),
        "storefront_parts_ms_demo": demo.start.json(),
        "search_p95_ms": percentile(&big.search_ms, 0.95),
        "search_p95_ms_goal": 50,
        "search_median_ms": percentile(&big.search_ms, 0.5),
        "search_keystrokes": big.search_ms.len(),
        "search_p95_ms_demo": percentile(&demo.search_ms, 0.95),
        "janky_frames_pct": janky_pct,
        "janky_frames_pct_goal": 2,
        "frames": big.frames,
        "janky_frames_pct_demo": 100.0 * demo.janky_frames as f64 / demo.frames.max(1) as f64,
        "janky_frames_pct_grid": grid_janky_pct,
        "frames_grid": big.grid_frames,
        "frame_p90_ms_grid": big.grid_frame_p90_ms,
        "cards_in_page": big.cards_in_page,
        "cards_in_page_demo": demo.cards_in_page,
        "webview_pss_mb": big.pss_mb,
        "webview_pss_mb_demo": demo.pss_mb,
        "webview_pss_ratio": big.pss_mb / demo.pss_mb,
        "webview_pss_ratio_goal": 1.3,
    });
    println!(
        "storefront at {GENERATED} titles: painted {:.0} ms after start (goal <= 1000; first start {:.0} ms; demo {:.0} ms)\n  \
         start: {:.0} ms to the page, {:.0} ms to asking for the catalog, {:.0} ms for it, {:.0} ms to painted (demo: {:.0}, {:.0}, {:.0}, {:.0})\n  \
         search: p95 {:.1} ms (goal <= 50), median {:.1} ms over {} keystrokes\n  \
         janky frames {:.1} % of {} (goal <= 2); the Films grid alone {:.1} % of {}, p90 frame {:.0} ms\n  \
         web process {:.0} MB beside {:.0} MB at the demo catalog: {:.2}x (goal <= 1.3); {} cards in the page",
        big.storefront_ms,
        big.storefront_first_ms,
        demo.storefront_ms,
        big.start.to_page,
        big.start.to_asked,
        big.start.catalog_list,
        big.start.to_painted,
        demo.start.to_page,
        demo.start.to_asked,
        demo.start.catalog_list,
        demo.start.to_painted,
        percentile(&big.search_ms, 0.95),
        percentile(&big.search_ms, 0.5),
        big.search_ms.len(),
        janky_pct,
        big.frames,
        grid_janky_pct,
        big.grid_frames,
        big.grid_frame_p90_ms,
        big.pss_mb,
        demo.pss_mb,
        big.pss_mb / demo.pss_mb,
        big.cards_in_page,
    );
    figures
}
