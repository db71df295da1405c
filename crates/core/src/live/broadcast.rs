//! Going live from this computer: a WebM video, checked first, then looped as a live channel
//! (re-cut at its keyframes with its timestamps rewritten, never re-encoded) by a broadcaster
//! node, listed in the store's directory under the person's account and kept listed until they
//! stop it. The channel's key is this profile's own, so a person's channel keeps its id from one
//! broadcast to the next. One broadcast at a time; it outlives the window (as seeding does) and
//! ends with Stop or Quit.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use marquee_live::chunk::ChannelSigner;
use marquee_live::directory::{self, Broadcast, Listing};
use marquee_live::net::{pace, Clock, Node, NodeConfig, NodeStats, Role};
use marquee_live::segment::{LiveSource, SegmentError};
use tokio::sync::{oneshot, Mutex};

use super::access::{directory_error, StoreSide};
use super::rates::Rates;
use crate::api::{BroadcastState, BroadcastStatus, LiveBroadcast, LiveDraft, LivePreview};
use crate::{Core, Error, Result};

/// The largest video that goes live: the re-cutter keeps the whole file in memory while it
/// loops.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Bytes of a chunk: a segment of a 1 Mbit/s stream is about sixteen of them.
const CHUNK_BYTES: usize = 8 * 1024;

/// How much of the video the sheet's preview gets, ms: enough to pick a poster frame from.
const PREVIEW_MS: u64 = 4_000;

/// The channel's key file in the profile.
const KEY_FILE: &str = "live-channel.key";

/// What the window is told about a broadcast, once a second.
pub type OnBroadcastStatus = Box<dyn Fn(BroadcastStatus) + Send + Sync>;

/// Going live from this computer: the video checked last, and the broadcast running.
pub(crate) struct Broadcaster {
    side: StoreSide,
    /// The profile folder: this profile's channel key lives there.
    data_dir: std::path::PathBuf,
    prepared: Mutex<Option<Prepared>>,
    broadcasting: Mutex<Option<Broadcasting>>,
}

impl Broadcaster {
    pub(crate) fn new(side: StoreSide, data_dir: std::path::PathBuf) -> Broadcaster {
        Broadcaster {
            side,
            data_dir,
            prepared: Mutex::new(None),
            broadcasting: Mutex::new(None),
        }
    }
}

/// A checked video, kept until it goes live (or another is checked).
struct Prepared {
    drop_id: String,
    source: Arc<LiveSource>,
}

/// The broadcast running from this computer.
struct Broadcasting {
    title: String,
    viewers: Arc<std::sync::atomic::AtomicU64>,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

/// Why a video cannot go live, in words a person can act on.
fn refusal(e: &SegmentError) -> String {
    match e {
        SegmentError::NotEbml | SegmentError::DocType(_) | SegmentError::EbmlHeader(_) => {
            "it is neither a WebM nor an MP4 video. Convert it to WebM (VP8 or VP9 video, Vorbis or Opus sound) or to fragmented MP4 (H.264 video, AAC sound) first".into()
        }
        SegmentError::UnsupportedCodec(codec) => format!(
            "its {codec} stream cannot play in a live channel. Live channels carry WebM with VP8, VP9 or AV1 video and Vorbis or Opus sound, or MP4 with H.264 video and AAC or Opus sound"
        ),
        SegmentError::NoVideoTrack => "it has no picture, only sound".into(),
        SegmentError::NoClusters
        | SegmentError::FirstClusterNotKeyframe
        | SegmentError::FirstFragmentNotKeyframe => {
            "it does not start on a keyframe, so no viewer could start watching it. Export it again with a keyframe at the start".into()
        }
        // The MP4 reader's own sentence says what to do (most often, the command that re-muxes).
        SegmentError::Mp4 { reason, .. } => format!("as it is, this MP4 cannot be cut live: {reason}"),
        other => format!("the file is damaged or cut short ({other})"),
    }
}

/// A poster's bytes from the `data:` URL the sheet sends: a JPEG or PNG small enough for the
/// store.
fn poster_bytes(data_url: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let refused = || Error::LiveRefused("its poster is not a JPEG or PNG picture".into());
    let b64 = data_url
        .strip_prefix("data:image/jpeg;base64,")
        .or_else(|| data_url.strip_prefix("data:image/png;base64,"))
        .ok_or_else(refused)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| refused())?;
    if bytes.len() > marquee_protocol::channels::MAX_POSTER_BYTES {
        return Err(Error::LiveRefused(format!(
            "its poster is over {} KiB: choose a simpler frame",
            marquee_protocol::channels::MAX_POSTER_BYTES / 1024
        )));
    }
    Ok(bytes)
}

