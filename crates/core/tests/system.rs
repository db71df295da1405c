//! The whole system without a window: renting and streaming, idempotent orders, revocation, and
//! a purchase moving between two computers.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use marquee_core::api::{ErrorKind, LicenceStatus};
use marquee_core::time::{unix_now, Clock};
use marquee_core::Core;
use marquee_store::api::OrderRequest;
use marquee_store::Store;
use marquee_testsupport::{start_store, wait_for};

use crate::{config, demo_dir};

/// Distinct, well-formed machine ids: two "computers" in one process.
const MACHINE_A: &str = "5b2f7c1e9a8d4e6fb3c2a1d0e9f8a7b6";
const MACHINE_B: &str = "c4d3e2f1a0b94c8d9e7f6a5b4c3d2e1f";
const MIB: u64 = 1024 * 1024;

async fn get(url: &str, range: Option<(u64, u64)>, host: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    if let Some((a, b)) = range {
        req = req.header("Range", format!("bytes={a}-{b}"));
    }
    if let Some(h) = host {
        req = req.header("Host", h);
    }
    req.send().await.expect("playback server answers")
}

/// Client A rents a film and streams two 1 MiB ranges (the start and the middle) through the
/// playback server while the title downloads: byte-identical to the studio's original. Client B,
/// on another computer, given A's library (with A's licence) and A's downloaded container,
/// cannot decrypt anything and is told the licence belongs to another computer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rent_stream_and_refuse_on_another_computer() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let original = std::fs::read(demo_dir().join("media/neon-harbor.webm")).unwrap();
    let len = original.len() as u64;
    assert!(
        len > 2 * MIB,
        "the demo film is large enough for two ranges"
    );

    let a_profile = dir.path().join("a");
    let a = Core::open(config(&a_profile, &store, MACHINE_A))
        .await
        .unwrap();
    assert_eq!(a.wallet_get().await.unwrap().balance_cents, 2000);

    // Bad input first: nothing is charged.
    let e = a
        .title_acquire("no-such-title", "order-0")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownTitle, "{e}");
    let e = a.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotInLibrary, "{e}");
    assert_eq!(a.wallet_get().await.unwrap().balance_cents, 2000);

    let rented = a.title_acquire("neon-harbor", "order-1").await.unwrap();
    assert_eq!(rented.charged_cents, 400);
    assert_eq!(rented.wallet.balance_cents, 1600);
    // Renting again while the licence is good costs nothing, whatever the order id.
    let again = a.title_acquire("neon-harbor", "order-2").await.unwrap();
    assert_eq!(again.charged_cents, 0);
    assert_eq!(a.wallet_get().await.unwrap().balance_cents, 1600);

    let source = a.playback_open("neon-harbor").await.unwrap();
    assert!(
        source.url.starts_with("http://127.0.0.1:"),
        "{}",
        source.url
    );
    assert_eq!(source.mime, "video/webm");

    let middle = len / 2;
    for (start, end) in [(0, MIB - 1), (middle, middle + MIB - 1)] {
        let resp = get(&source.url, Some((start, end)), None).await;
        assert_eq!(resp.status(), 206);
        assert_eq!(
            resp.headers()["content-range"].to_str().unwrap(),
            format!("bytes {start}-{end}/{len}")
        );
        let body = resp.bytes().await.unwrap();
        assert!(
            body[..] == original[start as usize..=end as usize],
            "range {start}-{end} decrypts to the original bytes"
        );
    }
    // macOS WebKit's probe.
    let probe = get(&source.url, Some((0, 1)), None).await;
    assert_eq!(probe.status(), 206);
    assert_eq!(probe.bytes().await.unwrap()[..], original[..2]);

    // The playback server refuses a wrong token and a foreign Host (DNS rebinding).
    let wrong_token = source.url.replacen("/play/", "x/play/", 1);
    assert_eq!(get(&wrong_token, Some((0, 1)), None).await.status(), 404);
    let rebinding = get(&source.url, Some((0, 1)), Some("evil.example:80")).await;
    assert_eq!(rebinding.status(), 403);

    // A game is a download: bought, fetched encrypted, and installed decrypted for this PC.
    let game = a.title_acquire("pixel-drift", "order-3").await.unwrap();
    assert_eq!(game.charged_cents, 500);
    assert_eq!(game.wallet.balance_cents, 1100);
    let e = a.playback_open("pixel-drift").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Playback, "{e}");
    let installed = wait_for("the game to install", Duration::from_secs(120), || async {
        let lib = a.library_list().await.unwrap();
        let entry = lib
            .into_iter()
            .find(|e| e.title.id == "pixel-drift")
            .unwrap();
        entry.local_path.map(PathBuf::from).ok_or(entry.download)
    })
    .await;
    assert!(
        std::fs::read(&installed).unwrap()
            == std::fs::read(demo_dir().join("media/pixel-drift.zip")).unwrap(),
        "the installed game is the studio's zip"
    );

    // Let the whole container arrive, so B gets all of it.
    wait_for(
        "every download to finish",
        Duration::from_secs(120),
        || async {
            let downloads = a.downloads();
            if downloads
                .iter()
                .all(|d| d.downloaded_bytes == d.total_bytes)
            {
                Ok(())
            } else {
                Err(downloads)
            }
        },
    )
    .await;
    a.shutdown().await;
    drop(a);

    // B: another computer with A's library database (licence included) and A's container,
    // but its own device key (a copied device key would not open there, see below).
    let b_profile = dir.path().join("b");
    std::fs::create_dir_all(&b_profile).unwrap();
    copy_dir(&a_profile.join("downloads"), &b_profile.join("downloads"));
    for f in ["library.db", "library.db-wal", "library.db-shm"] {
        if a_profile.join(f).exists() {
            std::fs::copy(a_profile.join(f), b_profile.join(f)).unwrap();
        }
    }
    let b = Core::open(config(&b_profile, &store, MACHINE_B))
        .await
        .unwrap();
    let e = b.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceOtherDevice, "{e}");
    assert!(
        e.to_string().contains("licensed to another computer"),
        "{e}"
    );
    b.shutdown().await;

    // A's whole profile, device key included, copied to B's computer: the key does not open.
    let e = match Core::open(config(&a_profile, &store, MACHINE_B)).await {
        Err(e) => e,
        Ok(_) => panic!("a copied profile must not open on another computer"),
    };
    assert!(e.to_string().contains("another computer"), "{e}");
    store.shutdown().await;
}

