//! The relay: what one broadcaster or viewer does with what it hears, with no I/O.
//!
//! Shape (after SplitStream and PlumTree): the stream's chunks are dealt round-robin into
//! `stripes` (chunk `n` is in stripe `n mod stripes`), and each stripe has its own push tree
//! rooted at the broadcaster. A viewer has one parent per stripe and forwards each chunk it
//! receives to its children in that stripe at once. A viewer offers most of its child slots in
//! its *home* stripe and only a few in the others, so it is an inner node of one tree and a leaf
//! of the rest: the trees stay shallow and one viewer leaving cuts at most one stripe's branch.
//! The broadcaster takes two children per stripe, so it sends each chunk twice whatever the
//! audience (one child per stripe made every tree a level deeper).
//!
//! Repair: every viewer tells its neighbours what it holds ([`Have`], twice a second). A chunk
//! missing for a while after a later one arrived is pulled ([`Message::Want`]) from a neighbour
//! that has it, within that neighbour's repair budget; a chunk received by repair is pushed on to
//! the children like any other, so a branch whose parent left keeps playing while it re-joins.
//! Pulls go first to neighbours near the root of another stripe, the broadcaster last (its line
//! carries the trees). A pull beyond the budget is dropped without a word: a quick refusal
//! (asked elsewhere on the next pass) was tried, and at 4 Mbit/s the faster retries fed so many
//! pulls that lines queued and continuity fell from 0.99 to 0.91 (1,000 viewers, seed 1).
//!
//! Trees heal themselves: a parent silent for a while (when others are ahead) is left; an orphan
//! asks its former ancestors first (its grandparent usually has room, or names children that
//! do), then neighbours closest to the root. Each node knows its path to the root, and a node
//! refuses a child that is one of its own ancestors, so no loop forms. A joiner on a stronger
//! line takes the place of a weaker child at home in its stripe and adopts that child's
//! children ([`Message::Handover`]): they keep their depth, where they once moved a level down
//! with the child let go. A [`Have`] says how strong a joiner must be for that
//! ([`Have::home_needs`]), so weaker joiners do not ask in vain.
//!
//! Nothing is played or forwarded before [`Chunk::verify`] passes; a peer that sends one bad
//! chunk is dropped and ignored from then on.
//!
//! Nothing a peer says unverified can stall the relay or grow it without bound: only a verified
//! chunk moves the window of sequence numbers the relay looks at ([`WINDOW`]); a neighbour's
//! claim to hold newer chunks is believed only a few seconds past it, and serves only to pick
//! whom to pull from; every map has a bound ([`Footprint`]); only a peer asked to be a parent
//! may refuse; a parent that accepts and then sends nothing is not asked again for
//! [`SILENT_PARENT_PENALTY_MS`].
//!
//! The relay is driven by its owner: [`Relay::handle`] for each message, [`Relay::tick`] often
//! (every 50 ms is plenty), [`Relay::publish`] on the broadcaster, and [`Relay::drain`] for what
//! to send and play. Time is a parameter (`now`, ms), so the same code runs over sockets and under
//! the simulator.

// B-trees rather than hash maps: iteration order is part of behaviour, and the simulator must
// give the same run for the same seed.
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;

use ed25519_dalek::VerifyingKey;

use crate::chunk::{Chunk, ChunkError, ANNOUNCEMENT_LEN};

/// The most stripes a channel may use.
pub const MAX_STRIPES: usize = 8;

/// Depth reported by a node that is not connected to the root in a stripe.
pub const NO_DEPTH: u8 = u8::MAX;

/// A viewer's playout margin over the worst delay it saw while starting: 1.5 s, the same in
/// the simulator as over sockets (the simulator once used 600 ms, which flattered its lag).
/// On a LAN or loopback the worst delay while starting is a few milliseconds, so the margin
/// alone is the buffer, and it must cover the loss of a parent: the relay notices a silent
/// parent after about a second, re-joins, then pulls what it missed. Measured with 16 viewer
/// processes on loopback, 3 of them killed: continuity 0.86–0.89 at 600 ms and 0.86–0.96 at
/// 1.5 s.
pub const PLAYOUT_MARGIN_MS: u64 = 1_500;

/// How far the playout delay moves toward the live edge at a time, ms.
pub const CATCH_UP_STEP_MS: u64 = 250;

/// How long deliveries must be steady before the delay moves toward the live edge, ms: one
/// step per five seconds is what playing 5 % faster covers.
pub const CATCH_UP_EVERY_MS: u64 = 5_000;

/// The least slack catching up leaves the tightest chunk of a steady stretch, ms.
pub const CATCH_UP_KEEP_MS: u64 = 750;

/// A send queue that held a frame this long means the line carries less than the children it
/// took, ms: [`Capacity`] gives up slots. Simulated at 100 viewers (seeds 1-3, 90 s): at
/// 400 ms honest lines gave up slots after a burst and lag p50 rose 2.72 -> 3.34 s; at 800 and
/// 1,500 ms honest runs were unchanged, and with a tenth of viewers claiming 5x on a 1.2x line
/// continuity went from 0.965 without measuring to 0.985 (lag p50 3.48 -> 2.78 s).
pub const CAPACITY_QUEUE_MS: u64 = 800;

/// How long a line must stay unqueued before [`Capacity`] offers one more slot, ms.
pub const CAPACITY_CALM_MS: u64 = 10_000;

/// A node's child slots as its line bears them out, never more than it declared: a peer that
/// claims a line it does not have (by mistake or to sit near the root) gives its children up
/// once its own send queues show the claim is false, instead of starving a whole branch.
///
/// The network layer (or the simulator) reports, about once a second, the longest any frame
/// waited in the node's send queues; a wait over [`CAPACITY_QUEUE_MS`] takes a quarter of the
/// slots away (at least one) and a line that stayed calm for [`CAPACITY_CALM_MS`] gets one
/// back. Taking away fast and giving back slowly is TCP's rule for the same problem.
#[derive(Debug, Clone)]
pub struct Capacity {
    declared: u16,
    slots: u16,
    calm_since: u64,
}

impl Capacity {
    /// Starts at what the node declares.
    pub fn new(declared: u16, now: u64) -> Capacity {
        Capacity {
            declared,
            slots: declared,
            calm_since: now,
        }
    }

    /// The slots the line bears, given the longest wait in the send queues since the last call.
    pub fn observe(&mut self, queued_ms: u64, now: u64) -> u16 {
        if queued_ms > CAPACITY_QUEUE_MS {
            self.slots -= (self.slots / 4).max(1).min(self.slots);
            self.calm_since = now;
        } else if queued_ms > CAPACITY_QUEUE_MS / 4 {
            // Busy but keeping up: hold on to what it has.
            self.calm_since = now;
        } else if now.saturating_sub(self.calm_since) >= CAPACITY_CALM_MS
            && self.slots < self.declared
        {
            self.slots += 1;
            self.calm_since = now;
        }
        self.slots
    }

    /// The slots now.
    pub fn slots(&self) -> u16 {
        self.slots
    }
}

/// The span of sequence numbers a relay looks at: chunks older than the newest verified one by
/// more than this are neither kept nor pulled, and a repair pass walks at most this many.
pub const WINDOW: u64 = 2_000;

/// The most peers a relay remembers having banned; beyond it the oldest ban is forgotten (a
/// forger who makes a new node id for each forged chunk costs a signature check each time,
/// never memory).
pub const BANNED_MAX: usize = 1_024;

/// The most chunk bytes a relay holds: an attacker replaying old signed chunks cannot grow it
/// past this (at 4 Mbit/s the 12 s kept for pulls are about 6 MiB).
pub const STORED_BYTES_MAX: usize = 32 << 20;

/// The most a viewer offers its children, as a multiple of the bitrate, whatever its line.
const MOST_OFFERED_X: f64 = 1.5;

/// Arrivals remembered while choosing the playout delay.
const SEEN_MAX: usize = 4_096;

/// Joins remembered per stripe, for telling an answer from an unasked refusal.
const ASKED_MAX: usize = 8;

/// How long after a join its refusal is still taken.
const ASKED_FOR_MS: u64 = 5_000;

/// How long a peer that refused a join is not asked again in that stripe.
const REFUSED_FOR_MS: u64 = 2_000;

/// How long a parent left for silence is not asked again: it accepted and then sent nothing,
/// and may do it again.
pub const SILENT_PARENT_PENALTY_MS: u64 = 30_000;

/// What a peer is called by the relay: the network layer's node id, or an index in the
/// simulator.
pub trait PeerKey: Copy + Eq + Hash + Ord + Debug {}
impl<T: Copy + Eq + Hash + Ord + Debug> PeerKey for T {}

