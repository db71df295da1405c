//! Relays exchanging real signed chunks.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use marquee_live::chunk::{ChannelSigner, ChunkError, SegmentInfo};
use marquee_live::relay::{Event, Message, Relay, RelayConfig};

fn segment(k: u64) -> SegmentInfo {
    SegmentInfo {
        segment: k,
        pts_ms: k * 1000,
        duration_ms: 1000,
        capture_ms: k * 1000,
        keyframe: true,
        epoch: 0,
    }
}

/// Runs `rounds` of 50 ms: the broadcaster (0) publishes, relays exchange messages at once,
/// `forger` (2) sends the viewer (1) chunks signed by another key and altered real ones.
#[test]
fn a_viewer_plays_only_verified_chunks_and_drops_a_forger() {
    let mut signer = ChannelSigner::new(SigningKey::from_bytes(&[1; 32]), 4096);
    let mut forger = ChannelSigner::new(SigningKey::from_bytes(&[2; 32]), 4096);
    let channel = signer.channel();
    let mut broadcaster = Relay::broadcaster(0u32, channel, RelayConfig::broadcaster(4), 0);
    let mut viewer = Relay::viewer(1u32, channel, RelayConfig::viewer(4, 2.0), 0, 0);
    viewer.add_peers([0, 2], 0);

    let mut played = Vec::new();
    let mut misbehaved = Vec::new();
    let mut forged_sent = 0;
    for step in 0..200u64 {
        let now = step * 50;
        if now % 1000 == 0 {
            let k = now / 1000;
            let bytes = vec![k as u8; 10_000];
            for chunk in signer.chunks(segment(k), &bytes) {
                broadcaster.publish(chunk.clone(), now);
                // The forger replays the same chunk with one byte changed, and a chunk of its
                // own claiming this channel.
                let mut altered = chunk.clone();
                let mut b = altered.bytes.to_vec();
                b[0] ^= 0xff;
                altered.bytes = Arc::from(b);
                let mut own = forger.chunks(segment(k), &bytes).remove(0);
                own.announcement.channel = channel.to_bytes();
                for bad in [altered, own] {
                    forged_sent += 1;
                    viewer.handle(
                        2,
                        Message::Chunk {
                            chunk: bad,
                            hops: 0,
                        },
                        now,
                    );
                }
            }
        }
        broadcaster.tick(now);
        viewer.tick(now);
        // Deliver everything at once, a few rounds so answers get answered.
        for _ in 0..4 {
            let out: Vec<_> = broadcaster.drain().collect();
            for e in out {
                if let Event::Send { to: 1, message } = e {
                    viewer.handle(0, message, now);
                }
            }
            let out: Vec<_> = viewer.drain().collect();
            for e in out {
                match e {
                    Event::Send { to: 0, message } => broadcaster.handle(1, message, now),
                    Event::Play(chunk) => {
                        chunk.verify(&channel).expect("only verified chunks play");
                        played.push(chunk.sequence());
                    }
                    Event::Misbehaved { peer, reason } => misbehaved.push((peer, reason)),
                    _ => {}
                }
            }
        }
    }
    eprintln!("played {} stats {:?}", played.len(), viewer.stats());
    assert!(forged_sent > 0);
    assert!(
        played.len() > 20,
        "the viewer played {} chunks",
        played.len()
    );
    assert!(
        played.windows(2).all(|w| w[1] > w[0]),
        "chunks play in order"
    );
    // The forger is dropped at its first bad chunk, and everything it sends after is ignored.
    assert_eq!(misbehaved.len(), 1, "{misbehaved:?}");
    assert_eq!(misbehaved[0].0, 2);
    assert!(matches!(
        misbehaved[0].1,
        ChunkError::BadHash | ChunkError::BadSignature
    ));
    assert_eq!(viewer.stats().refused, 1);
    assert!(!viewer.neighbours().any(|p| p == 2));
}

/// Ids at or above this are the test's own hostile peers: what relays send them is kept in
/// [`Net::outbox`] for the test to read.
const HOSTILE: u32 = 1_000;