/// The store charges once per client order id, refuses the same id with another body, and
/// refuses an order the wallet cannot pay without charging anything.
/// A rental's 48 hours run on the app's clock (`CoreConfig::clock`), so a test moves time on
/// instead of waiting: 47 hours after its first frame the film plays, at 49 it is refused as
/// ended and the library says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rental_ends_48_hours_after_its_first_frame_on_the_apps_clock() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let ahead = Arc::new(AtomicI64::new(0));
    let mut config = config(&dir.path().join("a"), &store, MACHINE_A);
    let moved = ahead.clone();
    config.clock = Clock::from_fn(move || unix_now() + moved.load(Ordering::SeqCst));
    let a = Core::open(config).await.unwrap();
    a.title_acquire("neon-harbor", "order-1").await.unwrap();
    a.playback_open("neon-harbor").await.unwrap();
    a.playback_report("neon-harbor", 0.0, true).await.unwrap();
    let status = |a: &Core| {
        let a = a.clone();
        async move {
            let library = a.library_list().await.unwrap();
            let entry = library
                .iter()
                .find(|e| e.title.id == "neon-harbor")
                .unwrap();
            entry.licence.status
        }
    };
    assert_eq!(status(&a).await, LicenceStatus::Running);

    ahead.store(47 * 3600, Ordering::SeqCst);
    a.playback_open("neon-harbor").await.unwrap();
    assert_eq!(status(&a).await, LicenceStatus::Running);

    ahead.store(49 * 3600, Ordering::SeqCst);
    let e = a.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceExpired, "{e}");
    assert_eq!(status(&a).await, LicenceStatus::Expired);
    a.shutdown().await;
}

