//! Interoperability with standard BitTorrent clients from Debian (aria2c, transmission-create),
//! on loopback, through the store's tracker: a free title Marquee seeds downloads byte-exact in
//! aria2c, and a torrent made and seeded by the standard tools downloads byte-exact in Marquee.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use marquee_core::api::{DownloadState, ErrorKind, PublishForm, TitleKind, TitleOrigin};
use marquee_core::Core;
use marquee_store::Store;
use marquee_testsupport::{start_store, start_store_with, tool, wait_for};

use crate::config;

const MACHINE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const OTHER_MACHINE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// A child process stopped when the test ends.
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aria2c with everything that could reach beyond loopback turned off. With `announce`, that
/// tracker is added to the torrent's own; without, aria2c has only what the file names.
fn aria2c(dir: &Path, torrent: &Path, announce: Option<&str>, seed: bool) -> Command {
    let mut c = marquee_testsupport::aria2c(dir, free_port());
    c.args(["--allow-overwrite=true", "--bt-stop-timeout=120"]);
    if let Some(announce) = announce {
        c.arg(format!("--bt-tracker={announce}"));
    }
    if seed {
        // Check the existing file, then seed it until the test ends.
        c.args(["--check-integrity=true", "--seed-ratio=0.0"]);
    } else {
        c.args(["--seed-time=0"]);
    }
    c.arg(torrent);
    c
}

async fn open_core(dir: &Path, store: &Store) -> Core {
    open_core_as(&dir.join("profile"), store, MACHINE).await
}

async fn open_core_as(profile: &Path, store: &Store, machine: &str) -> Core {
    Core::open(config(profile, store, machine)).await.unwrap()
}

/// Waits until `core` has all of `title_id` and seeds it.
async fn wait_seeding(core: &Core, title_id: &str) {
    wait_for(
        &format!("{title_id} to finish downloading"),
        Duration::from_secs(120),
        || async {
            let d = core
                .downloads()
                .into_iter()
                .find(|d| d.title_id == title_id);
            match d {
                Some(d) if d.state == DownloadState::Seeding => Ok(()),
                other => Err(other),
            }
        },
    )
    .await
}

