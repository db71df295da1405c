//! The network layer: a [`Relay`] over real QUIC connections with iroh.
//!
//! A [`Node`] is one broadcaster or viewer: an iroh endpoint (an Ed25519 node id, one UDP
//! socket) and a task that owns the node's [`Relay<NodeId>`]. The task ticks the relay every
//! 50 ms on a [`Clock`], feeds it every message that arrives, sends what it asks to send, and
//! tells it when a neighbour's connection is lost.
//!
//! # Offline by construction
//! The endpoint is built from [`presets::Minimal`], which starts from an empty builder: relays
//! disabled, no address lookup service, no port mapping (the `portmapper` feature is off). It
//! binds only the address it is given (the tests use `127.0.0.1:0`; on a LAN, `0.0.0.0:port` or
//! the machine's address) and dials peers only at addresses it was told. Nothing here needs the internet; hole punching and relays come when
//! the store's directory does. (iroh still watches the machine's interfaces: netlink queries,
//! and a UDP `connect` to 10.254.254.254:1 to learn the default route's local address, which
//! sends no datagram. Traced with strace: every datagram goes to 127.0.0.1.)
//!
//! # Connections and framing
//! One QUIC connection per pair of neighbours, ALPN [`ALPN`]. Each side opens one long-lived
//! unidirectional stream on it and writes every frame there, prefixed by its length (`u32`,
//! big-endian), so control messages and chunks from one node to another arrive in the order they
//! were sent, with no stream set-up per message. (QUIC datagrams would avoid head-of-line
//! blocking but cannot carry an 8 KiB chunk; the relay's pull repair already covers a chunk that
//! is late.) A frame is either a relay [`Message`] in the [`wire`](crate::wire) encoding (first
//! byte below [`NET_TAG_BASE`]) or one of this layer's own frames:
//!
//! | tag | frame | body |
//! | --- | --- | --- |
//! | `0x40` | hello | the sender's listening address |
//! | `0x41` | addresses | count (1), then count × (node id (32), address) |
//! | `0x42` | ask for addresses | nothing |
//!
//! An address is a family byte (4 or 6), the IP (4 or 16 bytes) and the port (2).
//!
//! If both sides dial each other at once there are two connections for a while: both sides keep
//! reading from both and send on the one dialed by the smaller node id; the other is closed after
//! a grace period, so nothing queued on it is lost.
//!
//! # Addresses
//! The relay names peers by node id only ([`Message::Refuse`] suggests peers, [`Message::Accept`]
//! and [`Message::Path`] carry paths). The relay stays as it is; addresses live here, in an
//! address book of every peer this node heard of:
//! - a node starts with the peers it is given by hand ([`NodeConfig::peers`]);
//! - each side of a new connection first sends a hello with its listening address (the node id
//!   is the one QUIC's TLS handshake authenticated);
//! - before a relay message that names peers, the sender sends the addresses of those the
//!   receiver was not told yet, on the same stream, so they are known by the time the message is
//!   handled;
//! - when the relay asks for peers ([`Event::NeedPeers`]) the node offers it a few from its book
//!   and asks its neighbours for theirs (answered with at most [`ADDRS_PER_FRAME`]).
//!
//! A message for a peer whose address is unknown is dropped and the relay is told the peer is
//! gone; one for a peer being dialed waits (a few dozen at most) until the connection is up.
//!
//! # Bounds
//! Node ids are free to make and addresses free to name, so nothing a peer sends grows this
//! layer without limit: the address book holds [`BOOK_MAX`] peers (past it, only peers that
//! connect get in), at most [`MAX_INCOMING`] incoming connections are open or in their
//! handshake at once and [`HANDSHAKES_PER_S`] start a second (more are refused before the
//! handshake), a connection's queue holds [`SEND_QUEUE`]
//! frames and drops a chunk that waited [`QUEUE_MAX_AGE`], and state for peers that are
//! neither connected nor dialed is dropped at the next tick.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::IntoFuture;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::VerifyingKey;
use iroh::endpoint::{presets, Connection, QuicTransportConfig};
use iroh::{Endpoint, EndpointAddr, PublicKey, RelayMode, RelayUrl, SecretKey};
use rand::seq::SliceRandom;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::chunk::{ChannelSigner, Chunk, SegmentInfo};
use crate::relay::{
    Capacity, Event, Footprint, Have, Message, Relay, RelayConfig, RelayStats, PLAYOUT_MARGIN_MS,
};
use crate::segment::LiveSource;
use crate::wire::{self, MAX_MESSAGE_LEN};

/// The ALPN of the live relay protocol, version 1.
pub const ALPN: &[u8] = b"marquee/live/1";

/// A node's id: its iroh endpoint id, an Ed25519 public key.
pub type NodeId = [u8; 32];

/// Frame tags at or above this belong to the network layer, not to the relay.
pub const NET_TAG_BASE: u8 = 0x40;
const TAG_HELLO: u8 = 0x40;
const TAG_ADDRS: u8 = 0x41;
const TAG_ASK_ADDRS: u8 = 0x42;

/// The most addresses in one addresses frame.
pub const ADDRS_PER_FRAME: usize = 32;

/// How often the relay is ticked.
const TICK: Duration = Duration::from_millis(50);
/// Frames queued for one connection before new ones are dropped: a link this far behind is
/// better served by the relay's repair (and by a new parent) than by a growing queue.
pub const SEND_QUEUE: usize = 256;
/// A chunk that waited this long in a connection's queue is dropped instead of sent: it would
/// arrive after its time (the playout margin is 1.5 s), and the receiver pulls it elsewhere.
pub const QUEUE_MAX_AGE: Duration = Duration::from_secs(2);
/// The most peers in the address book. Addresses come from peers (a frame names up to 32), so
/// without a bound a peer could grow it for ever; past it, only peers that connect are added.
pub const BOOK_MAX: usize = 1_024;
/// The most connections accepted at once (a viewer uses a few dozen). Node ids cost nothing
/// to make: past this, incoming connections are refused before their handshake.
pub const MAX_INCOMING: usize = 128;
/// Frames held for a peer while it is being dialed.
const PENDING_MAX: usize = 64;
/// A dial that has not connected by then has failed.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// A peer whose dial failed or whose connection was lost is not dialed, nor offered to the
/// relay, for this long (it may still connect to us).
const FAILED_FOR_MS: u64 = 10_000;
/// Neighbours are asked for addresses at most this often.
const ASK_EVERY_MS: u64 = 2_000;
/// A duplicate connection is closed this long after the preferred one is up.
const DUPLICATE_GRACE: Duration = Duration::from_secs(2);
/// A silent connection is closed after this long; keep-alives go out every [`KEEP_ALIVE`], so
/// only a peer that is gone (killed, unplugged) is silent this long. Loopback once had 1 s
/// here (and 250 ms keep-alives), which cut dead neighbours fastest but would also cut a Wi-Fi
/// link that pauses for a second and comes back. The relay does not need the connection to
/// learn that a neighbour died: a parent that sent no [`Have`](crate::relay::Have) for 1.5 s is
/// left, a child silent for 1.5 s gives up its slot to a joiner, any neighbour silent for
/// 2.5 s is forgotten. So the transport's timeouts are in seconds.
const IDLE_TIMEOUT: Duration = Duration::from_secs(3);
/// Keep-alive interval on every connection.
const KEEP_ALIVE: Duration = Duration::from_secs(1);

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The endpoint could not be bound.
    #[error("cannot bind the endpoint: {0}")]
    Bind(String),
    /// A peer address did not parse.
    #[error("bad peer address {0:?}: expected <node-id-hex>@<ip:port>")]
    PeerAddr(String),
}