/// Once the store confirmed the time, setting this computer's clock back a week while the app
/// stays running offline brings no ended rental back: its window is counted on the monotonic
/// clock from the store's last confirmation, which setting the date does not move.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clock_set_back_while_offline_does_not_bring_an_ended_rental_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let (wall, counted) = (Arc::new(AtomicI64::new(0)), Arc::new(AtomicI64::new(0)));
    let mut config = config(&dir.path().join("a"), &store, MACHINE_A);
    let moved = wall.clone();
    config.clock = Clock::from_fn(move || unix_now() + moved.load(Ordering::SeqCst));
    let ticked = counted.clone();
    let monotonic = Clock::monotonic();
    config.monotonic = Clock::from_fn(move || monotonic.now() + ticked.load(Ordering::SeqCst));
    let a = Core::open(config).await.unwrap();
    a.title_acquire("neon-harbor", "order-1").await.unwrap();
    a.playback_open("neon-harbor").await.unwrap();
    a.playback_report("neon-harbor", 0.0, true).await.unwrap();
    // The store goes away: from here on nothing confirms the time.
    store.shutdown().await;

    // A week back on the wall clock, and nothing counted: the rental runs, as it should.
    wall.store(-7 * 86_400, Ordering::SeqCst);
    a.playback_open("neon-harbor").await.unwrap();
    // 49 hours counted by the monotonic clock, the wall clock still a week back: ended.
    counted.store(49 * 3600, Ordering::SeqCst);
    let e = a.playback_open("neon-harbor").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceExpired, "{e}");
    let library = a.library_list().await.unwrap();
    let entry = library
        .iter()
        .find(|e| e.title.id == "neon-harbor")
        .unwrap();
    assert_eq!(entry.licence.status, LicenceStatus::Expired);
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_idempotent_and_never_overdraw() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    store
        .create_account("poor@marquee.local", "secret", 250)
        .await
        .unwrap();
    let mut cfg = config(&dir.path().join("p"), &store, MACHINE_A);
    cfg.auto_sign_in = Some(("poor@marquee.local".into(), "secret".into()));
    let core = Core::open(cfg).await.unwrap();

    let e = core.title_acquire("neon-harbor", "o-1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InsufficientFunds, "{e}");
    assert!(e.to_string().contains("2.50"), "{e}");
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 250);
    assert!(core.library_list().await.unwrap().is_empty());

    // Straight to the store's API: a retried order id is charged once.
    let client = marquee_protocol::StoreClient::new(&store.url()).unwrap();
    client
        .sign_in("poor@marquee.local", "secret")
        .await
        .unwrap();
    let order = OrderRequest {
        client_order_id: "retry-me".into(),
        title_id: "orbital-s01e01".into(),
        device_id: core.device_id().to_hex(),
        move_here: false,
    };
    let first = client.order(&order).await.unwrap();
    let retry = client.order(&order).await.unwrap();
    assert_eq!(first.order_id, retry.order_id);
    assert_eq!(first.charged_cents, 200);
    assert_eq!(retry.balance_cents, 50);
    assert_eq!(first.licence, retry.licence);
    let conflict = OrderRequest {
        title_id: "orbital-s01e02".into(),
        ..order
    };
    let e = client.order(&conflict).await.unwrap_err();
    assert!(e.to_string().contains("already used"), "{e}");
    assert_eq!(client.wallet().await.unwrap().balance_cents, 50);

    // Free titles need no money and no licence.
    let free = core.title_acquire("open-skies", "o-2").await.unwrap();
    assert_eq!(free.charged_cents, 0);
    let src = core.playback_open("open-skies").await.unwrap();
    let resp = get(&src.url, Some((0, 1023)), None).await;
    assert_eq!(resp.status(), 206);
    let original = std::fs::read(demo_dir().join("media/open-skies.webm")).unwrap();
    assert_eq!(resp.bytes().await.unwrap()[..], original[..1024]);
    core.shutdown().await;
    store.shutdown().await;
}