/// How one relay behaves. [`RelayConfig::viewer`] and [`RelayConfig::broadcaster`] give the
/// tuned defaults.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Number of stripes (1..=[`MAX_STRIPES`]).
    pub stripes: u8,
    /// Child slots in all stripes together. One slot costs `1 / stripes` of the bitrate in
    /// upload.
    pub slots: u16,
    /// The most children in a stripe other than the home stripe.
    pub other_stripe_slots: u16,
    /// Whether slots are shared out evenly between stripes (the broadcaster) rather than
    /// given mostly to the home stripe.
    pub even_stripes: bool,
    /// The relay asks for more peers below this many neighbours.
    pub neighbours_min: usize,
    /// The relay takes no new neighbours above this many (parents and children always count).
    pub neighbours_max: usize,
    /// How often a [`Have`] goes to every neighbour.
    pub have_interval_ms: u64,
    /// A neighbour heard nothing from for this long is gone.
    pub neighbour_timeout_ms: u64,
    /// A parent that sent nothing for this long while others are ahead is left.
    pub parent_timeout_ms: u64,
    /// A join not answered in this long is tried elsewhere.
    pub join_timeout_ms: u64,
    /// A chunk still missing this long after a later one arrived is pulled.
    pub repair_grace_ms: u64,
    /// A chunk still missing this long after a neighbour said it holds one as new is pulled
    /// (longer than `repair_grace_ms`: neighbours nearer the root are ahead by a few hops).
    pub heard_grace_ms: u64,
    /// A pull not answered in this long is asked of another peer.
    pub want_timeout_ms: u64,
    /// The most pulls outstanding at once.
    pub wants_max: usize,
    /// Upload spent on other peers' pulls, bytes per second.
    pub repair_bytes_per_s: u64,
    /// How long chunks are kept to answer pulls.
    pub keep_ms: u64,
    /// How long a viewer watches arrivals before it picks its playout delay.
    pub start_observe_ms: u64,
    /// Added to the worst delay seen when picking the playout delay.
    pub playout_margin_ms: u64,
    /// If more than this share of chunks was missed over the last ten seconds, the playout
    /// delay grows by half a second (a short stall instead of repeated skips).
    pub rebuffer_miss_share: f64,
    /// After this long with every chunk on time, the playout delay shrinks toward the live
    /// edge by at most [`CATCH_UP_STEP_MS`] (a player closes that gap by playing 5 % faster).
    pub catch_up_every_ms: u64,
    /// The least slack (deadline minus arrival) catching up leaves the tightest chunk of the
    /// steady stretch, ms.
    pub catch_up_keep_ms: u64,
}

impl RelayConfig {
    /// A viewer whose upload is `upload_x` times the channel's bitrate (unknown: 1.5). It
    /// offers at most 1.6x the bitrate to its children, whatever its line, so relaying never
    /// costs a viewer more than about twice what it watches.
    pub fn viewer(stripes: u8, upload_x: f64) -> RelayConfig {
        let stripes = stripes.clamp(1, MAX_STRIPES as u8);
        // Children get at most 70 % of the line and pulls 15 %: a full line queues, and a queue
        // is lag for everyone below.
        let offered = (upload_x * 0.7).min(MOST_OFFERED_X);
        RelayConfig {
            stripes,
            slots: (offered * f64::from(stripes)).floor().max(0.0) as u16,
            other_stripe_slots: 1,
            even_stripes: false,
            neighbours_min: 6,
            neighbours_max: 12,
            have_interval_ms: 500,
            neighbour_timeout_ms: 2_500,
            parent_timeout_ms: 1_000,
            join_timeout_ms: 400,
            repair_grace_ms: 200,
            heard_grace_ms: 700,
            want_timeout_ms: 350,
            wants_max: 24,
            repair_bytes_per_s: 0,
            keep_ms: 12_000,
            start_observe_ms: 1_200,
            playout_margin_ms: PLAYOUT_MARGIN_MS,
            rebuffer_miss_share: 0.03,
            catch_up_every_ms: CATCH_UP_EVERY_MS,
            catch_up_keep_ms: CATCH_UP_KEEP_MS,
        }
        .with_repair_share((upload_x * 0.15).min(0.3))
    }

    /// The broadcaster: two children per stripe (each chunk leaves it twice, within the 2×
    /// budget; one child per stripe made every tree one level deeper), plus a repair budget
    /// for the first viewers to miss a chunk.
    pub fn broadcaster(stripes: u8) -> RelayConfig {
        let stripes = stripes.clamp(1, MAX_STRIPES as u8);
        RelayConfig {
            slots: 2 * u16::from(stripes),
            even_stripes: true,
            ..RelayConfig::viewer(stripes, 1.5)
        }
        .with_repair_share(0.1)
    }

    /// The most child slots any honest viewer offers with `stripes` stripes: a claim of more in
    /// a [`Message::Join`] is counted as this.
    pub fn most_slots(stripes: u8) -> u16 {
        (MOST_OFFERED_X * f64::from(stripes.clamp(1, MAX_STRIPES as u8))).floor() as u16
    }

    /// Sets the repair budget to `share` of a 1 Mbit/s bitrate; call [`RelayConfig::for_bitrate`]
    /// to scale it to the channel's bitrate.
    fn with_repair_share(mut self, share: f64) -> RelayConfig {
        self.repair_bytes_per_s = (share * 125_000.0) as u64;
        self
    }

    /// Scales the repair budget to a channel of `bitrate_bps`, keeping its share.
    pub fn for_bitrate(mut self, bitrate_bps: u64) -> RelayConfig {
        self.repair_bytes_per_s = self.repair_bytes_per_s * bitrate_bps / 1_000_000;
        self
    }
}

/// What a node tells its neighbours about itself, twice a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Have {
    /// The newest chunk it holds.
    pub newest: Option<u64>,
    /// Bit `i` set: it holds chunk `newest - 1 - i`.
    pub bits: u64,
    /// Its depth in each stripe ([`NO_DEPTH`]: not connected).
    pub depth: [u8; MAX_STRIPES],
    /// Bit `s` set: it would take a child in stripe `s`.
    pub open: u8,
    /// Its home stripe, where it offers most of its slots.
    pub home: u8,
    /// Bit `s` set: it would make room in stripe `s` for a child whose home `s` is (by
    /// letting go of a child that is better placed lower down).
    pub open_home: u8,
    /// The fewest child slots such a joiner must carry for `open_home` to hold for it: 0 when
    /// there is room for any (a free slot, or a leaf to let go); else room comes only from
    /// letting go a weaker child, and a joiner with fewer slots than this would be refused.
    pub home_needs: u8,
    /// Its child slots in all (clamped to 255).
    pub slots: u8,
}

impl Have {
    /// Whether the sender says it holds chunk `sequence`.
    pub fn holds(&self, sequence: u64) -> bool {
        match self.newest {
            Some(n) if sequence == n => true,
            Some(n) if sequence < n && n - sequence <= 64 => {
                self.bits >> (n - sequence - 1) & 1 == 1
            }
            _ => false,
        }
    }
}

/// What relays send each other.
#[derive(Debug, Clone)]
pub enum Message<P> {
    /// A chunk, pushed down a tree or answering a pull. `hops`: relays it passed through.
    Chunk {
        /// The chunk.
        chunk: Chunk,
        /// How many times it was forwarded before this one.
        hops: u8,
    },
    /// What the sender holds and where it stands.
    Have(Have),
    /// Please send this chunk.
    Want {
        /// The chunk wanted.
        sequence: u64,
    },
    /// Please be my parent in this stripe.
    Join {
        /// The stripe.
        stripe: u8,
        /// The sender's home stripe: a parent makes room for a child whose home this is.
        home: u8,
        /// The sender's child slots: a parent makes room for a child that can carry more.
        slots: u16,
    },
    /// I am your parent in this stripe; `path` runs from the root down to me.
    Accept {
        /// The stripe.
        stripe: u8,
        /// The new child's ancestors, root first, the sender last.
        path: Vec<P>,
    },
    /// I cannot be your parent in this stripe; try these.
    Refuse {
        /// The stripe.
        stripe: u8,
        /// Peers that may have room (the sender's children there, or neighbours).
        suggest: Vec<P>,
    },
    /// Your ancestors in this stripe changed; they are now `path`.
    Path {
        /// The stripe.
        stripe: u8,
        /// The receiver's ancestors, root first, the sender last.
        path: Vec<P>,
    },
    /// I stop being your child or your parent in this stripe.
    Leave {
        /// The stripe.
        stripe: u8,
    },
    /// I stop being your parent in this stripe: `heir` took your place under me (a joiner that
    /// carries more), or took your parent's, and has room for you. Join it. With `adopt`, take
    /// your own children there along: the heir adopts them at the depth they had, instead of
    /// the whole branch moving a level down.
    Handover {
        /// The stripe.
        stripe: u8,
        /// The peer to join instead.
        heir: P,
        /// Whether the receiver's children in the stripe go to `heir` too.
        adopt: bool,
    },
    /// I am leaving the channel.
    Bye,
}

/// Bytes each message takes on the wire (the simulator charges links with these; the network
/// layer's encoding is the same size give or take a few bytes of framing).
impl<P> Message<P> {
    /// Encoded size in bytes, with a 32-byte node id per peer named.
    pub fn wire_len(&self) -> usize {
        1 + match self {
            Message::Chunk { chunk, .. } => 1 + ANNOUNCEMENT_LEN + chunk.bytes.len(),
            Message::Have(_) => 9 + 8 + MAX_STRIPES + 5,
            Message::Want { .. } => 8,
            Message::Join { .. } => 4,
            Message::Leave { .. } => 1,
            Message::Handover { .. } => 2 + 32,
            Message::Accept { path, .. } | Message::Path { path, .. } => 2 + 32 * path.len(),
            Message::Refuse { suggest, .. } => 2 + 32 * suggest.len(),
            Message::Bye => 0,
        }
    }
}

/// What the relay asks its owner to do.
#[derive(Debug, Clone)]
pub enum Event<P> {
    /// Send `message` to `to`.
    Send {
        /// The peer.
        to: P,
        /// The message.
        message: Message<P>,
    },
    /// Too few neighbours, or none with room in a stripe: ask the channel directory for a few
    /// more peers.
    NeedPeers {
        /// The stripe no neighbour has room in, if that is why: the directory should hand out
        /// peers near the root of that stripe's tree.
        stripe: Option<u8>,
    },
    /// Playback starts: the first chunk plays at `at_ms`, `delay_ms` behind capture.
    Started {
        /// When the first frame shows.
        at_ms: u64,
        /// Playout delay behind capture.
        delay_ms: u64,
    },
    /// The next verified chunk for the player, in order.
    Play(Chunk),
    /// The playout delay changed (grew after repeated misses, or shrank toward the live edge
    /// after a steady stretch): the player stalls, or plays a little faster, until it runs
    /// `delay_ms` behind capture.
    Delay {
        /// The new playout delay behind capture, ms.
        delay_ms: u64,
    },
    /// Chunks `from..to` missed their time: the player jumps to the next keyframe.
    Skipped {
        /// First chunk skipped.
        from: u64,
        /// One past the last.
        to: u64,
    },
    /// `peer` sent something it should not have and is no longer listened to.
    Misbehaved {
        /// The peer.
        peer: P,
        /// What it sent.
        reason: ChunkError,
    },
}

