//! The downloads the person controls, against a real swarm on loopback (a store's tracker and a
//! plain librqbit seeder): a download limit holds, pause stops progress and survives a restart,
//! resume completes byte-exact, remove deletes that torrent's folder and nothing else, a
//! removed title stays removed after a restart until the person downloads it again, a limit
//! on active downloads queues the rest in an order the person changes and a restart keeps,
//! what this computer gives back is counted by whom the bytes came from, and the seeding policy
//! stops sharing where the person asked.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use marquee_core::api::{
    DownloadItem, DownloadLimits, DownloadState, ErrorKind, GiveBackBytes, GiveBackSpan,
    LicenceStatus, LimitsSchedule, SeedingPolicy, SpeedsInForce, TitleOrigin,
};
use marquee_core::Core;
use marquee_testsupport::{start_store, wait_for};

use crate::{config, seed_stranger_file, stranger_seeder, stranger_title};

const MACHINE: &str = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
/// Large enough to watch at the limit for a few seconds, small enough for a debug build.
const SIZE: u64 = 6 * MIB - 1234;
const PIECE: u32 = 256 * 1024;
/// The download limit while measuring, KiB/s.
const LIMIT_KIB_S: u32 = 1024;
const PATIENCE: Duration = Duration::from_secs(90);

async fn item(core: &Core, id: &str) -> Option<DownloadItem> {
    core.downloads_list()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.progress.title_id == id)
}

/// Waits until the title's download is in `state`, and returns it.
async fn wait_state(core: &Core, id: &str, state: DownloadState) -> DownloadItem {
    wait_for(&format!("{id} to be {state:?}"), PATIENCE, || async {
        match item(core, id).await {
            Some(d) if d.progress.state == state => Ok(d),
            other => Err(other.map(|d| d.progress)),
        }
    })
    .await
}

