//! The live channel directory: which channels are live, who watches them, and which peers a
//! joining viewer should connect to. In memory, like the tracker: a channel lives as long as its
//! broadcaster's heartbeats, a viewer as long as its reports, and a restarted store is filled
//! again within one heartbeat. The routes are [`crate::http`]'s `channels` module; the signed
//! messages and their checks are [`marquee_protocol::channels`].
//!
//! Everything here is bounded whatever clients send: [`MAX_CHANNELS`] channels (and as many
//! recently ended), [`MAX_CHANNELS_PER_ACCOUNT`] live per account, [`MAX_VIEWERS`] tracked per
//! channel. New viewers from one address are rate limited by the caller.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use marquee_protocol::channels::{
    check_time, ChannelError, ChannelListing, ChannelSignal, ChannelSignalKind, LiveNode,
    SignedChannel, SignedViewerReport, HEARTBEAT_EVERY_S, MAX_PEERS_HANDED, NOT_CONNECTED,
    REPORT_EVERY_S,
};

use crate::error::StoreError;
use crate::Clock;

/// The most channels listed at once.
pub const MAX_CHANNELS: usize = 1_000;
/// The most channels one account has live at once.
pub const MAX_CHANNELS_PER_ACCOUNT: usize = 3;
/// The most viewers tracked per channel (about 150 bytes each). Past it a joiner is still
/// handed peers; it is just not handed to others, nor counted.
pub const MAX_VIEWERS: usize = 20_000;
/// A channel without a heartbeat for this long is no longer listed (three missed).
pub const CHANNEL_TTL_S: i64 = 3 * HEARTBEAT_EVERY_S;
/// A viewer without a report for this long is no longer counted nor handed out (three missed).
pub const VIEWER_TTL_S: i64 = 3 * REPORT_EVERY_S;
/// Peers handed per stripe.
const PER_STRIPE: usize = 2;
/// Below this many viewers with room, a joiner is handed the broadcaster too: the trees are
/// small, and the root is the best parent there is.
const SMALL_TREE: usize = 8;

/// The directory.
pub struct Directory {
    clock: Clock,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    channels: HashMap<String, Channel>,
    /// Channels that ended, with the time their end was signed: a replayed registration signed
    /// before that is refused. Dropped once any such replay is too old to be taken anyway.
    ended: HashMap<String, i64>,
    /// When both maps were last swept (at most once a second of the clock: every report
    /// takes the lock, and a sweep walks every channel).
    swept_at: i64,
}

struct Channel {
    signed: SignedChannel,
    account: i64,
    started_at: i64,
    /// The newest time the channel's key signed (registration or heartbeat).
    last_at: i64,
    /// When the store last heard from the broadcaster (its own clock).
    heard_at: i64,
    viewers: HashMap<String, Viewer>,
}

struct Viewer {
    node: LiveNode,
    depth: Vec<u8>,
    open: u8,
    last_at: i64,
    heard_at: i64,
}

/// What a viewer's report got: the channel as signed, its peers, the count.
pub struct Joined {
    /// The channel's signed record.
    pub channel: SignedChannel,
    /// Peers to connect to.
    pub peers: Vec<LiveNode>,
    /// Viewers counted now.
    pub viewers: u64,
}

fn refused(e: ChannelError) -> StoreError {
    StoreError::BadRequest(e.to_string())
}

fn unknown(channel: &str) -> StoreError {
    StoreError::NotFound(format!(
        "live channel {channel} (it ended, or never went live here)"
    ))
}

fn replayed() -> StoreError {
    StoreError::BadRequest(
        "this message is no newer than the last one taken (replayed, or sent twice): sign a new one"
            .into(),
    )
}

