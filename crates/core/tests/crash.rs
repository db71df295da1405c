//! Crash safety: the app killed with SIGKILL at twenty random moments (seeded) while it opens,
//! rents and downloads, then left to finish. Each run is a real process: this test binary
//! started again on [`crash_child`], which opens the core on the shared profile, rents a film
//! under a fixed order id and adds a large `.torrent`, and runs until it is killed. Afterwards
//! both titles are byte-exact, the profile's database passes `PRAGMA integrity_check`, and the
//! rental was charged once.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use marquee_core::api::{DownloadLimits, DownloadState, LicenceStatus};
use marquee_core::{Core, CoreConfig};
use marquee_testsupport::{start_store, wait_for};
use rand::{Rng, SeedableRng};

use crate::{
    assert_library_whole, demo_dir, play_whole, signed_out, stranger_seeder, stranger_title,
};

const MACHINE: &str = "7e6d5c4b3a291807f6e5d4c3b2a19081";
const MIB: u64 = 1024 * 1024;
/// Large enough that the download spans many of the kills at the limit below.
const SIZE: u64 = 24 * MIB + 4321;
/// Slow enough that the twenty runs each land somewhere inside the download.
const LIMIT_KIB_S: u32 = 1024;
const KILLS: usize = 20;
const SEED: u64 = 0x6d61_7271_7565_6521;
const RENTAL: &str = "neon-harbor";
const ORDER: &str = "crash-rent-1";
/// What the child reads its instructions from: profile, store URL, store key, `.torrent` path.
const CHILD_ENV: &str = "MARQUEE_CRASH_CHILD";

/// The profile as a person's app opens it: signed in once, the session kept in the profile (a
/// sign-in at every start would meet the store's sign-in rate limit, as it should).
fn child_config(profile: &Path, store_url: &str, store_key: &str) -> CoreConfig {
    let mut c = signed_out(profile, store_url, MACHINE);
    c.trusted_store_key = Some(marquee_protocol::sign::public_key_from_hex(store_key).unwrap());
    c
}