/// A broadcaster (0) and honest viewers (1..) on a perfect network, run 50 ms at a time: every
/// message arrives at once, in the order sent.
struct Net {
    signer: ChannelSigner,
    relays: std::collections::BTreeMap<u32, Relay<u32>>,
    now: u64,
    played: std::collections::BTreeMap<u32, Vec<u64>>,
    missed: std::collections::BTreeMap<u32, u64>,
    /// (from, to, message) for every message to a hostile id.
    outbox: Vec<(u32, u32, Message<u32>)>,
    /// A viewer whose line is down: nothing it sends or is sent arrives.
    down: Option<u32>,
    /// Every playout delay each viewer ran at: where it started, then each change.
    delays: std::collections::BTreeMap<u32, Vec<u64>>,
    /// Whether a relay that asks for peers gets every honest one (the channel directory).
    directory: bool,
    /// Every join sent between honest relays: (from, to, stripe).
    joins: Vec<(u32, u32, u8)>,
}

impl Net {
    /// Viewers `1..=viewers`, each introduced to the broadcaster and the viewers before it.
    fn new(viewers: u32) -> Net {
        let signer = ChannelSigner::new(SigningKey::from_bytes(&[1; 32]), 4096);
        let channel = signer.channel();
        let mut relays = std::collections::BTreeMap::new();
        relays.insert(
            0,
            Relay::broadcaster(0u32, channel, RelayConfig::broadcaster(4), 0),
        );
        for v in 1..=viewers {
            let mut relay = Relay::viewer(v, channel, RelayConfig::viewer(4, 2.0), v as u8, 0);
            relay.add_peers(0..v, 0);
            relays.insert(v, relay);
        }
        Net {
            signer,
            relays,
            now: 0,
            played: Default::default(),
            missed: Default::default(),
            outbox: Vec::new(),
            down: None,
            delays: Default::default(),
            directory: false,
            joins: Vec::new(),
        }
    }

    fn relay(&mut self, id: u32) -> &mut Relay<u32> {
        self.relays.get_mut(&id).expect("an honest relay")
    }

    /// The newest chunk the broadcaster published.
    fn newest(&self) -> Option<u64> {
        self.relays[&0].newest_verified()
    }

    /// One 50 ms step: a segment each second, every relay ticks, messages flow.
    fn step(&mut self) {
        let now = self.now;
        if now.is_multiple_of(1000) {
            let k = now / 1000;
            let chunks = self.signer.chunks(segment(k), &vec![k as u8; 10_000]);
            for chunk in chunks {
                self.relay(0).publish(chunk, now);
            }
        }
        for relay in self.relays.values_mut() {
            relay.tick(now);
        }
        self.deliver();
        self.now += 50;
    }

    /// Delivers until nobody has anything more to send.
    fn deliver(&mut self) {
        let now = self.now;
        loop {
            let mut quiet = true;
            let ids: Vec<u32> = self.relays.keys().copied().collect();
            for from in ids {
                let events: Vec<_> = self.relay(from).drain().collect();
                for event in events {
                    quiet = false;
                    if let Event::Send { to, .. } = &event {
                        if self.down.is_some_and(|d| d == from || d == *to) {
                            continue;
                        }
                    }
                    match event {
                        Event::Send { to, message } if to >= HOSTILE => {
                            self.outbox.push((from, to, message))
                        }
                        Event::Send { to, message } => {
                            if let Message::Join { stripe, .. } = message {
                                self.joins.push((from, to, stripe));
                            }
                            if let Some(relay) = self.relays.get_mut(&to) {
                                relay.handle(from, message, now);
                            }
                        }
                        Event::Play(chunk) => {
                            self.played.entry(from).or_default().push(chunk.sequence())
                        }
                        Event::Skipped { from: a, to: b } => {
                            *self.missed.entry(from).or_default() += b - a
                        }
                        Event::Started { delay_ms, .. } | Event::Delay { delay_ms } => {
                            self.delays.entry(from).or_default().push(delay_ms)
                        }
                        Event::NeedPeers { .. } if self.directory && self.down != Some(from) => {
                            let peers: Vec<u32> =
                                self.relays.keys().copied().filter(|p| *p != from).collect();
                            self.relay(from).add_peers(peers, now);
                        }
                        _ => {}
                    }
                }
            }
            if quiet {
                return;
            }
        }
    }