/// A monotonic clock in milliseconds since the Unix epoch: read once from the wall clock at
/// start, then advanced by [`Instant`], so it never jumps back while it stays comparable with
/// the capture times that the broadcaster signs (on one machine, or machines in sync).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: u64,
    start: Instant,
}

impl Clock {
    /// A clock starting at the wall clock's current time.
    pub fn new() -> Clock {
        let base_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Clock {
            base_ms,
            start: Instant::now(),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.base_ms + self.start.elapsed().as_millis() as u64
    }

    /// Sleeps until the clock reads `at_ms` (returns at once if it already does).
    pub async fn sleep_until(&self, at_ms: u64) {
        let now = self.now_ms();
        if at_ms > now {
            tokio::time::sleep(Duration::from_millis(at_ms - now)).await;
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// A peer's node id and where it listens: `<node-id-hex>@<ip:port>` as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr {
    /// The node id.
    pub id: NodeId,
    /// Its UDP socket.
    pub addr: SocketAddr,
}

impl FromStr for PeerAddr {
    type Err = NetError;

    fn from_str(s: &str) -> Result<Self, NetError> {
        let bad = || NetError::PeerAddr(s.to_string());
        let (id, addr) = s.split_once('@').ok_or_else(bad)?;
        let id: NodeId = hex::decode(id)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(bad)?;
        Ok(PeerAddr {
            id,
            addr: addr.parse().map_err(|_| bad())?,
        })
    }
}

impl std::fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", hex::encode(self.id), self.addr)
    }
}

/// Whether the node is the channel's broadcaster or a viewer.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// The root of every stripe; publishes chunks with [`Node::publish`].
    Broadcaster,
    /// A viewer whose upload line is `upload_x` times the channel's bitrate.
    Viewer {
        /// Upload as a multiple of the bitrate (unknown: 1.5).
        upload_x: f64,
    },
}

/// How to start a [`Node`].
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The channel's public key: every chunk is verified against it.
    pub channel: VerifyingKey,
    /// Broadcaster or viewer.
    pub role: Role,
    /// The UDP address to bind (`127.0.0.1:0` in tests).
    pub listen: SocketAddr,
    /// The node's secret key (its id is the public half); `None` makes a new one.
    pub secret_key: Option<[u8; 32]>,
    /// Peers to start from (the broadcaster, a few viewers).
    pub peers: Vec<PeerAddr>,
    /// Stripes of the channel (the simulator's 4).
    pub stripes: u8,
    /// The channel's bitrate, to scale the repair budget.
    pub bitrate_bps: u64,
    /// Keep and dial only loopback addresses. [`NodeConfig::new`] sets it when the node listens
    /// on a loopback address (the tests): such a node cannot reach any other, and must not be
    /// steered to. A node listening on a LAN address, or on every interface (`0.0.0.0:port`),
    /// takes any address a peer could listen at.
    pub loopback_only: bool,
    /// A viewer's playout margin over the worst delay it saw while starting
    /// ([`RelayConfig::playout_margin_ms`]); [`PLAYOUT_MARGIN_MS`] unless changed.
    pub playout_margin_ms: u64,
    /// The iroh relay server the store's operator runs for peers behind NAT (the store names
    /// it in its channel directory). Every node of the channel keeps a connection to it and
    /// reaches any peer through it while a direct path is found or when none can be.
    /// `None` (the default): direct addresses only.
    pub relay_url: Option<RelayUrl>,
}

impl NodeConfig {
    /// A node of `channel` listening on `listen`, with the defaults: 4 stripes, 1 Mbit/s,
    /// loopback only if `listen` is, no peers yet.
    pub fn new(channel: VerifyingKey, role: Role, listen: SocketAddr) -> NodeConfig {
        NodeConfig {
            channel,
            role,
            listen,
            secret_key: None,
            peers: Vec::new(),
            stripes: 4,
            bitrate_bps: 1_000_000,
            loopback_only: listen.ip().is_loopback(),
            playout_margin_ms: PLAYOUT_MARGIN_MS,
            relay_url: None,
        }
    }
}

/// What the node hands the player, in order.
#[derive(Debug, Clone)]
pub enum PlayerEvent {
    /// Playback starts: the first chunk plays at `at_ms`, `delay_ms` behind capture.
    Started {
        /// When the first frame shows ([`Clock`] ms).
        at_ms: u64,
        /// Playout delay behind capture.
        delay_ms: u64,
    },
    /// The next verified chunk.
    Play(Chunk),
    /// The playout delay changed: stall, or play a little faster, until `delay_ms` behind
    /// capture.
    Delay {
        /// The new playout delay behind capture, ms.
        delay_ms: u64,
    },
    /// Chunks `from..to` missed their time: jump to the next keyframe.
    Skipped {
        /// First chunk skipped.
        from: u64,
        /// One past the last.
        to: u64,
    },
}

