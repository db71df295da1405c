//! The playback server as a local process other than the window sees it: a rental fetched
//! straight from its URL starts its window, pages of other origins get nothing, a stream stops
//! when its licence is revoked, and requests past the server's bound are turned away.

use std::path::{Path, PathBuf};
use std::time::Duration;

use marquee_core::api::{LibraryEntry, LicenceStatus};
use marquee_core::playback::MAX_REQUESTS;
use marquee_core::Core;
use marquee_store::Store;
use marquee_testsupport::{start_store, start_store_with, wait_for};

use crate::{config, demo_dir};

const MACHINE: &str = "7e1d2c3b4a5f46e7a8b9c0d1e2f3a4b5";
const MIB: usize = 1024 * 1024;

async fn entry(core: &Core, title_id: &str) -> LibraryEntry {
    core.library_list()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.title.id == title_id)
        .expect("the title is in the library")
}

/// The store's record of a licence's first play: (first_frame_at, issued_at), read from its
/// database (the API does not show it).
async fn store_first_play(store_dir: &Path, title_id: &str) -> (Option<i64>, i64) {
    use sqlx::Row;
    let url = format!("sqlite://{}?mode=ro", store_dir.join("store.db").display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    let row = sqlx::query("SELECT first_frame_at, issued_at FROM licences WHERE title_id = ?")
        .bind(title_id)
        .fetch_one(&db)
        .await
        .unwrap();
    let found = (row.get("first_frame_at"), row.get("issued_at"));
    db.close().await;
    found
}

/// A rental fetched with curl-like requests (no window, no `playback_report`) starts its
/// 48-hour window with the first clear bytes: the library shows it running and the store has
/// its first play. A request from another page's origin is refused before any byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rental_fetched_without_the_window_starts_and_other_origins_get_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let core = Core::open(config(&dir.path().join("p"), &store, MACHINE))
        .await
        .unwrap();
    core.title_acquire("neon-harbor", "rent-1").await.unwrap();
    let source = core.playback_open("neon-harbor").await.unwrap();
    assert_eq!(
        entry(&core, "neon-harbor").await.licence.status,
        LicenceStatus::NotStarted
    );
    let http = reqwest::Client::new();

    // A web page that learnt the URL: refused, nothing decrypted, the window not started.
    let evil = http
        .get(&source.url)
        .header("Range", "bytes=0-65535")
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let body = evil.bytes().await.unwrap();
    assert!(body.len() < 100, "no media bytes: {body:?}");
    assert_eq!(
        entry(&core, "neon-harbor").await.licence.status,
        LicenceStatus::NotStarted,
        "a refused request does not start the window"
    );
    let preflight = http
        .request(reqwest::Method::OPTIONS, &source.url)
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 403);

    // A plain GET with a Range, as curl sends it: the first clear bytes start the window.
    let original = std::fs::read(demo_dir().join("media/neon-harbor.webm")).unwrap();
    let resp = http
        .get(&source.url)
        .header("Range", "bytes=0-65535")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert!(resp.bytes().await.unwrap()[..] == original[..65536]);
    let running = wait_for(
        "the rental window to start in the library",
        Duration::from_secs(30),
        || async {
            let e = entry(&core, "neon-harbor").await;
            match e.licence.status {
                LicenceStatus::Running => Ok(e.licence),
                _ => Err(e.licence),
            }
        },
    )
    .await;
    let ends_at_s = running.ends_at_ms.expect("a running rental ends") / 1000;
    let store_dir = dir.path().join("store");
    let (first, issued) = wait_for(
        "the store to hear of the first play",
        Duration::from_secs(30),
        || async {
            match store_first_play(&store_dir, "neon-harbor").await {
                (Some(first), issued) => Ok((first, issued)),
                seen => Err(seen),
            }
        },
    )
    .await;
    assert!(
        first >= issued,
        "the first play {first} is not before the licence {issued}"
    );
    // The store clamps a reported first play to its own clock, which may read a second behind
    // this computer's trusted clock; the next licence sync makes the library adopt the store's
    // (earlier) time, so both sides then agree.
    assert!(
        ends_at_s >= first + 48 * 3600 && ends_at_s <= first + 48 * 3600 + 2,
        "the library's window {ends_at_s} ends within moments of the store's {}",
        first + 48 * 3600
    );
    core.licences_sync().await.unwrap();
    let synced = entry(&core, "neon-harbor").await.licence;
    assert_eq!(
        synced.ends_at_ms.expect("a running rental ends") / 1000,
        first + 48 * 3600,
        "after a sync both sides agree on when it started"
    );

    // The window's own page (a `crossorigin` video, a fetch) is served.
    let own = http
        .get(&source.url)
        .header("Range", "bytes=0-1")
        .header("Origin", "tauri://localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 206);
    assert_eq!(
        own.headers()["access-control-allow-origin"],
        "tauri://localhost"
    );
    core.shutdown().await;
    store.shutdown().await;
}

