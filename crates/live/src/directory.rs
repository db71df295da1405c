//! A node's side of the store's channel directory ([`marquee_protocol::channels`]): the
//! broadcaster lists its channel and keeps it listed; a viewer joins through the store, checks
//! the record it is handed against the channel's key, and keeps reporting where it stands so
//! the store can hand it (and others) peers with room near the root.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use marquee_protocol::channels::{
    ChannelRecord, ChannelSignal, ChannelSignalKind, ChannelsResponse, JoinResponse, LiveNode,
    ViewerReport, HEARTBEAT_EVERY_S, NOT_CONNECTED, REPORT_EVERY_S,
};
use marquee_protocol::{ClientError, StoreClient};

use crate::net::{Node, PeerAddr};
use crate::relay::MAX_STRIPES;
use crate::segment::LiveSource;

/// Why the directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The store refused or could not be reached.
    #[error("the store: {0}")]
    Store(#[from] ClientError),
    /// The store handed a record that is not the channel's own.
    #[error("the store handed a channel record that its key did not sign: {0}")]
    Forged(String),
    /// A node listening on every interface cannot say where it is reached.
    #[error("listening on {0}: give the address others reach this computer at")]
    NoAddress(SocketAddr),
    /// The store names a relay server that is not a URL a node can use.
    #[error("the store names a live relay that is not a usable address ({0}): tell the store's operator")]
    BadRelay(String),
}

/// The iroh relay server the store's operator runs for live peers behind NAT, if any: a node
/// of this store's channels starts with it ([`crate::net::NodeConfig::relay_url`]).
pub async fn store_relay(client: &StoreClient) -> Result<Option<iroh::RelayUrl>, DirectoryError> {
    relay_of(&client.channels().await?)
}

/// The relay server a directory listing names, checked ([`store_relay`] without the request).
pub fn relay_of(listing: &ChannelsResponse) -> Result<Option<iroh::RelayUrl>, DirectoryError> {
    let Some(url) = &listing.relay else {
        return Ok(None);
    };
    marquee_protocol::channels::check_relay_url(url)
        .map_err(|e| DirectoryError::BadRelay(e.to_string()))?;
    url.parse()
        .map(Some)
        .map_err(|e: iroh::RelayUrlParseError| DirectoryError::BadRelay(format!("{url}: {e}")))
}

/// Unix seconds on this computer's clock.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A signer's clock for signed messages: unix seconds, never the same twice for one key in this
/// process (the store takes a message only if it is newer than the last from the same signer),
/// even across listings: a channel stopped and started again within a second signs its new
/// record after its end.
#[derive(Debug)]
struct Dating {
    signer: [u8; 32],
}

/// The last time each key signed in this process: one entry per key used (a broadcaster's
/// channel, a viewer's node), so a handful.
static LAST_SIGNED: std::sync::Mutex<std::collections::BTreeMap<[u8; 32], i64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

impl Dating {
    fn of(key: &SigningKey) -> Dating {
        Dating {
            signer: key.verifying_key().to_bytes(),
        }
    }

    fn next(&mut self) -> i64 {
        let mut last = LAST_SIGNED.lock().expect("signing clock");
        let at = last
            .get(&self.signer)
            .map_or(unix_now(), |l| unix_now().max(l + 1));
        last.insert(self.signer, at);
        at
    }
}

/// The address peers are told: `advertise`, or the node's own unless it listens on every
/// interface.
pub fn advertised(
    node: &Node,
    advertise: Option<SocketAddr>,
) -> Result<SocketAddr, DirectoryError> {
    match advertise {
        Some(a) => Ok(a),
        None if node.addr().ip().is_unspecified() => Err(DirectoryError::NoAddress(node.addr())),
        None => Ok(node.addr()),
    }
}

/// What a broadcaster lists about its channel.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The title shown in the store.
    pub title: String,
    /// A poster URL, if any.
    pub poster: Option<String>,
    /// Price in cents (0: free).
    pub price_cents: i64,
    /// Stripes of the channel.
    pub stripes: u8,
}