/// What a node counted: its relay's figures and the network layer's.
#[derive(Debug, Clone, Default)]
pub struct NodeStats {
    /// The relay's counters.
    pub relay: RelayStats,
    /// Bytes written to QUIC streams (frames and their length prefixes; QUIC's own overhead
    /// is not counted).
    pub bytes_sent: u64,
    /// Bytes of frames received.
    pub bytes_received: u64,
    /// Frames dropped because a connection's queue was full or its peer unreachable.
    pub frames_dropped: u64,
    /// Frames that did not decode (the connection is closed when one arrives).
    pub malformed: u64,
    /// Peers whose last connection closed or whose dial failed.
    pub lost: u64,
    /// Open connections.
    pub connections: usize,
    /// The relay's neighbours.
    pub neighbours: usize,
    /// Peers in the address book, at most [`BOOK_MAX`].
    pub known_peers: usize,
    /// Peers the network layer keeps state for (connected, dialed, or with frames waiting).
    pub peer_states: usize,
    /// Chunks dropped from a connection's queue after [`QUEUE_MAX_AGE`].
    pub stale_dropped: u64,
    /// What the relay holds ([`Relay::footprint`]); `None` before the first tick.
    pub footprint: Option<Footprint>,
    /// Where the relay stands: its depth and room in each stripe, what a viewer reports to the
    /// channel directory; `None` before the first tick.
    pub have: Option<Have>,
}

/// One line of figures for the command line and the tests (serialised as JSON).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Report {
    /// The node's id, hex.
    pub node: String,
    /// Chunks played on time.
    pub played: u64,
    /// Chunks that missed their time.
    pub missed: u64,
    /// Chunks played on time more than ten seconds after the first frame (steady state).
    pub played_later: u64,
    /// Chunks missed more than ten seconds after the first frame.
    pub missed_later: u64,
    /// Current playout delay behind capture, ms.
    pub delay_ms: Option<u64>,
    /// Mean lag behind capture over the chunks played, ms.
    pub lag_ms: Option<u64>,
    /// From joining to the first frame, ms.
    pub startup_ms: Option<u64>,
    /// Bytes sent (frames).
    pub bytes_sent: u64,
    /// Bytes received (frames).
    pub bytes_received: u64,
    /// Chunks refused as forged or altered.
    pub refused: u64,
    /// Distinct chunks received.
    pub received: u64,
    /// Chunks received by pulling.
    pub repaired: u64,
    /// Chunks received more than once.
    pub duplicates: u64,
    /// 95th percentile of the hops chunks took from the broadcaster.
    pub hops_p95: Option<u64>,
    /// The relay's neighbours.
    pub neighbours: usize,
    /// Open connections.
    pub connections: usize,
    /// Joins sent to would-be parents.
    pub joins: u64,
    /// Times a parent was lost.
    pub orphaned: u64,
    /// Times the playout delay grew after repeated misses.
    pub rebuffers: u64,
    /// Frames dropped (a full queue, or no address).
    pub dropped: u64,
    /// Peers whose last connection closed or whose dial failed.
    pub lost: u64,
    /// Whether this is the last report (the node is leaving).
    pub last: bool,
}

impl NodeStats {
    /// The figures as one [`Report`].
    pub fn report(&self, node: NodeId, last: bool) -> Report {
        let r = &self.relay;
        let total: u64 = r.hops.iter().sum();
        let hops_p95 = (total > 0).then(|| {
            let mut seen = 0;
            let target = total.saturating_mul(95).div_ceil(100);
            r.hops
                .iter()
                .position(|&n| {
                    seen += n;
                    seen >= target
                })
                .unwrap_or(r.hops.len() - 1) as u64
        });
        Report {
            node: hex::encode(node),
            played: r.played,
            missed: r.missed,
            played_later: r.played_later,
            missed_later: r.missed_later,
            delay_ms: r.delay_ms,
            lag_ms: (r.played > 0).then(|| r.lag_ms_sum / r.played),
            startup_ms: r.started_at.map(|s| s.saturating_sub(r.joined_at)),
            bytes_sent: self.bytes_sent,
            bytes_received: self.bytes_received,
            refused: r.refused,
            received: r.received,
            repaired: r.repaired,
            duplicates: r.duplicates,
            hops_p95,
            neighbours: self.neighbours,
            connections: self.connections,
            joins: r.tree.joins,
            orphaned: r.tree.orphaned,
            rebuffers: r.rebuffers,
            dropped: self.frames_dropped,
            lost: self.lost,
            last,
        }
    }
}

enum Command {
    Publish(Chunk),
    AddPeers(Vec<PeerAddr>),
    Shutdown(oneshot::Sender<()>),
}

/// A running broadcaster or viewer. Dropping it makes the node say goodbye and close in the
/// background; [`Node::shutdown`] does the same and waits until it is done.
pub struct Node {
    id: NodeId,
    addr: SocketAddr,
    commands: mpsc::UnboundedSender<Command>,
    stats: watch::Receiver<NodeStats>,
    peer_requests: watch::Receiver<(u64, Option<u8>)>,
    player: Option<mpsc::Receiver<PlayerEvent>>,
    task: JoinHandle<()>,
}

