//! Watching a live channel from the core, as the window does: a real store's directory lists a
//! channel broadcast by a real node; the core joins its relay and the playback server streams
//! the verified frames to one reader of the app's origin; leaving ends the stream; the
//! broadcaster ending the channel reaches the viewer as `ended`, and the channel then refuses
//! to be watched in words.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use marquee_core::api::{BroadcastState, ErrorKind, LiveState, LiveStatus};
use marquee_core::live::feed::{FRAME_DELAY, FRAME_INIT, FRAME_MEDIA};
use marquee_core::live::OnStatus;
use marquee_core::{Core, Error};
use marquee_live::chunk::ChannelSigner;
use marquee_live::directory::{Broadcast, Listing};
use marquee_live::net::{pace, Clock, Node, NodeConfig, Role};
use marquee_live::segment::LiveSource;
use marquee_protocol::StoreClient;
use marquee_testsupport::{start_store, wait_for};

use crate::config;

const MEDIA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../store/demo/media/glass-rain.webm"
);
/// Eight seconds of it as fragmented MP4 (H.264 and AAC).
const MP4_MEDIA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../live/testdata/glass-rain-8s.mp4"
);
const APP_ORIGIN: &str = "tauri://localhost";
/// A JPEG as the sheet sends it (a `data:` URL): the smallest file with a JPEG's magic.
const POSTER: &str = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==";
const MACHINE: &str = "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d";

/// A broadcaster node pacing the demo file, listed in the store's directory.
struct Broadcaster {
    node: Arc<Node>,
    listed: Broadcast,
    pacing: tokio::task::JoinHandle<()>,
    channel: String,
    init: Vec<u8>,
}

async fn go_live(store_url: &str, title: &str) -> Broadcaster {
    let source = LiveSource::from_vec(std::fs::read(MEDIA).unwrap()).unwrap();
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let mut config = NodeConfig::new(
        key.verifying_key(),
        Role::Broadcaster,
        "127.0.0.1:0".parse().unwrap(),
    );
    config.bitrate_bps = 1_000_000;
    let node = Arc::new(Node::start(config.clone(), Clock::new()).await.unwrap());
    let client = StoreClient::new(store_url).unwrap();
    client
        .sign_in(marquee_store::DEMO_EMAIL, marquee_store::DEMO_PASSWORD)
        .await
        .unwrap();
    let listing = Listing {
        title: title.into(),
        poster: None,
        price_cents: 0,
        stripes: config.stripes,
    };
    let listed = Broadcast::go_live(
        client,
        key.clone(),
        &node,
        node.addr(),
        &source,
        config.bitrate_bps,
        listing,
    )
    .await
    .unwrap();
    let init = source.init_segment().to_vec();
    let paced = node.clone();
    let pacing = tokio::spawn(async move {
        let mut signer = ChannelSigner::new(key, 8 * 1024);
        pace(&paced, &source, &mut signer, Clock::new()).await;
    });
    Broadcaster {
        node,
        listed,
        pacing,
        channel: hex::encode(config.channel.as_bytes()),
        init,
    }
}

/// Reads whole frames off a live stream's body.
struct Frames {
    body: reqwest::Response,
    buf: Vec<u8>,
}

