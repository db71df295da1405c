//! A deterministic simulator for the relay: one broadcaster and many viewers, each running the
//! real [`Relay`] with real signed chunks, over a simulated network.
//!
//! The network: every message is charged to its sender's upload line (a FIFO at the sender's
//! upload rate, so a busy viewer's messages queue), plus a fixed per-message overhead for UDP, IP
//! and QUIC framing, then travels for the link's latency (drawn once per pair, 20–80 ms by
//! default) and is lost with a fixed probability (1 % by default; a lost message still used the
//! sender's upload). Download lines are not limited: home lines download several times faster
//! than they upload. Viewers arrive over the first seconds (a flash crowd at the start of a
//! show), then a share of the audience leaves without a word (a crash, a closed lid) and as many
//! new viewers join, every minute. The channel directory (the store) hands a joining viewer a
//! few peers with room near the root, from what viewers reported in their last heartbeat.
//!
//! Everything is drawn from one seeded generator and every map iterates in order, so a seed
//! gives the same run, figure for figure.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use ed25519_dalek::SigningKey;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::chunk::{ChannelSigner, Chunk, SegmentInfo};
use crate::relay::{Capacity, Event, Message, Relay, RelayConfig, RelayStats, TreeStats, NO_DEPTH};

/// One simulated broadcast.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Viewers at any time (the audience stays this size through churn).
    pub viewers: usize,
    /// Seed of every random draw.
    pub seed: u64,
    /// How long the broadcast runs, seconds.
    pub stream_s: u64,
    /// The channel's bitrate, bits per second.
    pub bitrate_bps: u64,
    /// Segment length, ms.
    pub segment_ms: u32,
    /// Largest chunk, bytes.
    pub chunk_bytes: usize,
    /// Link latency range, ms (one way, drawn once per pair of peers).
    pub latency_ms: (u64, u64),
    /// Share of messages lost.
    pub loss: f64,
    /// Share of the audience that leaves (and is replaced) per minute.
    pub churn_per_min: f64,
    /// The first viewers arrive over this many seconds.
    pub join_over_s: u64,
    /// Viewers' upload lines as multiples of the bitrate, drawn evenly from this list.
    pub upload_x: Vec<f64>,
    /// The broadcaster's upload line as a multiple of the bitrate.
    pub broadcaster_upload_x: f64,
    /// Stripes.
    pub stripes: u8,
    /// Per-message overhead on the wire, bytes.
    pub overhead_bytes: usize,
    /// The reference: no relaying, the broadcaster sends every chunk to every viewer itself.
    pub direct: bool,
    /// Share of viewers that declare a 5× line while theirs carries 1.2× the bitrate (a
    /// misconfigured client, or one lying to sit near the root).
    pub overstated: f64,
    /// Whether each node's child slots follow what its line bears ([`Capacity`], as the
    /// network layer does); off, they stay what it declared.
    pub measure_capacity: bool,
}

impl SimConfig {
    /// The benchmark's conditions for `viewers` viewers.
    pub fn new(viewers: usize, seed: u64) -> SimConfig {
        SimConfig {
            viewers,
            seed,
            stream_s: 90,
            bitrate_bps: 1_000_000,
            segment_ms: 1_000,
            // 8 KiB: measured against 4 and 16 KiB at 200 viewers, the least lag and the best
            // continuity (a relay forwards a chunk only once it has all of it).
            chunk_bytes: 8 * 1024,
            latency_ms: (20, 80),
            loss: 0.01,
            churn_per_min: 0.10,
            join_over_s: 10,
            // Home lines: a slow DSL line barely above the bitrate, typical cable and fibre.
            upload_x: vec![1.2, 2.0, 3.0, 5.0],
            broadcaster_upload_x: 4.0,
            stripes: 4,
            // IPv4 + UDP + QUIC short header and frame.
            overhead_bytes: 48,
            direct: false,
            overstated: 0.0,
            measure_capacity: true,
        }
    }
}

