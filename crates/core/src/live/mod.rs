//! Live channels in the app: the channels the store's directory lists, and watching one.
//!
//! Watching joins the channel's relay as a viewer node ([`marquee_live::net`]): every viewer
//! relays what it receives to others, so the core runs a full node, not a client. The node
//! verifies every chunk against the channel's key before it plays or forwards it; the core
//! frames the verified chunks in playout order ([`feed`]) and hands them to the window's player
//! through the loopback playback server, whose `<video>` plays them through Media Source
//! Extensions. Where the viewer stands (its delay behind live, what it gives back, whether the
//! channel is still on) goes to the window once a second.
//!
//! One channel at a time: watching another leaves the first, and leaving stops the node and
//! ends the page's stream. Going live from this computer is [`broadcast`]'s.

mod access;
pub mod broadcast;
pub mod feed;
mod rates;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{SigningKey, VerifyingKey};
use marquee_live::directory::{self, Membership};
use marquee_live::net::{Clock, Node, NodeConfig, NodeStats, PlayerEvent, Role};
use marquee_protocol::StoreClient;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::api::{LiveChannel, LiveSession, LiveState, LiveStatus};
use crate::art::Art;
use crate::playback::PlaybackServer;
use crate::{Core, Error, Result};

use access::{directory_error, StoreSide};
use feed::Framer;
use rates::Rates;

/// How much of its line a viewer offers to relay, as a multiple of the channel's bitrate. The
/// node measures what its line bears and offers less when sends queue up.
const UPLOAD_X: f64 = 1.5;

/// Frames the page may fall behind by before the feed drops media (and resets at the next
/// keyframe): about 16 s of a 1 Mbit/s channel in 8 KiB chunks.
const FEED_FRAMES: usize = 256;

/// No verified chunk for this long once playing: the window says the stream is waiting.
const WAITING_AFTER: Duration = Duration::from_secs(3);

/// What the window is told, once a second while watching.
pub type OnStatus = Box<dyn Fn(LiveStatus) + Send + Sync>;

/// Live channels: the directory's listing, the channel being watched, and going live.
pub(crate) struct Live {
    side: StoreSide,
    art: Arc<Art>,
    server: PlaybackServer,
    watching: Mutex<Option<Watching>>,
    /// Going live from this computer.
    pub(crate) broadcaster: broadcast::Broadcaster,
}

/// The channel being watched: its node runs in a task of its own until told to stop.
struct Watching {
    session: String,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

impl Live {
    pub(crate) fn new(
        store: StoreClient,
        art: Arc<Art>,
        server: PlaybackServer,
        store_url: &str,
        data_dir: std::path::PathBuf,
    ) -> Live {
        let side = StoreSide::new(store, store_url);
        Live {
            broadcaster: broadcast::Broadcaster::new(side.clone(), data_dir),
            side,
            art,
            server,
            watching: Mutex::new(None),
        }
    }

    /// Stops watching, if anything is being watched: the node leaves the relay and the page's
    /// stream ends.
    async fn leave(&self) {
        let Some(w) = self.watching.lock().await.take() else {
            return;
        };
        let _ = w.stop.send(());
        let _ = w.done.await;
        self.server.close_live(&w.session);
    }
}

/// A channel id from the page: the channel's public key in hex.
fn channel_key(channel: &str) -> Result<VerifyingKey> {
    hex::decode(channel)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .ok_or(Error::LiveEnded)
}

impl Core {
    /// The channels live now, in the store's directory's order (most watched first).
    pub async fn live_channels(&self) -> Result<Vec<LiveChannel>> {
        let channels: Vec<LiveChannel> = self
            .live
            .side
            .listing()
            .await?
            .channels
            .into_iter()
            .map(|c| LiveChannel {
                poster_url: c
                    .poster
                    .as_deref()
                    .and_then(|p| p.strip_prefix(self.live.side.store.base()))
                    .filter(|path| path.starts_with('/'))
                    .map(|path| self.live.art.url(path)),
                channel: c.channel,
                title: c.title,
                viewers: c.viewers,
                started_at: c.started_at,
                price_cents: c.price_cents,
                bitrate_bps: c.bitrate_bps,
            })
            .collect();
        Ok(channels)
    }

