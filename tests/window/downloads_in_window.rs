//! The Downloads tab in the window: a download limit typed in by the person slows the rental
//! enough to watch it in the list (progress, speeds, peers, time left), Pause and Resume change
//! its state, Remove asks before it does anything (and Escape leaves it alone), and clearing the
//! limit lets it finish and seed.
//!
//! With one download at a time set in the same form, two free titles got one after the other
//! leave the second waiting its turn, and "Move up" (pressed from the keyboard) swaps them.
//!
//! What this computer gives back: a free title from the store's seeder, then fetched from the
//! app by aria2c, counted both ways in the card, its chart and the row; "Don't share" stops
//! the complete title being shared. A schedule holds the speed limits off outside its hours.
//!
//! Writes the screenshots `target/e2e/downloads.png`, `downloads-queue.png`,
//! `downloads-give-back.png` and `downloads-sharing.png`.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::common::*;

const TITLE: &str = "neon-harbor";
/// Slow enough that the 2.6 MB demo film takes about forty seconds.
const LIMIT_KIB_S: &str = "64";

/// Waits until the rented title's row is in `state`.
async fn row_state(c: &Client, state: &str) {
    row_state_of(c, TITLE, state).await;
}

/// Waits until the row of `title` is in `state`.
async fn row_state_of(c: &Client, title: &str, state: &str) {
    poll(
        c,
        &format!("the download of {title} to be {state}"),
        &format!(
            "const r = document.querySelector('[data-testid=download-{title}]');
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

/// A tracker on loopback that names only `peer`, for any torrent: aria2c, told of no other,
/// gets a title from that peer alone.
async fn tracker_naming(peer: std::net::SocketAddr) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", listener.local_addr().unwrap());
    let std::net::IpAddr::V4(ip) = peer.ip() else {
        panic!("the app listens on IPv4 loopback: {peer}")
    };
    let mut body = b"d8:intervali60e5:peers6:".to_vec();
    body.extend(ip.octets());
    body.extend(peer.port().to_be_bytes());
    body.push(b'e');
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let head = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    (url, task)
}

/// The app's own peer address in the swarm of `info_hash` (hex): of the peers the store's
/// tracker lists, the one that is not the store's seeder. Asked with `event=stopped`, so the
/// asking adds no peer.
async fn app_peer(
    store: &str,
    info_hash: &str,
    seeder: std::net::SocketAddr,
) -> std::net::SocketAddr {
    let escaped: String = (0..info_hash.len())
        .step_by(2)
        .map(|i| format!("%{}", &info_hash[i..i + 2]))
        .collect();
    let url = format!(
        "{store}/announce?info_hash={escaped}&peer_id=-WT0001-000000000000&port=9\
         &uploaded=0&downloaded=0&left=0&compact=1&event=stopped"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let body = http_get(&url).await;
        let at = body
            .windows(7)
            .position(|w| w == b"5:peers")
            .unwrap_or_else(|| panic!("a peer list: {}", String::from_utf8_lossy(&body)))
            + 7;
        let colon = at + body[at..].iter().position(|b| *b == b':').unwrap();
        let len: usize = std::str::from_utf8(&body[at..colon])
            .unwrap()
            .parse()
            .unwrap();
        let peers: Vec<std::net::SocketAddr> = body[colon + 1..colon + 1 + len]
            .chunks(6)
            .map(|p| {
                let ip = std::net::Ipv4Addr::new(p[0], p[1], p[2], p[3]);
                (ip, u16::from_be_bytes([p[4], p[5]])).into()
            })
            .filter(|p| *p != seeder)
            .collect();
        if let [app] = peers[..] {
            return app;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the app to announce itself: {peers:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What this computer gives back, seen in the window: a free title downloaded from the store's
/// seeder counts as the store's; aria2c (Debian's client), told of no peer but the app, gets it
/// from the app, which counts what it gave, in the card, its chart and the title's row. Then
/// "Don't share" stops the complete title being shared (its row says so, with nothing to
/// resume), and sharing again seeds it again.
///
/// Writes the screenshots `target/e2e/downloads-give-back.png` and
/// `target/e2e/downloads-sharing.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_this_computer_gives_back_and_when_it_stops_sharing_in_the_window() {
    const FREE: &str = "open-skies";
    let _one = ONE_WINDOW.lock().await;
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out).unwrap();
    let data = tempfile::tempdir().unwrap();
    let seeder: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let demo = marquee_store::bundled_demo_dir();
    let seeder_arg = seeder.to_string();
    let store = marquee_testsupport::StoreProcess::start_with(
        &store_bin(),
        &data.path().join("store"),
        "127.0.0.1:0",
        &[
            "--demo".as_ref(),
            demo.as_os_str(),
            "--peer-listen".as_ref(),
            seeder_arg.as_ref(),
        ],
    );
    let url = store.url().to_owned();
    let profile = data.path().join("profile");
    let (_xvfb, display) = start_xvfb();
    let (driver, c) = launch_with(&display, &profile, &[], Some(&url)).await;
    wait_for_catalog(&c, FREE).await;
    click(&c, "[data-testid=account-open]").await;
    sign_in_as(&c, marquee_store::DEMO_EMAIL, marquee_store::DEMO_PASSWORD).await;
    seed_free_title(&c, FREE, "give-back-1").await;

    // aria2c gets the title from the app alone.
    let torrent = marquee_protocol::StoreClient::new(&url)
        .unwrap()
        .torrent(FREE)
        .await
        .unwrap();
    let info = marquee_protocol::torrent_file::inspect(&torrent).unwrap();
    let app = app_peer(&url, &info.info_hash, seeder).await;
    let (tracker, _tracker) = tracker_naming(app).await;
    let torrent_path = data.path().join("open-skies.torrent");
    std::fs::write(&torrent_path, &torrent).unwrap();
    let fetched = data.path().join("aria2");
    let mut aria = marquee_testsupport::aria2c(&fetched, free_port());
    aria.args([
        "--seed-time=0",
        "--bt-stop-timeout=120",
        "--bt-exclude-tracker=*",
    ])
    .arg(format!("--bt-tracker={tracker}"))
    .arg(&torrent_path)
    .stdout(std::process::Stdio::null());
    let status = tokio::task::spawn_blocking(move || aria.status().unwrap())
        .await
        .unwrap();
    assert!(
        status.success(),
        "aria2c got the title from the app: {status}"
    );
    let got = std::fs::metadata(fetched.join(&info.name)).unwrap().len();
    assert_eq!(got, info.total_size);

    // The card counts both ways, and so does the title's row.
    click(&c, "[data-testid=tab-downloads]").await;
    click(&c, "[data-testid=give-back-span-hour]").await;
    let counted = poll(
        &c,
        "what the app received and gave to be counted",
        &format!(
            "const g = await window.__TAURI_INTERNALS__.invoke('downloads_give_back', {{ span: 'hour' }});
             const row = document.querySelector('[data-testid=download-{FREE}] [data-testid=download-given]');
             const chart = document.querySelector('[data-testid=give-back-chart]');
             return g.total.given >= {size} && g.total.from_store >= {size} && row && chart
               ? [g.total.given, g.total.from_store, g.total.from_viewers, row.innerText,
                  document.querySelector('[data-testid=give-back-given]').innerText,
                  chart.getAttribute('aria-label')]
               : null;",
            size = info.total_size
        ),
        Duration::from_secs(30),
    )
    .await;
    eprintln!("counted: {counted}");
    assert_eq!(counted[2], 0, "nothing came from other viewers: {counted}");
    let summary = counted[5].as_str().unwrap();
    assert!(summary.contains("hour"), "{summary}");
    screenshot(
        &c,
        "the give-back card to settle",
        &out,
        "downloads-give-back.png",
    )
    .await;

    // A schedule for the speed limits, from an hour from now until two hours from now (the
    // page's clock and zone are the app's): unlimited now, and the form says until when.
    let times = c
        .execute(
            "const at = (h) => { const d = new Date(Date.now() + h * 3600000);
               return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0'); };
             return [at(1), at(2)];",
            vec![],
        )
        .await
        .unwrap();
    let (from, until) = (times[0].as_str().unwrap(), times[1].as_str().unwrap());
    fill(&c, "download_kib_s", "64").await;
    fill(&c, "from", from).await;
    fill(&c, "until", until).await;
    click(&c, "[data-testid=limits-save]").await;
    let now = poll(
        &c,
        "the limits to be held off until their time",
        "const p = document.querySelector('[data-testid=limits-now]');
         const s = await window.__TAURI_INTERNALS__.invoke('downloads_speeds_in_force');
         return p && p.dataset.outside === 'true' && s.outside_schedule && s.download_kib_s === null
           ? p.innerText : null;",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        now.as_str()
            .unwrap()
            .starts_with("Speeds are unlimited now; the limits apply from"),
        "{now}"
    );
    // "Don't share": the complete title stops being shared, and its row says so.
    click(&c, "[data-testid=sharing-off]").await;
    click(&c, "[data-testid=sharing-save]").await;
    poll(
        &c,
        "the title to stop being shared",
        &format!(
            "const r = document.querySelector('[data-testid=download-{FREE}]');
             const p = await window.__TAURI_INTERNALS__.invoke('downloads_seeding_get');
             return p.share === false && r && r.dataset.state === 'shared'
               && r.querySelector('[data-testid=download-resume]') === null
               && r.querySelector('[data-testid=download-state]').innerText === 'Shared';"
        ),
        Duration::from_secs(30),
    )
    .await;
    c.execute(
        "document.querySelector('[data-testid=seeding-policy]').scrollIntoView({ block: 'center' });",
        vec![],
    )
    .await
    .unwrap();
    screenshot(
        &c,
        "the sharing card to settle",
        &out,
        "downloads-sharing.png",
    )
    .await;

    // A time that is not one is refused on the form, in words.
    fill(&c, "until", "25:00").await;
    click(&c, "[data-testid=limits-save]").await;
    let refused = poll(
        &c,
        "the refusal of a time that is not one",
        "const e = document.querySelector('[data-testid=limits-error]'); return e ? e.innerText : null;",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        refused
            .as_str()
            .unwrap()
            .starts_with("Until: Type a time of day"),
        "{refused}"
    );

    // Sharing again: it seeds again.
    click(&c, "[data-testid=sharing-on]").await;
    click(&c, "[data-testid=sharing-save]").await;
    row_state_of(&c, FREE, "seeding").await;

    c.close().await.unwrap();
    drop(driver);
}
