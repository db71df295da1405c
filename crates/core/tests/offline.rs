//! Starting with the store unreachable: the app opens from its verified catalog cache, plays
//! the rented title it holds, refuses what needs the store in words that say nothing was
//! charged, and reconnects by itself when the store is back at its address. A saved catalog
//! edited while offline no longer verifies, and is not shown.

use std::net::SocketAddr;
use std::time::Duration;

use marquee_core::api::{DownloadState, ErrorKind, LicenceStatus};
use marquee_core::connection::Backoff;
use marquee_core::Core;
use marquee_testsupport::{start_store, start_store_with, wait_for};

use crate::{config, demo_dir, library_db, play_whole};

const MACHINE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const PATIENCE: Duration = Duration::from_secs(60);

/// Waits until nothing accepts connections at `addr` any more.
async fn wait_closed(addr: SocketAddr) {
    wait_for("the store to stop listening", PATIENCE, || async {
        match tokio::net::TcpStream::connect(addr).await {
            Err(_) => Ok(()),
            Ok(_) => Err("still accepting"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn starts_offline_plays_what_it_holds_and_reconnects_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let addr: SocketAddr = store.url().trim_start_matches("http://").parse().unwrap();
    let original = std::fs::read(demo_dir().join("media/neon-harbor.webm")).unwrap();

    // A profile that never reached its store has nothing to run on: it says so.
    let never = dir.path().join("never");
    let mut lonely = config(&never, &store, MACHINE);
    lonely.store_url = "http://127.0.0.1:9".into();
    let e = Core::open(lonely).await.err().expect("no store, no cache");
    assert_eq!(e.kind(), ErrorKind::StoreUnreachable, "{e}");

    // Online: rent a film and let it download.
    let profile = dir.path().join("profile");
    let mut cfg = config(&profile, &store, MACHINE);
    cfg.reconnect = Backoff {
        first: Duration::from_millis(100),
        max: Duration::from_millis(400),
    };
    let core = Core::open(cfg.clone()).await.unwrap();
    assert!(core.connection_get().online);
    let rented = core.title_acquire("neon-harbor", "rent-1").await.unwrap();
    assert_eq!(rented.charged_cents, 400);
    wait_for("the rental to download", PATIENCE, || async {
        let d = core.library_list().await.unwrap();
        let d = d.iter().find(|e| e.title.id == "neon-harbor").unwrap();
        match d.download.state {
            DownloadState::Seeding | DownloadState::Done => Ok(()),
            _ => Err(d.download.clone()),
        }
    })
    .await;
    let titles = core.catalog_list().await.unwrap();
    let poster_of = |titles: &[marquee_core::api::Title]| {
        titles
            .iter()
            .find(|t| t.id == "neon-harbor")
            .unwrap()
            .poster_url
            .clone()
    };
    let poster = reqwest::get(poster_of(&titles)).await.unwrap();
    assert_eq!(poster.status(), 200);
    let poster = poster.bytes().await.unwrap();
    core.shutdown().await;
    drop(core);
    store.shutdown().await;
    drop(store);
    wait_closed(addr).await;

    // Offline start: it opens, and says it is offline.
    let core = Core::open(cfg.clone()).await.unwrap();
    let connection = core.connection_get();
    assert!(!connection.online, "{connection:?}");
    let problem = connection.problem.unwrap();
    assert!(problem.contains(&format!("{addr}")), "{problem}");
    // The catalog as last verified, searchable, with the pictures it showed.
    let offline_titles = core.catalog_list().await.unwrap();
    let names = |t: &[marquee_core::api::Title]| t.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    assert_eq!(names(&offline_titles), names(&titles));
    let shown = reqwest::get(poster_of(&offline_titles)).await.unwrap();
    assert_eq!(shown.status(), 200);
    assert!(
        shown.bytes().await.unwrap() == poster,
        "the poster, offline"
    );
    let found = core.catalog_search("neon").await.unwrap();
    assert!(found.iter().any(|t| t.id == "neon-harbor"), "{found:?}");
    // The rental plays, within its window: every byte, decrypted.
    let library = core.library_list().await.unwrap();
    let entry = library
        .iter()
        .find(|e| e.title.id == "neon-harbor")
        .unwrap();
    assert_eq!(entry.licence.status, LicenceStatus::NotStarted);
    let body = play_whole(&core, "neon-harbor").await;
    assert!(
        body[..] == original[..],
        "the rental plays byte-exact offline"
    );
    // What needs the store is refused in words, and nothing is charged.
    let e = core
        .title_acquire("orbital-s01e01", "buy-1")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StoreUnreachable, "{e}");
    assert!(e.to_string().contains("nothing was charged"), "{e}");
    let e = core.wallet_get().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StoreUnreachable, "{e}");
    // Still offline after those calls, with the next attempt scheduled.
    wait_for("a next attempt to be scheduled", PATIENCE, || async {
        let c = core.connection_get();
        match (c.online, c.next_try_ms) {
            (false, Some(_)) => Ok(()),
            _ => Err(c),
        }
    })
    .await;

    // The store comes back at the same address: the app reconnects with nobody asking.
    let store = start_store_with(dir.path(), |c| c.http_addr = addr).await;
    let mut changes = core.connection_watch();
    tokio::time::timeout(PATIENCE, changes.wait_for(|c| c.online))
        .await
        .expect("reconnected within a minute")
        .unwrap();
    let c = core.connection_get();
    assert_eq!((c.problem, c.next_try_ms), (None, None));
    // Signed in again: the wallet shows the one rental, charged once; buying works.
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 2000 - 400);
    let bought = core.title_acquire("orbital-s01e01", "buy-1").await.unwrap();
    assert_eq!(bought.charged_cents, 200);
    core.shutdown().await;
    drop(core);
    store.shutdown().await;
    drop(store);
    wait_closed(addr).await;

    // Someone edits the saved catalog while the store is away (a price, a name): offline it
    // no longer verifies against the store's key, and it is not shown.
    let db = library_db(&profile, false).await;
    let saved: String = sqlx::query_scalar("SELECT feed FROM catalog_pages ORDER BY seq LIMIT 1")
        .fetch_one(&db)
        .await
        .unwrap();
    let cheaper = saved.replacen("\"price_cents\":400", "\"price_cents\":1", 1);
    assert_ne!(cheaper, saved, "the saved feed names a 4.00 price");
    sqlx::query("UPDATE catalog_pages SET feed = ? WHERE feed = ?")
        .bind(&cheaper)
        .bind(&saved)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let core = Core::open(cfg).await.unwrap();
    let e = core.catalog_list().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CatalogUntrusted, "{e}");
    core.shutdown().await;
}