/// What one simulated broadcast measured.
#[derive(Debug, Clone, Default)]
pub struct SimReport {
    /// Audience size.
    pub viewers: usize,
    /// Viewers that took part (the audience plus those who joined through churn).
    pub viewers_seen: usize,
    /// Glass-to-glass lag (play time minus capture time; each viewer's mean over the chunks it
    /// played) over viewers, median, seconds.
    pub lag_p50_s: f64,
    /// The same, 95th percentile.
    pub lag_p95_s: f64,
    /// Join to first frame, median, seconds.
    pub startup_p50_s: f64,
    /// The same, 95th percentile.
    pub startup_p95_s: f64,
    /// Share of chunks that played on time.
    pub continuity: f64,
    /// Share of chunks on time, counting only from ten seconds after each viewer's first
    /// frame (the steady state, without start-up).
    pub continuity_steady: f64,
    /// Hops from the broadcaster, 95th percentile over received chunks.
    pub hops_p95: u32,
    /// Broadcaster upload as a multiple of the bitrate.
    pub broadcaster_upload_x: f64,
    /// Viewer upload as a multiple of the bitrate, median (viewers present 20 s or more).
    pub viewer_upload_p50_x: f64,
    /// The same, 95th percentile.
    pub viewer_upload_p95_x: f64,
    /// Received chunks that were duplicates, as a share of distinct ones.
    pub duplicate_share: f64,
    /// Received chunks that came by pulling, as a share of distinct ones.
    pub repaired_share: f64,
    /// Chunks refused as forged.
    pub refused: u64,
    /// Viewers that never started playing.
    pub never_started: usize,
    /// Messages delivered.
    pub messages: u64,
    /// At the end of the run: viewers by depth, over all stripes (index 16: not connected).
    pub depth_histogram: Vec<u64>,
    /// At the end of the run: the share of viewers' slots filled by children in their home
    /// stripe.
    pub home_slot_use: f64,
    /// The longest any upload line was booked ahead, seconds (a queue is lag).
    pub upload_backlog_max_s: f64,
    /// Join to the first verified chunk, 95th percentile, seconds: the part of start-up spent
    /// finding peers and parents (the rest is watching arrivals and waiting for a keyframe).
    pub first_chunk_p95_s: f64,
    /// Tree upkeep summed over every viewer: joins sent, accepted, refused, parents left for
    /// silence, children let go to make room, parents lost, loops, children shed.
    pub tree: TreeStats,
    /// Times a viewer's playout delay grew after repeated misses, over every viewer.
    pub rebuffers: u64,
    /// Times it shrank back toward the live edge, over every viewer.
    pub caught_up: u64,
    /// The playout delay viewers started at, median, seconds (lag is this, plus rebuffers,
    /// minus catching up).
    pub start_delay_p50_s: f64,
}

// Nearly every event is a delivery: boxing it would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
enum Ev {
    Deliver {
        to: u32,
        from: u32,
        message: Message<u32>,
    },
    Tick(u32),
    Publish(usize),
    Peers(u32, Option<u8>),
    Arrive,
    Depart,
}

struct Node {
    relay: Relay<u32>,
    upload_bps: f64,
    free_at_us: u64,
    bytes_sent: u64,
    joined_us: u64,
    capacity: Capacity,
    /// The longest a message waited on this node's line since capacity was last checked, µs.
    queued_max_us: u64,
    next_capacity_us: u64,
    /// When the first verified chunk arrived.
    first_chunk_us: Option<u64>,
    /// The playout delay it started at, ms.
    start_delay_ms: Option<u64>,
}

struct Finished {
    stats: RelayStats,
    bytes_sent: u64,
    present_us: u64,
    /// Join to the first verified chunk.
    first_chunk_us: Option<u64>,
    /// The playout delay it started at, ms.
    start_delay_ms: Option<u64>,
}

struct Sim {
    config: SimConfig,
    rng: ChaCha20Rng,
    now_us: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    events: Vec<Option<Ev>>,
    free_slots: Vec<usize>,
    counter: u64,
    nodes: BTreeMap<u32, Node>,
    next_id: u32,
    chunks: Vec<Chunk>,
    finished: Vec<Finished>,
    directory: Vec<(u32, crate::relay::Have)>,
    directory_at_us: u64,
    messages: u64,
    max_backlog_us: (u64, u32),
    shape: (Vec<u64>, f64),
}

const BROADCASTER: u32 = 0;
const TICK_US: u64 = 50_000;

impl Sim {
    fn at(&mut self, t_us: u64, ev: Ev) {
        let slot = match self.free_slots.pop() {
            Some(i) => {
                self.events[i] = Some(ev);
                i
            }
            None => {
                self.events.push(Some(ev));
                self.events.len() - 1
            }
        };
        self.counter += 1;
        self.queue.push(Reverse((t_us, self.counter, slot)));
    }