    /// Chunks viewer `v` played since the first `since` of them.
    fn played_since(&self, v: u32, since: usize) -> usize {
        self.played
            .get(&v)
            .map_or(0, |p| p.len().saturating_sub(since))
    }

    fn played_count(&self, v: u32) -> usize {
        self.played.get(&v).map_or(0, Vec::len)
    }
}

/// Runs `f` on its own thread and fails if it has not finished within `limit`: a relay that
/// froze would otherwise hang the whole test run instead of failing it.
fn finishes<T: Send + 'static>(
    limit: std::time::Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("the relay froze: the run did not finish")
}

fn have(newest: Option<u64>) -> Message<u32> {
    Message::Have(marquee_live::relay::Have {
        newest,
        bits: u64::MAX,
        depth: [0; marquee_live::relay::MAX_STRIPES],
        open: 0xff,
        home: 0,
        open_home: 0xff,
        home_needs: 0,
        slots: 255,
    })
}

/// A neighbour claims chunks that do not exist: the newest possible, a billion ahead, and a few
/// ahead (within what a real neighbour near the root could hold). The viewer keeps playing in
/// step with the others; its window never moves past what it verified.
#[test]
fn a_lying_have_neither_freezes_a_viewer_nor_moves_its_window() {
    let (net, before, liar_wants, heard_max) =
        finishes(std::time::Duration::from_secs(120), || {
            let mut net = Net::new(4);
            let liar = HOSTILE;
            net.relay(1).add_peers([liar], 0);
            for _ in 0..100 {
                net.step();
            }
            let before = net.played_count(1);
            let mut heard_max = 0;
            for round in 0..400u64 {
                let newest = net.newest().unwrap_or(0);
                let lie = match round % 3 {
                    0 => u64::MAX,
                    1 => newest + 1_000_000_000,
                    _ => newest + 40,
                };
                let now = net.now;
                net.relay(1).handle(liar, have(Some(lie)), now);
                net.step();
                heard_max = heard_max.max(net.relay(1).footprint().heard);
                let verified = net.relays[&1].newest_verified();
                assert!(
                    verified <= net.newest(),
                    "only verified chunks move the window"
                );
            }
            let liar_wants: Vec<u64> = net
                .outbox
                .iter()
                .filter_map(|(_, _, m)| match m {
                    Message::Want { sequence } => Some(*sequence),
                    _ => None,
                })
                .collect();
            (net, before, liar_wants, heard_max)
        });
    let expected = 20 * 3; // 20 s at three chunks a second
    let played = net.played_since(1, before);
    let honest = net.played_since(2, 0) - net.played_since(2, 0).min(before);
    assert!(
        played >= expected - 6,
        "the viewer played {played} of {expected} chunks while lied to (an honest one: {honest})"
    );
    assert!(
        heard_max <= marquee_live::relay::WINDOW as usize,
        "{heard_max}"
    );
    // Pulls the liar drew are bounded by the lead it is believed within: never the far lies.
    let newest = net.newest().unwrap();
    assert!(
        liar_wants.iter().all(|s| *s <= newest + 64),
        "the viewer asked the liar for {:?}",
        liar_wants.iter().max()
    );
}