/// Every file under `root`, relative, with its bytes' length.
fn files_under(root: &Path) -> BTreeSet<(String, u64)> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                out.insert((rel, meta.len()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_person_limits_pauses_resumes_and_removes_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let seed_dir = dir.path().join("seed");
    let session = stranger_seeder(&seed_dir).await;

    // Two titles of their own bytes, seeded by a stranger and opened as `.torrent` files.
    let mut titles = Vec::new();
    for (who, salt) in [("a", 5u32), ("b", 11u32)] {
        let folder = seed_dir.join(who);
        std::fs::create_dir_all(&folder).unwrap();
        let content: Vec<u8> = (0..SIZE as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 13) as u8)
            .collect();
        let file = folder.join(format!("{who}.webm"));
        std::fs::write(&file, &content).unwrap();
        let (bytes, info_hash) = seed_stranger_file(&store, &session, &file, PIECE).await;
        let path = dir.path().join(format!("{who}.torrent"));
        std::fs::write(&path, &bytes).unwrap();
        titles.push((path, info_hash, content, file));
    }
    let seeded_before = files_under(&seed_dir);

    let profile = dir.path().join("profile");
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();

    // A limit below one block a second is refused in words; a good one is kept.
    let e = core
        .downloads_limits_set(DownloadLimits {
            download_kib_s: Some(1),
            upload_kib_s: None,
            ..DownloadLimits::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DownloadRefused, "{e}");
    let limits = DownloadLimits {
        download_kib_s: Some(LIMIT_KIB_S),
        upload_kib_s: Some(4096),
        ..DownloadLimits::default()
    };
    assert_eq!(core.downloads_limits_set(limits).await.unwrap(), limits);

    let mut ids = Vec::new();
    for (path, ..) in &titles {
        let drop = core.drop_register(path.clone());
        let entry = core.torrent_import(&drop.drop_id).await.unwrap();
        assert_eq!(entry.title.origin, TitleOrigin::External);
        ids.push(entry.title.id);
    }
    let (a, b) = (ids[0].as_str(), ids[1].as_str());
    let total = || async {
        let list = core.downloads_list().await.unwrap();
        list.iter()
            .map(|d| d.progress.downloaded_bytes)
            .sum::<u64>()
    };

    // The limit: bytes over a window of a few seconds, once the transfer is under way. Bounds
    // are generous (the limiter's first second is a burst, pieces count whole, the machine is
    // busy): the point is "about the limit", not "unlimited loopback at tens of MiB/s".
    let start = wait_for("the downloads to start", PATIENCE, || async {
        let t = total().await;
        if t >= 256 * KIB {
            Ok((Instant::now(), t))
        } else {
            Err(t)
        }
    })
    .await;
    let end = wait_for("a measuring window", PATIENCE, || async {
        let t = total().await;
        let elapsed = start.0.elapsed();
        // librqbit's byte count can dip for a moment (a torrent re-checking, or not yet
        // listed): a window ends only on a count at least where it started.
        if (elapsed >= Duration::from_secs(3) || t >= 2 * SIZE - 2 * MIB) && t >= start.1 {
            Ok((elapsed, t))
        } else {
            Err(t)
        }
    })
    .await;
    let rate = (end.1 - start.1) as f64 / end.0.as_secs_f64();
    let limit = f64::from(LIMIT_KIB_S) * KIB as f64;
    eprintln!(
        "download limit {limit} B/s: {rate:.0} B/s measured over {:?}",
        end.0
    );
    assert!(
        rate < 2.0 * limit && rate > 0.2 * limit,
        "{rate:.0} B/s measured over {:?} with a limit of {limit} B/s",
        end.0
    );
    let listed = item(&core, a).await.unwrap();
    assert!(
        listed.progress.state == DownloadState::Downloading,
        "{listed:?}"
    );
    assert!(listed.name.contains('a'), "{}", listed.name);
    assert!(listed.files_deletable);

    // Pause stops progress: while the other title keeps downloading a megabyte more, the
    // paused one does not move.
    core.download_pause(a).await.unwrap();
    let paused = wait_state(&core, a, DownloadState::Paused).await;
    assert!(paused.progress.downloaded_bytes < SIZE, "{paused:?}");
    assert_eq!(paused.eta_s, None);
    let b_at_pause = item(&core, b).await.unwrap().progress.downloaded_bytes;
    wait_for("the other title to gain a megabyte", PATIENCE, || async {
        let d = item(&core, b).await.unwrap().progress;
        if d.downloaded_bytes >= b_at_pause + MIB || d.state == DownloadState::Seeding {
            Ok(())
        } else {
            Err(d)
        }
    })
    .await;
    let still = item(&core, a).await.unwrap();
    assert_eq!(still.progress.state, DownloadState::Paused);
    assert_eq!(
        still.progress.downloaded_bytes, paused.progress.downloaded_bytes,
        "a paused download does not progress"
    );

    // Paused survives a restart, and so do the limits.
    core.shutdown().await;
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    assert_eq!(core.downloads_limits_get().await.unwrap(), limits);
    // Back in the session (start-up adds titles one by one, listed as queued until then),
    // still paused.
    wait_state(&core, a, DownloadState::Paused).await;
    // While the other title finishes, the paused one fetches nothing: no peer, no rate.
    wait_for("the other title to finish", PATIENCE, || async {
        let a_now = item(&core, a).await.unwrap().progress;
        assert_eq!(a_now.state, DownloadState::Paused, "{a_now:?}");
        assert_eq!(
            (a_now.down_bytes_per_s, a_now.peers),
            (0, 0),
            "a paused download fetches nothing: {a_now:?}"
        );
        match item(&core, b).await.unwrap().progress {
            d if d.state == DownloadState::Seeding => Ok(()),
            d => Err(d),
        }
    })
    .await;
    // librqbit hashes what is on disk before it counts it, and reads Paused while that check
    // runs (a full run once caught it at 1.8 of 5.0 MB): by now the check is long over. Every
    // byte it had is still there (pieces written but not yet checked when it was paused count
    // now), and it stays where it is.
    let settled = item(&core, a).await.unwrap().progress;
    assert!(
        settled.downloaded_bytes >= paused.progress.downloaded_bytes,
        "{settled:?} lost bytes it had when paused: {paused:?}"
    );

    // Resume completes byte-exact.
    core.download_resume(a).await.unwrap();
    wait_state(&core, a, DownloadState::Seeding).await;
    let folder_of = |hash: &str| profile.join("downloads").join(hash);
    for (_, hash, content, file) in &titles {
        let name = file.file_name().unwrap();
        assert!(
            std::fs::read(folder_of(hash).join(name)).unwrap() == *content,
            "{hash} is byte-exact"
        );
    }

    // Remove with its files: that torrent's folder goes, nothing else is touched.
    let (hash_a, hash_b) = (&titles[0].1, &titles[1].1);
    let a_files = files_under(&folder_of(hash_a));
    core.download_remove(b, true).await.unwrap();
    assert!(
        !folder_of(hash_b).exists(),
        "the removed torrent's folder is gone"
    );
    let left: Vec<_> = std::fs::read_dir(profile.join("downloads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        left,
        vec![hash_a.clone()],
        "only the other title's folder is left"
    );
    assert_eq!(files_under(&folder_of(hash_a)), a_files);
    assert!(std::fs::read(folder_of(hash_a).join("a.webm")).unwrap() == titles[0].2);
    assert_eq!(
        files_under(&seed_dir),
        seeded_before,
        "the seeder's files are untouched"
    );
    assert!(
        item(&core, b).await.is_none(),
        "not in the downloads any more"
    );
    let library = core.library_list().await.unwrap();
    let entry = library.iter().find(|e| e.title.id == b).unwrap();
    assert_eq!(
        entry.download.state,
        DownloadState::Removed,
        "still in the library"
    );

    // Removed stays removed after a restart; downloading it again (unlimited now) brings it
    // back whole.
    core.shutdown().await;
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    wait_state(&core, a, DownloadState::Seeding).await;
    assert!(item(&core, b).await.is_none());
    assert!(!folder_of(hash_b).exists());
    let unlimited = DownloadLimits::default();
    assert_eq!(
        core.downloads_limits_set(unlimited).await.unwrap(),
        unlimited
    );
    core.download_resume(b).await.unwrap();
    wait_state(&core, b, DownloadState::Seeding).await;
    assert!(std::fs::read(folder_of(hash_b).join("b.webm")).unwrap() == titles[1].2);

    // Pausing a complete title stops seeding: it reads as done. Twice is the same as once,
    // either way, and pause and resume go on working in one run.
    core.download_pause(a).await.unwrap();
    wait_state(&core, a, DownloadState::Done).await;
    core.download_pause(a).await.unwrap();
    core.download_resume(a).await.unwrap();
    wait_state(&core, a, DownloadState::Seeding).await;
    core.download_resume(a).await.unwrap();
    core.download_pause(a).await.unwrap();
    wait_state(&core, a, DownloadState::Done).await;
    // An unknown title is said to be so.
    let e = core.download_pause("no-such-title").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotInLibrary, "{e}");

    core.shutdown().await;
    session.stop().await;
    store.shutdown().await;
}

/// A rented film: removing it while the playback server is sending it is refused and changes
/// nothing; once the player lets go it is removed with its files, its licence stays, and
/// watching it again downloads it again and plays the same bytes without a second charge.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_playing_rental_is_not_removed_and_its_licence_outlives_removal() {
    const FILM: &str = "neon-harbor";
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let original = std::fs::read(crate::demo_dir().join("media/neon-harbor.webm")).unwrap();
    let profile = dir.path().join("profile");
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    // Slow, so that a response of the whole film is still being sent when the removal comes
    // (at full speed the kernel's socket buffers would swallow all 2.6 MB at once).
    let slow = DownloadLimits {
        download_kib_s: Some(64),
        upload_kib_s: None,
        ..DownloadLimits::default()
    };
    core.downloads_limits_set(slow).await.unwrap();
    let rented = core.title_acquire(FILM, "order-1").await.unwrap();
    assert_eq!(rented.charged_cents, 400);
    let source = core.playback_open(FILM).await.unwrap();
    let downloads = profile.join("downloads");
    let folders = || -> Vec<_> {
        std::fs::read_dir(&downloads)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    assert_eq!(folders().len(), 1, "one title, one folder");

    // A response whose body is still being sent: the player is playing it.
    let playing = reqwest::Client::new()
        .get(&source.url)
        .header("Range", "bytes=0-")
        .send()
        .await
        .unwrap();
    assert_eq!(playing.status(), 206);
    // Its first clear bytes started the rental's window.
    let licence = wait_for("the rental window to start", PATIENCE, || async {
        let lib = core.library_list().await.unwrap();
        let e = lib.into_iter().find(|e| e.title.id == FILM).unwrap();
        if e.licence.status == LicenceStatus::Running {
            Ok(e.licence)
        } else {
            Err(e.licence)
        }
    })
    .await;
    let e = core.download_remove(FILM, true).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DownloadRefused, "{e}");
    assert!(e.to_string().contains("Close the player"), "{e}");
    assert_eq!(folders().len(), 1, "nothing was removed");
    assert_eq!(
        item(&core, FILM).await.unwrap().progress.state,
        DownloadState::Downloading
    );

    // The player lets go: now it is removed, half downloaded, with its files.
    drop(playing);
    wait_for("the removal once nothing plays", PATIENCE, || async {
        core.download_remove(FILM, true).await
    })
    .await;
    assert!(folders().is_empty(), "its folder is gone: {:?}", folders());
    assert!(item(&core, FILM).await.is_none());
    let entry = core
        .library_list()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.title.id == FILM)
        .expect("still in the library");
    assert_eq!(entry.download.state, DownloadState::Removed);
    assert_eq!(entry.licence, licence, "the licence is untouched");

    // Watching again downloads it again (at full speed now): the same bytes, no second charge.
    core.downloads_limits_set(DownloadLimits::default())
        .await
        .unwrap();
    let source = core.playback_open(FILM).await.unwrap();
    let body = reqwest::Client::new()
        .get(&source.url)
        .header("Range", format!("bytes=0-{}", MIB - 1))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        body[..] == original[..MIB as usize],
        "the first MiB plays as before"
    );
    wait_state(&core, FILM, DownloadState::Seeding).await;
    assert_eq!(core.wallet_get().await.unwrap().balance_cents, 1600);
    core.shutdown().await;
    store.shutdown().await;
}