/// A title from a file's name: `Lake_Day.webm` reads "Lake Day".
fn title_of(name: &str) -> String {
    let stem = Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
    let words = stem.replace(['_', '-', '.'], " ");
    let title = words.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        "My channel".into()
    } else {
        title
            .chars()
            .take(marquee_protocol::channels::MAX_TITLE_CHARS)
            .collect()
    }
}

/// This profile's channel key: made once, kept owner-only in the profile.
fn channel_key(data_dir: &Path) -> Result<SigningKey> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let seed: [u8; 32] = bytes.try_into().map_err(|_| {
                Error::Internal(anyhow::anyhow!(
                    "{} is not a channel key: delete it to make a new channel",
                    path.display()
                ))
            })?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
            marquee_protocol::private_fs::write_file(&path, &key.to_bytes())?;
            Ok(key)
        }
        Err(e) => Err(Error::Internal(
            anyhow::Error::new(e).context("the channel key"),
        )),
    }
}

impl Core {
    /// Checks a dropped or picked video for going live: reads it, finds its keyframes and
    /// codecs, and says what it is. Nothing starts yet.
    pub async fn live_prepare(&self, drop_id: &str) -> Result<LiveDraft> {
        let path = self.publishing.dropped_path(drop_id)?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let size = tokio::fs::metadata(&path)
            .await
            .map_err(|e| Error::LiveRefused(format!("it cannot be read ({e})")))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(Error::LiveRefused(format!(
                "it is {} MB, and a live channel loops a video of up to {} MB",
                size / 1_000_000,
                MAX_FILE_BYTES / 1_000_000
            )));
        }
        let source = tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path)
                .map_err(|e| Error::LiveRefused(format!("it cannot be read ({e})")))?;
            LiveSource::from_vec(bytes).map_err(|e| Error::LiveRefused(refusal(&e)))
        })
        .await
        .map_err(|e| Error::Internal(e.into()))??;
        let source = Arc::new(source);
        let draft = LiveDraft {
            drop_id: drop_id.to_owned(),
            title: title_of(&name),
            name,
            size_bytes: size,
            duration_s: source.duration_ms() as f64 / 1000.0,
            bitrate_bps: source.mean_bitrate_bps(),
            mime: source.mime(),
            segment_s: source.typical_segment_ms() as f64 / 1000.0,
        };
        *self.live.broadcaster.prepared.lock().await = Some(Prepared {
            drop_id: drop_id.to_owned(),
            source,
        });
        Ok(draft)
    }

    /// The first seconds of the video checked by [`Core::live_prepare`], as the channel will
    /// send them, for the sheet's preview and poster frame.
    pub async fn live_preview(&self, drop_id: &str) -> Result<LivePreview> {
        let source = match self.live.broadcaster.prepared.lock().await.as_ref() {
            Some(p) if p.drop_id == drop_id => p.source.clone(),
            _ => return Err(Error::FileGone),
        };
        let mut media = Vec::new();
        for segment in source.segments(0) {
            if segment.start_ms >= PREVIEW_MS && !media.is_empty() {
                break;
            }
            media.extend_from_slice(&segment.bytes);
        }
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(LivePreview {
            mime: source.mime(),
            init: b64.encode(source.init_segment()),
            media: b64.encode(media),
        })
    }

    /// Goes live with the video checked by [`Core::live_prepare`], looped, under `title`: a
    /// broadcaster node starts and the channel is listed in the store's directory under the
    /// signed-in account, with `poster` (a JPEG or PNG `data:` URL) as its picture. Ends any
    /// broadcast already running. `on_status` hears its viewers and this computer's upload once
    /// a second until it stops.
    pub async fn live_go_live(
        &self,
        drop_id: &str,
        title: &str,
        poster: Option<&str>,
        on_status: OnBroadcastStatus,
    ) -> Result<LiveBroadcast> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > marquee_protocol::channels::MAX_TITLE_CHARS {
            return Err(Error::LiveRefused(format!(
                "a channel's title has 1 to {} characters",
                marquee_protocol::channels::MAX_TITLE_CHARS
            )));
        }
        if self.account_get().email.is_none() {
            return Err(Error::SignedOut);
        }
        let source = match self.live.broadcaster.prepared.lock().await.as_ref() {
            Some(p) if p.drop_id == drop_id => p.source.clone(),
            _ => return Err(Error::FileGone),
        };
        let poster = poster.map(poster_bytes).transpose()?;
        self.live_broadcast_stop().await;
        let key = channel_key(&self.live.broadcaster.data_dir)?;
        // The directory first: a store without live channels says so before a poster is sent.
        let directory = self.live.broadcaster.side.listing().await?;
        let poster = match poster {
            Some(bytes) => Some(format!(
                "{}{}",
                self.store.base(),
                self.store.channel_poster(&bytes).await?
            )),
            None => None,
        };
        let relay =
            directory::relay_of(&directory).map_err(|e| Error::LiveUnavailable(e.to_string()))?;
        let (listen, advertise) = self.live.broadcaster.side.addresses().await?;
        let mut config = NodeConfig::new(key.verifying_key(), Role::Broadcaster, listen);
        config.bitrate_bps = source.mean_bitrate_bps();
        config.relay_url = relay;
        config.loopback_only = self.live.broadcaster.side.local;
        let node = Node::start(config.clone(), Clock::new())
            .await
            .map_err(|e| Error::LiveUnavailable(format!("the relay could not start: {e}")))?;
        let listed = async {
            let addr = directory::advertised(&node, advertise)
                .map_err(|e| Error::LiveUnavailable(e.to_string()))?;
            let listing = Listing {
                title: title.to_owned(),
                poster,
                price_cents: 0,
                stripes: config.stripes,
            };
            Broadcast::go_live(
                self.store.clone(),
                key.clone(),
                &node,
                addr,
                &source,
                config.bitrate_bps,
                listing,
            )
            .await
            .map_err(directory_error)
        }
        .await;
        let listed = match listed {
            Ok(b) => b,
            Err(e) => {
                node.shutdown().await;
                return Err(e);
            }
        };
        let channel = hex::encode(key.verifying_key().as_bytes());
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let viewers = listed.viewers();
        let (stop_tx, stop_rx) = oneshot::channel();
        let on_air = OnAir {
            node,
            listed,
            source,
            key,
            channel: channel.clone(),
            bitrate_bps: config.bitrate_bps,
            viewers: viewers.clone(),
            on_status,
        };
        let done = tokio::spawn(on_air.run(stop_rx));
        *self.live.broadcaster.broadcasting.lock().await = Some(Broadcasting {
            title: title.to_owned(),
            viewers,
            stop: stop_tx,
            done,
        });
        tracing::info!(channel = %channel, "went live");
        Ok(LiveBroadcast {
            channel,
            title: title.to_owned(),
            bitrate_bps: config.bitrate_bps,
            started_at,
        })
    }

    /// Ends the broadcast running from this computer, if any: the directory stops listing it
    /// (its viewers are told it ended) and the node leaves.
    pub async fn live_broadcast_stop(&self) {
        let Some(b) = self.live.broadcaster.broadcasting.lock().await.take() else {
            return;
        };
        let _ = b.stop.send(());
        let _ = b.done.await;
    }

    /// The broadcast running from this computer, as the tray says it: its title and viewers.
    pub async fn live_broadcasting(&self) -> Option<(String, u64)> {
        self.live
            .broadcaster
            .broadcasting
            .lock()
            .await
            .as_ref()
            .map(|b| {
                (
                    b.title.clone(),
                    b.viewers.load(std::sync::atomic::Ordering::Relaxed),
                )
            })
    }
}