/// Copies a folder with everything inside it (each download has a folder of its own).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let kind = e.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else if kind.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The store revokes a licence: the app honours it at its next check. A purchase made on one
/// computer moves to another of the account's computers; the first one's licence is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_and_moving_a_purchase() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let a_profile = dir.path().join("a");
    let a = Core::open(config(&a_profile, &store, MACHINE_A))
        .await
        .unwrap();
    a.title_acquire("orbital-s01e01", "buy-1").await.unwrap();
    a.title_acquire("orbital-s01e02", "buy-2").await.unwrap();
    a.playback_open("orbital-s01e01").await.unwrap();

    // The store revokes episode 1's licence (as its owner may, through the API).
    let client = marquee_protocol::StoreClient::new(&store.url()).unwrap();
    client
        .sign_in(marquee_store::DEMO_EMAIL, marquee_store::DEMO_PASSWORD)
        .await
        .unwrap();
    let status = client
        .licence_status(&a.device_id().to_hex(), "00")
        .await
        .unwrap();
    assert!(status.revoked.is_empty());
    let orders = reqwest::Client::new()
        .get(format!("{}/api/v1/orders", store.url()))
        .bearer_auth(session_token(&store).await)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let licence_id = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["title_id"] == "orbital-s01e01")
        .and_then(|o| o["licence_id"].as_str())
        .expect("a receipt names its licence")
        .to_owned();
    let revoked = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/licences/{licence_id}/revoke",
            store.url()
        ))
        .bearer_auth(session_token(&store).await)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    // The app checks with the store at start, before a paid title opens (at most once a
    // minute) and when asked; this is that next check.
    a.licences_sync().await.unwrap();
    let e = a.playback_open("orbital-s01e01").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceRevoked, "{e}");
    let lib = a.library_list().await.unwrap();
    let ep1 = lib.iter().find(|e| e.title.id == "orbital-s01e01").unwrap();
    assert_eq!(
        ep1.licence.status,
        marquee_core::api::LicenceStatus::Revoked
    );
    a.shutdown().await;
    drop(a);

    // Another computer of the account, with the library copied over: episode 2 was bought on
    // A, so it shows as licensed elsewhere, moves here without a charge, and plays.
    let b_profile = dir.path().join("b");
    std::fs::create_dir_all(&b_profile).unwrap();
    for f in ["library.db", "library.db-wal", "library.db-shm"] {
        if a_profile.join(f).exists() {
            std::fs::copy(a_profile.join(f), b_profile.join(f)).unwrap();
        }
    }
    let b = Core::open(config(&b_profile, &store, MACHINE_B))
        .await
        .unwrap();
    let before = b.wallet_get().await.unwrap().balance_cents;
    let ep2 = b
        .library_list()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.title.id == "orbital-s01e02")
        .unwrap();
    assert_eq!(
        ep2.licence.status,
        marquee_core::api::LicenceStatus::OtherDevice
    );
    let e = b.playback_open("orbital-s01e02").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceOtherDevice, "{e}");
    let moved = b.licence_move("orbital-s01e02").await.unwrap();
    assert_eq!(
        moved.licence.status,
        marquee_core::api::LicenceStatus::Owned
    );
    b.playback_open("orbital-s01e02").await.unwrap();
    assert_eq!(
        b.wallet_get().await.unwrap().balance_cents,
        before,
        "moving is free"
    );
    b.shutdown().await;

    // Back on A: its licence for episode 2 was revoked by the move.
    let a = Core::open(config(&a_profile, &store, MACHINE_A))
        .await
        .unwrap();
    let e = a.playback_open("orbital-s01e02").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LicenceRevoked, "{e}");
    a.shutdown().await;
    store.shutdown().await;
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