/// Tens of thousands of made-up peers join, claim, refuse, accept and forge at one viewer. It
/// keeps playing, and every map it holds stays within its bound.
#[test]
fn a_flood_of_made_up_peers_leaves_a_viewer_playing_within_bounds() {
    let net = finishes(std::time::Duration::from_secs(120), || {
        let mut net = Net::new(4);
        for _ in 0..100 {
            net.step();
        }
        let mut forger = ChannelSigner::new(SigningKey::from_bytes(&[2; 32]), 4096);
        let mut forged = forger.chunks(segment(0), &[9u8; 4000]).remove(0);
        forged.announcement.channel = net.signer.channel().to_bytes();
        let mut next_id = HOSTILE;
        let before = net.played_count(1);
        for _ in 0..200 {
            let now = net.now;
            for _ in 0..200 {
                let stranger = next_id;
                next_id += 1;
                let suggest: Vec<u32> = (0..32).map(|i| 50_000_000 + next_id * 32 + i).collect();
                let stripe = (stranger % 4) as u8;
                for message in [
                    Message::Join {
                        stripe,
                        home: stripe,
                        slots: u16::MAX,
                    },
                    have(Some(u64::MAX)),
                    Message::Refuse { stripe, suggest },
                    Message::Accept {
                        stripe,
                        path: vec![stranger],
                    },
                    Message::Want { sequence: 0 },
                    Message::Chunk {
                        chunk: forged.clone(),
                        hops: 0,
                    },
                ] {
                    net.relay(1).handle(stranger, message, now);
                }
            }
            net.step();
            let f = net.relay(1).footprint();
            assert!(f.neighbours <= 12 + 5 + 4, "{f:?}");
            assert!(f.banned <= marquee_live::relay::BANNED_MAX, "{f:?}");
            assert!(f.children <= 5, "{f:?}");
            assert!(f.refused <= 4 * 8, "{f:?}");
            assert!(f.wants <= 24, "{f:?}");
            assert!(
                f.stored_bytes <= marquee_live::relay::STORED_BYTES_MAX,
                "{f:?}"
            );
        }
        (net, before)
    });
    let (net, before) = net;
    let played = net.played_since(1, before);
    assert!(
        played >= 10 * 3 - 6,
        "the viewer played {played} chunks in 10 s of flood"
    );
    assert!(net.relays[&1].stats().refused > 0);
}

/// A peer poses as the root's neighbour with room in every stripe, accepts every join and then
/// sends nothing. The viewer leaves it, plays from honest parents, and does not go back to it
/// for the penalty's length.
#[test]
fn a_parent_that_accepts_and_sends_nothing_is_left() {
    let (net, joins_to_liar, start) = finishes(std::time::Duration::from_secs(120), || {
        let mut net = Net::new(5);
        for _ in 0..60 {
            net.step();
        }
        // A latecomer whose first neighbour is the liar, at depth 0 with room everywhere.
        let liar = HOSTILE;
        let channel = net.signer.channel();
        let mut late = Relay::viewer(9u32, channel, RelayConfig::viewer(4, 2.0), 1, net.now);
        let now = net.now;
        late.handle(liar, have(None), now);
        late.add_peers([0, 1, 2, 3, 4, 5], now);
        net.relays.insert(9, late);
        let start = net.now;
        let mut joins_to_liar = 0;
        for _ in 0..600 {
            // The liar answers each join at once, and keeps saying it is there.
            let joins: Vec<u8> = net
                .outbox
                .drain(..)
                .filter_map(|(from, _, m)| match m {
                    Message::Join { stripe, .. } if from == 9 => Some(stripe),
                    _ => None,
                })
                .collect();
            let now = net.now;
            for stripe in joins {
                joins_to_liar += 1;
                net.relay(9).handle(
                    liar,
                    Message::Accept {
                        stripe,
                        path: vec![liar],
                    },
                    now,
                );
            }
            net.relay(9).handle(liar, have(None), now);
            net.step();
        }
        (net, joins_to_liar, start)
    });
    let stats = net.relays[&9].stats();
    let started = stats.started_at.expect("the latecomer plays");
    assert!(
        started - start <= 10_000,
        "it started {} ms after joining",
        started - start
    );
    // 30 s after joining: the steady state is the last 20 s (60 chunks).
    let played: usize = net.played[&9]
        .iter()
        .filter(|s| **s >= net.newest().unwrap() - 60)
        .count();
    assert!(
        played >= 55,
        "the latecomer played {played} of the last 60 chunks"
    );
    // Once per stripe at first, then again at most once per penalty (30 s) per stripe.
    assert!(joins_to_liar <= 8, "{joins_to_liar} joins went to the liar");
    assert!(stats.tree.silent_parents >= 1);
}