/// Three titles of their own bytes (`SIZE` each), seeded by a stranger and written as
/// `.torrent` files under `dir`.
async fn three_stranger_titles(
    dir: &Path,
    store: &marquee_store::Store,
    session: &std::sync::Arc<librqbit::Session>,
) -> Vec<std::path::PathBuf> {
    let mut torrents = Vec::new();
    for (who, salt) in [("a", 3u32), ("b", 7u32), ("c", 13u32)] {
        let folder = dir.join("seed").join(who);
        std::fs::create_dir_all(&folder).unwrap();
        let content: Vec<u8> = (0..SIZE as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 11) as u8)
            .collect();
        let file = folder.join(format!("{who}.webm"));
        std::fs::write(&file, &content).unwrap();
        let (bytes, _) = seed_stranger_file(store, session, &file, PIECE).await;
        let path = dir.join(format!("{who}.torrent"));
        std::fs::write(&path, &bytes).unwrap();
        torrents.push(path);
    }
    torrents
}

/// How many of the title's bytes are downloaded.
async fn bytes_of(core: &Core, id: &str) -> u64 {
    item(core, id).await.unwrap().progress.downloaded_bytes
}

/// The downloads list as (title, state, place in the queue), in the order it is shown.
async fn queue_of(core: &Core) -> Vec<(String, DownloadState, Option<u32>)> {
    core.downloads_list()
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.progress.title_id, d.progress.state, d.queue_position))
        .collect()
}