/// A profile made by the app at 8100c10 (its library kept the store's feed entries as JSON)
/// opens after the library got its own title record, and its free title plays end to end
/// against a fresh demo store: the free titles' torrents are deterministic, so the info hash
/// the old library holds is the one the new store seeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_profile_from_8100c10_opens_and_plays() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let profile = dir.path().join("old");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile-8100c10");
    copy_dir(&fixture, &profile);
    // Profiles of that time kept every download directly in `downloads/`: a finished one there
    // moves into the title's own folder and is not fetched again.
    let original = std::fs::read(demo_dir().join("media/open-skies.webm")).unwrap();
    let legacy = profile.join("downloads/open-skies.webm");
    std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    std::fs::write(&legacy, &original).unwrap();
    // The machine id the fixture was made with: its device key is sealed under it.
    let core = Core::open(config(&profile, &store, "fixture-machine-8100c10"))
        .await
        .unwrap();

    let mut list = core.library_list().await.unwrap();
    list.sort_by(|a, b| a.title.id.cmp(&b.title.id));
    let ids: Vec<_> = list.iter().map(|e| e.title.id.as_str()).collect();
    assert_eq!(ids, ["neon-harbor", "open-skies"]);
    let free = &list[1];
    assert_eq!(free.title.name, "Open Skies");
    assert_eq!(free.title.licence_to_share.as_deref(), Some("CC BY 4.0"));
    assert_eq!(free.licence.status, marquee_core::api::LicenceStatus::Free);
    // Its poster comes through the playback server, the store's own bytes.
    assert!(
        free.title.poster_url.contains("/art/"),
        "{}",
        free.title.poster_url
    );
    let poster = reqwest::get(&free.title.poster_url).await.unwrap();
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    assert!(
        poster.bytes().await.unwrap()[..]
            == std::fs::read(demo_dir().join("media/open-skies.jpg")).unwrap()[..]
    );
    // Asked for at the size a card shows it: shrunk once, kept, and the same bytes again.
    let sized = format!("{}?w=172", free.title.poster_url);
    let small = reqwest::get(&sized).await.unwrap();
    assert_eq!(small.headers()["content-type"], "image/jpeg");
    let small = small.bytes().await.unwrap();
    let decoded = image::load_from_memory(&small).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (180, 270),
        "the next width up"
    );
    let kept: Vec<_> = std::fs::read_dir(profile.join("art"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".w180.img"))
        .collect();
    assert_eq!(kept.len(), 1, "the shrunk copy is kept: {kept:?}");
    let again = reqwest::get(&sized).await.unwrap().bytes().await.unwrap();
    assert_eq!(again, small);
    // Wider than the original: the original.
    let wide = reqwest::get(format!("{}?w=1000", free.title.poster_url))
        .await
        .unwrap();
    assert_eq!(
        wide.bytes().await.unwrap().len(),
        std::fs::read(demo_dir().join("media/open-skies.jpg"))
            .unwrap()
            .len()
    );
    assert_eq!(list[0].licence.kind, marquee_core::api::OfferKind::Rent);

    let src = core.playback_open("open-skies").await.unwrap();
    assert_eq!(src.mime, "video/webm");
    assert!(!legacy.exists(), "the old download moved");
    let folders: Vec<_> = std::fs::read_dir(profile.join("downloads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // Every title has a folder named by its info hash (the rental resumes into its own too).
    for folder in &folders {
        let name = folder.file_name().unwrap().to_str().unwrap();
        assert!(
            name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()),
            "a folder named by the info hash: {name}"
        );
    }
    let moved = folders
        .iter()
        .find(|f| f.join("open-skies.webm").exists())
        .unwrap_or_else(|| panic!("the old download is in a title folder: {folders:?}"));
    assert!(std::fs::read(moved.join("open-skies.webm")).unwrap() == original);
    let resp = get(&src.url, None, None).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.bytes().await.unwrap()[..] == original[..],
        "the whole film, byte for byte"
    );
    core.playback_report("open-skies", 3.0, true).await.unwrap();
    core.shutdown().await;
    store.shutdown().await;
}

/// Dropped `.torrent` files an attacker could hand a person: each is refused with a sentence,
/// before librqbit sees it (it panics on names that are not UTF-8), and nothing is added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_torrent_files_are_refused_in_words_and_add_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let core = Core::open(config(&dir.path().join("p"), &store, MACHINE_A))
        .await
        .unwrap();
    let torrent = |name: &[u8]| {
        let mut t = b"d4:infod6:lengthi10e4:name".to_vec();
        t.extend_from_slice(format!("{}:", name.len()).as_bytes());
        t.extend_from_slice(name);
        t.extend_from_slice(b"12:piece lengthi16384e6:pieces20:");
        t.extend_from_slice(&[7u8; 20]);
        t.extend_from_slice(b"ee");
        t
    };
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("latin1.torrent", torrent(b"caf\xe9.webm"), "UTF-8"),
        ("escape.torrent", torrent(b".."), "outside its folder"),
        (
            "truncated.torrent",
            torrent(b"ok.webm")[..40].to_vec(),
            "not a torrent file",
        ),
        (
            "text.torrent",
            b"hello, this is not bencode".to_vec(),
            "not a torrent file",
        ),
    ];
    for (file, bytes, says) in cases {
        let path = dir.path().join(file);
        std::fs::write(&path, &bytes).unwrap();
        let dropped = core.drop_register(path);
        let e = core.torrent_import(&dropped.drop_id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TorrentRefused, "{file}: {e}");
        assert!(e.to_string().contains(says), "{file}: {e}");
        assert!(e.to_string().starts_with("This cannot be added: "), "{e}");
    }
    // A file that went away after it was dropped: drop it again.
    let path = dir.path().join("gone.torrent");
    std::fs::write(&path, torrent(b"ok.webm")).unwrap();
    let dropped = core.drop_register(path.clone());
    std::fs::remove_file(&path).unwrap();
    let e = core.torrent_import(&dropped.drop_id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FileGone, "{e}");
    // An id the shell never handed out.
    let e = core.torrent_import("not-a-drop").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FileGone, "{e}");
    assert!(core.library_list().await.unwrap().is_empty());
    core.shutdown().await;
    store.shutdown().await;
}