impl Directory {
    /// An empty directory reading `clock`.
    pub fn new(clock: Clock) -> Directory {
        Directory {
            clock,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().expect("directory lock");
        let now = self.clock.now();
        if inner.swept_at != now {
            inner.swept_at = now;
            inner
                .channels
                .retain(|_, c| now - c.heard_at <= 2 * CHANNEL_TTL_S);
            inner
                .ended
                .retain(|_, at| now - *at <= 2 * marquee_protocol::channels::CLOCK_SKEW_S);
        }
        inner
    }

    /// A broadcaster of `account` lists its channel, or updates its record.
    pub fn register(&self, account: i64, signed: SignedChannel) -> Result<(), StoreError> {
        signed.verify().map_err(refused)?;
        let now = self.clock.now();
        let record = &signed.record;
        check_time(record.at, now).map_err(refused)?;
        let mut inner = self.lock();
        if inner
            .ended
            .get(&record.channel)
            .is_some_and(|end| record.at <= *end)
        {
            return Err(replayed());
        }
        let live_of_account = inner
            .channels
            .iter()
            .filter(|(k, c)| c.account == account && **k != record.channel)
            .count();
        if live_of_account >= MAX_CHANNELS_PER_ACCOUNT {
            return Err(StoreError::BadRequest(format!(
                "your account already has {MAX_CHANNELS_PER_ACCOUNT} channels live: end one before going live with another"
            )));
        }
        match inner.channels.get_mut(&record.channel) {
            Some(c) => {
                if record.at <= c.last_at {
                    return Err(replayed());
                }
                c.last_at = record.at;
                c.heard_at = now;
                c.account = account;
                c.signed = signed;
            }
            None => {
                if inner.channels.len() >= MAX_CHANNELS {
                    return Err(StoreError::RateLimited {
                        what: "live channels on this store",
                        retry_after_s: 60,
                    });
                }
                inner.ended.remove(&record.channel);
                let key = record.channel.clone();
                inner.channels.insert(
                    key,
                    Channel {
                        account,
                        started_at: now,
                        last_at: record.at,
                        heard_at: now,
                        viewers: HashMap::new(),
                        signed,
                    },
                );
            }
        }
        Ok(())
    }

    /// The channel's key says it is still live (a heartbeat) or has ended.
    pub fn signal(
        &self,
        channel: &str,
        kind: ChannelSignalKind,
        signal: &ChannelSignal,
    ) -> Result<u64, StoreError> {
        signal.verify(kind, channel).map_err(refused)?;
        let now = self.clock.now();
        check_time(signal.at, now).map_err(refused)?;
        let mut inner = self.lock();
        let c = inner
            .channels
            .get_mut(channel)
            .ok_or_else(|| unknown(channel))?;
        if signal.at <= c.last_at {
            return Err(replayed());
        }
        c.last_at = signal.at;
        c.heard_at = now;
        let viewers = live_viewers(c, now) as u64;
        if kind == ChannelSignalKind::End {
            inner.channels.remove(channel);
            inner.ended.insert(channel.to_owned(), signal.at);
        }
        Ok(viewers)
    }

    /// Whether `report` comes from a viewer the channel does not track yet (the caller limits
    /// how many new viewers one address brings).
    pub fn is_new_viewer(&self, report: &SignedViewerReport) -> bool {
        let inner = self.lock();
        inner
            .channels
            .get(&report.report.channel)
            .is_none_or(|c| !c.viewers.contains_key(&report.report.viewer.node))
    }

    /// A viewer joins or reports: it is counted, handed to joiners by where it has room, and
    /// handed peers itself.
    pub fn report(&self, channel: &str, report: SignedViewerReport) -> Result<Joined, StoreError> {
        if report.report.channel != channel {
            return Err(StoreError::BadRequest(
                "the report names another channel than the address it was sent to".into(),
            ));
        }
        report.verify().map_err(refused)?;
        let now = self.clock.now();
        let r = report.report;
        check_time(r.at, now).map_err(refused)?;
        let mut inner = self.lock();
        let c = inner
            .channels
            .get_mut(channel)
            .filter(|c| now - c.heard_at <= CHANNEL_TTL_S)
            .ok_or_else(|| unknown(channel))?;
        if r.depth.len() != usize::from(c.signed.record.stripes) {
            return Err(StoreError::BadRequest(format!(
                "this channel has {} stripes: report a depth for each",
                c.signed.record.stripes
            )));
        }
        if r.viewer.node == c.signed.record.broadcaster.node {
            return Err(StoreError::BadRequest(
                "the broadcaster does not report as a viewer of its own channel".into(),
            ));
        }
        match c.viewers.get_mut(&r.viewer.node) {
            Some(v) => {
                if r.at <= v.last_at {
                    return Err(replayed());
                }
                v.node = r.viewer.clone();
                v.depth = r.depth.clone();
                v.open = r.open;
                v.last_at = r.at;
                v.heard_at = now;
            }
            None => {
                if c.viewers.len() >= MAX_VIEWERS {
                    c.viewers.retain(|_, v| now - v.heard_at <= VIEWER_TTL_S);
                }
                if c.viewers.len() < MAX_VIEWERS {
                    c.viewers.insert(
                        r.viewer.node.clone(),
                        Viewer {
                            node: r.viewer.clone(),
                            depth: r.depth.clone(),
                            open: r.open,
                            last_at: r.at,
                            heard_at: now,
                        },
                    );
                }
            }
        }
        let peers = peers_for(c, &r.viewer.node, r.need_stripe, now);
        Ok(Joined {
            channel: c.signed.clone(),
            peers,
            viewers: live_viewers(c, now) as u64,
        })
    }

    /// The channels live now, most watched first.
    pub fn list(&self) -> Vec<ChannelListing> {
        let now = self.clock.now();
        let inner = self.lock();
        let mut out: Vec<ChannelListing> = inner
            .channels
            .values()
            .filter(|c| now - c.heard_at <= CHANNEL_TTL_S)
            .map(|c| {
                let r = &c.signed.record;
                ChannelListing {
                    channel: r.channel.clone(),
                    title: r.title.clone(),
                    poster: r.poster.clone(),
                    price_cents: r.price_cents,
                    bitrate_bps: r.bitrate_bps,
                    viewers: live_viewers(c, now) as u64,
                    started_at: c.started_at,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.viewers
                .cmp(&a.viewers)
                .then(a.started_at.cmp(&b.started_at))
                .then(a.channel.cmp(&b.channel))
        });
        out
    }

    /// Channels held (listed or not yet swept) and viewers tracked over all of them: for the
    /// tests that flood the directory.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (
            inner.channels.len(),
            inner.channels.values().map(|c| c.viewers.len()).sum(),
        )
    }
}