impl Node {
    /// Binds the endpoint and starts the node's task.
    pub async fn start(config: NodeConfig, clock: Clock) -> Result<Node, NetError> {
        let secret = config
            .secret_key
            .map(|k| SecretKey::from_bytes(&k))
            .unwrap_or_else(SecretKey::generate);
        let transport = QuicTransportConfig::builder()
            .max_idle_timeout(Some(
                IDLE_TIMEOUT
                    .try_into()
                    .map_err(|e| NetError::Bind(format!("{e}")))?,
            ))
            .keep_alive_interval(KEEP_ALIVE)
            .build();
        // `Minimal` is the empty builder plus a crypto provider: relays disabled, no address
        // lookup. Only the given socket is bound (the builder's defaults would bind 0.0.0.0 and
        // [::]). A relay only when the store's operator runs one: never n0's public relays.
        let relay_mode = match &config.relay_url {
            // No QUIC address discovery: the relay is reached over HTTP(S) only, so a relay
            // server run without its QUIC port works too.
            Some(url) => RelayMode::Custom(iroh::RelayConfig::new(url.clone(), None).into()),
            None => RelayMode::Disabled,
        };
        let endpoint = Endpoint::builder(presets::Minimal)
            .relay_mode(relay_mode)
            .clear_ip_transports()
            .bind_addr(config.listen)
            .map_err(|e| NetError::Bind(format!("{e}")))?
            .secret_key(secret)
            .alpns(vec![ALPN.to_vec()])
            .transport_config(transport)
            .bind()
            .await
            .map_err(|e| NetError::Bind(format!("{e}")))?;
        let addr = endpoint
            .bound_sockets()
            .into_iter()
            .find(|a| a.is_ipv4() == config.listen.is_ipv4())
            .ok_or_else(|| NetError::Bind("no socket bound".into()))?;
        let id = *endpoint.id().as_bytes();

        let now = clock.now_ms();
        let relay = match config.role {
            Role::Broadcaster => Relay::broadcaster(
                id,
                config.channel,
                RelayConfig::broadcaster(config.stripes).for_bitrate(config.bitrate_bps),
                now,
            ),
            Role::Viewer { upload_x } => Relay::viewer(
                id,
                config.channel,
                RelayConfig {
                    playout_margin_ms: config.playout_margin_ms,
                    ..RelayConfig::viewer(config.stripes, upload_x).for_bitrate(config.bitrate_bps)
                },
                // Home stripes spread evenly over viewers: ids are uniformly random.
                id[0] % config.stripes.max(1),
                now,
            ),
        };
        let capacity = match config.role {
            Role::Broadcaster => None,
            Role::Viewer { .. } => Some(Capacity::new(relay.children().1, now)),
        };
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (stats_tx, stats) = watch::channel(NodeStats::default());
        let (peer_requests_tx, peer_requests) = watch::channel((0, None));
        let (player_tx, player) = mpsc::channel(4096);
        let (events_tx, events_rx) = mpsc::channel(1024);
        let mut task = Task {
            me: id,
            my_addr: addr,
            endpoint: endpoint.clone(),
            relay,
            clock,
            book: BTreeMap::new(),
            failed: HashMap::new(),
            peers: HashMap::new(),
            events: events_tx,
            player: player_tx,
            stats_tx,
            peer_requests: peer_requests_tx,
            sent: Arc::new(AtomicU64::new(0)),
            stale: Arc::new(AtomicU64::new(0)),
            waited: Arc::new(AtomicU64::new(0)),
            capacity,
            next_capacity: now + 1_000,
            seen_at: HashMap::new(),
            received: 0,
            dropped: 0,
            malformed: 0,
            lost: 0,
            last_ask: 0,
            loopback_only: config.loopback_only,
            relay_url: config.relay_url.clone(),
            unreachable: Vec::new(),
        };
        for p in &config.peers {
            if p.id != id && task.allowed(p.addr) {
                task.book.insert(p.id, p.addr);
            }
        }
        task.relay.add_peers(config.peers.iter().map(|p| p.id), now);
        let accept_events = task.events.clone();
        tokio::spawn(accept_loop(endpoint, accept_events));
        let task = tokio::spawn(task.run(command_rx, events_rx));
        Ok(Node {
            id,
            addr,
            commands,
            stats,
            peer_requests,
            player: Some(player),
            task,
        })
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The socket it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its id and address, as other nodes are given it.
    pub fn peer_addr(&self) -> PeerAddr {
        PeerAddr {
            id: self.id,
            addr: self.addr,
        }
    }

    /// The broadcaster's side: a new signed chunk is ready to go.
    pub fn publish(&self, chunk: Chunk) {
        let _ = self.commands.send(Command::Publish(chunk));
    }

    /// Peers handed by the channel directory: the node adds them to its address book and
    /// greets them.
    pub fn add_peers(&self, peers: Vec<PeerAddr>) {
        let _ = self.commands.send(Command::AddPeers(peers));
    }

    /// Each time the relay asks for more peers: a count that goes up, and the stripe it needs
    /// them in (if that is why). A directory client waits on this to ask the store at once
    /// rather than at its next report.
    pub fn peer_requests(&self) -> watch::Receiver<(u64, Option<u8>)> {
        self.peer_requests.clone()
    }

    /// The latest figures (updated every tick).
    pub fn stats(&self) -> NodeStats {
        self.stats.borrow().clone()
    }

    /// The player's feed of verified chunks, in order; `None` once taken. A feed nobody reads
    /// fills up and then drops events: it never slows the relay down.
    pub fn take_player(&mut self) -> Option<mpsc::Receiver<PlayerEvent>> {
        self.player.take()
    }

    /// Says goodbye to the neighbours, lets the goodbyes go out and closes the endpoint.
    pub async fn shutdown(self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
        let _ = self.task.await;
    }
}

/// Paces a file as a live channel on a broadcaster node, for ever (or until the task is
/// dropped): segment `i` starts when its time comes, and its chunks are released over its
/// duration, chunk `k` of `n` at `start + duration × (k + 1) / n`
/// ([`Announcement::available_ms`](crate::chunk::Announcement::available_ms)), as a camera
/// would produce them. The capture time signed is the [`Clock`]'s wall-clock time.
pub async fn pace(node: &Node, source: &LiveSource, signer: &mut ChannelSigner, clock: Clock) {
    let start = clock.now_ms();
    for segment in source.segments(0) {
        let info = SegmentInfo {
            segment: segment.sequence,
            pts_ms: segment.start_ms,
            duration_ms: segment.duration_ms.clamp(1, u64::from(u32::MAX)) as u32,
            capture_ms: start + segment.start_ms,
            keyframe: segment.keyframe,
            epoch: 0,
        };
        for chunk in signer.chunks(info, &segment.bytes) {
            clock.sleep_until(chunk.announcement.available_ms()).await;
            node.publish(chunk);
        }
    }
}

/// What connection tasks tell the node task.
enum NetEvent {
    Connected {
        peer: NodeId,
        conn: Connection,
        dialed: bool,
        /// The IP the connection comes from: a hello that names an unspecified IP
        /// (`0.0.0.0`, a node bound to every interface) is completed with it.
        remote_ip: Option<IpAddr>,
        /// An incoming connection's place under [`MAX_INCOMING`], held while it is open.
        permit: Option<OwnedSemaphorePermit>,
    },
    DialFailed {
        peer: NodeId,
    },
    Frame {
        peer: NodeId,
        bytes: Vec<u8>,
    },
    Closed {
        peer: NodeId,
        conn: usize,
    },
}

struct Conn {
    conn: Connection,
    /// Who dialed it: the connection dialed by the smaller id is preferred.
    dialer: NodeId,
    /// Frames to write, with when they were queued.
    tx: mpsc::Sender<(Instant, Vec<u8>)>,
    /// Frees a place for another incoming connection when this one goes.
    _permit: Option<OwnedSemaphorePermit>,
}

#[derive(Default)]
struct PeerState {
    /// Open connections, the one to send on first.
    conns: Vec<Conn>,
    dialing: bool,
    /// Frames waiting for the connection being dialed.
    pending: Vec<Vec<u8>>,
    /// Stripes of the joins among them: refused on the peer's behalf if the dial fails.
    pending_joins: Vec<u8>,
    /// Peers whose addresses this peer was sent.
    told: BTreeSet<NodeId>,
}

struct Task {
    me: NodeId,
    my_addr: SocketAddr,
    endpoint: Endpoint,
    relay: Relay<NodeId>,
    clock: Clock,
    /// Every peer heard of, and where it listens.
    book: BTreeMap<NodeId, SocketAddr>,
    /// When a peer's dial failed or its connection was lost.
    failed: HashMap<NodeId, u64>,
    peers: HashMap<NodeId, PeerState>,
    events: mpsc::Sender<NetEvent>,
    player: mpsc::Sender<PlayerEvent>,
    stats_tx: watch::Sender<NodeStats>,
    /// Counts the relay's requests for peers, for a directory client.
    peer_requests: watch::Sender<(u64, Option<u8>)>,
    /// Shared with the writer tasks, which count what they actually wrote.
    sent: Arc<AtomicU64>,
    /// Shared with the writer tasks: chunks they dropped as too old to send.
    stale: Arc<AtomicU64>,
    /// Shared with the writer tasks: the longest a frame waited in a queue since the last
    /// capacity check, ms.
    waited: Arc<AtomicU64>,
    /// A viewer's child slots as its line bears them out (`None` for the broadcaster, whose
    /// budget is its own choice).
    capacity: Option<Capacity>,
    next_capacity: u64,
    /// The IP each connected peer's connection came from.
    seen_at: HashMap<NodeId, IpAddr>,
    received: u64,
    dropped: u64,
    malformed: u64,
    lost: u64,
    last_ask: u64,
    loopback_only: bool,
    /// The relay every peer of the channel keeps a connection to, if the store runs one.
    relay_url: Option<RelayUrl>,
    /// Peers a message could not be sent to (no address, or failed a moment ago), with the
    /// stripes of the joins among those messages: the relay is told each join was refused,
    /// then that the peer is gone.
    unreachable: Vec<(NodeId, Option<u8>)>,
}

impl Task {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut events: mpsc::Receiver<NetEvent>,
    ) {
        let mut tick = tokio::time::interval(TICK);
        // A late tick is run once, not in a burst: the relay works from the clock, not counts.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.flush();
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = self.clock.now_ms();
                    self.prune(now);
                    self.measure_capacity(now);
                    self.relay.tick(now);
                    self.flush();
                    self.publish_stats();
                }
                Some(event) = events.recv() => {
                    self.on_event(event);
                    self.flush();
                }
                command = commands.recv() => match command {
                    Some(Command::Publish(chunk)) => {
                        let now = self.clock.now_ms();
                        self.relay.publish(chunk, now);
                        self.flush();
                    }
                    Some(Command::AddPeers(peers)) => {
                        let now = self.clock.now_ms();
                        for p in &peers {
                            if p.id != self.me && self.allowed(p.addr) {
                                self.book.insert(p.id, p.addr);
                                // Handed by the directory just now: worth a dial at once.
                                self.failed.remove(&p.id);
                            }
                        }
                        self.relay.add_peers(peers.iter().map(|p| p.id), now);
                        self.flush();
                    }
                    Some(Command::Shutdown(done)) => {
                        self.shutdown().await;
                        let _ = done.send(());
                        return;
                    }
                    None => {
                        self.shutdown().await;
                        return;
                    }
                },
            }
        }
    }

    /// Once a second: the longest wait in the send queues decides the child slots.
    fn measure_capacity(&mut self, now: u64) {
        let Some(capacity) = &mut self.capacity else {
            return;
        };
        if now < self.next_capacity {
            return;
        }
        self.next_capacity = now + 1_000;
        let before = capacity.slots();
        let slots = capacity.observe(self.waited.swap(0, Ordering::Relaxed), now);
        if slots != before {
            self.relay.set_slots(slots);
        }
    }

    async fn shutdown(&mut self) {
        self.relay.leave();
        self.flush();
        self.publish_stats();
        // Dropping the senders lets each writer finish its stream after the last frame.
        let conns: Vec<Connection> = self
            .peers
            .values_mut()
            .flat_map(|p| p.conns.drain(..).map(|c| c.conn))
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        for conn in conns {
            conn.close(0u32.into(), b"bye");
        }
        self.endpoint.close().await;
    }

    /// Whether `addr` may go in the book and be dialed: never an address nobody listens at
    /// (unspecified, multicast, port 0); on a loopback-only node, loopback alone.
    fn allowed(&self, addr: SocketAddr) -> bool {
        let ip = addr.ip();
        let dialable = addr.port() != 0
            && !ip.is_unspecified()
            && !ip.is_multicast()
            && ip != IpAddr::V4(Ipv4Addr::BROADCAST);
        dialable && (!self.loopback_only || ip.is_loopback())
    }

    /// Forgets what no longer matters, so no map outgrows the peers actually around: failures
    /// older than [`FAILED_FOR_MS`], and peers with no connection, dial or queued frame.
    fn prune(&mut self, now: u64) {
        self.failed
            .retain(|_, at| now.saturating_sub(*at) <= FAILED_FOR_MS);
        self.peers
            .retain(|_, p| !p.conns.is_empty() || p.dialing || !p.pending.is_empty());
        let peers = &self.peers;
        self.seen_at.retain(|id, _| peers.contains_key(id));
    }

    fn publish_stats(&self) {
        let stats = NodeStats {
            relay: self.relay.stats().clone(),
            bytes_sent: self.sent.load(Ordering::Relaxed),
            bytes_received: self.received,
            frames_dropped: self.dropped,
            malformed: self.malformed,
            lost: self.lost,
            connections: self.peers.values().map(|p| p.conns.len()).sum(),
            neighbours: self.relay.neighbours().count(),
            known_peers: self.book.len(),
            peer_states: self.peers.len(),
            stale_dropped: self.stale.load(Ordering::Relaxed),
            footprint: Some(self.relay.footprint()),
            have: Some(self.relay.have()),
        };
        self.stats_tx.send_replace(stats);
    }

    fn on_event(&mut self, event: NetEvent) {
        let now = self.clock.now_ms();
        match event {
            NetEvent::Connected {
                peer,
                conn,
                dialed,
                remote_ip,
                permit,
            } => {
                if let Some(ip) = remote_ip {
                    self.seen_at.insert(peer, ip);
                }
                self.on_connected(peer, conn, dialed, permit)
            }
            NetEvent::DialFailed { peer } => {
                self.failed.insert(peer, now);
                let state = self.peers.entry(peer).or_default();
                state.dialing = false;
                state.pending.clear();
                let joins = std::mem::take(&mut state.pending_joins);
                if state.conns.is_empty() {
                    self.lost += 1;
                    self.unreachable.push((peer, None));
                    self.unreachable
                        .extend(joins.into_iter().map(|s| (peer, Some(s))));
                }
            }
            NetEvent::Closed { peer, conn } => {
                let Some(state) = self.peers.get_mut(&peer) else {
                    return;
                };
                state.conns.retain(|c| c.conn.stable_id() != conn);
                if state.conns.is_empty() && !state.dialing {
                    self.failed.insert(peer, now);
                    state.told.clear();
                    self.lost += 1;
                    self.relay.peer_gone(peer, now);
                }
            }
            NetEvent::Frame { peer, bytes } => {
                self.received += 4 + bytes.len() as u64;
                self.on_frame(peer, &bytes, now);
            }
        }
    }

    fn on_connected(
        &mut self,
        peer: NodeId,
        conn: Connection,
        dialed: bool,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        if peer == self.me {
            conn.close(0u32.into(), b"self");
            return;
        }
        let (tx, rx) = mpsc::channel(SEND_QUEUE);
        tokio::spawn(write_loop(
            conn.clone(),
            rx,
            self.sent.clone(),
            self.stale.clone(),
            self.waited.clone(),
        ));
        tokio::spawn(read_loop(conn.clone(), peer, self.events.clone()));
        let _ = tx.try_send((Instant::now(), hello_frame(self.my_addr)));
        self.failed.remove(&peer);
        let me = self.me;
        let state = self.peers.entry(peer).or_default();
        if dialed {
            state.dialing = false;
        }
        state.conns.push(Conn {
            conn,
            dialer: if dialed { me } else { peer },
            tx,
            _permit: permit,
        });
        // Both sides apply the same rule, so they agree on the connection to use: the one the
        // smaller id dialed, and of two such the newest (the older one is likely dying).
        let preferred = me.min(peer);
        let best = state
            .conns
            .iter()
            .rposition(|c| c.dialer == preferred)
            .unwrap_or(state.conns.len() - 1);
        let chosen = state.conns.remove(best);
        for other in state.conns.drain(..) {
            // Still read from until it closes, so frames already sent on it are not lost.
            let conn = other.conn;
            tokio::spawn(async move {
                tokio::time::sleep(DUPLICATE_GRACE).await;
                conn.close(0u32.into(), b"duplicate");
            });
        }
        state.pending_joins.clear();
        for frame in state.pending.drain(..) {
            if chosen.tx.try_send((Instant::now(), frame)).is_err() {
                self.dropped += 1;
            }
        }
        state.conns.push(chosen);
    }

    fn on_frame(&mut self, peer: NodeId, bytes: &[u8], now: u64) {
        match bytes.first() {
            Some(&TAG_HELLO) => {
                if let Some((mut addr, [])) = read_addr(&bytes[1..]) {
                    // A node bound to every interface does not know which of its addresses
                    // others reach it at: the one its connection came from is that.
                    if addr.ip().is_unspecified() {
                        if let Some(ip) = self.seen_at.get(&peer) {
                            addr.set_ip(*ip);
                        }
                    }
                    if self.allowed(addr) {
                        // A connected peer always has a place: it pushes out one the book
                        // only heard of.
                        if self.book.len() >= BOOK_MAX && !self.book.contains_key(&peer) {
                            let spare = self
                                .book
                                .keys()
                                .find(|id| !self.peers.contains_key(*id))
                                .copied();
                            if let Some(spare) = spare {
                                self.book.remove(&spare);
                            }
                        }
                        self.book.insert(peer, addr);
                    }
                }
            }
            Some(&TAG_ADDRS) => {
                let Some((&count, mut rest)) = bytes[1..].split_first() else {
                    return;
                };
                for _ in 0..usize::from(count).min(ADDRS_PER_FRAME) {
                    let Some((id, after)) = rest.split_first_chunk::<32>() else {
                        break;
                    };
                    let Some((addr, after)) = read_addr(after) else {
                        break;
                    };
                    rest = after;
                    if *id != self.me && self.allowed(addr) && self.book.len() < BOOK_MAX {
                        self.book.entry(*id).or_insert(addr);
                    }
                }
            }
            Some(&TAG_ASK_ADDRS) => {
                let mut entries: Vec<(NodeId, SocketAddr)> = self
                    .book
                    .iter()
                    .filter(|(id, _)| **id != peer && !self.failed.contains_key(*id))
                    .map(|(id, a)| (*id, *a))
                    .collect();
                entries.shuffle(&mut rand::thread_rng());
                entries.truncate(ADDRS_PER_FRAME);
                let frame = addrs_frame(&entries);
                self.push_frame(peer, frame);
            }
            Some(_) => match wire::decode(bytes) {
                Ok(message) => self.relay.handle(peer, message, now),
                Err(_) => {
                    // Not our protocol, or hostile: stop listening to this connection.
                    self.malformed += 1;
                    if let Some(state) = self.peers.get(&peer) {
                        for c in &state.conns {
                            c.conn.close(2u32.into(), b"malformed");
                        }
                    }
                }
            },
            None => {}
        }
    }

    /// Acts on everything the relay asked for, until it asks for nothing more.
    fn flush(&mut self) {
        loop {
            let events: Vec<Event<NodeId>> = self.relay.drain().collect();
            if events.is_empty() && self.unreachable.is_empty() {
                return;
            }
            for event in events {
                match event {
                    Event::Send { to, message } => self.send(to, message),
                    // The book's addresses are offered at once, whatever the stripe; a directory
                    // client (if any) hears of it and asks the store for peers in that stripe.
                    Event::NeedPeers { stripe } => {
                        self.peer_requests.send_modify(|(n, s)| {
                            *n += 1;
                            *s = stripe;
                        });
                        self.need_peers()
                    }
                    Event::Started { at_ms, delay_ms } => {
                        let _ = self
                            .player
                            .try_send(PlayerEvent::Started { at_ms, delay_ms });
                    }
                    Event::Play(chunk) => {
                        let _ = self.player.try_send(PlayerEvent::Play(chunk));
                    }
                    Event::Delay { delay_ms } => {
                        let _ = self.player.try_send(PlayerEvent::Delay { delay_ms });
                    }
                    Event::Skipped { from, to } => {
                        let _ = self.player.try_send(PlayerEvent::Skipped { from, to });
                    }
                    Event::Misbehaved { peer, .. } => {
                        // The relay ignores it from now on; stop carrying its traffic too.
                        if let Some(state) = self.peers.get(&peer) {
                            for c in &state.conns {
                                c.conn.close(3u32.into(), b"misbehaved");
                            }
                        }
                    }
                }
            }
            let now = self.clock.now_ms();
            let unreachable = std::mem::take(&mut self.unreachable);
            // A join that cannot reach its peer is refused on the peer's behalf, in the
            // protocol's own words: the relay then tries elsewhere at once and leaves that peer
            // alone for a while. (Otherwise an orphan whose former grandparent is dead asks it
            // again after every join timeout, as the relay retries former ancestors first.)
            for (peer, stripe) in &unreachable {
                if let Some(stripe) = stripe {
                    let refuse = Message::Refuse {
                        stripe: *stripe,
                        suggest: Vec::new(),
                    };
                    self.relay.handle(*peer, refuse, now);
                }
            }
            for (peer, _) in unreachable {
                self.relay.peer_gone(peer, now);
            }
        }
    }

    fn need_peers(&mut self) {
        let now = self.clock.now_ms();
        let neighbours: BTreeSet<NodeId> = self.relay.neighbours().collect();
        let mut offer: Vec<NodeId> = self
            .book
            .keys()
            .filter(|id| {
                !neighbours.contains(*id)
                    && self
                        .failed
                        .get(*id)
                        .is_none_or(|at| now.saturating_sub(*at) > FAILED_FOR_MS)
            })
            .copied()
            .collect();
        offer.shuffle(&mut rand::thread_rng());
        offer.truncate(8);
        self.relay.add_peers(offer, now);
        if now.saturating_sub(self.last_ask) >= ASK_EVERY_MS {
            self.last_ask = now;
            for peer in neighbours {
                if self.peers.get(&peer).is_some_and(|p| !p.conns.is_empty()) {
                    self.push_frame(peer, vec![TAG_ASK_ADDRS]);
                }
            }
        }
    }

    fn send(&mut self, to: NodeId, message: Message<NodeId>) {
        let named: &[NodeId] = match &message {
            Message::Accept { path, .. } | Message::Path { path, .. } => path,
            Message::Refuse { suggest, .. } => suggest,
            Message::Handover { heir, .. } => std::slice::from_ref(heir),
            _ => &[],
        };
        if !named.is_empty() {
            let state = self.peers.entry(to).or_default();
            let entries: Vec<(NodeId, SocketAddr)> = named
                .iter()
                .filter(|id| **id != to && !state.told.contains(*id))
                .filter_map(|id| self.book.get(id).map(|a| (*id, *a)))
                .take(ADDRS_PER_FRAME)
                .collect();
            if !entries.is_empty() {
                state.told.extend(entries.iter().map(|e| e.0));
                self.push_frame(to, addrs_frame(&entries));
            }
        }
        let join = match message {
            Message::Join { stripe, .. } => Some(stripe),
            _ => None,
        };
        self.push(to, wire::encode(&message), join);
    }

    /// Sends a frame of this layer's own.
    fn push_frame(&mut self, to: NodeId, frame: Vec<u8>) {
        self.push(to, frame, None);
    }

    /// Sends a frame on the peer's connection, or queues it while the peer is dialed, or gives
    /// up on the peer. `join`: the frame is a join for this stripe.
    fn push(&mut self, to: NodeId, frame: Vec<u8>, join: Option<u8>) {
        let now = self.clock.now_ms();
        let state = self.peers.entry(to).or_default();
        if let Some(conn) = state.conns.last() {
            if conn.tx.try_send((Instant::now(), frame)).is_err() {
                self.dropped += 1;
            }
            return;
        }
        if state.dialing {
            if state.pending.len() < PENDING_MAX {
                state.pending.push(frame);
                state.pending_joins.extend(join);
            } else {
                self.dropped += 1;
            }
            return;
        }
        let recently_failed = self
            .failed
            .get(&to)
            .is_some_and(|at| now.saturating_sub(*at) < FAILED_FOR_MS);
        let target = self
            .book
            .get(&to)
            .copied()
            .zip(PublicKey::from_bytes(&to).ok());
        let Some((addr, key)) = target.filter(|_| !recently_failed) else {
            // No address, or it failed a moment ago (it may still dial us: an incoming
            // connection clears the mark).
            self.dropped += 1;
            self.unreachable.push((to, join));
            return;
        };
        state.dialing = true;
        state.pending.push(frame);
        state.pending_joins.extend(join);
        let endpoint = self.endpoint.clone();
        let events = self.events.clone();
        let relay_url = self.relay_url.clone();
        tokio::spawn(async move {
            let mut target = EndpointAddr::new(key).with_ip_addr(addr);
            if let Some(url) = relay_url {
                target = target.with_relay_url(url);
            }
            let event =
                match tokio::time::timeout(DIAL_TIMEOUT, endpoint.connect(target, ALPN)).await {
                    Ok(Ok(conn)) => NetEvent::Connected {
                        peer: to,
                        conn,
                        dialed: true,
                        remote_ip: Some(addr.ip()),
                        permit: None,
                    },
                    _ => NetEvent::DialFailed { peer: to },
                };
            let _ = events.send(event).await;
        });
    }
}