/// A viewer publishes a video; it is listed on the community shelf, signed by their device;
/// another viewer and aria2c download it from them through the store's tracker, byte-exact.
/// Then the operator hides it (no one else can): it is no longer shown, served or tracked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_video_reaches_another_viewer_and_aria2c_until_the_operator_hides_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store_with(dir.path(), |c| {
        c.operator_token = Some("operator-secret-for-this-test".into());
    })
    .await;
    let original =
        std::fs::read(marquee_store::bundled_demo_dir().join("media/paper-boats.webm")).unwrap();
    let mine = dir.path().join("My_Summer_Film.webm");
    std::fs::write(&mine, &original).unwrap();

    let a = open_core_as(&dir.path().join("a"), &store, MACHINE).await;
    let dropped = a.drop_register(mine.clone());
    let draft = a.publish_prepare(&dropped.drop_id, |_| {}).await.unwrap();
    assert_eq!(draft.suggested_name, "My Summer Film");
    assert_eq!(draft.video_codec, "VP9");
    let poster =
        std::fs::read(marquee_store::bundled_demo_dir().join("media/paper-boats.jpg")).unwrap();
    let form = PublishForm {
        name: "My Summer Film".into(),
        description: "Boats on the lake.".into(),
        language: "en".into(),
        licence_to_share: "CC BY 4.0".into(),
        poster_data_url: Some(format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&poster)
        )),
        publisher_name: "  ".into(),
    };
    // No name to be shown by: refused before anything is sent (the store refuses it too).
    let e = a
        .publish_submit(&draft.draft_id, form.clone())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PublishRefused, "{e}");
    assert!(e.to_string().contains("say what name to show"), "{e}");
    let form = PublishForm {
        publisher_name: " Lakeside Films ".into(),
        ..form
    };
    let published = a.publish_submit(&draft.draft_id, form).await.unwrap();
    assert_eq!(published.title.origin, TitleOrigin::Published);
    assert_eq!(published.title.kind, TitleKind::CommunityVideo);
    assert_eq!(
        a.export_names(&published.title.id).await.unwrap(),
        (
            "My Summer Film.webm".to_owned(),
            "My Summer Film.torrent".to_owned()
        )
    );
    // The original was only read.
    assert_eq!(std::fs::read(&mine).unwrap(), original);

    // Publishing the same video again is refused by name.
    let again = a.drop_register(mine.clone());
    let e = a.publish_prepare(&again.drop_id, |_| {}).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PublishRefused, "{e}");
    assert!(
        e.to_string()
            .contains("already published as “My Summer Film”"),
        "{e}"
    );

    // Another viewer sees it beside the studio titles, marked as community and free.
    let b = open_core_as(&dir.path().join("b"), &store, OTHER_MACHINE).await;
    let listed = b
        .catalog_list()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "My Summer Film")
        .expect("on the community shelf");
    assert_eq!(listed.kind, TitleKind::CommunityVideo);
    assert_eq!(listed.offer.price_cents, 0);
    // Shown by the name the publisher chose, never by the account's e-mail.
    assert_eq!(listed.publisher.as_deref(), Some("Lakeside Films"));
    assert!(!listed.poster_url.is_empty());
    let got = b.title_acquire(&listed.id, "community-1").await.unwrap();
    assert_eq!(got.charged_cents, 0);
    wait_seeding(&b, &listed.id).await;
    let exported = dir.path().join("b-copy.webm");
    b.title_export(&listed.id, &exported).await.unwrap();
    assert!(
        std::fs::read(&exported).unwrap() == original,
        "B's copy is byte-identical"
    );

    // And a standard client gets it from the viewers, not from the store (which has no copy).
    let client = marquee_protocol::StoreClient::new(&store.url()).unwrap();
    let torrent = dir.path().join("community.torrent");
    std::fs::write(&torrent, client.torrent(&listed.id).await.unwrap()).unwrap();
    let out = dir.path().join("aria2");
    let status = aria2c(&out, &torrent, None, false)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "aria2c finished: {status}");
    let file = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "webm"))
        .expect("aria2c wrote the video");
    assert!(
        std::fs::read(file.path()).unwrap() == original,
        "aria2c's copy is byte-identical"
    );

    // Moderation: only the operator may hide it; once hidden, no viewer is shown it.
    let hide = format!("{}/api/v1/titles/{}/hide", store.url(), listed.id);
    let http = reqwest::Client::new();
    let served = http
        .get(format!(
            "{}/api/v1/titles/{}/torrent",
            store.url(),
            listed.id
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let info_hash = librqbit::torrent_from_bytes(&served).unwrap().info_hash.0;
    let refused = http
        .post(&hide)
        .bearer_auth("not-the-operator")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let hidden = http
        .post(&hide)
        .bearer_auth("operator-secret-for-this-test")
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 204);
    let shown = b.catalog_list().await.unwrap();
    assert!(
        !shown.iter().any(|t| t.id == listed.id),
        "hidden titles are not shown"
    );
    // Nor served, nor tracked: its torrent is gone and the tracker refuses its swarm, so the
    // store no longer helps anyone find what it took down.
    let torrent = http
        .get(format!(
            "{}/api/v1/titles/{}/torrent",
            store.url(),
            listed.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(torrent.status(), 404);
    let info_hash: String = info_hash.iter().map(|b| format!("%{b:02x}")).collect();
    let answer = http
        .get(format!(
            "{}/announce?info_hash={info_hash}&peer_id=-XX0001-abcdefghijkl&port=6881&left=0&compact=1",
            store.url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        answer.contains("this tracker only tracks the store's own titles"),
        "{answer}"
    );
    a.shutdown().await;
    b.shutdown().await;
    store.shutdown().await;
}

/// aria2c is given only the store's torrent file, no tracker of its own: the file names the
/// store's tracker, which hands out the store's seeder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aria2c_downloads_a_free_title_from_the_store_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let client = marquee_protocol::StoreClient::new(&store.url()).unwrap();
    let torrent = dir.path().join("open-skies.torrent");
    std::fs::write(&torrent, client.torrent("open-skies").await.unwrap()).unwrap();
    let out = dir.path().join("aria2");
    let status = aria2c(&out, &torrent, None, false)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "aria2c finished: {status}");
    let original =
        std::fs::read(marquee_store::bundled_demo_dir().join("media/open-skies.webm")).unwrap();
    let got = std::fs::read(out.join("open-skies.webm")).unwrap();
    assert!(got == original, "aria2c's copy is byte-identical");
    store.shutdown().await;
}

/// What a new user does: takes a free title in Marquee, saves its `.torrent` ("Save .torrent"
/// in the window) and opens that file in another client. The file names the store's tracker
/// (`announce` and first in `announce-list`), so aria2c, given nothing else, finds the swarm
/// (this viewer and the store's seeder) and completes the download byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aria2c_completes_a_free_title_from_the_torrent_file_marquee_saves() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let core = open_core(dir.path(), &store).await;
    core.title_acquire("open-skies", "free-torrent-file-1")
        .await
        .unwrap();
    wait_seeding(&core, "open-skies").await;

    let (_, name) = core.export_names("open-skies").await.unwrap();
    let saved = dir.path().join(name);
    let bytes = core.torrent_file("open-skies").await.unwrap();
    std::fs::write(&saved, &bytes).unwrap();
    let t = librqbit::torrent_from_bytes(&bytes).unwrap();
    let own = format!("{}/announce", store.url());
    assert_eq!(
        t.announce.map(|a| a.0.to_vec()),
        Some(own.clone().into_bytes())
    );
    let tiers: Vec<Vec<&[u8]>> = t
        .announce_list
        .iter()
        .map(|tier| tier.iter().map(|u| u.0).collect())
        .collect();
    assert_eq!(tiers, vec![vec![own.as_bytes()]]);
    let served = marquee_protocol::StoreClient::new(&store.url())
        .unwrap()
        .torrent("open-skies")
        .await
        .unwrap();
    assert_eq!(
        t.info_hash,
        librqbit::torrent_from_bytes(&served).unwrap().info_hash,
        "the saved file is the store's torrent"
    );

    let out = dir.path().join("aria2");
    let status = aria2c(&out, &saved, None, false)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "aria2c finished from the saved file: {status}"
    );
    let original =
        std::fs::read(marquee_store::bundled_demo_dir().join("media/open-skies.webm")).unwrap();
    let got = std::fs::read(out.join("open-skies.webm")).unwrap();
    assert!(got == original, "aria2c's copy is byte-identical");
    core.shutdown().await;
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marquee_downloads_a_torrent_made_and_seeded_by_standard_tools() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let announce = format!("{}/announce", store.url());

    // A file made elsewhere: 3 MiB of varied bytes, not a store title.
    let seed_dir = dir.path().join("seed");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let content: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let file = seed_dir.join("home-movie.webm");
    std::fs::write(&file, &content).unwrap();
    let torrent = dir.path().join("home-movie.torrent");
    let made = Command::new(tool("transmission-create"))
        .arg("-o")
        .arg(&torrent)
        .args(["-t", &announce, "-s", "256"])
        .arg(&file)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success(), "transmission-create made the torrent");
    let core = open_core(dir.path(), &store).await;
    let dropped = core.drop_register(torrent.clone());
    // Not a store title: the store's tracker answers for it only when told to.
    let info_hash = core
        .torrent_preview(&dropped.drop_id)
        .await
        .unwrap()
        .info_hash
        .unwrap();
    let mut raw = [0u8; 20];
    hex::decode_to_slice(&info_hash, &mut raw).unwrap();
    store.track_also([raw]);
    let _seeder = Kill(
        aria2c(&seed_dir, &torrent, Some(&announce), true)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let entry = core.torrent_import(&dropped.drop_id).await.unwrap();
    assert_eq!(entry.title.origin, TitleOrigin::External);
    wait_seeding(&core, &entry.title.id).await;
    let exported = dir.path().join("exported.webm");
    core.title_export(&entry.title.id, &exported).await.unwrap();
    assert!(
        std::fs::read(&exported).unwrap() == content,
        "byte-identical"
    );
    core.shutdown().await;
    store.shutdown().await;
}