    fn latency_us(&self, a: u32, b: u32) -> u64 {
        let (lo, hi) = self.config.latency_ms;
        let (x, y) = (a.min(b) as u64, a.max(b) as u64);
        // A fixed draw per pair, from the seed: the same link always has the same latency.
        let mut h = self.config.seed ^ 0x9e37_79b9_7f4a_7c15;
        for v in [x, y] {
            h ^= v.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            h = h.rotate_left(31).wrapping_mul(0x94d0_49bb_1331_11eb);
        }
        (lo + h % (hi - lo + 1)) * 1000
    }

    fn add_viewer(&mut self) {
        let id = self.next_id;
        self.next_id += 1;
        let mut upload_x = self.config.upload_x[self.rng.gen_range(0..self.config.upload_x.len())];
        let mut declared_x = upload_x;
        if self.config.overstated > 0.0 && self.rng.gen_bool(self.config.overstated) {
            (upload_x, declared_x) = (1.2, 5.0);
        }
        let mut relay_config = RelayConfig::viewer(self.config.stripes, declared_x)
            .for_bitrate(self.config.bitrate_bps);
        if self.config.direct {
            relay_config.slots = 0;
        }
        let home = (id % u32::from(self.config.stripes)) as u8;
        let now_ms = self.now_us / 1000;
        let capacity = Capacity::new(relay_config.slots, now_ms);
        let relay = Relay::viewer(id, self.channel(), relay_config, home, now_ms);
        self.nodes.insert(
            id,
            Node {
                relay,
                upload_bps: upload_x * self.config.bitrate_bps as f64,
                free_at_us: 0,
                bytes_sent: 0,
                joined_us: self.now_us,
                capacity,
                queued_max_us: 0,
                next_capacity_us: self.now_us + 1_000_000,
                first_chunk_us: None,
                start_delay_ms: None,
            },
        );
        let first_tick = self.now_us + self.rng.gen_range(0..TICK_US);
        self.at(first_tick, Ev::Tick(id));
    }

    fn channel(&self) -> ed25519_dalek::VerifyingKey {
        self.nodes[&BROADCASTER].relay.channel()
    }

    fn remove_random_viewer(&mut self) {
        let ids: Vec<u32> = self
            .nodes
            .keys()
            .copied()
            .filter(|id| *id != BROADCASTER)
            .collect();
        if ids.is_empty() {
            return;
        }
        let id = ids[self.rng.gen_range(0..ids.len())];
        self.finish(id);
    }

    fn finish(&mut self, id: u32) {
        if let Some(node) = self.nodes.remove(&id) {
            self.finished.push(Finished {
                stats: node.relay.stats().clone(),
                bytes_sent: node.bytes_sent,
                present_us: self.now_us - node.joined_us,
                first_chunk_us: node.first_chunk_us.map(|t| t - node.joined_us),
                start_delay_ms: node.start_delay_ms,
            });
        }
    }

    fn refresh_directory(&mut self) {
        if self.now_us < self.directory_at_us && !self.directory.is_empty() {
            return;
        }
        // Viewers report to the store every two seconds; joiners get that picture.
        self.directory_at_us = self.now_us + 2_000_000;
        self.directory = self
            .nodes
            .iter()
            .map(|(id, n)| (*id, n.relay.have()))
            .collect();
    }