/// Waits until the downloads list reads `expected`: (title, state, place in the queue) in the
/// order shown.
async fn wait_queue(core: &Core, what: &str, expected: &[(&str, DownloadState, Option<u32>)]) {
    let expected: Vec<_> = expected
        .iter()
        .map(|(id, state, at)| (id.to_string(), *state, *at))
        .collect();
    wait_for(what, PATIENCE, || async {
        let now = queue_of(core).await;
        if now == expected {
            Ok(())
        } else {
            Err(now)
        }
    })
    .await;
}

/// With one download at a time, three titles: the first downloads and the other two wait their
/// turn, in the order they were added, without fetching a byte. Moving the last to the front of
/// those waiting makes it the next to start, pausing the one downloading starts it, and the
/// order, the pause and the limit all hold after the core is opened again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_limit_on_active_downloads_queues_the_rest_in_the_persons_order() {
    use DownloadState::{Downloading, Paused, Queued};
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let session = stranger_seeder(&dir.path().join("seed")).await;
    let torrents = three_stranger_titles(dir.path(), &store, &session).await;

    let profile = dir.path().join("profile");
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    // A new profile lets three titles download at once.
    assert_eq!(
        core.downloads_limits_get().await.unwrap().active_downloads,
        Some(3)
    );
    // One at a time, slow enough that the first is still downloading while the others wait.
    let limits = DownloadLimits {
        download_kib_s: Some(256),
        upload_kib_s: None,
        active_downloads: Some(1),
        schedule: None,
    };
    assert_eq!(core.downloads_limits_set(limits).await.unwrap(), limits);
    let e = core
        .downloads_limits_set(DownloadLimits {
            active_downloads: Some(1000),
            ..limits
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DownloadRefused, "{e}");

    let mut ids = Vec::new();
    for path in &torrents {
        let drop = core.drop_register(path.clone());
        ids.push(core.torrent_import(&drop.drop_id).await.unwrap().title.id);
    }
    let (a, b, c) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());

    // New downloads go to the end: one downloads, two wait in the order they came.
    wait_queue(
        &core,
        "a downloading, b and c waiting",
        &[
            (a, Downloading, Some(1)),
            (b, Queued, Some(2)),
            (c, Queued, Some(3)),
        ],
    )
    .await;
    let a_before = bytes_of(&core, a).await;
    wait_for("a to gain a quarter megabyte", PATIENCE, || async {
        let now = bytes_of(&core, a).await;
        if now >= a_before + 256 * KIB {
            Ok(())
        } else {
            Err(now)
        }
    })
    .await;
    assert_eq!(
        (bytes_of(&core, b).await, bytes_of(&core, c).await),
        (0, 0),
        "waiting titles fetch nothing"
    );

    // The last to the front of those waiting: it starts next, still behind a.
    core.download_move(c, 2).await.unwrap();
    wait_queue(
        &core,
        "c ahead of b",
        &[
            (a, Downloading, Some(1)),
            (c, Queued, Some(2)),
            (b, Queued, Some(3)),
        ],
    )
    .await;
    // A paused title has no place in the queue to move from.
    core.download_pause(a).await.unwrap();
    let e = core.download_move(a, 1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DownloadRefused, "{e}");
    // Pausing the one downloading starts the next in line: c, not b.
    wait_queue(
        &core,
        "c downloading once a is paused",
        &[
            (c, Downloading, Some(1)),
            (b, Queued, Some(2)),
            (a, Paused, None),
        ],
    )
    .await;

    // Opened again: the order, the pause and the limit are as the person left them.
    core.shutdown().await;
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    assert_eq!(core.downloads_limits_get().await.unwrap(), limits);
    wait_queue(
        &core,
        "the same queue after reopening",
        &[
            (c, Downloading, Some(1)),
            (b, Queued, Some(2)),
            (a, Paused, None),
        ],
    )
    .await;

    // Moving b up one swaps the two: it downloads, c waits.
    core.download_move(b, 1).await.unwrap();
    wait_queue(
        &core,
        "b downloading, c waiting",
        &[
            (b, Downloading, Some(1)),
            (c, Queued, Some(2)),
            (a, Paused, None),
        ],
    )
    .await;

    // No limit: everything not paused downloads.
    core.downloads_limits_set(DownloadLimits {
        active_downloads: None,
        ..limits
    })
    .await
    .unwrap();
    wait_queue(
        &core,
        "b and c downloading with no limit",
        &[
            (b, Downloading, Some(1)),
            (c, Downloading, Some(2)),
            (a, Paused, None),
        ],
    )
    .await;

    core.shutdown().await;
    session.stop().await;
    store.shutdown().await;
}