fn live_viewers(c: &Channel, now: i64) -> usize {
    c.viewers
        .values()
        .filter(|v| now - v.heard_at <= VIEWER_TTL_S)
        .count()
}

/// A value that orders viewers differently for each joiner, so joiners at the same moment are
/// spread over the peers with room instead of all handed the same ones.
fn spread(node: &str, joiner: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (node, joiner).hash(&mut h);
    h.finish()
}

/// The peers a joiner is handed: for each stripe (the one it needs first), the
/// [`PER_STRIPE`] shallowest viewers with room there; the broadcaster first while few viewers
/// have room; never the joiner itself.
fn peers_for(c: &Channel, joiner: &str, need: Option<u8>, now: i64) -> Vec<LiveNode> {
    let stripes = c.signed.record.stripes;
    let live: Vec<&Viewer> = c
        .viewers
        .values()
        .filter(|v| v.node.node != joiner && now - v.heard_at <= VIEWER_TTL_S)
        .collect();
    let with_room = live.iter().filter(|v| v.open != 0).count();
    let mut out: Vec<LiveNode> = Vec::new();
    if with_room < SMALL_TREE {
        out.push(c.signed.record.broadcaster.clone());
    }
    let order = need
        .into_iter()
        .chain((0..stripes).filter(|s| Some(*s) != need));
    for s in order {
        let mut candidates: Vec<&&Viewer> = live
            .iter()
            .filter(|v| {
                v.open >> s & 1 == 1
                    && v.depth
                        .get(usize::from(s))
                        .is_some_and(|d| *d != NOT_CONNECTED)
            })
            .collect();
        candidates.sort_by_key(|v| (v.depth[usize::from(s)], spread(&v.node.node, joiner)));
        for v in candidates.into_iter().take(PER_STRIPE) {
            if !out.iter().any(|p| p.node == v.node.node) {
                out.push(v.node.clone());
            }
        }
    }
    if out.is_empty() {
        // Nobody has room anywhere: the broadcaster at least knows who is below it.
        out.push(c.signed.record.broadcaster.clone());
    }
    out.truncate(MAX_PEERS_HANDED);
    out
}