/// A broadcaster's listing: goes live, then keeps the channel listed until [`Broadcast::end`].
pub struct Broadcast {
    client: StoreClient,
    key: SigningKey,
    record: ChannelRecord,
    dating: Dating,
    /// The channel's viewers as the store answered the last heartbeat.
    viewers: Arc<AtomicU64>,
}

impl Broadcast {
    /// Lists the channel of `key` (whose node is `node`, reached at `addr`) on the store the
    /// signed-in `client` speaks to.
    pub async fn go_live(
        client: StoreClient,
        key: SigningKey,
        node: &Node,
        addr: SocketAddr,
        source: &LiveSource,
        bitrate_bps: u64,
        listing: Listing,
    ) -> Result<Broadcast, DirectoryError> {
        let mut dating = Dating::of(&key);
        let record = ChannelRecord {
            channel: hex::encode(key.verifying_key().as_bytes()),
            title: listing.title,
            poster: listing.poster,
            price_cents: listing.price_cents,
            bitrate_bps,
            mime: source.mime(),
            init_segment: base64::engine::general_purpose::STANDARD.encode(source.init_segment()),
            stripes: listing.stripes,
            broadcaster: LiveNode {
                node: hex::encode(node.id()),
                addr: addr.to_string(),
            },
            at: dating.next(),
        };
        client.channel_go_live(&record.clone().sign(&key)).await?;
        Ok(Broadcast {
            client,
            key,
            record,
            dating,
            viewers: Arc::default(),
        })
    }

    /// The channel's viewers as the store counted them at the last heartbeat (updated every
    /// [`HEARTBEAT_EVERY_S`] while [`Broadcast::keep_listed`] runs).
    pub fn viewers(&self) -> Arc<AtomicU64> {
        self.viewers.clone()
    }

    /// Sends a heartbeat every [`HEARTBEAT_EVERY_S`] for ever; lists the channel again if the
    /// store forgot it (it restarted, or missed heartbeats). Errors are retried at the next beat.
    pub async fn keep_listed(&mut self) {
        let mut every = tokio::time::interval(Duration::from_secs(HEARTBEAT_EVERY_S as u64));
        every.tick().await;
        loop {
            every.tick().await;
            let signal =
                ChannelSignal::new(ChannelSignalKind::Heartbeat, &self.key, self.dating.next());
            match self
                .client
                .channel_signal(&self.record.channel, ChannelSignalKind::Heartbeat, &signal)
                .await
            {
                Err(ClientError::Refused { status: 404, .. }) => {
                    self.record.at = self.dating.next();
                    let _ = self
                        .client
                        .channel_go_live(&self.record.clone().sign(&self.key))
                        .await;
                }
                Err(e) => eprintln!("marquee-live: heartbeat: {e}"),
                Ok(viewers) => self.viewers.store(viewers, Ordering::Relaxed),
            }
        }
    }

    /// Ends the channel: it is no longer listed.
    pub async fn end(mut self) -> Result<(), DirectoryError> {
        let signal = ChannelSignal::new(ChannelSignalKind::End, &self.key, self.dating.next());
        self.client
            .channel_signal(&self.record.channel, ChannelSignalKind::End, &signal)
            .await?;
        Ok(())
    }
}

/// A viewer's membership: joined through the store, reporting while it watches.
pub struct Membership {
    client: StoreClient,
    channel: VerifyingKey,
    node_key: SigningKey,
    addr: SocketAddr,
    stripes: u8,
    dating: Dating,
    /// The channel's viewers as the directory last counted them.
    viewers: Arc<AtomicU64>,
}

/// How long a join refused for its address's rate keeps trying (the store lets one more in
/// every 2 s once 30 joined from one address).
pub const JOIN_WAIT: Duration = Duration::from_secs(60);

/// Why [`Membership::keep_reporting`] stopped: the channel is no longer listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelEnded;