/// The task that runs a broadcast.
struct OnAir {
    node: Node,
    listed: Broadcast,
    source: Arc<LiveSource>,
    key: SigningKey,
    channel: String,
    bitrate_bps: u64,
    viewers: Arc<std::sync::atomic::AtomicU64>,
    on_status: OnBroadcastStatus,
}

impl OnAir {
    async fn run(self, mut stop: oneshot::Receiver<()>) {
        let OnAir {
            node,
            mut listed,
            source,
            key,
            channel,
            bitrate_bps,
            viewers,
            on_status,
        } = self;
        let mut signer = ChannelSigner::new(key, CHUNK_BYTES);
        let mut every = tokio::time::interval(Duration::from_secs(1));
        let mut rates = Rates::default();
        {
            let pacing = pace(&node, &source, &mut signer, Clock::new());
            tokio::pin!(pacing);
            let keeping = listed.keep_listed();
            tokio::pin!(keeping);
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    _ = &mut pacing => break,
                    _ = &mut keeping => break,
                    _ = every.tick() => {
                        on_status(status(&mut rates, &node.stats(), bitrate_bps, &viewers, BroadcastState::Live));
                    }
                }
            }
        }
        if let Err(e) = listed.end().await {
            tracing::warn!(error = %e, "ending the channel in the directory");
        }
        on_status(status(
            &mut rates,
            &node.stats(),
            bitrate_bps,
            &viewers,
            BroadcastState::Ended,
        ));
        node.shutdown().await;
        tracing::info!(channel = %channel, "the broadcast ended");
    }
}

