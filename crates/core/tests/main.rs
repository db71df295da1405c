//! The core's integration tests, one binary (`cargo test -p marquee-core --test integration`):
//! a real store server (HTTP API, tracker, seeder) and real app cores on loopback, each core with
//! its own profile and device identity, its own librqbit session and its own playback server.
//! No window and no Tauri: the window tests are the app's (`tests/window/`).

use std::path::{Path, PathBuf};

use marquee_core::account::vault::VaultChoice;
use marquee_core::{CoreConfig, MachineIdSource};
use marquee_store::Store;

// The catalog kept current incrementally, and its offline copy verified when read.
mod catalog;
// Renting, streaming, revoking and moving licences between two computers.
mod system;
// The playback server against clients other than the window: rentals, origins, revocation, load.
mod serving;
// People's own accounts, one computer per purchase, deactivation and reinstalls.
mod accounts;
// Standard BitTorrent clients from Debian (aria2c, transmission-create) against Marquee.
mod interop;
// `.torrent` files from strangers: shown before they are added, refused in words when unsafe.
mod strangers;
// The downloads the person controls: limits, the queue, pause, resume, remove, across restarts.
mod downloads;
// SIGKILL at twenty random moments, then finishing: byte-exact, a whole database, one charge.
mod crash;
// A full disk: refused before charging, a clean stop when it fills, resuming when space returns.
mod disk_full;
// Starting with the store unreachable, and reconnecting by itself.
mod offline;
// Watching a live channel: the directory, the relay, the stream to the window, its end.
mod live;

fn demo_dir() -> PathBuf {
    marquee_store::bundled_demo_dir()
}

/// A core's configuration: its own profile, on the computer `machine`, signed in to `store`
/// as the demo account.
fn config(profile: &Path, store: &Store, machine: &str) -> CoreConfig {
    let mut c = CoreConfig::new(
        profile,
        store.url(),
        marquee_store::DEMO_EMAIL,
        marquee_store::DEMO_PASSWORD,
    );
    c.machine_id = MachineIdSource::Fixed(machine.to_owned());
    c
}

/// A profile on the computer `machine` whose person signs in in the app, to the store at
/// `store_url` (the session kept in the profile's owner-only file: tests never touch the
/// person's own keyring).
fn signed_out(profile: &Path, store_url: &str, machine: &str) -> CoreConfig {
    let mut c = CoreConfig::signed_out(profile, store_url);
    c.machine_id = MachineIdSource::Fixed(machine.to_owned());
    c.session_vault = VaultChoice::File;
    c
}

/// A title of its own `size` bytes (a pattern drawn from `salt`), written as `seed_dir/name`,
/// seeded there by `session` and saved as `dir/<stem>.torrent`: (its bytes, the `.torrent`,
/// the info hash).
async fn stranger_title(
    store: &Store,
    session: &std::sync::Arc<librqbit::Session>,
    (seed_dir, dir): (&Path, &Path),
    name: &str,
    size: u64,
    salt: u32,
) -> (Vec<u8>, PathBuf, String) {
    let content: Vec<u8> = (0..size as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 11) as u8)
        .collect();
    let file = seed_dir.join(name);
    std::fs::write(&file, &content).unwrap();
    let (bytes, info_hash) = seed_stranger_file(store, session, &file, 256 * 1024).await;
    let stem = Path::new(name).file_stem().unwrap().to_string_lossy();
    let torrent = dir.join(format!("{stem}.torrent"));
    std::fs::write(&torrent, &bytes).unwrap();
    (content, torrent, info_hash)
}

/// A title's whole clear bytes, as the window would be sent them by the playback server.
async fn play_whole(core: &marquee_core::Core, title_id: &str) -> bytes::Bytes {
    let source = core.playback_open(title_id).await.unwrap();
    reqwest::get(&source.url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
}

/// The profile's own database, opened beside (or after) its core, read-only when asked (a
/// full disk).
async fn library_db(profile: &Path, read_only: bool) -> sqlx::SqlitePool {
    let mode = if read_only { "?mode=ro" } else { "" };
    let url = format!("sqlite://{}{mode}", profile.join("library.db").display());
    sqlx::SqlitePool::connect(&url).await.unwrap()
}

/// Fails unless SQLite finds the profile's database whole.
async fn assert_library_whole(profile: &Path, read_only: bool) {
    let db = library_db(profile, read_only).await;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(check, "ok", "PRAGMA integrity_check");
    db.close().await;
}

/// A seeder outside Marquee, as a stranger would run one: a plain librqbit session on
/// loopback.
async fn stranger_seeder(folder: &Path) -> std::sync::Arc<librqbit::Session> {
    let listen: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    librqbit::Session::new_with_opts(
        folder.to_path_buf(),
        marquee_protocol::swarm::session_options(listen).unwrap(),
    )
    .await
    .unwrap()
}

/// Makes a torrent of `file` announcing to the store's tracker, seeds it from `session` out of
/// the file's folder, and returns the torrent's bytes and info hash. Not a store title: the
/// store's tracker answers for it only when told to, so it is told.
async fn seed_stranger_file(
    store: &Store,
    session: &std::sync::Arc<librqbit::Session>,
    file: &Path,
    piece_length: u32,
) -> (Vec<u8>, String) {
    let torrent = librqbit::create_torrent(
        file,
        librqbit::CreateTorrentOptions {
            name: None,
            trackers: vec![format!("{}/announce", store.url())],
            piece_length: Some(piece_length),
        },
        &librqbit::spawn_utils::BlockingSpawner::new(1),
    )
    .await
    .unwrap();
    let bytes = torrent.as_bytes().unwrap().to_vec();
    store.track_also([torrent.info_hash().0]);
    let folder = file.parent().unwrap();
    session
        .add_torrent(
            librqbit::AddTorrent::from_bytes(bytes.clone()),
            Some(librqbit::AddTorrentOptions {
                overwrite: true,
                output_folder: Some(folder.to_string_lossy().into_owned()),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    (bytes, torrent.info_hash().as_string())
}