/// A viewer whose line drops for three seconds misses chunks and plays further behind (a
/// rebuffer) rather than keep skipping; once deliveries are steady again it works its way back
/// to the delay it started at, a quarter second at a time, and no further.
#[test]
fn lag_returns_to_the_live_edge_once_deliveries_are_steady() {
    let net = finishes(std::time::Duration::from_secs(120), || {
        let mut net = Net::new(2);
        net.directory = true;
        for _ in 0..200 {
            net.step();
        }
        net.down = Some(1);
        for _ in 0..60 {
            net.step();
        }
        net.down = None;
        for _ in 0..1200 {
            net.step();
        }
        net
    });
    let delays = &net.delays[&1];
    let start = delays[0];
    let most = *delays.iter().max().expect("started");
    let stats = net.relays[&1].stats();
    assert!(net.missed[&1] > 0, "the outage cost chunks");
    assert!(stats.rebuffers >= 1, "{delays:?}");
    assert!(most >= start + 500, "{delays:?}");
    assert!(stats.caught_up >= 2, "{delays:?}");
    assert_eq!(stats.delay_ms, Some(start), "{delays:?}");
    assert!(delays.iter().all(|d| *d >= start), "{delays:?}");
    // Each step back is at most a quarter second: a player covers it by playing a little faster.
    assert!(
        delays
            .windows(2)
            .all(|w| w[1] > w[0] || w[0] - w[1] <= marquee_live::relay::CATCH_UP_STEP_MS),
        "{delays:?}"
    );
    // The viewer that stayed online never needed to change its delay.
    assert_eq!(net.delays[&2].len(), 1, "{:?}", net.delays[&2]);
}

/// What a line bears, measured by its send queues: a quarter of the slots go at the first long
/// wait, one comes back after ten calm seconds, never more than declared.
#[test]
fn capacity_follows_the_send_queues_and_never_passes_the_claim() {
    use marquee_live::relay::{Capacity, CAPACITY_CALM_MS, CAPACITY_QUEUE_MS};
    let mut c = Capacity::new(8, 0);
    assert_eq!(c.observe(0, 1_000), 8);
    assert_eq!(c.observe(CAPACITY_QUEUE_MS + 1, 2_000), 6);
    assert_eq!(c.observe(CAPACITY_QUEUE_MS + 1, 3_000), 5);
    // Busy but keeping up: holds.
    assert_eq!(
        c.observe(CAPACITY_QUEUE_MS / 2, 3_000 + CAPACITY_CALM_MS),
        5
    );
    let calm = 3_000 + CAPACITY_CALM_MS;
    assert_eq!(c.observe(0, calm + CAPACITY_CALM_MS - 1), 5);
    assert_eq!(c.observe(0, calm + CAPACITY_CALM_MS), 6);
    let mut at = calm + CAPACITY_CALM_MS;
    for _ in 0..10 {
        at += CAPACITY_CALM_MS;
        c.observe(0, at);
    }
    assert_eq!(c.slots(), 8, "never past what was declared");
    for _ in 0..20 {
        at += 1_000;
        c.observe(10_000, at);
    }
    assert_eq!(c.slots(), 0);
}

/// A relay whose line turns out too thin lets its children go; each finds another parent and
/// keeps playing.
#[test]
fn a_relay_that_sheds_its_children_leaves_them_playing_elsewhere() {
    let net = finishes(std::time::Duration::from_secs(120), || {
        let mut net = Net::new(8);
        net.directory = true;
        for _ in 0..200 {
            net.step();
        }
        // The viewer with the most children.
        let busiest = (1..=8u32)
            .max_by_key(|v| net.relays[v].children().0.iter().sum::<usize>())
            .unwrap();
        let children: usize = net.relays[&busiest].children().0.iter().sum();
        assert!(children >= 2, "a viewer with children: {children}");
        net.relay(busiest).set_slots(0);
        let before: Vec<usize> = (1..=8).map(|v| net.played_count(v)).collect();
        for _ in 0..200 {
            net.step();
        }
        (net, busiest, children, before)
    });
    let (net, busiest, children, before) = net;
    let relay = &net.relays[&busiest];
    assert_eq!(relay.children().0.iter().sum::<usize>(), 0);
    assert_eq!(relay.stats().tree.shed, children as u64);
    assert_eq!(
        relay.have().slots,
        0,
        "it tells its neighbours it has no room"
    );
    // Ten seconds of three chunks a second: nearly all of them, for every viewer.
    for v in 1..=8u32 {
        assert!(
            net.played_since(v, before[v as usize - 1]) >= 27,
            "viewer {v} kept playing: {} chunks",
            net.played_since(v, before[v as usize - 1])
        );
    }
}