/// What a relay counted, for the player's overlay and the benchmarks.
#[derive(Debug, Clone, Default)]
pub struct RelayStats {
    /// When the relay was created.
    pub joined_at: u64,
    /// When the first frame showed.
    pub started_at: Option<u64>,
    /// Current playout delay behind capture, ms.
    pub delay_ms: Option<u64>,
    /// Chunks played on time.
    pub played: u64,
    /// Sum over played chunks of the delay behind capture they played at, ms: divided by
    /// `played`, the viewer's mean glass-to-glass lag.
    pub lag_ms_sum: u64,
    /// Chunks that missed their time (skipped).
    pub missed: u64,
    /// Of those, missed more than ten seconds after the first frame.
    pub missed_later: u64,
    /// Chunks played on time more than ten seconds after the first frame.
    pub played_later: u64,
    /// Distinct chunks received.
    pub received: u64,
    /// Chunks received again.
    pub duplicates: u64,
    /// Chunks received by pulling.
    pub repaired: u64,
    /// Chunks refused as forged or altered.
    pub refused: u64,
    /// Received chunks by the number of hops they took from the broadcaster.
    pub hops: [u64; 32],
    /// Bytes this relay handed to the network, chunks and control together.
    pub bytes_sent: u64,
    /// Times the playout delay grew after repeated misses.
    pub rebuffers: u64,
    /// Times the playout delay shrank toward the live edge after a steady stretch.
    pub caught_up: u64,
    /// Tree upkeep: joins sent, accepted, refused; parents left for silence; children let go
    /// to make room; loops stepped out of.
    pub tree: TreeStats,
}

/// How much a relay holds, entry by entry: each is bounded whatever peers send (see
/// [`Relay::footprint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Neighbours, at most `neighbours_max` plus every possible parent and child.
    pub neighbours: usize,
    /// Banned peers, at most [`BANNED_MAX`].
    pub banned: usize,
    /// Chunks kept to play and to answer pulls.
    pub chunks: usize,
    /// Their bytes, at most [`STORED_BYTES_MAX`].
    pub stored_bytes: usize,
    /// Neighbours' claims remembered, at most [`WINDOW`].
    pub heard: usize,
    /// Pulls outstanding, at most `wants_max`.
    pub wants: usize,
    /// Peers not to ask to be a parent for a while, all stripes together.
    pub refused: usize,
    /// Children, all stripes together, at most `slots`.
    pub children: usize,
}

/// Counters of tree upkeep (see [`RelayStats::tree`]).
#[derive(Debug, Clone, Default)]
pub struct TreeStats {
    /// Joins sent.
    pub joins: u64,
    /// Joins accepted by the other side.
    pub accepted: u64,
    /// Joins refused by the other side.
    pub refused: u64,
    /// Parents left because they went quiet.
    pub silent_parents: u64,
    /// Children let go to make room for one at home.
    pub evicted: u64,
    /// Parents lost (gone, left, or evicted us).
    pub orphaned: u64,
    /// Loops stepped out of.
    pub loops: u64,
    /// Children let go because the line could not carry them ([`Relay::set_slots`]).
    pub shed: u64,
}

struct Stripe<P> {
    parent: Option<P>,
    /// Ancestors, root first, parent last. Kept after the parent leaves: an orphan asks them
    /// first.
    path: Vec<P>,
    last_from_parent: u64,
    newest_from_parent: Option<u64>,
    joining: Option<(P, u64)>,
    /// Peers not to ask to be our parent here before the time given: they refused us, failed
    /// us, or accepted us and then sent nothing.
    refused: BTreeMap<P, u64>,
    /// The last few peers asked to be our parent here, and when: only they may refuse.
    asked: VecDeque<(P, u64)>,
    children: Vec<P>,
}

impl<P: Copy> Stripe<P> {
    fn new() -> Stripe<P> {
        Stripe {
            parent: None,
            path: Vec::new(),
            last_from_parent: 0,
            newest_from_parent: None,
            joining: None,
            refused: BTreeMap::new(),
            asked: VecDeque::new(),
            children: Vec::new(),
        }
    }

    /// A join goes to `peer`.
    fn ask(&mut self, peer: P, now: u64) {
        self.joining = Some((peer, now));
        if self.asked.len() >= ASKED_MAX {
            self.asked.pop_front();
        }
        self.asked.push_back((peer, now));
    }
}

struct Neighbour {
    have: Option<Have>,
    last_heard: u64,
}

struct Stored {
    chunk: Chunk,
    arrived: u64,
    hops: u8,
}

struct Want<P> {
    at: u64,
    tried: Vec<P>,
}

enum Playout {
    Waiting {
        first_arrival: Option<u64>,
        /// (arrival, how long after it was available) of the chunks seen so far.
        seen: VecDeque<(u64, u64)>,
    },
    Playing {
        delay_ms: u64,
        cursor: u64,
        /// Skipping to the next keyframe after a miss.
        skipping: bool,
        last_deadline: u64,
        /// (when, missed) for the rebuffer rule.
        recent: VecDeque<(u64, bool)>,
        /// Since when every chunk played on time (the stretch catching up looks at).
        steady_since: u64,
        /// The least slack (deadline minus arrival) of a chunk played in that stretch.
        least_slack: u64,
        /// The delay the arrivals before the start called for: catching up stops there.
        live_edge_ms: u64,
    },
}

/// One broadcaster's or viewer's relay state. See the module documentation.
pub struct Relay<P: PeerKey> {
    me: P,
    channel: VerifyingKey,
    is_broadcaster: bool,
    config: RelayConfig,
    home: u8,
    stripes: Vec<Stripe<P>>,
    neighbours: BTreeMap<P, Neighbour>,
    chunks: BTreeMap<u64, Stored>,
    /// The bytes of `chunks`, bounded by [`STORED_BYTES_MAX`].
    stored_bytes: usize,
    /// The newest chunk that passed [`Chunk::verify`]: the anchor of every window. Only a
    /// verified chunk moves it; what neighbours say never does.
    newest_verified: Option<u64>,
    /// When each new newest chunk was first heard of (from a neighbour's [`Have`]), oldest
    /// first, strictly increasing: a chunk missing a while after others said they hold it is
    /// pulled. A claim is kept only within [`Relay::lead`] of `newest_verified`.
    heard: VecDeque<(u64, u64)>,
    /// When each stripe last tried a better parent.
    improved_at: Vec<u64>,
    wants: BTreeMap<u64, Want<P>>,
    /// Peers dropped for a bad chunk, with when: at most [`BANNED_MAX`].
    banned: BTreeMap<P, u64>,
    repair_tokens: f64,
    last_refill: u64,
    next_have: u64,
    last_need_peers: Option<u64>,
    playout: Playout,
    events: VecDeque<Event<P>>,
    stats: RelayStats,
}

impl<P: PeerKey> Relay<P> {
    /// A viewer of `channel`. `home` is its home stripe (spread viewers evenly, e.g. by a hash
    /// of their id).
    pub fn viewer(me: P, channel: VerifyingKey, config: RelayConfig, home: u8, now: u64) -> Self {
        let mut relay = Relay::new(me, channel, config, now);
        relay.home = home % relay.config.stripes;
        relay
    }

    /// The broadcaster of `channel`: the root of every stripe.
    pub fn broadcaster(me: P, channel: VerifyingKey, config: RelayConfig, now: u64) -> Self {
        let mut relay = Relay::new(me, channel, config, now);
        relay.is_broadcaster = true;
        relay
    }

    fn new(me: P, channel: VerifyingKey, config: RelayConfig, now: u64) -> Self {
        let stripes = (0..config.stripes).map(|_| Stripe::new()).collect();
        let improved_at = vec![now; usize::from(config.stripes)];
        Relay {
            me,
            channel,
            is_broadcaster: false,
            repair_tokens: config.repair_bytes_per_s as f64,
            config,
            home: 0,
            stripes,
            neighbours: BTreeMap::new(),
            chunks: BTreeMap::new(),
            stored_bytes: 0,
            newest_verified: None,
            heard: VecDeque::new(),
            improved_at,
            wants: BTreeMap::new(),
            banned: BTreeMap::new(),
            last_refill: now,
            next_have: now,
            last_need_peers: None,
            playout: Playout::Waiting {
                first_arrival: None,
                seen: VecDeque::new(),
            },
            events: VecDeque::new(),
            stats: RelayStats {
                joined_at: now,
                ..RelayStats::default()
            },
        }
    }

    /// What the relay counted so far.
    pub fn stats(&self) -> &RelayStats {
        &self.stats
    }