    /// Starts watching `channel` (leaving any other): joins its relay through the store's
    /// directory and answers where the window's player reads the verified stream from.
    /// `on_status` hears where the viewer stands once a second until it stops watching.
    pub async fn live_watch(&self, channel: &str, on_status: OnStatus) -> Result<LiveSession> {
        let key = channel_key(channel)?;
        self.live.leave().await;
        // One request for the listing and the relay server: every round trip delays the
        // first frame.
        let directory = self.live.side.listing().await?;
        let listing = directory
            .channels
            .iter()
            .find(|c| c.channel == channel)
            .ok_or(Error::LiveEnded)?;
        if listing.price_cents > 0 {
            return Err(Error::LiveUnavailable(
                "paid channels cannot be watched in this version of Marquee yet".into(),
            ));
        }
        let relay = directory::relay_of(&directory).map_err(directory_error)?;
        let (listen, advertise) = self.live.side.addresses().await?;
        let mut config = NodeConfig::new(key, Role::Viewer { upload_x: UPLOAD_X }, listen);
        config.relay_url = relay;
        config.loopback_only = self.live.side.local;
        // The node's key signs its reports to the directory.
        let node_key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        config.secret_key = Some(node_key.to_bytes());
        let started = Instant::now();
        let mut node = Node::start(config.clone(), Clock::new())
            .await
            .map_err(|e| Error::LiveUnavailable(format!("the relay could not start: {e}")))?;
        let joined = async {
            let addr = directory::advertised(&node, advertise).map_err(directory_error)?;
            Membership::join(
                self.store.clone(),
                key,
                config.stripes,
                &node,
                node_key,
                addr,
            )
            .await
            .map_err(directory_error)
        }
        .await;
        let (membership, record) = match joined {
            Ok(j) => j,
            Err(e) => {
                node.shutdown().await;
                return Err(e);
            }
        };
        use base64::Engine as _;
        let init = base64::engine::general_purpose::STANDARD
            .decode(&record.init_segment)
            .map_err(|_| Error::LiveUnavailable("the channel's init segment is damaged".into()))?;
        let player = node.take_player().expect("a fresh node's player feed");
        let (feed_tx, feed_rx) = mpsc::channel(FEED_FRAMES);
        feed_tx
            .try_send(feed::init_frame(&init))
            .expect("room for the first frame");
        let session = hex::encode(rand::random::<[u8; 16]>());
        let stream_url = self.live.server.open_live(&session, feed_rx);
        let (stop_tx, stop_rx) = oneshot::channel();
        let watching = Watch {
            node,
            membership,
            player,
            feed: feed_tx,
            on_status,
            started,
        };
        let done = tokio::spawn(watching.run(stop_rx));
        *self.live.watching.lock().await = Some(Watching {
            session: session.clone(),
            stop: stop_tx,
            done,
        });
        tracing::info!(channel = %channel, "watching a live channel");
        Ok(LiveSession {
            session,
            channel: channel.to_owned(),
            title: record.title,
            mime: record.mime,
            stream_url,
            bitrate_bps: record.bitrate_bps,
        })
    }

    /// Stops watching: the node leaves the relay cleanly and the player's stream ends.
    pub async fn live_leave(&self) {
        self.live.leave().await;
    }
}

/// The task that runs a watched channel's node.
struct Watch {
    node: Node,
    membership: Membership,
    player: mpsc::Receiver<PlayerEvent>,
    feed: mpsc::Sender<bytes::Bytes>,
    on_status: OnStatus,
    started: Instant,
}

impl Watch {
    async fn run(self, mut stop: oneshot::Receiver<()>) {
        let Watch {
            node,
            mut membership,
            mut player,
            feed,
            on_status,
            started,
        } = self;
        let mut framer = Framer::default();
        let mut last_play: Option<Instant> = None;
        let viewers = membership.viewers();
        let mut every = tokio::time::interval(Duration::from_secs(1));
        let mut rates = Rates::default();
        let ended = {
            // Pinned once: restarting it at every chunk would restart its timer too.
            let reporting = membership.keep_reporting(&node);
            tokio::pin!(reporting);
            loop {
                tokio::select! {
                    _ = &mut stop => break false,
                    _ = &mut reporting => break true,
                    event = player.recv() => {
                        let Some(event) = event else { break false };
                        if matches!(event, PlayerEvent::Play(_)) {
                            if last_play.is_none() {
                                tracing::info!(after_ms = started.elapsed().as_millis() as u64, "first live chunk played");
                            }
                            last_play = Some(Instant::now());
                        }
                        for frame in framer.frames(&event) {
                            if feed.try_send(frame).is_err() {
                                // The page is not reading (or reads too slowly): the segment is
                                // broken for it, so resume at the next keyframe.
                                framer.skip();
                                break;
                            }
                        }
                    }
                    _ = every.tick() => {
                        let state = match last_play {
                            None => LiveState::Joining,
                            Some(at) if at.elapsed() > WAITING_AFTER => LiveState::Waiting,
                            Some(_) => LiveState::Playing,
                        };
                        let count = viewers.load(std::sync::atomic::Ordering::Relaxed);
                        on_status(status(&mut rates, &node.stats(), state, count));
                    }
                }
            }
        };
        let last = if ended {
            tracing::info!("the live channel ended");
            LiveState::Ended
        } else {
            LiveState::Stopped
        };
        on_status(status(&mut rates, &node.stats(), last, 0));
        drop(feed);
        node.shutdown().await;
    }
}

/// Where the viewer stands, for the window.
fn status(rates: &mut Rates, stats: &NodeStats, state: LiveState, viewers: u64) -> LiveStatus {
    let (up, down) = rates.sample(stats);
    LiveStatus {
        state,
        delay_ms: stats.relay.delay_ms,
        upload_bytes_per_s: up,
        download_bytes_per_s: down,
        feeding: stats.footprint.as_ref().map_or(0, |f| f.children as u32),
        viewers,
        played: stats.relay.played,
        missed: stats.relay.missed,
    }
}