/// The speed limits apply inside their schedule's window of local time, and not outside it;
/// the schedule outlives a restart, and a window of no time is refused in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speed_limits_follow_their_schedule() {
    use chrono::Timelike as _;
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let profile = dir.path().join("profile");
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    // An hour either side of now: far from the window's edges whenever the test runs.
    let now = chrono::Local::now();
    let minute = (now.hour() * 60 + now.minute()) as u16;
    let shifted = |by: i32| ((i32::from(minute) + by).rem_euclid(1440)) as u16;
    let window = |from: i32, until: i32| {
        Some(LimitsSchedule {
            from_minute: shifted(from),
            until_minute: shifted(until),
        })
    };
    let limits = DownloadLimits {
        download_kib_s: Some(64),
        upload_kib_s: Some(32),
        active_downloads: None,
        schedule: window(60, 120),
    };
    assert_eq!(core.downloads_limits_set(limits).await.unwrap(), limits);
    let off = SpeedsInForce {
        download_kib_s: None,
        upload_kib_s: None,
        outside_schedule: true,
    };
    assert_eq!(core.downloads_speeds_in_force(), off, "later today");
    let inside = DownloadLimits {
        schedule: window(-60, 60),
        ..limits
    };
    core.downloads_limits_set(inside).await.unwrap();
    let on = SpeedsInForce {
        download_kib_s: Some(64),
        upload_kib_s: Some(32),
        outside_schedule: false,
    };
    assert_eq!(core.downloads_speeds_in_force(), on, "now");
    let e = core
        .downloads_limits_set(DownloadLimits {
            schedule: window(5, 5),
            ..limits
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DownloadRefused, "{e}");
    core.shutdown().await;
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    assert_eq!(core.downloads_limits_get().await.unwrap(), inside);
    assert_eq!(core.downloads_speeds_in_force(), on);
    core.shutdown().await;
    store.shutdown().await;
}