impl Frames {
    /// The stream at `url`, read as the window's page (its origin) reads it.
    async fn open(http: &reqwest::Client, url: &str) -> Frames {
        let body = http
            .get(url)
            .header("Origin", APP_ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(body.status(), 200);
        assert_eq!(body.headers()["access-control-allow-origin"], APP_ORIGIN);
        Frames {
            body,
            buf: Vec::new(),
        }
    }

    /// The next frame, or `None` at the end of the stream (within `within`).
    async fn next(&mut self, within: Duration) -> Option<(u8, Vec<u8>)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.buf.len() >= 5 {
                let len = u32::from_be_bytes(self.buf[1..5].try_into().unwrap()) as usize;
                if self.buf.len() >= 5 + len {
                    let frame = (self.buf[0], self.buf[5..5 + len].to_vec());
                    self.buf.drain(..5 + len);
                    return Some(frame);
                }
            }
            match tokio::time::timeout_at(deadline, self.body.chunk())
                .await
                .expect("the stream kept going")
            {
                Ok(Some(bytes)) => self.buf.extend_from_slice(&bytes),
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

/// What the window would hear, and the callback that records it.
fn statuses() -> (Arc<Mutex<Vec<LiveStatus>>>, OnStatus) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (
        seen,
        Box::new(move |s: LiveStatus| sink.lock().unwrap().push(s)),
    )
}

/// Waits until one of the statuses heard so far matches `heard`.
async fn wait_heard<S: Send + 'static>(
    what: &str,
    seen: &Arc<Mutex<Vec<S>>>,
    heard: impl Fn(&S) -> bool,
) {
    wait_for(what, Duration::from_secs(20), || {
        let found = seen.lock().unwrap().iter().any(&heard);
        async move { found.then_some(()).ok_or("not yet") }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_channel_plays_from_the_relay_to_one_reader_and_ends_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let core = Core::open(config(&dir.path().join("p"), &store, MACHINE))
        .await
        .unwrap();
    assert!(core.live_channels().await.unwrap().is_empty());
    let b = go_live(&store.url(), "Glass rain, live").await;

    let listed = core.live_channels().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].channel, b.channel);
    assert_eq!(listed[0].title, "Glass rain, live");
    assert_eq!(listed[0].price_cents, 0);

    let (seen, on_status) = statuses();
    let session = core.live_watch(&b.channel, on_status).await.unwrap();
    assert!(session.mime.starts_with("video/webm"), "{}", session.mime);
    let http = reqwest::Client::new();
    // Another page's origin gets nothing, and does not use up the one read.
    let foreign = http
        .get(&session.stream_url)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let mut frames = Frames::open(&http, &session.stream_url).await;
    // The frames went to the first reader.
    let second = http.get(&session.stream_url).send().await.unwrap();
    assert_eq!(second.status(), 409);

    // The init segment first, then the relay's delay, then a keyframe segment's start.
    let within = Duration::from_secs(30);
    assert_eq!(
        frames.next(within).await,
        Some((FRAME_INIT, b.init.clone()))
    );
    let (kind, delay) = frames.next(within).await.unwrap();
    assert_eq!(kind, FRAME_DELAY);
    let delay_ms = u64::from_be_bytes(delay.try_into().unwrap());
    assert!((500..15_000).contains(&delay_ms), "delay {delay_ms} ms");
    let (kind, first) = frames.next(within).await.unwrap();
    assert_eq!(kind, FRAME_MEDIA);
    assert_eq!(first[16], 1, "playback starts at a segment's start");
    assert_eq!(
        &first[17..21],
        &[0x1F, 0x43, 0xB6, 0x75],
        "a segment is a WebM Cluster"
    );
    let mut media = 1;
    while media < 40 {
        let (kind, _) = frames.next(within).await.expect("more frames");
        media += usize::from(kind == FRAME_MEDIA);
    }
    wait_heard("a status saying it plays", &seen, |s| {
        s.state == LiveState::Playing && s.played > 0 && s.delay_ms.is_some()
    })
    .await;

    // Leaving ends the stream and tells the window watching stopped.
    core.live_leave().await;
    let mut rest = 0;
    while frames.next(Duration::from_secs(10)).await.is_some() {
        rest += 1;
        assert!(rest < 10_000, "the stream did not end");
    }
    assert_eq!(
        seen.lock().unwrap().last().unwrap().state,
        LiveState::Stopped
    );
    let gone = http.get(&session.stream_url).send().await.unwrap();
    assert_eq!(gone.status(), 404);

    // Watching again, then the broadcaster ends the channel: the viewer hears `ended`.
    let (seen, on_status) = statuses();
    let session = core.live_watch(&b.channel, on_status).await.unwrap();
    let mut frames = Frames::open(&http, &session.stream_url).await;
    assert_eq!(frames.next(within).await.unwrap().0, FRAME_INIT);
    b.pacing.abort();
    let _ = b.pacing.await;
    b.listed.end().await.unwrap();
    wait_heard("the viewer to hear the channel ended", &seen, |s| {
        s.state == LiveState::Ended
    })
    .await;
    while frames.next(Duration::from_secs(10)).await.is_some() {}
    assert!(core.live_channels().await.unwrap().is_empty());
    let (_, on_status) = statuses();
    let refused = core.live_watch(&b.channel, on_status).await.unwrap_err();
    assert!(matches!(refused, Error::LiveEnded), "{refused:?}");
    assert_eq!(refused.kind(), ErrorKind::LiveEnded);
    assert!(refused.to_string().contains("no longer live"), "{refused}");
    // Not a channel at all reads the same to a person.
    let (_, on_status) = statuses();
    let refused = core
        .live_watch("not-a-channel", on_status)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::LiveEnded);