/// The app as the crash test runs it, in its own process: does nothing unless started by
/// [`killed_twenty_times_then_finishes`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process of the crash test"]
async fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('\n').collect();
    let [profile, url, key, torrent] = parts[..] else {
        panic!("{CHILD_ENV} is profile, URL, key and torrent, one a line");
    };
    let core = Core::open(child_config(Path::new(profile), url, key))
        .await
        .unwrap();
    println!("crash-child: opened");
    core.downloads_limits_set(DownloadLimits {
        download_kib_s: Some(LIMIT_KIB_S),
        upload_kib_s: None,
        ..DownloadLimits::default()
    })
    .await
    .unwrap();
    core.title_acquire(RENTAL, ORDER).await.unwrap();
    let have = core.library_list().await.unwrap();
    if !have.iter().any(|e| e.title.name.starts_with("crash-large")) {
        let drop = core.drop_register(PathBuf::from(torrent));
        core.torrent_import(&drop.drop_id).await.unwrap();
    }
    // What it has, for the parent to say where each kill landed.
    loop {
        let list = core.downloads();
        let got: u64 = list.iter().map(|d| d.downloaded_bytes).sum();
        let of: u64 = list.iter().map(|d| d.total_bytes).sum();
        println!("crash-child: bytes {got} {of}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts [`crash_child`] and returns it with a reader of its output lines.
fn spawn_child(spec: &str, log: &Path) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash::crash_child", "--exact", "--ignored", "--nocapture"])
        .env(CHILD_ENV, spec)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("the test binary starts again");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits up to `timeout` for the child to print `line`; false if it did not.
fn saw(rx: &std::sync::mpsc::Receiver<String>, line: &str, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(line) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_twenty_times_then_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let key = hex::encode(store.public_key().to_bytes());

    // A large title of its own bytes, seeded by a stranger, opened as a `.torrent`.
    let seed_dir = dir.path().join("seed");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let session = stranger_seeder(&seed_dir).await;
    let (content, torrent, info_hash) = stranger_title(
        &store,
        &session,
        (&seed_dir, dir.path()),
        "crash-large.webm",
        SIZE,
        7,
    )
    .await;

    let profile = dir.path().join("profile");
    let spec = [
        profile.display().to_string(),
        store.url(),
        key.clone(),
        torrent.display().to_string(),
    ]
    .join("\n");
    // Signed in once, as a person would be.
    let first = Core::open(child_config(&profile, &store.url(), &key))
        .await
        .unwrap();
    first
        .account_sign_in(marquee_store::DEMO_EMAIL, marquee_store::DEMO_PASSWORD)
        .await
        .unwrap();
    first.shutdown().await;
    drop(first);
    let downloaded = profile
        .join("downloads")
        .join(&info_hash)
        .join("crash-large.webm");
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let (mut moments, mut mid_download) = (Vec::new(), 0);
    for _ in 0..KILLS {
        let log = dir.path().join("child.log");
        let (mut child, lines) = spawn_child(&spec, &log);
        // Half the kills land while the app opens (the database, the device key, the
        // sign-in, the order), half while it downloads.
        let moment = if rng.gen_bool(0.5) {
            let ms = rng.gen_range(0..400);
            std::thread::sleep(Duration::from_millis(ms));
            format!("{ms} ms after start")
        } else {
            assert!(
                saw(&lines, "crash-child: opened", Duration::from_secs(60)),
                "the app did not open after the kills at {moments:#?}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            let ms = rng.gen_range(100..1500);
            std::thread::sleep(Duration::from_millis(ms));
            format!("{ms} ms after opening")
        };
        child.kill().unwrap();
        child.wait().unwrap();
        let had = lines
            .try_iter()
            .filter_map(|l| {
                let (got, of) = l.strip_prefix("crash-child: bytes ")?.split_once(' ')?;
                Some((got.parse::<u64>().ok()?, of.parse::<u64>().ok()?))
            })
            .last();
        // Both titles in the session, neither complete.
        if had.is_some_and(|(got, of)| got > 0 && got < of && of > SIZE) {
            mid_download += 1;
        }
        moments.push(match had {
            Some((got, of)) => format!("{moment}: {got} of {of} bytes"),
            None => format!("{moment}: before any download"),
        });
    }
    eprintln!("killed at: {moments:#?}");
    assert!(
        mid_download >= KILLS / 4,
        "only {mid_download} kills landed inside the download: {moments:#?}"
    );

    // Then it is left to finish, in this process.
    let core = Core::open(child_config(&profile, &store.url(), &key))
        .await
        .unwrap();
    // The run killed last may not have added the torrent yet.
    if !core
        .library_list()
        .await
        .unwrap()
        .iter()
        .any(|e| e.title.name.starts_with("crash-large"))
    {
        let drop = core.drop_register(torrent.clone());
        core.torrent_import(&drop.drop_id).await.unwrap();
    }
    let rented = core.title_acquire(RENTAL, ORDER).await.unwrap();
    assert_eq!(rented.charged_cents, 0, "the rental was already paid for");
    wait_for(
        "both titles to finish",
        Duration::from_secs(180),
        || async {
            let list = core.library_list().await.unwrap();
            let unfinished: Vec<_> = list
                .iter()
                .filter(|e| {
                    !matches!(
                        e.download.state,
                        DownloadState::Seeding | DownloadState::Done
                    )
                })
                .map(|e| e.download.clone())
                .collect();
            if list.len() == 2 && unfinished.is_empty() {
                Ok(())
            } else {
                Err(unfinished)
            }
        },
    )
    .await;

    // Byte-exact: the large title on disk, the rental decrypted through the playback server.
    assert!(
        std::fs::read(&downloaded).unwrap() == content,
        "the large title is byte-exact"
    );
    let entry = core
        .library_list()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.title.id == RENTAL)
        .unwrap();
    assert_eq!(entry.licence.status, LicenceStatus::NotStarted);
    let body = play_whole(&core, RENTAL).await;
    let original = std::fs::read(demo_dir().join("media/neon-harbor.webm")).unwrap();
    assert!(body[..] == original[..], "the rental is byte-exact");

    // Charged once, whatever the kills interrupted.
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 2000 - 400);
    core.shutdown().await;
    let audit = store.audit().await.unwrap();
    assert_eq!(
        (
            audit.orders,
            audit.charged_cents,
            audit.orders_charged_twice
        ),
        (1, 400, 0),
        "{audit:?}"
    );

    // The profile's database is whole.
    assert_library_whole(&profile, false).await;
    store.shutdown().await;
}