/// A demo catalog of one rental whose media is `len` bytes (a byte pattern: the playback server
/// does not parse media), large enough that no socket buffer holds all of it.
fn long_film_demo(dir: &Path, len: usize) -> PathBuf {
    let demo = dir.join("demo");
    let media = demo.join("media");
    std::fs::create_dir_all(&media).unwrap();
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(media.join("long-film.webm"), bytes).unwrap();
    for f in ["long-film.jpg", "long-film-backdrop.jpg"] {
        std::fs::copy(demo_dir().join("media/neon-harbor.jpg"), media.join(f)).unwrap();
    }
    let catalog = serde_json::json!([{
        "id": "long-film", "kind": "film", "name": "Long Film",
        "synopsis": "A film long enough to be cut off.", "year": 2026, "runtime_s": 3600,
        "genre": "Drama", "studio": "Test Pictures", "new_release": true,
        "offer": "rent", "price_cents": 400, "series": null, "artist": null,
        "media": "long-film.webm", "mime": "video/webm",
        "poster": "long-film.jpg", "backdrop": "long-film-backdrop.jpg",
        "width": 1280, "height": 720, "licence_to_share": null
    }]);
    std::fs::write(demo.join("catalog.json"), catalog.to_string()).unwrap();
    demo
}

async fn session_token(store: &Store) -> String {
    let resp: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/sessions", store.url()))
        .json(&serde_json::json!({
            "email": marquee_store::DEMO_EMAIL,
            "password": marquee_store::DEMO_PASSWORD,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    resp["token"].as_str().unwrap().to_owned()
}

/// More requests than the server's bound at once: the one past it gets 503 with Retry-After,
/// and the server answers again once they end. A long stream whose licence the store revokes
/// stops after the next sync: the rest of its body never arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn busy_gets_503_and_a_revoked_stream_stops_midway() {
    const LEN: usize = 64 * MIB;
    let dir = tempfile::tempdir().unwrap();
    let demo = long_film_demo(dir.path(), LEN);
    let store = start_store_with(dir.path(), |c| c.demo_dir = Some(demo)).await;
    let core = Core::open(config(&dir.path().join("p"), &store, MACHINE))
        .await
        .unwrap();
    core.title_acquire("long-film", "rent-1").await.unwrap();
    let url = core.playback_open("long-film").await.unwrap().url;

    // MAX_REQUESTS whole-file requests whose bodies nobody reads: each holds its permit.
    let held: Vec<_> = (0..MAX_REQUESTS)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let resp = reqwest::Client::new().get(&url).send().await.unwrap();
                // Hold the response (and its connection) until the task is aborted.
                std::future::pending::<()>().await;
                drop(resp);
            })
        })
        .collect();
    let probe = reqwest::Client::new();
    let busy = wait_for(
        "a request past the bound to be turned away",
        Duration::from_secs(60),
        || async {
            let resp = probe.head(&url).send().await.unwrap();
            if resp.status() == 503 {
                Ok(resp)
            } else {
                Err(resp.status())
            }
        },
    )
    .await;
    assert_eq!(busy.headers()["retry-after"], "1");
    for task in &held {
        task.abort();
    }
    wait_for(
        "the server to answer once the held requests end",
        Duration::from_secs(60),
        || async {
            let status = probe.head(&url).send().await.unwrap().status();
            if status == 200 {
                Ok(())
            } else {
                Err(status)
            }
        },
    )
    .await;

    // A long stream: read its first MiB, then stop reading while the store revokes it.
    let mut stream = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut received = 0;
    while received < MIB {
        received += stream.chunk().await.unwrap().expect("more body").len();
    }
    let token = session_token(&store).await;
    let orders: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/orders", store.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let licence_id = orders["orders"][0]["licence_id"]
        .as_str()
        .expect("a receipt names its licence")
        .to_owned();
    let revoked = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/licences/{licence_id}/revoke",
            store.url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    core.licences_sync().await.unwrap();
    // What was already in the sockets' buffers may still come; then the body is cut off.
    let ended = loop {
        match stream.chunk().await {
            Ok(Some(bytes)) => received += bytes.len(),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(
        received < LEN,
        "the rest of the body did not arrive ({received} of {LEN} bytes)"
    );
    assert!(ended.is_err(), "the response ends short, as an error");
    let again = reqwest::Client::new()
        .get(&url)
        .header("Range", "bytes=0-1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403);
    core.shutdown().await;
    store.shutdown().await;
}

/// A local program that opens connections to the playback server and never finishes a request
/// (or sends nothing) gets them closed after the server's header timeout, however many it opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_sent_requests_to_the_playback_server_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let mut c = config(&dir.path().join("p"), &store, MACHINE);
    // The default cap (64) and a short header timeout, so the test need not wait 10 s twice.
    c.playback_limits.header_read = Duration::from_secs(2);
    let core = Core::open(c).await.unwrap();
    core.title_acquire("open-skies", "free-1").await.unwrap();
    let url = core.playback_open("open-skies").await.unwrap().url;
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    let mut held = Vec::new();
    for i in 0..100 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
                .await
                .unwrap();
        }
        held.push(tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }));
    }
    for h in held {
        tokio::time::timeout(Duration::from_secs(60), h)
            .await
            .expect("the playback server closes every half-sent request")
            .unwrap();
    }
    println!(
        "100 half-sent or silent connections to the playback server: all closed after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // And it still plays.
    let resp = reqwest::Client::new()
        .get(&url)
        .header("Range", "bytes=0-1023")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    core.shutdown().await;
}