    Arc::try_unwrap(b.node).ok().unwrap().shutdown().await;
    core.shutdown().await;
}

/// A store and two apps on it, on two computers: one to go live, one to watch.
async fn two_apps(dir: &std::path::Path) -> (marquee_store::Store, Core, Core) {
    let store = start_store(dir).await;
    let caster = Core::open(config(&dir.join("caster"), &store, MACHINE))
        .await
        .unwrap();
    let viewer = Core::open(config(
        &dir.join("viewer"),
        &store,
        "6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e",
    ))
    .await
    .unwrap();
    (store, caster, viewer)
}

/// Going live from one app and watching in another: the video is checked first (a file that
/// cannot go live is refused in words), the channel is listed under the account, the second
/// app plays it, and Stop ends it for the viewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_app_goes_live_and_another_watches_until_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, caster, viewer) = two_apps(dir.path()).await;

    // Not a video, and a video that does not start on a keyframe: refused before anything
    // starts, each with what to do.
    let text = dir.path().join("notes.webm");
    std::fs::write(&text, "not a video at all").unwrap();
    let refused = caster
        .live_prepare(&caster.drop_register(text).drop_id)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::LiveRefused);
    assert!(
        refused.to_string().contains("Convert it to WebM"),
        "{refused}"
    );

    let video = dir.path().join("Evening_Show.webm");
    std::fs::copy(MEDIA, &video).unwrap();
    let drop = caster.drop_register(video);
    let draft = caster.live_prepare(&drop.drop_id).await.unwrap();
    assert_eq!(draft.title, "Evening Show");
    assert!(draft.mime.contains("vp9"), "{}", draft.mime);
    assert!(
        (30.0..40.0).contains(&draft.duration_s),
        "{}",
        draft.duration_s
    );
    assert!(draft.bitrate_bps > 100_000, "{}", draft.bitrate_bps);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let on_air = caster
        .live_go_live(
            &drop.drop_id,
            "Evening Show",
            Some(POSTER),
            Box::new(move |s| sink.lock().unwrap().push(s)),
        )
        .await
        .unwrap();
    assert_eq!(on_air.title, "Evening Show");
    assert_eq!(caster.live_broadcasting().await.unwrap().0, "Evening Show");
    let listed = viewer.live_channels().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].channel, on_air.channel);
    // Its poster reaches the other app through its own loopback server, as the store's
    // pictures do.
    let poster = listed[0].poster_url.clone().expect("the channel's poster");
    let picture = reqwest::get(&poster).await.unwrap();
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()["content-type"], "image/jpeg");
    // The preview: the init segment and the first segments, as the channel sends them.
    let preview = caster.live_preview(&drop.drop_id).await.unwrap();
    assert_eq!(preview.mime, draft.mime);
    assert!(preview.media.len() > 10_000);

    // The other app plays it.
    let (watched, on_status) = statuses();
    let session = viewer.live_watch(&on_air.channel, on_status).await.unwrap();
    let http = reqwest::Client::new();
    let mut frames = Frames::open(&http, &session.stream_url).await;
    let mut media = 0;
    while media < 40 {
        let (kind, _) = frames
            .next(Duration::from_secs(30))
            .await
            .expect("the broadcast's frames");
        media += usize::from(kind == FRAME_MEDIA);
    }
    wait_heard(
        "the broadcaster to count its viewer and send to it",
        &seen,
        |s| s.viewers >= 1 && s.upload_bytes_per_s > 0,
    )
    .await;

    // Stop: the viewer hears the channel ended, and the directory lists nothing.
    caster.live_broadcast_stop().await;
    assert!(caster.live_broadcasting().await.is_none());
    assert_eq!(
        seen.lock().unwrap().last().unwrap().state,
        BroadcastState::Ended
    );
    wait_heard("the viewer to hear it ended", &watched, |s| {
        s.state == LiveState::Ended
    })
    .await;
    assert!(viewer.live_channels().await.unwrap().is_empty());

    // The channel keeps its id from one broadcast to the next.
    let again = caster
        .live_go_live(&drop.drop_id, "Evening Show, again", None, Box::new(|_| {}))
        .await
        .unwrap();
    assert_eq!(again.channel, on_air.channel);
    caster.live_broadcast_stop().await;
    viewer.shutdown().await;
    caster.shutdown().await;
}