async fn accept_loop(endpoint: Endpoint, events: mpsc::Sender<NetEvent>) {
    let places = Arc::new(Semaphore::new(MAX_INCOMING));
    let mut handshakes = TokenBucket::new(HANDSHAKES_PER_S, HANDSHAKES_BURST);
    while let Some(incoming) = endpoint.accept().await {
        // Full, or too many handshakes lately: refused before the handshake, which is the
        // costly part (a thousand in a few seconds starved a viewer's own stream).
        if !handshakes.take() {
            incoming.refuse();
            continue;
        }
        let Ok(permit) = places.clone().try_acquire_owned() else {
            incoming.refuse();
            continue;
        };
        let remote_ip = match incoming.remote_addr() {
            iroh::endpoint::IncomingAddr::Ip(addr) => Some(addr.ip()),
            _ => None,
        };
        let events = events.clone();
        tokio::spawn(async move {
            let Ok(Ok(conn)) = tokio::time::timeout(DIAL_TIMEOUT, incoming.into_future()).await
            else {
                return;
            };
            if conn.alpn() != ALPN {
                conn.close(1u32.into(), b"alpn");
                return;
            }
            let peer = *conn.remote_id().as_bytes();
            let _ = events
                .send(NetEvent::Connected {
                    peer,
                    conn,
                    dialed: false,
                    remote_ip,
                    permit: Some(permit),
                })
                .await;
        });
    }
}