impl Membership {
    /// Joins `channel` (of `stripes` stripes, as the node was started with) through the
    /// store: reports the node (whose secret is `node_key`, reached at `addr`), checks the
    /// record handed back against the channel's key, and gives the node the peers handed with
    /// it. Answers the record too: its init segment starts the player. A join refused for its
    /// address's rate is tried again every 2 s for up to [`JOIN_WAIT`].
    pub async fn join(
        client: StoreClient,
        channel: VerifyingKey,
        stripes: u8,
        node: &Node,
        node_key: SigningKey,
        addr: SocketAddr,
    ) -> Result<(Membership, ChannelRecord), DirectoryError> {
        let dating = Dating::of(&node_key);
        let mut m = Membership {
            client,
            channel,
            node_key,
            addr,
            stripes: stripes.clamp(1, MAX_STRIPES as u8),
            dating,
            viewers: Arc::default(),
        };
        // Joins from one address are rate limited (node ids cost nothing, addresses do): many
        // viewers behind one address, or many processes on one machine, wait their turn.
        let deadline = tokio::time::Instant::now() + JOIN_WAIT;
        let joined = loop {
            match m.report(node, None).await {
                Err(DirectoryError::Store(ClientError::Refused { status: 429, .. }))
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                other => break other?,
            }
        };
        Ok((m, joined.channel.record))
    }

    /// Reports where the node stands, and hands it the peers the store answers with.
    async fn report(
        &mut self,
        node: &Node,
        need: Option<u8>,
    ) -> Result<JoinResponse, DirectoryError> {
        let have = node.stats().have;
        let stripes = usize::from(self.stripes);
        let (depth, open) = match &have {
            Some(h) => (h.depth[..stripes].to_vec(), h.open),
            None => (vec![NOT_CONNECTED; stripes], 0),
        };
        let report = ViewerReport {
            channel: hex::encode(self.channel.as_bytes()),
            viewer: LiveNode {
                node: hex::encode(node.id()),
                addr: self.addr.to_string(),
            },
            depth,
            open,
            need_stripe: need.filter(|s| usize::from(*s) < stripes),
            at: self.dating.next(),
        }
        .sign(&self.node_key);
        let joined = self.client.channel_viewer(&report).await?;
        let key = joined
            .channel
            .verify()
            .map_err(|e| DirectoryError::Forged(e.to_string()))?;
        if key != self.channel {
            return Err(DirectoryError::Forged("another channel's record".into()));
        }
        self.viewers.store(joined.viewers, Ordering::Relaxed);
        let peers: Vec<PeerAddr> = joined
            .peers
            .iter()
            .filter_map(|p| format!("{}@{}", p.node, p.addr).parse().ok())
            .collect();
        node.add_peers(peers);
        Ok(joined)
    }

    /// The channel's viewers as the directory last counted them (updated at every report).
    pub fn viewers(&self) -> Arc<AtomicU64> {
        self.viewers.clone()
    }

    /// Reports every [`REPORT_EVERY_S`], and at once (at most once a second) when the relay
    /// asks for peers, until the store no longer lists the channel (its broadcaster ended it,
    /// or stopped sending heartbeats). Other errors are retried at the next report.
    pub async fn keep_reporting(&mut self, node: &Node) -> ChannelEnded {
        let mut requests = node.peer_requests();
        let mut node_running = true;
        loop {
            let need = tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(REPORT_EVERY_S as u64)) => None,
                changed = requests.changed(), if node_running => match changed {
                    Ok(()) => requests.borrow_and_update().1,
                    // The node stopped: keep the plain reports until the caller stops too.
                    Err(_) => {
                        node_running = false;
                        None
                    }
                },
            };
            match self.report(node, need).await {
                Err(DirectoryError::Store(ClientError::Refused { status: 404, .. })) => {
                    return ChannelEnded
                }
                Err(e) => eprintln!("marquee-live: report to the directory: {e}"),
                Ok(_) => {}
            }
            // The store takes one report a second from a node.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