/// Reads from `s` until the peer closes it; what came.
async fn read_until_closed(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf).await {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// The playback server's other bounds, each as a local program meets it: a connection kept
/// alive after its answer and then left idle is closed; past the connection cap a new
/// connection is not answered until the server closes one it holds; and a request whose answer
/// hangs on a store that stopped answering (a poster not kept yet) gets 503 with `Retry-After`
/// within the answer limit, not after the store client's own 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_connections_are_closed_the_cap_holds_and_a_hung_answer_is_503() {
    use marquee_core::playback::PlaybackLimits;
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let mut c = config(&dir.path().join("p"), &store, MACHINE);
    let limits = PlaybackLimits {
        connections: 4,
        header_read: Duration::from_secs(2),
        answer: Duration::from_secs(2),
    };
    c.playback_limits = limits;
    let core = Core::open(c).await.unwrap();
    let titles = core.catalog_list().await.unwrap();
    let poster = titles
        .iter()
        .find(|t| !t.poster_url.is_empty())
        .expect("a title with a poster")
        .poster_url
        .clone();
    let addr = poster
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // A path under no title: answered at once (404), with the connection kept alive.
    let ask = format!("GET /nothing/here HTTP/1.1\r\nHost: {addr}\r\n\r\n");

    // Kept alive after one answer, then idle: closed after the header timeout.
    let mut kept = tokio::net::TcpStream::connect(&addr).await.unwrap();
    kept.write_all(ask.as_bytes()).await.unwrap();
    let idle_from = std::time::Instant::now();
    let got = tokio::time::timeout(Duration::from_secs(30), read_until_closed(&mut kept))
        .await
        .expect("the playback server closes a kept-alive connection left idle");
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 404"),
        "answered first: {}",
        String::from_utf8_lossy(&got)
    );
    let idle_for = idle_from.elapsed();
    println!("a kept-alive connection left idle: closed after {idle_for:.1?} (header timeout 2 s)");
    assert!(idle_for >= Duration::from_millis(1500), "{idle_for:?}");

    // At the cap: four silent connections hold every place, so a fifth that asks is answered
    // only once the server has closed one of them, which its header timeout does 2 s after
    // they opened. (Whether the fifth's answer or a silent one's close reaches the client first
    // is up to the scheduler: the test compares with the timeout, not with the closes.)
    let opened = std::time::Instant::now();
    let mut silent = Vec::new();
    for _ in 0..limits.connections {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        silent.push(tokio::spawn(async move {
            read_until_closed(&mut s).await;
        }));
    }
    let mut fifth = tokio::net::TcpStream::connect(&addr).await.unwrap();
    fifth.write_all(ask.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 64];
        let n = fifth.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .expect("the fifth connection is answered once a place is free");
    let waited = opened.elapsed();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    println!("past the cap of four, a fifth connection was answered after {waited:.1?}");
    assert!(
        waited >= Duration::from_millis(1500),
        "the fifth connection was answered after {waited:?}, before the header timeout let \
         go of any of the four that held every place"
    );
    for s in silent {
        tokio::time::timeout(Duration::from_secs(30), s)
            .await
            .expect("every silent connection is closed")
            .unwrap();
    }

    // The store stops answering mid-request: its port accepts and says nothing. A poster not
    // kept yet waits on it; the window gets 503 and a moment to retry, within the limit.
    let store_addr = store.url().trim_start_matches("http://").to_owned();
    store.shutdown().await;
    let hung = wait_for(
        "the store's port is free",
        Duration::from_secs(10),
        || async { tokio::net::TcpListener::bind(&store_addr).await },
    )
    .await;
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hung.accept().await {
            held.push(s);
        }
    });
    let asked = std::time::Instant::now();
    let resp = reqwest::Client::new()
        .get(&poster)
        .timeout(Duration::from_secs(25))
        .send()
        .await
        .expect("the playback server answers before the store client gives up");
    let took = asked.elapsed();
    println!(
        "a poster waiting on a store that hangs: {} after {took:.1?} (answer limit 2 s)",
        resp.status()
    );
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(resp.headers()["connection"], "close");
    let said = resp.text().await.unwrap();
    assert!(said.contains("could not answer within 2 s"), "{said}");
    holder.abort();
    core.shutdown().await;
}