/// Handshakes started per second, on average: a viewer gains a few neighbours a second at
/// most, a flash crowd joining one broadcaster a few dozen.
pub const HANDSHAKES_PER_S: f64 = 20.0;
/// Handshakes that may start at once after a quiet while.
pub const HANDSHAKES_BURST: f64 = 40.0;

/// A rate limit: `rate` a second on average, `burst` at once.
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(rate: f64, burst: f64) -> TokenBucket {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Writes this side's frames on one uni stream, each after its length. A chunk that waited
/// longer than [`QUEUE_MAX_AGE`] is dropped (and counted in `stale`): the link is this far
/// behind, and a late chunk only delays the ones after it.
async fn write_loop(
    conn: Connection,
    mut frames: mpsc::Receiver<(Instant, Vec<u8>)>,
    sent: Arc<AtomicU64>,
    stale: Arc<AtomicU64>,
    waited: Arc<AtomicU64>,
) {
    let Ok(mut stream) = conn.open_uni().await else {
        return;
    };
    let mut buf = Vec::with_capacity(MAX_MESSAGE_LEN + 4);
    while let Some((queued, frame)) = frames.recv().await {
        // What the line bears: a frame that waited long says the children taken are too many.
        let wait = queued.elapsed();
        waited.fetch_max(wait.as_millis() as u64, Ordering::Relaxed);
        if wire::is_chunk(&frame) && wait > QUEUE_MAX_AGE {
            stale.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        buf.clear();
        buf.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        buf.extend_from_slice(&frame);
        if stream.write_all(&buf).await.is_err() {
            conn.close(1u32.into(), b"write failed");
            return;
        }
        sent.fetch_add(buf.len() as u64, Ordering::Relaxed);
    }
    let _ = stream.finish();
}

/// Reads the other side's frames from the first uni stream it opens; reports the connection
/// closed when that ends.
async fn read_loop(conn: Connection, peer: NodeId, events: mpsc::Sender<NetEvent>) {
    if let Ok(mut stream) = conn.accept_uni().await {
        let mut len = [0u8; 4];
        while stream.read_exact(&mut len).await.is_ok() {
            let len = u32::from_be_bytes(len) as usize;
            if len == 0 || len > MAX_MESSAGE_LEN {
                // Checked before allocating: a bad length is a broken or hostile peer.
                conn.close(2u32.into(), b"frame too long");
                break;
            }
            let mut bytes = vec![0u8; len];
            if stream.read_exact(&mut bytes).await.is_err() {
                break;
            }
            // Awaiting here pushes back on a peer that sends faster than the node handles.
            if events.send(NetEvent::Frame { peer, bytes }).await.is_err() {
                return;
            }
        }
    }
    let id = conn.stable_id();
    conn.close(0u32.into(), b"stream ended");
    let _ = events.send(NetEvent::Closed { peer, conn: id }).await;
}

fn hello_frame(addr: SocketAddr) -> Vec<u8> {
    let mut out = vec![TAG_HELLO];
    write_addr(&mut out, addr);
    out
}

fn addrs_frame(entries: &[(NodeId, SocketAddr)]) -> Vec<u8> {
    let entries = &entries[..entries.len().min(ADDRS_PER_FRAME)];
    let mut out = vec![TAG_ADDRS, entries.len() as u8];
    for (id, addr) in entries {
        out.extend_from_slice(id);
        write_addr(&mut out, *addr);
    }
    out
}

fn write_addr(out: &mut Vec<u8>, addr: SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out.push(6);
            out.extend_from_slice(&ip.octets());
        }
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

fn read_addr(bytes: &[u8]) -> Option<(SocketAddr, &[u8])> {
    let (&family, rest) = bytes.split_first()?;
    let (ip, rest) = match family {
        4 => {
            let (ip, rest) = rest.split_first_chunk::<4>()?;
            (IpAddr::V4(Ipv4Addr::from(*ip)), rest)
        }
        6 => {
            let (ip, rest) = rest.split_first_chunk::<16>()?;
            (IpAddr::V6(Ipv6Addr::from(*ip)), rest)
        }
        _ => return None,
    };
    let (port, rest) = rest.split_first_chunk::<2>()?;
    Some((SocketAddr::new(ip, u16::from_be_bytes(*port)), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_and_refuse_garbage() {
        let v4: SocketAddr = "127.0.0.1:4433".parse().unwrap();
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let frame = addrs_frame(&[([1; 32], v4), ([2; 32], v6)]);
        assert_eq!(frame[..2], [TAG_ADDRS, 2]);
        let (a, rest) = read_addr(&frame[2 + 32..]).unwrap();
        assert_eq!(a, v4);
        let (b, rest) = read_addr(&rest[32..]).unwrap();
        assert_eq!((b, rest.len()), (v6, 0));
        assert!(read_addr(&[]).is_none());
        assert!(read_addr(&[5, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(read_addr(&[4, 127, 0, 0, 1, 0]).is_none());
        let hello = hello_frame(v4);
        assert_eq!(read_addr(&hello[1..]), Some((v4, &[][..])));
    }

    #[test]
    fn peer_addresses_parse() {
        let text = format!("{}@127.0.0.1:5000", "ab".repeat(32));
        let p: PeerAddr = text.parse().unwrap();
        assert_eq!(p.id, [0xab; 32]);
        assert_eq!(p.to_string(), text);
        for bad in [
            "",
            "abc@127.0.0.1:1",
            "@127.0.0.1:1",
            &format!("{}@nowhere", "ab".repeat(32)),
        ] {
            assert!(bad.parse::<PeerAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn hops_percentile() {
        let mut stats = NodeStats::default();
        stats.relay.hops[1] = 90;
        stats.relay.hops[4] = 10;
        assert_eq!(stats.report([0; 32], false).hops_p95, Some(4));
        stats.relay.hops[4] = 4;
        assert_eq!(stats.report([0; 32], false).hops_p95, Some(1));
    }
}