/// A chunk that never arrives: the viewer skips to the next keyframe segment, and tells its
/// player of the skip before the first chunk it resumes at (a player that appends bytes must
/// start afresh there, not append the next segment onto the broken one).
#[test]
fn a_skip_is_reported_before_the_chunk_playback_resumes_at() {
    let mut signer = ChannelSigner::new(SigningKey::from_bytes(&[1; 32]), 4096);
    let channel = signer.channel();
    let mut broadcaster = Relay::broadcaster(0u32, channel, RelayConfig::broadcaster(4), 0);
    let mut viewer = Relay::viewer(1u32, channel, RelayConfig::viewer(4, 2.0), 0, 0);
    viewer.add_peers([0], 0);
    // Segment 4's second chunk (three chunks a segment, numbered from 0) is lost every time.
    let lost = 4 * 3 + 1;
    let mut events = Vec::new();
    for step in 0..240u64 {
        let now = step * 50;
        if now % 1000 == 0 {
            let k = now / 1000;
            for chunk in signer.chunks(segment(k), &vec![k as u8; 10_000]) {
                broadcaster.publish(chunk, now);
            }
        }
        broadcaster.tick(now);
        viewer.tick(now);
        for _ in 0..4 {
            let out: Vec<_> = broadcaster.drain().collect();
            for e in out {
                if let Event::Send { to: 1, message } = e {
                    if matches!(&message, Message::Chunk { chunk, .. } if chunk.sequence() == lost)
                    {
                        continue;
                    }
                    viewer.handle(0, message, now);
                }
            }
            let out: Vec<_> = viewer.drain().collect();
            for e in out {
                match e {
                    Event::Send { to: 0, message } => broadcaster.handle(1, message, now),
                    Event::Play(chunk) => events.push(Ok(chunk.sequence())),
                    Event::Skipped { from, to } => events.push(Err((from, to))),
                    _ => {}
                }
            }
        }
    }
    let played: Vec<u64> = events.iter().filter_map(|e| e.ok()).collect();
    assert!(played.contains(&(lost - 1)), "{events:?}");
    assert!(!played.contains(&lost));
    assert!(
        played.contains(&(lost + 2)),
        "the next segment plays: {events:?}"
    );
    let mut last: Option<u64> = None;
    let mut told = false;
    for e in &events {
        match e {
            Ok(seq) => {
                if let Some(l) = last {
                    assert!(
                        *seq == l + 1 || told,
                        "chunk {seq} played after {l} with no skip reported first: {events:?}"
                    );
                }
                last = Some(*seq);
                told = false;
            }
            Err((from, to)) => {
                assert!(from < to);
                told = true;
            }
        }
    }
}