/// What a title gave and received so far, as the downloads list shows it.
async fn give_back_of(core: &Core, id: &str) -> GiveBackBytes {
    item(core, id).await.unwrap().give_back
}

/// What this computer gives back is counted by whom the bytes came from: a free title fetched
/// from the store's seeder is the store's; a title a stranger seeds is other viewers'; once the
/// stranger leaves, a second computer fetches that title from the first, which counts what it
/// gave; the chart of the last hour holds it all, and the counts outlive a restart. The seeding
/// policy reads them: a title past its ratio stops sharing, a free one goes on, and opting out
/// stops everything, in this run and the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_this_computer_gives_back_is_counted_and_the_seeding_policy_reads_it() {
    const FREE: &str = "open-skies";
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let seed_dir = dir.path().join("seed");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let session = stranger_seeder(&seed_dir).await;
    let (_, torrent, _) = stranger_title(
        &store,
        &session,
        (&seed_dir, dir.path()),
        "shared.webm",
        SIZE,
        17,
    )
    .await;

    let a_profile = dir.path().join("a");
    let a = Core::open(config(&a_profile, &store, MACHINE))
        .await
        .unwrap();
    a.title_acquire(FREE, "give-back-free").await.unwrap();
    let drop = a.drop_register(torrent.clone());
    let shared = a.torrent_import(&drop.drop_id).await.unwrap().title.id;
    let free_size = wait_state(&a, FREE, DownloadState::Seeding)
        .await
        .progress
        .total_bytes;
    wait_state(&a, &shared, DownloadState::Seeding).await;
    // Counted within a second of arriving.
    let free = wait_for("the free title's bytes to be counted", PATIENCE, || async {
        let g = give_back_of(&a, FREE).await;
        if g.from_store >= free_size {
            Ok(g)
        } else {
            Err(g)
        }
    })
    .await;
    assert_eq!(
        free.from_viewers, 0,
        "only the store's seeder has it: {free:?}"
    );
    let got = wait_for("the stranger's title to be counted", PATIENCE, || async {
        let g = give_back_of(&a, &shared).await;
        if g.from_viewers >= SIZE {
            Ok(g)
        } else {
            Err(g)
        }
    })
    .await;
    assert_eq!(got.from_store, 0, "the store never had it: {got:?}");

    // The stranger leaves: a second computer can get the title only from the first.
    session.stop().await;
    let b = Core::open(config(
        &dir.path().join("b"),
        &store,
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ))
    .await
    .unwrap();
    let drop = b.drop_register(torrent);
    assert_eq!(
        b.torrent_import(&drop.drop_id).await.unwrap().title.id,
        shared
    );
    wait_state(&b, &shared, DownloadState::Seeding).await;
    let received = wait_for("the second computer to count it", PATIENCE, || async {
        let g = give_back_of(&b, &shared).await;
        if g.from_viewers >= SIZE {
            Ok(g)
        } else {
            Err(g)
        }
    })
    .await;
    assert_eq!(received.from_store, 0, "{received:?}");
    let gave = wait_for(
        "the first computer to count what it gave",
        PATIENCE,
        || async {
            let g = give_back_of(&a, &shared).await;
            if g.given >= SIZE {
                Ok(g)
            } else {
                Err(g)
            }
        },
    )
    .await;

    // The chart of the last hour: every byte, in its last slots.
    let chart = a.downloads_give_back(GiveBackSpan::Hour).await.unwrap();
    assert_eq!(chart.slots.len(), 60);
    assert_eq!(chart.slot_ms, 60_000);
    assert!(
        chart.total.from_store >= free_size && chart.total.given >= SIZE,
        "{chart:?}"
    );
    let in_slots = chart
        .slots
        .iter()
        .fold(GiveBackBytes::default(), |mut sum, s| {
            sum.from_viewers += s.bytes.from_viewers;
            sum.from_store += s.bytes.from_store;
            sum.given += s.bytes.given;
            sum
        });
    assert_eq!(in_slots, chart.total, "everything moved within the hour");

    // The seeding policy: past its ratio a title stops being shared, while the free title,
    // made to be shared, goes on.
    assert_eq!(
        a.downloads_seeding_get().await.unwrap(),
        SeedingPolicy::default()
    );
    let policy = SeedingPolicy {
        share: true,
        until_ratio: Some(0.5),
        until_hours: Some(24),
    };
    assert_eq!(a.downloads_seeding_set(policy).await.unwrap(), policy);
    wait_state(&a, &shared, DownloadState::Shared).await;
    assert_eq!(
        item(&a, FREE).await.unwrap().progress.state,
        DownloadState::Seeding
    );
    // Opting out stops that one too; a policy out of range is refused and changes nothing.
    let opted_out = SeedingPolicy {
        share: false,
        ..policy
    };
    a.downloads_seeding_set(opted_out).await.unwrap();
    wait_state(&a, FREE, DownloadState::Shared).await;
    let e = a
        .downloads_seeding_set(SeedingPolicy {
            until_ratio: Some(0.0),
            ..policy
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DownloadRefused, "{e}");
    assert_eq!(a.downloads_seeding_get().await.unwrap(), opted_out);

    // Written at shutdown, read again at start; the person who opted out does not seed in the
    // next run either (titles the policy no longer shares join the session paused).
    a.shutdown().await;
    let a = Core::open(config(&a_profile, &store, MACHINE))
        .await
        .unwrap();
    assert_eq!(a.downloads_seeding_get().await.unwrap(), opted_out);
    let after = give_back_of(&a, &shared).await;
    assert!(
        after.given >= gave.given && after.from_viewers >= gave.from_viewers,
        "before {gave:?}, after {after:?}"
    );
    assert!(give_back_of(&a, FREE).await.from_store >= free.from_store);
    for id in [FREE, shared.as_str()] {
        wait_state(&a, id, DownloadState::Shared).await;
    }
    // Sharing again, with no limits: both seed.
    a.downloads_seeding_set(SeedingPolicy::default())
        .await
        .unwrap();
    for id in [FREE, shared.as_str()] {
        wait_state(&a, id, DownloadState::Seeding).await;
    }
    a.shutdown().await;
    b.shutdown().await;
    store.shutdown().await;
}