/// A store whose operator sells titles only: the Live section and "Go live" say so in words,
/// and nothing (not even the poster) is sent to a directory that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_live_channels_says_so_to_viewer_and_broadcaster() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        marquee_testsupport::start_store_with(dir.path(), |c| c.live_channels = false).await;
    let core = Core::open(config(&dir.path().join("app"), &store, MACHINE))
        .await
        .unwrap();

    let listed = core.live_channels().await.unwrap_err();
    assert_eq!(listed.kind(), ErrorKind::LiveNotOffered);
    assert!(
        listed.to_string().contains("carries no live channels"),
        "{listed}"
    );
    // The rest of the store is unaffected.
    assert!(!core.catalog_list().await.unwrap().is_empty());

    core.account_sign_in(marquee_store::DEMO_EMAIL, marquee_store::DEMO_PASSWORD)
        .await
        .unwrap();
    let video = dir.path().join("Evening_Show.webm");
    std::fs::copy(MEDIA, &video).unwrap();
    let drop = core.drop_register(video);
    core.live_prepare(&drop.drop_id).await.unwrap();
    let refused = core
        .live_go_live(
            &drop.drop_id,
            "Evening Show",
            Some(POSTER),
            Box::new(|_| {}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::LiveNotOffered);
    assert!(core.live_broadcasting().await.is_none());
    let media = std::fs::read_dir(dir.path().join("store/media"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("live-"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(media, 0, "no channel poster was kept");
    core.shutdown().await;
}

/// Going live from a fragmented MP4 (H.264 and AAC): checked, described as MP4, and another
/// app receives its init segment (`ftyp`, `moov`) and its fragments through the relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_app_goes_live_from_a_fragmented_mp4_and_another_receives_its_fragments() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, caster, viewer) = two_apps(dir.path()).await;
    caster
        .account_sign_in(marquee_store::DEMO_EMAIL, marquee_store::DEMO_PASSWORD)
        .await
        .unwrap();
    let video = dir.path().join("Rooftop_Set.mp4");
    std::fs::copy(MP4_MEDIA, &video).unwrap();
    let drop = caster.drop_register(video);
    let draft = caster.live_prepare(&drop.drop_id).await.unwrap();
    assert_eq!(draft.title, "Rooftop Set");
    assert!(
        draft.mime.starts_with("video/mp4; codecs=\"avc1."),
        "{}",
        draft.mime
    );
    let on_air = caster
        .live_go_live(&drop.drop_id, "Rooftop set", None, Box::new(|_| {}))
        .await
        .unwrap();

    let (_, on_status) = statuses();
    let session = viewer.live_watch(&on_air.channel, on_status).await.unwrap();
    assert_eq!(session.mime, draft.mime);
    let http = reqwest::Client::new();
    let mut frames = Frames::open(&http, &session.stream_url).await;
    let (kind, init) = frames
        .next(Duration::from_secs(30))
        .await
        .expect("the init segment");
    assert_eq!(kind, FRAME_INIT);
    assert_eq!(&init[4..8], b"ftyp");
    let mut fragments = 0;
    while fragments < 3 {
        let (kind, payload) = frames
            .next(Duration::from_secs(30))
            .await
            .expect("the broadcast's fragments");
        // A media frame that starts a segment carries a moof's start after its 17-byte header.
        if kind == FRAME_MEDIA && payload.len() > 25 && &payload[21..25] == b"moof" {
            fragments += 1;
        }
    }
    caster.live_broadcast_stop().await;
    viewer.shutdown().await;
    caster.shutdown().await;
}