/// The broadcaster's two children in stripe 0 (at home there, on 1.2x lines) each feed two
/// grandchildren. A joiner on a 5x line at home in stripe 0 takes the place of one of them: it
/// adopts that child's children, which keep their depth, and the child it replaced finds room
/// under it, one level down, instead of the whole branch moving down a level.
#[test]
fn an_evicted_childs_children_are_adopted_by_the_joiner_that_took_its_place() {
    let net = finishes(std::time::Duration::from_secs(120), || {
        let mut net = Net::new(0);
        // The other stripes find parents through the directory; stripe 0 is joined first.
        net.directory = true;
        let channel = net.signer.channel();
        // Home in stripe 0 everywhere; 1.2x lines take three children, 5x lines six.
        let add = |net: &mut Net, id: u32, upload_x: f64, peers: &[u32]| {
            let now = net.now;
            let mut relay = Relay::viewer(id, channel, RelayConfig::viewer(4, upload_x), 0, now);
            relay.add_peers(peers.iter().copied(), now);
            net.relays.insert(id, relay);
        };
        add(&mut net, 1, 1.2, &[0]);
        add(&mut net, 2, 1.2, &[0]);
        for _ in 0..20 {
            net.step();
        }
        add(&mut net, 3, 1.2, &[1]);
        add(&mut net, 4, 1.2, &[1]);
        add(&mut net, 5, 1.2, &[2]);
        add(&mut net, 6, 1.2, &[2]);
        for _ in 0..60 {
            net.step();
        }
        let depth = |net: &Net, id: u32| net.relays[&id].have().depth[0];
        for (id, d) in [(1, 1), (2, 1), (3, 2), (4, 2), (5, 2), (6, 2)] {
            assert_eq!(depth(&net, id), d, "viewer {id} before the joiner");
        }
        let evicted_before = net.relays[&0].stats().tree.evicted;
        add(&mut net, 9, 5.0, &[0]);
        let mut deepest = [0u8; 10];
        for _ in 0..100 {
            net.step();
            for id in [3, 4, 5, 6] {
                deepest[id as usize] = deepest[id as usize].max(depth(&net, id));
            }
        }
        (net, evicted_before, deepest)
    });
    let (net, evicted_before, deepest) = net;
    let depth = |id: u32| net.relays[&id].have().depth[0];
    assert_eq!(net.relays[&0].stats().tree.evicted, evicted_before + 1);
    assert_eq!(depth(9), 1, "the joiner sits under the broadcaster");
    // Which of the two was replaced: the one now under the joiner.
    let (replaced, kept) = if depth(1) == 2 { (1, 2) } else { (2, 1) };
    assert_eq!(
        depth(replaced),
        2,
        "the one let go found room under the joiner"
    );
    assert_eq!(depth(kept), 1);
    // The replaced child and its two children now hang under the joiner.
    let adopted: Vec<u32> = if replaced == 1 {
        vec![3, 4]
    } else {
        vec![5, 6]
    };
    assert_eq!(net.relays[&replaced].parent(0), Some(9));
    for id in &adopted {
        assert_eq!(net.relays[id].parent(0), Some(9), "viewer {id} was adopted");
    }
    assert_eq!(net.relays[&9].parent(0), Some(0));
    for id in [3, 4, 5, 6] {
        assert_eq!(depth(id), 2, "viewer {id} kept its depth");
        assert_eq!(deepest[id as usize], 2, "viewer {id} never went deeper");
    }
    // Nobody missed a chunk over the move.
    for id in [1, 2, 3, 4, 5, 6] {
        assert_eq!(
            net.missed.get(&id).copied().unwrap_or(0),
            0,
            "viewer {id} missed chunks"
        );
    }
}

/// A parent with no free slot says how strong a line must be to take a child's place there
/// (`home_needs`): a joiner on a line too weak for it does not ask that parent (it would only
/// be refused), and a joiner on a strong line does, and is taken.
#[test]
fn open_home_is_advertised_only_to_a_joiner_strong_enough_to_use_it() {
    let mut net = Net::new(0);
    net.directory = true;
    let channel = net.signer.channel();
    let add = |net: &mut Net, id: u32, upload_x: f64, peers: &[u32]| {
        let now = net.now;
        let mut relay = Relay::viewer(id, channel, RelayConfig::viewer(4, upload_x), 0, now);
        relay.add_peers(peers.iter().copied(), now);
        net.relays.insert(id, relay);
    };
    // The broadcaster's two slots in stripe 0 go to two viewers on 1.2x lines (3 slots).
    add(&mut net, 1, 1.2, &[0]);
    add(&mut net, 2, 1.2, &[0]);
    for _ in 0..40 {
        net.step();
    }
    let have = net.relays[&0].have();
    assert_eq!(have.open & 1, 0, "no free slot in stripe 0");
    assert_eq!(
        have.open_home & 1,
        1,
        "room for a stronger line at home there"
    );
    assert_eq!(have.home_needs, 5, "three slots plus two");
    // A joiner on a 1.2x line (3 slots) never asks the broadcaster in its home stripe.
    add(&mut net, 7, 1.2, &[0, 1, 2]);
    let evicted_before = net.relays[&0].stats().tree.evicted;
    for _ in 0..40 {
        net.step();
    }
    let weak = &net.relays[&7];
    assert_eq!(weak.have().depth[0], 2, "it joined a viewer in stripe 0");
    assert_eq!(net.relays[&0].stats().tree.evicted, evicted_before);
    assert!(
        !net.joins.contains(&(7, 0, 0)),
        "it never asked the broadcaster in stripe 0: {:?}",
        net.joins
    );
    assert!(
        weak.parent(0).is_some_and(|p| p == 1 || p == 2),
        "{:?}",
        weak.parent(0)
    );
    // A joiner on a 5x line (6 slots) asks the broadcaster and takes a weaker child's place.
    add(&mut net, 9, 5.0, &[0]);
    for _ in 0..40 {
        net.step();
    }
    assert!(net.joins.contains(&(9, 0, 0)));
    assert_eq!(net.relays[&9].parent(0), Some(0));
    assert_eq!(net.relays[&0].stats().tree.evicted, evicted_before + 1);
}