    /// How much the relay holds: for the tests that flood it, and for the node's figures.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            neighbours: self.neighbours.len(),
            banned: self.banned.len(),
            chunks: self.chunks.len(),
            stored_bytes: self.stored_bytes,
            heard: self.heard.len(),
            wants: self.wants.len(),
            refused: self.stripes.iter().map(|s| s.refused.len()).sum(),
            children: self.stripes.iter().map(|s| s.children.len()).sum(),
        }
    }

    /// The newest chunk this relay verified: what every window is measured from.
    pub fn newest_verified(&self) -> Option<u64> {
        self.newest_verified
    }

    /// The channel this relay carries.
    pub fn channel(&self) -> VerifyingKey {
        self.channel
    }

    /// This relay's own id.
    pub fn me(&self) -> P {
        self.me
    }

    /// Depth in each stripe and whether there is room for a child there: what a node reports
    /// to the channel directory so it can hand joiners peers with room near the root.
    pub fn have(&self) -> Have {
        let mut depth = [NO_DEPTH; MAX_STRIPES];
        let mut open = 0u8;
        let mut open_home = 0u8;
        let mut home_needs = 0u16;
        for s in 0..self.config.stripes {
            depth[s as usize] = self.depth(s);
            if self.free_slot(s) {
                open |= 1 << s;
                open_home |= 1 << s;
            } else if self.room_for(s, s, 0).is_some() {
                // A leaf to let go: room for any joiner at home here.
                open_home |= 1 << s;
            } else if let Some(needs) = self.displaceable(s) {
                // Room only for a line stronger than a child's: said with the slots it takes
                // (over all such stripes, the most), so a weaker joiner does not ask in vain.
                open_home |= 1 << s;
                home_needs = home_needs.max(needs);
            }
        }
        let newest = self.chunks.keys().next_back().copied();
        let mut bits = 0u64;
        if let Some(n) = newest {
            for (&seq, _) in self.chunks.range(n.saturating_sub(64)..n).rev() {
                bits |= 1 << (n - seq - 1);
            }
        }
        Have {
            newest,
            bits,
            depth,
            open,
            home: self.home,
            open_home,
            home_needs: home_needs.min(255) as u8,
            slots: self.config.slots.min(255) as u8,
        }
    }

    /// The fewest slots a joiner at home in `stripe` needs to take a child's place there (see
    /// [`Relay::room_for`]), if any joiner can: the weakest child's slots plus two.
    fn displaceable(&self, stripe: u8) -> Option<u16> {
        let most = RelayConfig::most_slots(self.config.stripes);
        self.room_for(stripe, stripe, most)?;
        self.stripes[stripe as usize]
            .children
            .iter()
            .filter_map(|c| self.neighbours.get(c).and_then(|n| n.have.as_ref()))
            .map(|h| u16::from(h.slots) + 2)
            .min()
    }

    /// Children in each stripe, and the child slots in all: how the relay's upload is used.
    pub fn children(&self) -> (Vec<usize>, u16) {
        (
            self.stripes.iter().map(|s| s.children.len()).collect(),
            self.config.slots,
        )
    }

    /// This relay's parent in `stripe`, if it has one.
    pub fn parent(&self, stripe: u8) -> Option<P> {
        self.stripes
            .get(usize::from(stripe))
            .and_then(|st| st.parent)
    }

    /// Peers this relay currently talks to.
    pub fn neighbours(&self) -> impl Iterator<Item = P> + '_ {
        self.neighbours.keys().copied()
    }

    /// Everything the relay asked for since the last call.
    pub fn drain(&mut self) -> impl Iterator<Item = Event<P>> + '_ {
        self.events.drain(..)
    }

    /// The most neighbours at once: the chosen ones plus every possible parent and child.
    fn neighbours_limit(&self) -> usize {
        self.config.neighbours_max
            + usize::from(self.config.slots)
            + usize::from(self.config.stripes)
    }

    /// How far past the newest verified chunk a neighbour's claim to hold one is believed:
    /// about eight seconds of stream (a neighbour near the root is a few hops ahead; one whose
    /// stripe stalled for a while may be seconds behind), never more than the [`WINDOW`].
    fn lead(&self) -> u64 {
        (8 * self.chunks_per_second()).clamp(64, WINDOW)
    }

    /// A neighbour says it holds chunks up to `newest`. Once this relay verified a chunk, a
    /// claim is believed only within [`Relay::lead`] of it: a lie cannot move the repair
    /// window, only waste a pull or two. Before that there is nothing to measure a claim
    /// against: claims are kept (a newcomer pulls its first chunks by them, over a window of
    /// two seconds) and the first verified chunk drops those out of reach.
    fn hear(&mut self, newest: u64, now: u64) {
        if let Some(verified) = self.newest_verified {
            if newest > verified.saturating_add(self.lead()) {
                return;
            }
        }
        if self.heard.back().is_none_or(|(n, _)| newest > *n) {
            self.heard.push_back((newest, now));
            if self.heard.len() > WINDOW as usize {
                self.heard.pop_front();
            }
        }
    }

    /// Whether `n` spoke within the last two rounds of [`Have`]s.
    fn lately_heard(&self, n: &Neighbour, now: u64) -> bool {
        now.saturating_sub(n.last_heard) <= 2 * self.config.have_interval_ms
    }

    fn depth(&self, stripe: u8) -> u8 {
        if self.is_broadcaster {
            return 0;
        }
        let st = &self.stripes[stripe as usize];
        match st.parent {
            Some(_) => st.path.len().min(usize::from(NO_DEPTH - 1)) as u8,
            None => NO_DEPTH,
        }
    }

    fn free_slot(&self, stripe: u8) -> bool {
        if !self.is_broadcaster && self.stripes[stripe as usize].parent.is_none() {
            return false;
        }
        let used: usize = self.stripes.iter().map(|s| s.children.len()).sum();
        if used >= usize::from(self.config.slots) {
            return false;
        }
        let here = self.stripes[stripe as usize].children.len();
        if self.config.even_stripes {
            let each = usize::from(self.config.slots).div_ceil(usize::from(self.config.stripes));
            return here < each;
        }
        stripe == self.home || here < usize::from(self.config.other_stripe_slots)
    }

    fn send(&mut self, to: P, message: Message<P>) {
        self.stats.bytes_sent += message.wire_len() as u64;
        self.events.push_back(Event::Send { to, message });
    }

    /// Introduces peers (from the directory or a suggestion). Each is greeted with a
    /// [`Have`], which makes this relay their neighbour too.
    pub fn add_peers(&mut self, peers: impl IntoIterator<Item = P>, now: u64) {
        for peer in peers {
            if peer == self.me
                || self.banned.contains_key(&peer)
                || self.neighbours.contains_key(&peer)
            {
                continue;
            }
            if self.neighbours.len() >= self.config.neighbours_max && !self.drop_unanswered(now) {
                break;
            }
            self.neighbours.insert(
                peer,
                Neighbour {
                    have: None,
                    last_heard: now,
                },
            );
            let have = self.have();
            self.send(peer, Message::Have(have));
        }
    }

    /// Makes room for a new peer by forgetting one that never answered this relay's greeting
    /// (a full peer ignores strangers): otherwise a newcomer whose first peers were all full
    /// holds a full table of silent names and cannot take the directory's next offer.
    fn drop_unanswered(&mut self, now: u64) -> bool {
        let patience = 2 * self.config.have_interval_ms;
        let in_tree = |p: &P| {
            self.stripes.iter().any(|st| {
                st.parent == Some(*p)
                    || st.children.contains(p)
                    || st.joining.map(|j| j.0) == Some(*p)
            })
        };
        let silent = self
            .neighbours
            .iter()
            .find(|(p, n)| {
                n.have.is_none() && now.saturating_sub(n.last_heard) >= patience && !in_tree(p)
            })
            .map(|(p, _)| *p);
        match silent {
            Some(p) => {
                self.neighbours.remove(&p);
                true
            }
            None => false,
        }
    }

    /// Whether this relay has a free child slot in some stripe: a stranger's greeting is then
    /// answered even with a full table of neighbours, as it may be a child to take.
    fn has_room(&self) -> bool {
        (0..self.config.stripes).any(|s| self.free_slot(s))
    }

    /// The transport lost `peer` (closed connection, or the peer said goodbye).
    pub fn peer_gone(&mut self, peer: P, now: u64) {
        self.neighbours.remove(&peer);
        for s in 0..self.config.stripes {
            let st = &mut self.stripes[s as usize];
            st.children.retain(|c| *c != peer);
            if st.joining.map(|j| j.0) == Some(peer) {
                st.joining = None;
            }
            if st.parent == Some(peer) {
                self.orphan(s, now);
            }
        }
    }

    /// Leaves the channel: says goodbye to everyone.
    pub fn leave(&mut self) {
        let peers: Vec<P> = self.neighbours.keys().copied().collect();
        for p in peers {
            self.send(p, Message::Bye);
        }
    }

    fn orphan(&mut self, stripe: u8, now: u64) {
        let st = &mut self.stripes[stripe as usize];
        if let Some(parent) = st.parent.take() {
            self.stats.tree.orphaned += 1;
            // Remember not to go straight back to the parent that failed us (a longer ban, set
            // by the caller, stays).
            let until = st.refused.entry(parent).or_insert(0);
            *until = (*until).max(now + REFUSED_FOR_MS);
            st.path.retain(|p| *p != parent);
        }
        st.joining = None;
    }

    /// The broadcaster's side: a new chunk is ready. It goes to this stripe's children at once.
    pub fn publish(&mut self, chunk: Chunk, now: u64) {
        debug_assert!(self.is_broadcaster);
        self.store(chunk, 0, now, None, false);
    }

    /// Handles one message from `from`.
    pub fn handle(&mut self, from: P, message: Message<P>, now: u64) {
        if self.banned.contains_key(&from) || from == self.me {
            return;
        }
        let mut introduced = false;
        if let Some(n) = self.neighbours.get_mut(&from) {
            n.last_heard = now;
        } else if !matches!(message, Message::Bye) && self.neighbours.len() < self.config.neighbours_max
            // A new child or parent is always a neighbour: the tree runs over neighbours. But
            // not past the hard limit, or a flood of joins from made-up ids would grow the map.
            || matches!(message, Message::Join { .. } | Message::Accept { .. })
                && self.neighbours.len() < self.neighbours_limit()
            // A newcomer's greeting, while there is room for a child: answered, or newcomers
            // meet only full peers and start late.
            || matches!(message, Message::Have(_))
                && self.neighbours.len() < self.neighbours_limit()
                && self.has_room()
        {
            self.neighbours.insert(
                from,
                Neighbour {
                    have: None,
                    last_heard: now,
                },
            );
            introduced = true;
        } else if let Message::Join { stripe, .. } = message {
            // Full: a stranger's join gets a quick answer (it may ask elsewhere at once) and
            // leaves no trace here.
            if stripe < self.config.stripes {
                let suggest = self.suggestions(stripe, from);
                self.send(from, Message::Refuse { stripe, suggest });
            }
            return;
        }
        match message {
            Message::Chunk { chunk, hops } => self.on_chunk(from, chunk, hops, now),
            Message::Have(have) => {
                if let Some(newest) = have.newest {
                    self.hear(newest, now);
                }
                if let Some(n) = self.neighbours.get_mut(&from) {
                    n.have = Some(have);
                }
                if introduced {
                    // A new neighbour: answer at once, so it can use us without waiting for
                    // the next round.
                    let have = self.have();
                    self.send(from, Message::Have(have));
                }
            }
            Message::Want { sequence } => self.on_want(from, sequence, now),
            Message::Join {
                stripe,
                home,
                slots,
            } => self.on_join(from, stripe, home, slots, now),
            Message::Accept { stripe, path } => self.on_accept(from, stripe, path, now),
            Message::Refuse { stripe, suggest } => {
                // Only a peer asked lately may refuse (an answer may come after the join timed
                // out, and its suggestions are still good): an unasked refusal would fill the
                // map and steer joins to the peers it names.
                if stripe >= self.config.stripes
                    || !self.stripes[stripe as usize]
                        .asked
                        .iter()
                        .any(|(p, at)| *p == from && now.saturating_sub(*at) < ASKED_FOR_MS)
                {
                    return;
                }
                let st = &mut self.stripes[stripe as usize];
                if st.joining.map(|j| j.0) == Some(from) {
                    st.joining = None;
                }
                st.refused.insert(from, now + REFUSED_FOR_MS);
                self.stats.tree.refused += 1;
                self.add_peers(suggest.into_iter().take(8), now);
                self.try_join(stripe, now);
            }
            Message::Path { stripe, path } => {
                if stripe >= self.config.stripes
                    || self.stripes[stripe as usize].parent != Some(from)
                {
                    return;
                }
                if path.contains(&self.me) {
                    // A loop formed while paths were in flight: step out of it.
                    self.stats.tree.loops += 1;
                    self.send(from, Message::Leave { stripe });
                    self.orphan(stripe, now);
                    return;
                }
                self.stripes[stripe as usize].path = path;
                self.tell_children_path(stripe);
            }
            Message::Leave { stripe } => {
                if stripe >= self.config.stripes {
                    return;
                }
                self.stripes[stripe as usize]
                    .children
                    .retain(|c| *c != from);
                if self.stripes[stripe as usize].parent == Some(from) {
                    self.orphan(stripe, now);
                    self.try_join(stripe, now);
                }
            }
            Message::Handover {
                stripe,
                heir,
                adopt,
            } => self.on_handover(from, stripe, heir, adopt, now),
            Message::Bye => self.peer_gone(from, now),
        }
    }

    /// The parent in `stripe` let this relay go in favour of `heir`: join it, and with `adopt`
    /// send this relay's own children there to it as well. Only the parent may say so; anyone
    /// else is ignored. A parent could as well send nothing, so obeying costs nothing more
    /// than a `Leave` would.
    fn on_handover(&mut self, from: P, stripe: u8, heir: P, adopt: bool, now: u64) {
        if stripe >= self.config.stripes
            || self.is_broadcaster
            || self.stripes[stripe as usize].parent != Some(from)
        {
            return;
        }
        let s = stripe as usize;
        let usable = heir != self.me && heir != from && !self.banned.contains_key(&heir);
        if adopt && usable {
            let children = std::mem::take(&mut self.stripes[s].children);
            for child in children {
                if child == heir {
                    // It took our place: it stays nobody's child of ours.
                    continue;
                }
                self.send(
                    child,
                    Message::Handover {
                        stripe,
                        heir,
                        adopt: false,
                    },
                );
            }
        }
        self.orphan(stripe, now);
        if usable && !self.stripes[s].path.contains(&heir) {
            // The heir sits where the parent's child was: the first former ancestor to ask.
            self.stripes[s].path.push(heir);
            self.add_peers([heir], now);
        }
        self.try_join(stripe, now);
    }

    fn on_chunk(&mut self, from: P, chunk: Chunk, hops: u8, now: u64) {
        let seq = chunk.sequence();
        if self.chunks.contains_key(&seq) {
            self.stats.duplicates += 1;
            return;
        }
        // Older than anything worth keeping: nobody will play or ask for it.
        if self
            .newest_verified
            .is_some_and(|n| seq.saturating_add(WINDOW) < n)
        {
            return;
        }
        if let Err(reason) = chunk.verify(&self.channel) {
            self.stats.refused += 1;
            self.ban(from, reason, now);
            return;
        }
        let stripe = (seq % u64::from(self.config.stripes)) as u8;
        let repaired = self.wants.remove(&seq).is_some();
        if repaired {
            self.stats.repaired += 1;
        }
        if self.stripes[stripe as usize].parent == Some(from) {
            let st = &mut self.stripes[stripe as usize];
            st.last_from_parent = now;
            st.newest_from_parent = Some(st.newest_from_parent.map_or(seq, |n| n.max(seq)));
        }
        self.store(chunk, hops, now, Some(from), repaired);
    }

    fn store(&mut self, chunk: Chunk, hops: u8, now: u64, from: Option<P>, repaired: bool) {
        let seq = chunk.sequence();
        let stripe = (seq % u64::from(self.config.stripes)) as usize;
        let first = self.newest_verified.is_none();
        self.newest_verified = Some(self.newest_verified.map_or(seq, |n| n.max(seq)));
        if first {
            // Claims heard before anything could be checked: those out of reach were lies.
            let reach = seq.saturating_add(self.lead());
            while self.heard.back().is_some_and(|(n, _)| *n > reach) {
                self.heard.pop_back();
            }
        }
        if from.is_some() {
            self.stats.received += 1;
            self.stats.hops[usize::from(hops).min(31)] += 1;
        }
        if let Playout::Waiting {
            first_arrival,
            seen,
        } = &mut self.playout
        {
            first_arrival.get_or_insert(now);
            // Pulled chunks filled old gaps while the trees were joined: they say nothing
            // about how far behind the pushed stream runs.
            if !repaired {
                seen.push_back((now, now.saturating_sub(chunk.announcement.available_ms())));
                // Only the last moments choose the delay; a stream with no keyframe to start
                // on must not grow this for ever.
                if seen.len() > SEEN_MAX {
                    seen.pop_front();
                }
            }
        }
        let mut children = self.stripes[stripe].children.clone();
        // Children that relay this stripe further first, the strongest first: a copy queued
        // behind a leaf's delays a whole branch, a leaf's copy queued behind them only itself.
        children.sort_by_key(|c| {
            let h = self.neighbours.get(c).and_then(|n| n.have.as_ref());
            (
                h.is_none_or(|h| usize::from(h.home) != stripe),
                std::cmp::Reverse(h.map_or(0, |h| h.slots)),
            )
        });
        for child in children {
            if Some(child) != from {
                self.send(
                    child,
                    Message::Chunk {
                        chunk: chunk.clone(),
                        hops: hops.saturating_add(1),
                    },
                );
            }
        }
        self.stored_bytes += chunk.bytes.len();
        while self.stored_bytes > STORED_BYTES_MAX && !self.chunks.is_empty() {
            let oldest = *self.chunks.keys().next().expect("not empty");
            self.forget(oldest);
        }
        self.chunks.insert(
            seq,
            Stored {
                chunk,
                arrived: now,
                hops,
            },
        );
        self.play(now);
    }

    fn ban(&mut self, peer: P, reason: ChunkError, now: u64) {
        if self.banned.len() >= BANNED_MAX {
            // The oldest ban goes: a forger with fresh ids each time gets nothing from it but
            // one more signature check per chunk.
            if let Some(oldest) = self
                .banned
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(p, _)| *p)
            {
                self.banned.remove(&oldest);
            }
        }
        self.banned.insert(peer, now);
        self.peer_gone(peer, now);
        self.events.push_back(Event::Misbehaved { peer, reason });
    }

    fn on_want(&mut self, from: P, sequence: u64, now: u64) {
        self.refill(now);
        let Some(stored) = self.chunks.get(&sequence) else {
            return;
        };
        let size = stored.chunk.bytes.len() as f64;
        if self.repair_tokens < size {
            return;
        }
        self.repair_tokens -= size;
        let message = Message::Chunk {
            chunk: stored.chunk.clone(),
            hops: stored.hops.saturating_add(1),
        };
        self.send(from, message);
    }

    fn refill(&mut self, now: u64) {
        let budget = self.config.repair_bytes_per_s as f64;
        let elapsed = now.saturating_sub(self.last_refill) as f64 / 1000.0;
        // At most one second's budget banked: a burst of pulls cannot starve the children.
        self.repair_tokens = (self.repair_tokens + elapsed * budget).min(budget);
        self.last_refill = now;
    }

    fn on_join(&mut self, from: P, stripe: u8, home: u8, slots: u16, now: u64) {
        if stripe >= self.config.stripes {
            return;
        }
        // A joiner claiming a huge line would win every eviction: no viewer offers more than
        // this, so no claim counts for more.
        let slots = slots.min(RelayConfig::most_slots(self.config.stripes));
        let s = stripe as usize;
        if self.stripes[s].children.contains(&from) {
            let path = self.path_for_child(stripe);
            self.send(from, Message::Accept { stripe, path });
            return;
        }
        let connected = self.is_broadcaster || self.stripes[s].parent.is_some();
        if !connected || self.stripes[s].path.contains(&from) {
            let suggest = self.suggestions(stripe, from);
            self.send(from, Message::Refuse { stripe, suggest });
            return;
        }
        if !self.free_slot(stripe) {
            // Children that went quiet free their slot for someone who is here.
            self.drop_silent_children(stripe, now);
        }
        if !self.free_slot(stripe) {
            if let Some((t, child)) = self.room_for(stripe, home, slots) {
                self.stripes[t as usize].children.retain(|c| *c != child);
                self.stats.tree.evicted += 1;
                if t == stripe {
                    // The joiner takes the child's place and adopts its children: they keep
                    // their depth, and the one let go finds room under the joiner (it carries
                    // at least two slots more) or elsewhere.
                    self.send(
                        child,
                        Message::Handover {
                            stripe,
                            heir: from,
                            adopt: true,
                        },
                    );
                } else {
                    self.send(child, Message::Leave { stripe: t });
                }
            }
        }
        if !self.free_slot(stripe) {
            let suggest = self.suggestions(stripe, from);
            self.send(from, Message::Refuse { stripe, suggest });
            return;
        }
        self.stripes[s].children.push(from);
        let path = self.path_for_child(stripe);
        self.send(from, Message::Accept { stripe, path });
    }

    /// Keeps each tree's inner nodes at home there and the strongest lines nearest the root:
    /// the child to let go (stripe, peer) so a joiner whose home is `stripe`, with `slots`
    /// child slots, fits. A viewer gives up a child it took in another stripe, then one here
    /// whose home is elsewhere (it has one slot here at most), then a child at home here with
    /// at least two slots fewer than the joiner; the broadcaster the last two. A child let go
    /// here is handed over to the joiner, which adopts its children ([`Message::Handover`]).
    fn room_for(&self, stripe: u8, joiner_home: u8, slots: u16) -> Option<(u8, P)> {
        if joiner_home != stripe || !self.is_broadcaster && stripe != self.home {
            return None;
        }
        if !self.is_broadcaster && self.stripes[stripe as usize].parent.is_none() {
            return None;
        }
        let info = |c: &P| self.neighbours.get(c).and_then(|n| n.have.as_ref());
        if !self.is_broadcaster {
            let elsewhere = (0..self.config.stripes)
                .filter(|t| *t != self.home)
                .find_map(|t| self.stripes[t as usize].children.last().map(|c| (t, *c)));
            if elsewhere.is_some() {
                return elsewhere;
            }
        }
        let here = &self.stripes[stripe as usize].children;
        if let Some(c) = here
            .iter()
            .find(|c| info(c).is_some_and(|h| h.home != stripe))
        {
            return Some((stripe, *c));
        }
        here.iter()
            .filter_map(|c| info(c).map(|h| (h.slots, *c)))
            .filter(|(s, _)| u16::from(*s) + 2 <= slots)
            .min()
            .map(|(_, c)| (stripe, c))
    }

    /// Changes how many children this relay takes ([`Capacity`] measured what the line bears).
    /// Over the new count, children are let go, those least costly to lose first: a child taken
    /// in another stripe, then one here whose home is elsewhere (a leaf), then the newest at
    /// home. Each is told with a `Leave` and joins elsewhere.
    pub fn set_slots(&mut self, slots: u16) {
        self.config.slots = slots;
        loop {
            let used: usize = self.stripes.iter().map(|s| s.children.len()).sum();
            if used <= usize::from(slots) {
                return;
            }
            let home = self.home;
            let info = |c: &P| self.neighbours.get(c).and_then(|n| n.have.as_ref());
            let elsewhere = (0..self.config.stripes)
                .filter(|t| *t != home || self.is_broadcaster)
                .find_map(|t| self.stripes[t as usize].children.last().map(|c| (t, *c)));
            let here = &self.stripes[home as usize].children;
            let victim = if self.is_broadcaster {
                elsewhere
            } else {
                elsewhere
                    .or_else(|| {
                        here.iter()
                            .rev()
                            .find(|c| info(c).is_none_or(|h| h.home != home))
                            .map(|c| (home, *c))
                    })
                    .or_else(|| here.last().map(|c| (home, *c)))
            };
            let Some((t, child)) = victim else {
                return;
            };
            self.stripes[t as usize].children.retain(|c| *c != child);
            self.stats.tree.shed += 1;
            self.send(child, Message::Leave { stripe: t });
        }
    }

    fn drop_silent_children(&mut self, stripe: u8, now: u64) {
        let timeout = self.config.have_interval_ms * 3;
        let neighbours = &self.neighbours;
        self.stripes[stripe as usize].children.retain(|c| {
            neighbours
                .get(c)
                .is_some_and(|n| now.saturating_sub(n.last_heard) < timeout)
        });
    }

    fn path_for_child(&self, stripe: u8) -> Vec<P> {
        let mut path = if self.is_broadcaster {
            Vec::new()
        } else {
            self.stripes[stripe as usize].path.clone()
        };
        path.push(self.me);
        path
    }

    /// Peers worth trying for a child refused here: own children first (they are one level
    /// down), then neighbours close to the root with room.
    fn suggestions(&self, stripe: u8, asker: P) -> Vec<P> {
        let s = stripe as usize;
        let mut out: Vec<(u8, P)> = Vec::new();
        for c in &self.stripes[s].children {
            if let Some(Neighbour { have: Some(h), .. }) = self.neighbours.get(c) {
                if h.open >> stripe & 1 == 1 {
                    out.push((h.depth[s], *c));
                }
            }
        }
        for (p, n) in &self.neighbours {
            if let Some(h) = &n.have {
                if h.depth[s] != NO_DEPTH
                    && h.open >> stripe & 1 == 1
                    && !out.iter().any(|o| o.1 == *p)
                {
                    out.push((h.depth[s].saturating_add(1), *p));
                }
            }
        }
        out.retain(|o| o.1 != asker);
        out.sort();
        let mut list: Vec<P> = out.into_iter().map(|o| o.1).take(4).collect();
        if list.is_empty() {
            // Nobody known with room: the children are still one level down.
            list = self.stripes[s]
                .children
                .iter()
                .copied()
                .filter(|c| *c != asker)
                .take(4)
                .collect();
        }
        list
    }

    fn on_accept(&mut self, from: P, stripe: u8, path: Vec<P>, now: u64) {
        if stripe >= self.config.stripes || self.is_broadcaster {
            return;
        }
        let s = stripe as usize;
        let expected = self.stripes[s].joining.map(|j| j.0) == Some(from);
        if !expected && self.stripes[s].parent != Some(from) {
            self.send(from, Message::Leave { stripe });
            return;
        }
        if path.contains(&self.me) || path.last() != Some(&from) {
            self.send(from, Message::Leave { stripe });
            self.stripes[s].joining = None;
            return;
        }
        if let Some(old) = self.stripes[s].parent {
            if old != from {
                self.send(old, Message::Leave { stripe });
            }
        }
        self.stats.tree.accepted += 1;
        let parent_newest = self
            .neighbours
            .get(&from)
            .and_then(|n| n.have.as_ref())
            .and_then(|h| h.newest)
            .max(self.newest_verified);
        let st = &mut self.stripes[s];
        st.parent = Some(from);
        st.path = path;
        st.joining = None;
        st.last_from_parent = now;
        // What the parent held before it took us is not owed to us: only newer chunks count
        // when judging whether it serves us.
        st.newest_from_parent = parent_newest;
        st.children.retain(|c| *c != from);
        self.tell_children_path(stripe);
    }

    fn tell_children_path(&mut self, stripe: u8) {
        let path = self.path_for_child(stripe);
        let children = self.stripes[stripe as usize].children.clone();
        for c in children {
            self.send(
                c,
                Message::Path {
                    stripe,
                    path: path.clone(),
                },
            );
        }
    }

    /// Sends a join for `stripe` to the best candidate, if none is pending.
    fn try_join(&mut self, stripe: u8, now: u64) {
        if self.is_broadcaster {
            return;
        }
        let s = stripe as usize;
        if self.stripes[s].parent.is_some() {
            return;
        }
        if let Some((_, at)) = self.stripes[s].joining {
            if now.saturating_sub(at) < self.config.join_timeout_ms {
                return;
            }
            self.stripes[s].joining = None;
        }
        let recently_refused =
            |st: &Stripe<P>, p: &P| st.refused.get(p).is_some_and(|until| *until > now);
        let st = &self.stripes[s];
        // Former ancestors first, nearest first: the grandparent of an orphan usually has room
        // or knows who has.
        let mut candidate = st
            .path
            .iter()
            .rev()
            .take(2)
            .find(|p| !recently_refused(st, p) && !self.banned.contains_key(p))
            .copied();
        if candidate.is_none() {
            candidate = self.best_parent(stripe, now, NO_DEPTH);
        }
        match candidate {
            Some(p) => {
                self.stripes[s].ask(p, now);
                self.stats.tree.joins += 1;
                let (home, slots) = (self.home, self.config.slots);
                self.send(
                    p,
                    Message::Join {
                        stripe,
                        home,
                        slots,
                    },
                );
            }
            None => self.need_peers(now, Some(stripe)),
        }
    }

    /// The neighbour with room in `stripe` closest to the root, shallower than `below`. A
    /// neighbour whose home is another stripe counts two levels deeper: it has one slot
    /// there, so a branch under it cannot fan out.
    fn best_parent(&self, stripe: u8, now: u64, below: u8) -> Option<P> {
        let s = stripe as usize;
        let st = &self.stripes[s];
        let mut best: Option<(u16, P)> = None;
        for (p, n) in &self.neighbours {
            let Some(h) = &n.have else { continue };
            // A neighbour that missed two rounds of news may be dead (a killed process is
            // only noticed by the transport seconds later): not one to hang a branch on.
            if !self.lately_heard(n, now) {
                continue;
            }
            // Room made by letting a weaker child go is room only for a line strong enough.
            let open = if stripe == self.home && self.config.slots >= u16::from(h.home_needs) {
                h.open_home
            } else {
                h.open
            };
            if h.depth[s] == NO_DEPTH || open >> stripe & 1 == 0 || h.depth[s] >= below {
                continue;
            }
            if st.children.contains(p)
                || st.parent == Some(*p)
                || st.refused.get(p).is_some_and(|until| *until > now)
            {
                continue;
            }
            let rank = u16::from(h.depth[s]) + if h.home == stripe { 0 } else { 2 };
            if best.is_none_or(|b| (rank, *p) < b) {
                best = Some((rank, *p));
            }
        }
        best.map(|b| b.1)
    }

    /// Every few seconds per stripe: move under a neighbour at least two levels closer to the
    /// root (the whole branch below moves along), so trees built in a rush flatten out.
    fn improve(&mut self, stripe: u8, now: u64) {
        let s = stripe as usize;
        if let Some((_, at)) = self.stripes[s].joining {
            if now.saturating_sub(at) < self.config.join_timeout_ms {
                return;
            }
            self.stripes[s].joining = None;
        }
        if self.stripes[s].parent.is_none() || now.saturating_sub(self.improved_at[s]) < 3_000 {
            return;
        }
        self.improved_at[s] = now;
        let depth = self.depth(stripe);
        if depth < 3 {
            return;
        }
        if let Some(p) = self.best_parent(stripe, now, depth - 2) {
            self.stripes[s].ask(p, now);
            self.stats.tree.joins += 1;
            let (home, slots) = (self.home, self.config.slots);
            self.send(
                p,
                Message::Join {
                    stripe,
                    home,
                    slots,
                },
            );
        } else if stripe == self.home && depth >= 4 {
            // Deep in its home tree with no neighbour near the root: the whole branch below
            // pays each level. The directory knows who has room up there.
            self.need_peers(now, Some(stripe));
        }
    }

    fn need_peers(&mut self, now: u64, stripe: Option<u8>) {
        if self
            .last_need_peers
            .is_none_or(|at| now.saturating_sub(at) >= 1_000)
        {
            self.last_need_peers = Some(now);
            self.events.push_back(Event::NeedPeers { stripe });
        }
    }

    /// Timers: parents and neighbours that went quiet, joins, pulls, the periodic [`Have`],
    /// and the player's clock.
    pub fn tick(&mut self, now: u64) {
        self.refill(now);
        // Neighbours heard nothing from are gone.
        let timeout = self.config.neighbour_timeout_ms;
        let gone: Vec<P> = self
            .neighbours
            .iter()
            .filter(|(_, n)| now.saturating_sub(n.last_heard) > timeout)
            .map(|(p, _)| *p)
            .collect();
        for p in gone {
            self.peer_gone(p, now);
        }
        if !self.is_broadcaster {
            for s in 0..self.config.stripes {
                self.check_parent(s, now);
                self.try_join(s, now);
                self.improve(s, now);
            }
            self.repair(now);
        }
        if self.neighbours.len() < self.config.neighbours_min {
            self.need_peers(now, None);
        }
        if now >= self.next_have {
            self.next_have = now + self.config.have_interval_ms;
            let have = self.have();
            let peers: Vec<P> = self.neighbours.keys().copied().collect();
            for p in peers {
                self.send(p, Message::Have(have.clone()));
            }
        }
        self.prune(now);
        self.play(now);
    }

    /// Leaves a parent that is gone or does not serve this relay. A parent that is itself
    /// starved (its own parent left) is given time to re-join: if every node below it left as
    /// well, a whole branch would scatter at once.
    fn check_parent(&mut self, stripe: u8, now: u64) {
        let s = stripe as usize;
        let Some(parent) = self.stripes[s].parent else {
            return;
        };
        let st = &self.stripes[s];
        let quiet = now.saturating_sub(st.last_from_parent);
        if quiet <= self.config.parent_timeout_ms {
            return;
        }
        let stripes = u64::from(self.config.stripes);
        let mine = st.newest_from_parent;
        let parent_info = self.neighbours.get(&parent);
        let heard = parent_info.map_or(0, |n| n.last_heard);
        let gone = now.saturating_sub(heard)
            > self.config.parent_timeout_ms + self.config.have_interval_ms;
        // It holds chunks of this stripe newer than any it sent us: it is not serving us (its
        // line is full, or it dropped us and the word was lost).
        let not_serving = parent_info.and_then(|n| n.have.as_ref()).is_some_and(|h| {
            let Some(newest) = h.newest else { return false };
            // A [`Have`] names at most the 65 chunks up to its newest, whatever newest it
            // claims: only those are looked at.
            let first = match mine {
                Some(m) => m.saturating_add(stripes),
                None => 0,
            }
            .max(newest.saturating_sub(64));
            let mut seq = first - first % stripes + stripe as u64;
            if seq < first {
                seq = seq.saturating_add(stripes);
            }
            while seq <= newest {
                if h.holds(seq) && !self.chunks.contains_key(&seq) {
                    return true;
                }
                let Some(next) = seq.checked_add(stripes) else {
                    break;
                };
                seq = next;
            }
            false
        });
        let starved_too_long = quiet > 4 * self.config.parent_timeout_ms;
        if gone || not_serving || starved_too_long {
            self.stats.tree.silent_parents += 1;
            self.send(parent, Message::Leave { stripe });
            self.orphan(stripe, now);
            if !gone {
                // It talks but does not serve: not asked again for a good while, or a peer
                // that accepts children and sends them nothing would take this stripe back
                // every few seconds.
                self.stripes[s]
                    .refused
                    .insert(parent, now + SILENT_PARENT_PENALTY_MS);
            }
        }
    }

    /// Pulls chunks that are late: missing a while after a later one arrived.
    fn repair(&mut self, now: u64) {
        // The newest chunk a neighbour says it holds, which `hear` kept within reach.
        let heard = self.heard.back().map(|(n, _)| *n);
        let Some(newest) = heard.max(self.newest_verified) else {
            return;
        };
        // Pulls that were not answered in time are forgotten, so they are asked elsewhere.
        let timeout = self.config.want_timeout_ms;
        let mut retry = Vec::new();
        self.wants.retain(|seq, w| {
            if now.saturating_sub(w.at) > timeout {
                retry.push((*seq, std::mem::take(&mut w.tried)));
                false
            } else {
                true
            }
        });
        let low = match &self.playout {
            Playout::Playing { cursor, .. } => *cursor,
            // Before playing, only the last two seconds or so are worth having.
            Playout::Waiting { .. } => {
                let per_second = self.chunks_per_second().max(1);
                newest.saturating_sub(2 * per_second)
            }
        }
        // A pass looks at one window at most, however far behind the playhead fell.
        .max(newest.saturating_sub(WINDOW));
        let grace = self.config.repair_grace_ms;
        // A stripe's chunks come down its tree in order, so a gap is late once a later chunk of
        // the same stripe has been here for the grace period; or, when the stripe has stalled,
        // a while after a neighbour said it holds a chunk at least that new.
        let stripes = u64::from(self.config.stripes);
        let mut later_arrival: Vec<Option<u64>> = vec![None; usize::from(self.config.stripes)];
        let mut late: Vec<u64> = Vec::new();
        let mut seq = newest;
        while seq >= low {
            let s = (seq % stripes) as usize;
            match self.chunks.get(&seq) {
                Some(stored) => {
                    later_arrival[s] =
                        Some(later_arrival[s].map_or(stored.arrived, |a| a.min(stored.arrived)));
                }
                None => {
                    let by_stripe =
                        later_arrival[s].is_some_and(|a| now.saturating_sub(a) >= grace);
                    // `heard` increases: the first claim at least this new is found by halving.
                    let first_claim = self.heard.partition_point(|(n, _)| *n < seq);
                    let by_neighbour = self.heard.get(first_claim).is_some_and(|(_, at)| {
                        now.saturating_sub(*at) >= self.config.heard_grace_ms
                    });
                    if (by_stripe || by_neighbour) && !self.wants.contains_key(&seq) {
                        late.push(seq);
                    }
                }
            }
            if seq == 0 {
                break;
            }
            seq -= 1;
        }
        // Oldest first: it plays first.
        late.reverse();
        let retried: BTreeMap<u64, Vec<P>> = retry.into_iter().collect();
        for seq in late {
            if self.wants.len() >= self.config.wants_max {
                break;
            }
            let tried = retried.get(&seq).cloned().unwrap_or_default();
            if let Some(peer) = self.pick_source(seq, &tried, now) {
                let mut tried = tried;
                tried.push(peer);
                self.wants.insert(seq, Want { at: now, tried });
                self.send(peer, Message::Want { sequence: seq });
            }
        }
    }

    fn pick_source(&self, seq: u64, tried: &[P], now: u64) -> Option<P> {
        let stripe = (seq % u64::from(self.config.stripes)) as usize;
        let mut best: Option<((bool, u8, u64), P)> = None;
        for (p, n) in &self.neighbours {
            if tried.contains(p) || !self.lately_heard(n, now) {
                continue;
            }
            if let Some(h) = &n.have {
                if h.holds(seq) {
                    // Prefer peers near the root of another stripe than this one's: they are
                    // not busy with this stripe's children, and strong lines sit near the
                    // roots. The broadcaster (the root of every stripe) comes last: its line
                    // carries the trees, and the first viewers' pulls pushed it past 2x.
                    let broadcaster = h.depth[stripe] == 0;
                    let rank = h
                        .depth
                        .iter()
                        .take(usize::from(self.config.stripes))
                        .enumerate()
                        .filter(|(t, _)| *t != stripe)
                        .map(|(_, d)| *d)
                        .min()
                        .unwrap_or(NO_DEPTH);
                    let rank = (broadcaster, rank, spread(seq, p));
                    if best.is_none_or(|b| (rank, *p) < b) {
                        best = Some((rank, *p));
                    }
                }
            }
        }
        if let Some((_, p)) = best {
            return Some(p);
        }
        // Nobody says they hold it yet: the parent in its stripe is the likeliest to.
        self.stripes[stripe]
            .parent
            .filter(|p| !tried.contains(p))
            .or_else(|| tried.first().copied().filter(|_| tried.len() < 3))
    }

    fn chunks_per_second(&self) -> u64 {
        self.chunks
            .values()
            .next_back()
            .map(|s| {
                let a = &s.chunk.announcement;
                u64::from(a.count) * 1000 / u64::from(a.duration_ms).max(1)
            })
            .unwrap_or(1)
    }

    fn forget(&mut self, seq: u64) {
        if let Some(stored) = self.chunks.remove(&seq) {
            self.stored_bytes -= stored.chunk.bytes.len();
        }
    }

    fn prune(&mut self, now: u64) {
        let keep = self.config.keep_ms;
        let cursor = match &self.playout {
            Playout::Playing { cursor, .. } => *cursor,
            Playout::Waiting { .. } => u64::MAX,
        };
        let floor = self.newest_verified.map_or(0, |n| n.saturating_sub(WINDOW));
        while let Some((&seq, stored)) = self.chunks.iter().next() {
            let stale = now.saturating_sub(stored.arrived) > keep && seq < cursor;
            if stale || seq < floor || self.stored_bytes > STORED_BYTES_MAX {
                self.forget(seq);
            } else {
                break;
            }
        }
        while self
            .heard
            .front()
            .is_some_and(|(_, at)| now.saturating_sub(*at) > keep)
        {
            self.heard.pop_front();
        }
        let stripes = &mut self.stripes;
        for st in stripes.iter_mut() {
            st.refused.retain(|_, until| *until > now);
        }
    }

    /// The player's side: starts once the delay is known, then hands chunks over in order and
    /// skips to the next keyframe past a chunk that missed its time.
    fn play(&mut self, now: u64) {
        if self.is_broadcaster {
            return;
        }
        if let Playout::Waiting {
            first_arrival: Some(first),
            seen,
        } = &self.playout
        {
            let waited = now.saturating_sub(*first);
            // Start once arrivals were watched for a while, whether or not every stripe has a
            // parent yet: a stripe still joining arrives by pulling meanwhile. Waiting up to
            // three times as long for every parent was measured (100 viewers, 90 s, six
            // seeds): 0.2 s later to the first frame, 0.1 s more lag, no better continuity.
            // Half the watch is enough once every stripe is pushed by a parent: what arrives
            // then is what the trees deliver, not pulls made while joining.
            let settled = self.stripes.iter().all(|st| st.parent.is_some())
                && waited >= self.config.start_observe_ms / 2;
            if waited < self.config.start_observe_ms && !settled {
                return;
            }
            // The delay of what arrived lately: the first arrivals came while the trees were
            // still being joined, and by pulling.
            let recent = now.saturating_sub(self.config.start_observe_ms / 2);
            let worst_ms = seen
                .iter()
                .filter(|(at, _)| *at >= recent)
                .map(|(_, d)| *d)
                .max()
                .unwrap_or_else(|| seen.iter().map(|(_, d)| *d).max().unwrap_or(0));
            let interval = self
                .chunks
                .values()
                .next_back()
                .map(|s| {
                    u64::from(s.chunk.announcement.duration_ms)
                        / u64::from(s.chunk.announcement.count)
                })
                .unwrap_or(0);
            let delay = (worst_ms + interval + self.config.playout_margin_ms).clamp(500, 15_000);
            // Start at the earliest keyframe still ahead of the playhead. (Starting at once on
            // the one before, further behind, and catching up later was measured: 0.3 s
            // sooner to the first frame, 0.35 s more lag over a minute, fewer chunks on time.)
            let start = self.chunks.values().find(|s| {
                let a = &s.chunk.announcement;
                a.index == 0 && a.keyframe && a.deadline_ms(delay) >= now
            });
            let Some(start) = start else {
                return;
            };
            let at = start.chunk.announcement.deadline_ms(delay);
            let cursor = start.chunk.sequence();
            self.stats.started_at = Some(at);
            self.stats.delay_ms = Some(delay);
            self.events.push_back(Event::Started {
                at_ms: at,
                delay_ms: delay,
            });
            self.playout = Playout::Playing {
                delay_ms: delay,
                cursor,
                skipping: false,
                last_deadline: at,
                recent: VecDeque::new(),
                steady_since: now,
                least_slack: u64::MAX,
                live_edge_ms: delay,
            };
        }
        let Playout::Playing {
            delay_ms,
            cursor,
            skipping,
            last_deadline,
            recent,
            steady_since,
            least_slack,
            live_edge_ms,
        } = &mut self.playout
        else {
            return;
        };
        let mut missed_now = 0u64;
        // Misses already told to the player (in this call).
        let mut reported = 0u64;
        loop {
            match self.chunks.get(cursor) {
                Some(stored) => {
                    let a = &stored.chunk.announcement;
                    let deadline = a.deadline_ms(*delay_ms);
                    if *skipping {
                        if a.index == 0 && a.keyframe && deadline >= now {
                            *skipping = false;
                            // The player hears of the skip before the chunk it resumes at: a
                            // player that appends bytes (a Media Source buffer) must start
                            // afresh there, not append the next segment to a broken one.
                            if missed_now > reported {
                                self.events.push_back(Event::Skipped {
                                    from: *cursor - (missed_now - reported),
                                    to: *cursor,
                                });
                                reported = missed_now;
                            }
                            continue;
                        }
                        missed_now += 1;
                        *cursor += 1;
                        continue;
                    }
                    if stored.arrived <= deadline {
                        *least_slack = (*least_slack).min(deadline - stored.arrived);
                        self.stats.played += 1;
                        self.stats.lag_ms_sum += *delay_ms;
                        if self.stats.started_at.is_some_and(|s| now > s + 10_000) {
                            self.stats.played_later += 1;
                        }
                        recent.push_back((now, false));
                        *last_deadline = deadline;
                        self.events.push_back(Event::Play(stored.chunk.clone()));
                        *cursor += 1;
                    } else {
                        *skipping = true;
                    }
                }
                None => {
                    if *skipping {
                        // Straight to the next chunk held, however far: a stream that jumped
                        // ahead is not walked one number at a time.
                        if let Some((&next, _)) = self.chunks.range(*cursor..).next() {
                            missed_now += next - *cursor;
                            *cursor = next;
                            continue;
                        }
                        break;
                    }
                    // Missing: overdue once a later chunk's time has come, or long after the
                    // last one played (the whole stream stalled).
                    let later_due =
                        self.chunks.range(*cursor..).next().is_some_and(|(_, s)| {
                            s.chunk.announcement.deadline_ms(*delay_ms) < now
                        });
                    if later_due || now > *last_deadline + 2_000 {
                        *skipping = true;
                        continue;
                    }
                    break;
                }
            }
        }
        if missed_now > 0 {
            *steady_since = now;
            *least_slack = u64::MAX;
            let from = *cursor - missed_now;
            self.stats.missed += missed_now;
            if self.stats.started_at.is_some_and(|s| now > s + 10_000) {
                self.stats.missed_later += missed_now;
            }
            for _ in 0..missed_now {
                recent.push_back((now, true));
            }
            if missed_now > reported {
                self.events.push_back(Event::Skipped {
                    from: from + reported,
                    to: *cursor,
                });
            }
        }
        while recent
            .front()
            .is_some_and(|(at, _)| now.saturating_sub(*at) > 10_000)
        {
            recent.pop_front();
        }
        if missed_now > 0 && recent.len() >= 20 {
            let missed = recent.iter().filter(|r| r.1).count() as f64;
            if missed / recent.len() as f64 > self.config.rebuffer_miss_share && *delay_ms < 8_000 {
                // Repeated misses: play half a second further behind (one short stall) rather
                // than keep skipping.
                *delay_ms += 500;
                self.stats.delay_ms = Some(*delay_ms);
                self.stats.rebuffers += 1;
                self.events.push_back(Event::Delay {
                    delay_ms: *delay_ms,
                });
                recent.clear();
            }
        }
        // Back toward the live edge once every chunk came early for a while: a rebuffer need
        // not cost lag for the rest of the show. Never below the delay the start chose. The step
        // leaves the tightest chunk of the stretch, and every chunk already here waiting to
        // play, at least `catch_up_keep_ms` of slack.
        if now.saturating_sub(*steady_since) >= self.config.catch_up_every_ms
            && *least_slack != u64::MAX
        {
            let waiting = self
                .chunks
                .range(*cursor..)
                .map(|(_, s)| {
                    s.chunk
                        .announcement
                        .deadline_ms(*delay_ms)
                        .saturating_sub(s.arrived)
                })
                .min()
                .unwrap_or(u64::MAX);
            let room = (*least_slack)
                .min(waiting)
                .saturating_sub(self.config.catch_up_keep_ms);
            let step = room
                .min(CATCH_UP_STEP_MS)
                .min(delay_ms.saturating_sub(*live_edge_ms));
            if step > 0 {
                *delay_ms -= step;
                self.stats.delay_ms = Some(*delay_ms);
                self.stats.caught_up += 1;
                self.events.push_back(Event::Delay {
                    delay_ms: *delay_ms,
                });
            }
            *steady_since = now;
            *least_slack = u64::MAX;
        }
    }
}

/// A draw fixed by the chunk and the peer: among equally placed sources, each chunk goes to a
/// different one, so one neighbour's repair budget is not the first asked for every chunk.
fn spread<P: Hash>(seq: u64, peer: &P) -> u64 {
    use std::hash::Hasher;
    // SipHash with fixed keys: the same on every run, so the simulator stays deterministic.
    let mut h = std::hash::DefaultHasher::new();
    seq.hash(&mut h);
    peer.hash(&mut h);
    h.finish()
}