/// The shell binds the playback port before the window (its CSP names that port alone) and
/// opens a core again on the same run when a data folder did not move: the second core serves
/// on the same port, and the first no longer answers once it shut down.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_core_opened_again_in_the_same_run_serves_on_the_shells_port() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let listener = marquee_core::playback::PlaybackListener::bind_loopback().unwrap();
    let origin = listener.origin();
    let mut c = config(&dir.path().join("p"), &store, MACHINE);
    c.playback_listener = Some(listener.clone());
    let first = Core::open(c).await.unwrap();
    first.title_acquire("open-skies", "again-1").await.unwrap();
    let url = first.playback_open("open-skies").await.unwrap().url;
    assert!(url.starts_with(&origin), "{url} is not on {origin}");
    first.shutdown().await;
    drop(first);

    let mut c = config(&dir.path().join("p"), &store, MACHINE);
    c.playback_listener = Some(listener);
    let second = Core::open(c).await.unwrap();
    let again = second.playback_open("open-skies").await.unwrap().url;
    assert!(again.starts_with(&origin), "{again} is not on {origin}");
    assert_ne!(url, again, "a new token for the new core");
    let client = reqwest::Client::new();
    let resp = client
        .get(&again)
        .header("Range", "bytes=0-1023")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    // The first core's token means nothing to the second.
    let old = client.get(&url).send().await.unwrap();
    assert_eq!(old.status(), 404, "the old core's link still answered");
    second.shutdown().await;
}