/// Everyone's table of neighbours is full in a running swarm, and a full relay ignores a
/// stranger's greeting: a newcomer would meet only silence. A relay with room for a child
/// answers a newcomer's greeting anyway (within its hard limit), and stops once its slots are
/// taken.
#[test]
fn a_relay_with_room_answers_a_newcomer_even_with_a_full_table() {
    let signer = ChannelSigner::new(SigningKey::from_bytes(&[1; 32]), 4096);
    let config = RelayConfig::broadcaster(4);
    let (slots, most) = (config.slots, config.neighbours_max as u32);
    let mut relay = Relay::broadcaster(0u32, signer.channel(), config, 0);
    relay.add_peers(100..100 + most, 0);
    assert_eq!(relay.neighbours().count(), most as usize, "a full table");
    relay.drain().for_each(drop);
    relay.handle(500, have(None), 10);
    let answered = |relay: &mut Relay<u32>, to: u32| {
        relay.drain().any(|e| {
            matches!(
                e,
                Event::Send {
                    to: t,
                    message: Message::Have(_)
                } if t == to
            )
        })
    };
    assert!(answered(&mut relay, 500), "a newcomer is answered");
    assert!(relay.neighbours().any(|p| p == 500));
    // Its slots taken (two per stripe), it has no room to offer: a stranger gets no answer.
    for i in 0..u32::from(slots) {
        let stripe = (i % 4) as u8;
        relay.handle(
            100 + i,
            Message::Join {
                stripe,
                home: stripe,
                slots: 3,
            },
            20,
        );
    }
    assert_eq!(relay.children().0, vec![2, 2, 2, 2]);
    relay.drain().for_each(drop);
    relay.handle(600, have(None), 30);
    assert!(!answered(&mut relay, 600), "no room, no answer");
    assert!(!relay.neighbours().any(|p| p == 600));
}

/// A newcomer whose first peers were all full (they never answer its greeting) does not sit on
/// a table of silent names: a second later, the directory's next offer takes their place.
#[test]
fn a_newcomer_forgets_peers_that_never_answered_for_the_next_offer() {
    let signer = ChannelSigner::new(SigningKey::from_bytes(&[1; 32]), 4096);
    let config = RelayConfig::viewer(4, 2.0);
    let most = config.neighbours_max as u32;
    let mut relay = Relay::viewer(1u32, signer.channel(), config, 0, 0);
    relay.add_peers(100..100 + most, 0);
    // One of them answers: it stays.
    relay.handle(100, have(Some(5)), 100);
    // At once, nobody is forgotten: an answer may still be on its way.
    relay.add_peers([7], 200);
    assert!(!relay.neighbours().any(|p| p == 7));
    relay.add_peers([7, 8], 1_200);
    let now: Vec<u32> = relay.neighbours().collect();
    assert!(now.contains(&7) && now.contains(&8), "{now:?}");
    assert!(now.contains(&100), "the one that answered stays: {now:?}");
    assert_eq!(now.len(), most as usize);
}