/// Where the broadcast stands, for the window.
fn status(
    rates: &mut Rates,
    stats: &NodeStats,
    bitrate_bps: u64,
    viewers: &std::sync::atomic::AtomicU64,
    state: BroadcastState,
) -> BroadcastStatus {
    let (up, _) = rates.sample(stats);
    BroadcastStatus {
        state,
        viewers: viewers.load(std::sync::atomic::Ordering::Relaxed),
        upload_bytes_per_s: up,
        bitrate_bps,
        feeding: stats.footprint.as_ref().map_or(0, |f| f.children as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_comes_from_the_file_name() {
        assert_eq!(title_of("Lake_Day.webm"), "Lake Day");
        assert_eq!(title_of("my-first.stream.webm"), "my first stream");
        assert_eq!(title_of("___.webm"), "My channel");
    }

    #[test]
    fn a_poster_is_a_small_jpeg_or_png_data_url() {
        assert_eq!(
            poster_bytes("data:image/jpeg;base64,/9j/4A==").unwrap(),
            [0xFF, 0xD8, 0xFF, 0xE0]
        );
        for bad in [
            "data:image/gif;base64,R0lG",
            "data:image/png;base64,!!",
            "http://x/y.jpg",
        ] {
            assert_eq!(
                poster_bytes(bad).unwrap_err().kind(),
                crate::api::ErrorKind::LiveRefused
            );
        }
    }

    #[test]
    fn refusals_say_what_to_do() {
        assert!(refusal(&SegmentError::NotEbml).contains("Convert it to WebM"));
        assert!(refusal(&SegmentError::FirstFragmentNotKeyframe).contains("keyframe"));
        assert!(
            refusal(&SegmentError::UnsupportedCodec("V_MPEG4/ISO/AVC".into()))
                .contains("VP8, VP9 or AV1")
        );
        assert!(refusal(&SegmentError::FirstClusterNotKeyframe).contains("keyframe"));
    }
}