    /// What the store's channel directory hands out: peers with room near the root, of the
    /// stripe the asker cannot find a parent in when it says which, and a few at random.
    fn peers_for(&mut self, asker: u32, stripe: Option<u8>) -> Vec<u32> {
        self.refresh_directory();
        let stripes = usize::from(self.config.stripes);
        let asker_home = (asker % u32::from(self.config.stripes)) as u8;
        let mut open: Vec<(u8, u32)> = self
            .directory
            .iter()
            .filter(|(id, _)| *id != asker)
            .filter_map(|(id, h)| match stripe {
                Some(s) => {
                    let mask = if s == asker_home { h.open_home } else { h.open };
                    let depth = h.depth[usize::from(s)];
                    (mask >> s & 1 == 1 && depth != NO_DEPTH).then_some((depth, *id))
                }
                None => {
                    let depth = h
                        .depth
                        .iter()
                        .take(stripes)
                        .copied()
                        .min()
                        .unwrap_or(NO_DEPTH);
                    (depth != NO_DEPTH && (h.open | h.open_home) != 0).then_some((depth, *id))
                }
            })
            .collect();
        open.sort();
        let shallow: Vec<u32> = open.iter().take(16).map(|o| o.1).collect();
        let open: Vec<u32> = open.into_iter().map(|o| o.1).collect();
        let all: Vec<u32> = self
            .directory
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id != asker)
            .collect();
        let mut out = Vec::new();
        for (pool, draws) in [(&shallow, 4), (&open, 3), (&all, 3)] {
            for _ in 0..draws {
                if pool.is_empty() {
                    break;
                }
                let p = pool[self.rng.gen_range(0..pool.len())];
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }

    fn flush(&mut self, id: u32) {
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        let events: Vec<Event<u32>> = node.relay.drain().collect();
        for event in events {
            match event {
                Event::Send { to, message } => self.send(id, to, message),
                Event::NeedPeers { stripe } => {
                    // A round trip to the store.
                    let t = self.now_us + 60_000;
                    self.at(t, Ev::Peers(id, stripe));
                }
                Event::Started { delay_ms, .. } => {
                    if let Some(node) = self.nodes.get_mut(&id) {
                        node.start_delay_ms = Some(delay_ms);
                    }
                }
                Event::Play(_)
                | Event::Skipped { .. }
                | Event::Delay { .. }
                | Event::Misbehaved { .. } => {}
            }
        }
    }

    fn send(&mut self, from: u32, to: u32, message: Message<u32>) {
        let size = message.wire_len() + self.config.overhead_bytes;
        let latency = self.latency_us(from, to);
        let lost = self.rng.gen_bool(self.config.loss);
        let now = self.now_us;
        let Some(node) = self.nodes.get_mut(&from) else {
            return;
        };
        let start = node.free_at_us.max(now);
        if start - now > self.max_backlog_us.0 {
            self.max_backlog_us = (start - now, from);
        }
        node.queued_max_us = node.queued_max_us.max(start - now);
        let done = start + (size as f64 * 8.0 * 1e6 / node.upload_bps) as u64;
        node.free_at_us = done;
        node.bytes_sent += size as u64;
        if !lost {
            self.at(done + latency, Ev::Deliver { to, from, message });
        }
    }

    fn run(mut self) -> SimReport {
        let stream_us = self.config.stream_s * 1_000_000;
        // Segments: about the bitrate's worth of bytes each, a little uneven as real video is.
        let mut signer =
            ChannelSigner::new(SigningKey::from_bytes(&[42; 32]), self.config.chunk_bytes);
        let segments = stream_us / (u64::from(self.config.segment_ms) * 1000);
        let mut schedule = Vec::new();
        for k in 0..segments {
            let mean = self.config.bitrate_bps / 8 * u64::from(self.config.segment_ms) / 1000;
            let size = (mean as f64 * self.rng.gen_range(0.8..1.2)) as usize;
            let mut bytes = vec![0u8; size];
            self.rng.fill_bytes(&mut bytes);
            let capture_ms = k * u64::from(self.config.segment_ms);
            let info = SegmentInfo {
                segment: k,
                pts_ms: capture_ms,
                duration_ms: self.config.segment_ms,
                capture_ms,
                keyframe: true,
                epoch: 0,
            };
            for chunk in signer.chunks(info, &bytes) {
                schedule.push(chunk.announcement.available_ms() * 1000);
                self.chunks.push(chunk);
            }
        }
        let mut b_config =
            RelayConfig::broadcaster(self.config.stripes).for_bitrate(self.config.bitrate_bps);
        if self.config.direct {
            b_config.slots = u16::from(self.config.stripes) * (self.config.viewers as u16 * 2);
        }
        // The broadcaster's budget is its own choice (two children per stripe), not measured.
        let capacity = Capacity::new(b_config.slots, 0);
        let broadcaster = Relay::broadcaster(BROADCASTER, signer.channel(), b_config, 0);
        self.nodes.insert(
            BROADCASTER,
            Node {
                relay: broadcaster,
                upload_bps: self.config.broadcaster_upload_x * self.config.bitrate_bps as f64,
                free_at_us: 0,
                bytes_sent: 0,
                joined_us: 0,
                capacity,
                queued_max_us: 0,
                next_capacity_us: u64::MAX,
                first_chunk_us: None,
                start_delay_ms: None,
            },
        );
        self.at(0, Ev::Tick(BROADCASTER));
        for (i, t) in schedule.iter().enumerate() {
            self.at(*t, Ev::Publish(i));
        }
        // The first audience arrives over the first seconds, after the show started.
        for _ in 0..self.config.viewers {
            let t = 1_000_000
                + self
                    .rng
                    .gen_range(0..self.config.join_over_s.max(1) * 1_000_000);
            self.at(t, Ev::Arrive);
        }
        // Churn: departures and arrivals at the same rate, a Poisson process from then on.
        let churn_start = (1 + self.config.join_over_s) * 1_000_000;
        let rate_per_s = self.config.churn_per_min * self.config.viewers as f64 / 60.0;
        if rate_per_s > 0.0 {
            let mut t = churn_start as f64;
            loop {
                t += -(1.0 - self.rng.gen::<f64>()).ln() / rate_per_s * 1e6;
                if t as u64 >= stream_us {
                    break;
                }
                self.at(t as u64, Ev::Depart);
                self.at(t as u64, Ev::Arrive);
            }
        }
        while let Some(Reverse((t, _, slot))) = self.queue.pop() {
            if t > stream_us {
                break;
            }
            self.now_us = t;
            let ev = self.events[slot].take().expect("each event runs once");
            self.free_slots.push(slot);
            let now_ms = t / 1000;
            match ev {
                Ev::Deliver { to, from, message } => {
                    if let Some(node) = self.nodes.get_mut(&to) {
                        self.messages += 1;
                        node.relay.handle(from, message, now_ms);
                        if node.first_chunk_us.is_none() && node.relay.stats().received > 0 {
                            node.first_chunk_us = Some(t);
                        }
                        self.flush(to);
                    }
                }
                Ev::Tick(id) => {
                    let measure = self.config.measure_capacity && id != BROADCASTER;
                    if let Some(node) = self.nodes.get_mut(&id) {
                        if measure && t >= node.next_capacity_us {
                            let before = node.capacity.slots();
                            let slots = node.capacity.observe(node.queued_max_us / 1000, now_ms);
                            if slots != before {
                                node.relay.set_slots(slots);
                            }
                            node.queued_max_us = 0;
                            node.next_capacity_us = t + 1_000_000;
                        }
                        node.relay.tick(now_ms);
                        self.flush(id);
                        self.at(t + TICK_US, Ev::Tick(id));
                    }
                }
                Ev::Publish(i) => {
                    let chunk = self.chunks[i].clone();
                    if let Some(node) = self.nodes.get_mut(&BROADCASTER) {
                        node.relay.publish(chunk, now_ms);
                        self.flush(BROADCASTER);
                    }
                }
                Ev::Peers(id, stripe) => {
                    let peers = if self.config.direct {
                        vec![BROADCASTER]
                    } else {
                        self.peers_for(id, stripe)
                    };
                    if let Some(node) = self.nodes.get_mut(&id) {
                        node.relay.add_peers(peers, now_ms);
                        self.flush(id);
                    }
                }
                Ev::Arrive => self.add_viewer(),
                Ev::Depart => self.remove_random_viewer(),
            }
        }
        self.now_us = stream_us;
        let broadcaster_bytes = self.nodes[&BROADCASTER].bytes_sent;
        // The trees' shape at the end: depth of every viewer in every stripe, and how many of
        // their slots the viewers at home in a stripe fill there.
        let mut depth_histogram = vec![0u64; 17];
        let (mut home_children, mut home_slots) = (0usize, 0usize);
        for (id, n) in &self.nodes {
            if *id == BROADCASTER {
                continue;
            }
            let have = n.relay.have();
            for s in 0..usize::from(self.config.stripes) {
                depth_histogram[usize::from(have.depth[s]).min(16)] += 1;
            }
            let (children, slots) = n.relay.children();
            home_children += children[usize::from(have.home)];
            home_slots += usize::from(slots);
        }
        self.shape = (
            depth_histogram,
            home_children as f64 / home_slots.max(1) as f64,
        );
        let ids: Vec<u32> = self
            .nodes
            .keys()
            .copied()
            .filter(|id| *id != BROADCASTER)
            .collect();
        for id in ids {
            self.finish(id);
        }
        self.report(broadcaster_bytes)
    }

    fn report(&self, broadcaster_bytes: u64) -> SimReport {
        let bitrate_bytes = self.config.bitrate_bps as f64 / 8.0;
        let mut lags = Vec::new();
        let mut startups = Vec::new();
        let mut uploads = Vec::new();
        let (mut played, mut missed, mut received, mut duplicates, mut repaired, mut refused) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        let mut hops = [0u64; 32];
        let mut never_started = 0;
        let (mut played_later, mut missed_later) = (0u64, 0u64);
        let mut first_chunks = Vec::new();
        let mut tree = TreeStats::default();
        let (mut rebuffers, mut caught_up) = (0u64, 0u64);
        let mut start_delays = Vec::new();
        for f in &self.finished {
            rebuffers += f.stats.rebuffers;
            caught_up += f.stats.caught_up;
            if let Some(d) = f.start_delay_ms {
                start_delays.push(d as f64 / 1000.0);
            }
            if let Some(t) = f.first_chunk_us {
                first_chunks.push(t as f64 / 1e6);
            }
            let t = &f.stats.tree;
            tree.joins += t.joins;
            tree.accepted += t.accepted;
            tree.refused += t.refused;
            tree.silent_parents += t.silent_parents;
            tree.evicted += t.evicted;
            tree.orphaned += t.orphaned;
            tree.loops += t.loops;
            tree.shed += t.shed;
            played += f.stats.played;
            played_later += f.stats.played_later;
            missed_later += f.stats.missed_later;
            missed += f.stats.missed;
            received += f.stats.received;
            duplicates += f.stats.duplicates;
            repaired += f.stats.repaired;
            refused += f.stats.refused;
            for (h, n) in f.stats.hops.iter().enumerate() {
                hops[h] += n;
            }
            match (f.stats.started_at, f.stats.delay_ms) {
                (Some(at), Some(delay)) => {
                    startups.push(at.saturating_sub(f.stats.joined_at) as f64 / 1000.0);
                    let lag = f
                        .stats
                        .lag_ms_sum
                        .checked_div(f.stats.played)
                        .unwrap_or(delay);
                    lags.push(lag as f64 / 1000.0);
                }
                // Left (or the run ended) before the first frame was due: not a failure to
                // start if it was here only a few seconds.
                _ if f.present_us < 8_000_000 => {}
                _ => never_started += 1,
            }
            if f.present_us >= 20_000_000 {
                uploads.push(f.bytes_sent as f64 / (bitrate_bytes * f.present_us as f64 / 1e6));
            }
        }
        let total_hops: u64 = hops.iter().sum();
        let mut acc = 0;
        let mut hops_p95 = 0;
        for (h, n) in hops.iter().enumerate() {
            acc += n;
            if acc as f64 >= 0.95 * total_hops as f64 {
                hops_p95 = h as u32;
                break;
            }
        }
        SimReport {
            viewers: self.config.viewers,
            viewers_seen: self.finished.len(),
            lag_p50_s: percentile(&mut lags, 0.50),
            lag_p95_s: percentile(&mut lags, 0.95),
            startup_p50_s: percentile(&mut startups, 0.50),
            startup_p95_s: percentile(&mut startups, 0.95),
            continuity: if played + missed == 0 {
                0.0
            } else {
                played as f64 / (played + missed) as f64
            },
            continuity_steady: played_later as f64 / (played_later + missed_later).max(1) as f64,
            hops_p95,
            broadcaster_upload_x: broadcaster_bytes as f64
                / (bitrate_bytes * self.config.stream_s as f64),
            viewer_upload_p50_x: percentile(&mut uploads, 0.50),
            viewer_upload_p95_x: percentile(&mut uploads, 0.95),
            duplicate_share: duplicates as f64 / received.max(1) as f64,
            repaired_share: repaired as f64 / received.max(1) as f64,
            refused,
            never_started,
            messages: self.messages,
            depth_histogram: self.shape.0.clone(),
            home_slot_use: self.shape.1,
            upload_backlog_max_s: self.max_backlog_us.0 as f64 / 1e6,
            first_chunk_p95_s: percentile(&mut first_chunks, 0.95),
            tree,
            rebuffers,
            caught_up,
            start_delay_p50_s: percentile(&mut start_delays, 0.50),
        }
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let i = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[i]
}

/// Runs one simulated broadcast.
pub fn simulate(config: &SimConfig) -> SimReport {
    let sim = Sim {
        rng: ChaCha20Rng::seed_from_u64(config.seed),
        config: config.clone(),
        now_us: 0,
        queue: BinaryHeap::new(),
        events: Vec::new(),
        free_slots: Vec::new(),
        counter: 0,
        nodes: BTreeMap::new(),
        next_id: 1,
        chunks: Vec::new(),
        finished: Vec::new(),
        directory: Vec::new(),
        directory_at_us: 0,
        messages: 0,
        max_backlog_us: (0, 0),
        shape: (Vec::new(), 0.0),
    };
    sim.run()
}
