//! A small HTTP BitTorrent tracker (BEP 3 announce, BEP 23 compact peer lists) for the store's
//! torrents. DHT is off in Marquee, so this is how a viewer finds the store's seeder and the
//! other viewers of a title.
//!
//! Free titles have an open swarm. A paid title's swarm is private, as private trackers' are:
//! the announce URL carries the account's passkey ([`Passkeys`]), and only an account that
//! holds a live licence of the title is told who else watches it. A title the operator hid is
//! forgotten: neither tracked nor served.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::sync::Mutex;

use crate::limit::address_key;
use crate::Clock;

/// The re-announce interval we ask clients for, sent as both `interval` and `min interval`.
///
/// It decides how long a peer that vanished without `event=stopped` (a killed or crashed
/// client, a laptop shut) is still handed out: [`PEER_TTL_S`], two intervals, so here at most
/// a minute after its last announce. Each halving doubles the tracker's load: at 30 s, 1,000
/// peers (one torrent each) make about 33 announces a second, each answered with at most 50
/// peers (about 350 bytes), some 12 KB/s. librqbit (9.1) sleeps for `min interval` when the
/// answer has one and for `interval` otherwise; other clients re-announce at `interval` and
/// take `min interval` as the floor for a re-announce by hand: the two are equal so that every
/// client announces at this one rate.
pub const ANNOUNCE_INTERVAL_S: u64 = 30;
/// The interval while a swarm has no other peer: a viewer who announced before the first
/// seeder should hear of it within seconds, not half a minute later.
pub const LONELY_INTERVAL_S: u64 = 5;
/// A peer that has not announced for this long (two intervals: one late or missed announce is
/// forgiven) is left out of answers and then forgotten.
pub const PEER_TTL_S: i64 = 2 * ANNOUNCE_INTERVAL_S as i64;
// A vanished peer is handed out for at most a minute: checked when the crate compiles.
const _: () = assert!(PEER_TTL_S <= 60);
/// At most this many peers in one answer.
const MAX_ANSWER: usize = 50;
/// Most peers one swarm lists: plenty to download from, and a swarm's share of memory is
/// bounded.
pub const MAX_PEERS_PER_SWARM: usize = 1_000;
/// Most peers of one address (an IPv4 address or an IPv6 /64) in one swarm: a household
/// behind one router, not one machine claiming a thousand ports.
pub const MAX_PEERS_PER_ADDRESS_IN_SWARM: u32 = 16;
/// Most peers of one address over all swarms.
pub const MAX_PEERS_PER_ADDRESS: u32 = 256;
/// Most peers over all swarms: whatever is announced, the tracker holds at most this many
/// (about 10 MB; see [`TrackerStats::approx_bytes`]).
pub const MAX_PEERS: usize = 100_000;

/// A peer listed without announcing (the store's own seeder): never expires.
const PINNED: i64 = i64::MAX;

/// The swarm members of every title the store knows.
pub struct Tracker {
    clock: Clock,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The info hashes the tracker answers for (the store's titles), and who may announce
    /// them. An announce of anything else is refused, so swarms (and their memory) exist only
    /// for these.
    known: HashMap<[u8; 20], Access>,
    swarms: HashMap<[u8; 20], Swarm>,
    /// Peers of each address over all swarms.
    per_address: HashMap<IpAddr, u32>,
    /// Peers over all swarms.
    total: usize,
    /// When every swarm was last swept of expired peers.
    swept_at: i64,
}

#[derive(Default)]
struct Swarm {
    /// Each peer and when it last announced (Unix seconds; [`PINNED`] for the seeder).
    peers: HashMap<SocketAddr, i64>,
    /// Peers of each address in this swarm.
    per_address: HashMap<IpAddr, u32>,
    swept_at: i64,
}

/// What the tracker holds, for tests and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackerStats {
    /// Info hashes it answers for.
    pub known: usize,
    /// Swarms with peers (or that had some).
    pub swarms: usize,
    /// Peers listed over all swarms.
    pub peers: usize,
    /// Distinct addresses with peers.
    pub addresses: usize,
    /// The memory of its tables, estimated from their capacities and entry sizes.
    pub approx_bytes: usize,
}

/// A parsed announce.
#[derive(Debug, PartialEq, Eq)]
pub struct Announce {
    /// The torrent.
    pub info_hash: [u8; 20],
    /// The peer's listening port.
    pub port: u16,
    /// `event=stopped` removes the peer.
    pub stopped: bool,
}

/// The failure reason for an info hash the store does not sell or list.
pub const UNKNOWN_TORRENT: &str = "this tracker only tracks the store's own titles";
/// The failure reason for a paid title announced without a passkey, or with one that is not
/// the store's.
pub const PASSKEY_NEEDED: &str =
    "this title's swarm is private: sign in to Marquee and open the title from your library";
/// The failure reason for a paid title announced with the passkey of an account that holds no
/// live licence of it.
pub const NOT_LICENSED: &str =
    "this title's swarm is for the accounts that rent or own it: rent or buy it in Marquee first";

/// Who may announce a title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// A free title: anyone.
    Open,
    /// A paid title (its id): accounts holding a live licence of it, by their passkey.
    Licensed(String),
}

/// The "account" of the operator's own seed nodes: no account has id 0, and its passkey
/// (`marquee-store passkey`) announces any title.
pub const OPERATOR: i64 = 0;

/// Each account's passkey for the private swarms: its id and a MAC of it under a key derived
/// from the store's signing key, so every store process on one database derives the same ones
/// and nothing needs storing. Hex, so it sits in a URL path as it is.
pub struct Passkeys {
    key: [u8; 32],
}

impl Passkeys {
    /// Passkeys under a key derived from `secret` (the store's signing key bytes).
    pub fn new(secret: &[u8; 32]) -> Passkeys {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"marquee tracker passkeys v1\0");
        h.update(secret);
        Passkeys {
            key: h.finalize().into(),
        }
    }

    fn mac(&self, account: i64) -> [u8; 16] {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("any key size");
        mac.update(&account.to_be_bytes());
        let full: [u8; 32] = mac.finalize().into_bytes().into();
        full[..16].try_into().expect("16 of 32 bytes")
    }

    /// The passkey of `account`: 16 hex digits of the id, 32 of the MAC.
    pub fn of(&self, account: i64) -> String {
        format!(
            "{}{}",
            hex::encode(account.to_be_bytes()),
            hex::encode(self.mac(account))
        )
    }

    /// The account a passkey belongs to, if it is one this store made.
    pub fn account(&self, passkey: &str) -> Option<i64> {
        use subtle::ConstantTimeEq;
        let mut raw = [0u8; 24];
        hex::decode_to_slice(passkey, &mut raw).ok()?;
        let account = i64::from_be_bytes(raw[..8].try_into().ok()?);
        bool::from(self.mac(account).ct_eq(&raw[8..])).then_some(account)
    }
}

impl Swarm {
    fn fresh(seen: i64, now: i64) -> bool {
        seen == PINNED || now - seen < PEER_TTL_S
    }

    /// Removes one peer, keeping the counts.
    fn remove(&mut self, peer: &SocketAddr, per_address: &mut HashMap<IpAddr, u32>) -> bool {
        let Some(seen) = self.peers.remove(peer) else {
            return false;
        };
        if seen != PINNED {
            let key = address_key(peer.ip());
            for counts in [&mut self.per_address, per_address] {
                if let Some(n) = counts.get_mut(&key) {
                    *n -= 1;
                    if *n == 0 {
                        counts.remove(&key);
                    }
                }
            }
        }
        true
    }

    /// Forgets peers gone for longer than [`PEER_TTL_S`]; returns how many.
    fn expire(&mut self, now: i64, per_address: &mut HashMap<IpAddr, u32>) -> usize {
        self.swept_at = now;
        let stale: Vec<SocketAddr> = self
            .peers
            .iter()
            .filter(|(_, seen)| !Swarm::fresh(**seen, now))
            .map(|(p, _)| *p)
            .collect();
        for p in &stale {
            self.remove(p, per_address);
        }
        stale.len()
    }

    /// Up to [`MAX_ANSWER`] live peers other than `me`, from a random place in the swarm so
    /// that not every viewer is sent to the same fifty.
    fn answer(&self, me: Option<SocketAddr>, now: i64) -> Vec<SocketAddr> {
        let skip = match self.peers.len() {
            0 => 0,
            n => rand::random::<usize>() % n,
        };
        self.peers
            .iter()
            .cycle()
            .skip(skip)
            .take(self.peers.len())
            .filter(|(p, seen)| Some(**p) != me && Swarm::fresh(**seen, now))
            .map(|(p, _)| *p)
            .take(MAX_ANSWER)
            .collect()
    }
}

impl Tracker {
    /// An empty tracker that reads the time from `clock`.
    pub fn new(clock: Clock) -> Tracker {
        Tracker {
            clock,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Adds info hashes the tracker answers for, open to anyone.
    pub fn know(&self, info_hashes: impl IntoIterator<Item = [u8; 20]>) {
        self.set_access(info_hashes.into_iter().map(|ih| (ih, Some(Access::Open))));
    }

    /// Sets who may announce each info hash; `None` forgets one (a title the operator hid),
    /// with its swarm.
    pub fn set_access(&self, changes: impl IntoIterator<Item = ([u8; 20], Option<Access>)>) {
        let mut guard = self.inner.lock().expect("tracker lock");
        let inner = &mut *guard;
        for (ih, access) in changes {
            match access {
                Some(access) => {
                    inner.known.insert(ih, access);
                }
                None => {
                    inner.known.remove(&ih);
                    if let Some(mut swarm) = inner.swarms.remove(&ih) {
                        let peers: Vec<SocketAddr> = swarm.peers.keys().copied().collect();
                        for p in &peers {
                            if swarm.remove(p, &mut inner.per_address) {
                                inner.total -= 1;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Who may announce an info hash; `None` when the tracker does not track it.
    pub fn access(&self, info_hash: &[u8; 20]) -> Option<Access> {
        self.inner
            .lock()
            .expect("tracker lock")
            .known
            .get(info_hash)
            .cloned()
    }

    /// Records an announce from `ip` and returns the other peers of the swarm, or the failure
    /// reason for an info hash the store does not know.
    pub fn announce(&self, ip: IpAddr, a: &Announce) -> Result<Vec<SocketAddr>, &'static str> {
        let me = SocketAddr::new(ip, a.port);
        let key = address_key(ip);
        let now = self.clock.now();
        let mut guard = self.inner.lock().expect("tracker lock");
        let inner = &mut *guard;
        if !inner.known.contains_key(&a.info_hash) {
            return Err(UNKNOWN_TORRENT);
        }
        if inner.total >= MAX_PEERS && inner.swept_at != now {
            // Full: forget every expired peer first (once a second of the clock at most).
            inner.swept_at = now;
            for swarm in inner.swarms.values_mut() {
                inner.total -= swarm.expire(now, &mut inner.per_address);
            }
        }
        let swarm = inner.swarms.entry(a.info_hash).or_default();
        if swarm.swept_at != now {
            inner.total -= swarm.expire(now, &mut inner.per_address);
        }
        if a.stopped {
            if swarm.remove(&me, &mut inner.per_address) {
                inner.total -= 1;
            }
        } else if let Some(seen) = swarm.peers.get_mut(&me) {
            if *seen != PINNED {
                *seen = now;
            }
        } else {
            let room = swarm.peers.len() < MAX_PEERS_PER_SWARM
                && inner.total < MAX_PEERS
                && swarm.per_address.get(&key).copied().unwrap_or(0)
                    < MAX_PEERS_PER_ADDRESS_IN_SWARM
                && inner.per_address.get(&key).copied().unwrap_or(0) < MAX_PEERS_PER_ADDRESS;
            // Without room the peer is answered but not listed: it still finds the others.
            if room {
                swarm.peers.insert(me, now);
                *swarm.per_address.entry(key).or_default() += 1;
                *inner.per_address.entry(key).or_default() += 1;
                inner.total += 1;
            }
        }
        Ok(swarm.answer(Some(me), now))
    }

    /// Lists a peer that is known without an announce (the store's own seeder), for good.
    pub fn add_peer(&self, info_hash: [u8; 20], peer: SocketAddr) {
        let mut inner = self.inner.lock().expect("tracker lock");
        inner.known.entry(info_hash).or_insert(Access::Open);
        let swarm = inner.swarms.entry(info_hash).or_default();
        if swarm.peers.insert(peer, PINNED).is_none() {
            inner.total += 1;
        }
    }

    /// The current peers of a swarm.
    pub fn peers(&self, info_hash: &[u8; 20]) -> Vec<SocketAddr> {
        let now = self.clock.now();
        let inner = self.inner.lock().expect("tracker lock");
        inner
            .swarms
            .get(info_hash)
            .map(|s| s.answer(None, now))
            .unwrap_or_default()
    }

    /// What the tracker holds now.
    pub fn stats(&self) -> TrackerStats {
        use std::mem::size_of;
        // A hash table entry: key, value and one control byte.
        fn table<K, V>(m: &HashMap<K, V>) -> usize {
            m.capacity() * (size_of::<K>() + size_of::<V>() + 1)
        }
        let inner = self.inner.lock().expect("tracker lock");
        let swarms: usize = inner
            .swarms
            .values()
            .map(|s| table(&s.peers) + table(&s.per_address))
            .sum();
        TrackerStats {
            known: inner.known.len(),
            swarms: inner.swarms.len(),
            peers: inner.total,
            addresses: inner.per_address.len(),
            approx_bytes: swarms
                + table(&inner.swarms)
                + table(&inner.per_address)
                + table(&inner.known)
                + inner
                    .known
                    .values()
                    .map(|a| match a {
                        Access::Licensed(id) => id.capacity(),
                        Access::Open => 0,
                    })
                    .sum::<usize>(),
        }
    }
}

/// Parses an announce query string. `info_hash` is raw bytes, percent-encoded, so it cannot go
/// through a UTF-8 query deserializer.
pub fn parse_announce(query: &str) -> Result<Announce, String> {
    let mut info_hash = None;
    let mut port = None;
    let mut stopped = false;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "info_hash" => {
                let bytes = percent_decode(v)?;
                let arr: [u8; 20] = bytes
                    .try_into()
                    .map_err(|_| "info_hash must be 20 bytes".to_owned())?;
                info_hash = Some(arr);
            }
            "port" => port = Some(v.parse::<u16>().map_err(|_| "bad port".to_owned())?),
            "event" => stopped = v == "stopped",
            _ => {}
        }
    }
    Ok(Announce {
        info_hash: info_hash.ok_or("missing info_hash")?,
        port: port.filter(|p| *p != 0).ok_or("missing port")?,
        stopped,
    })
}

fn percent_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or("truncated percent escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad percent escape")?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Bencodes a successful announce answer with a compact (BEP 23) IPv4 peer list and, for IPv6
/// peers, BEP 7's `peers6`.
pub fn encode_response(peers: &[SocketAddr]) -> Vec<u8> {
    let interval = if peers.is_empty() {
        LONELY_INTERVAL_S
    } else {
        ANNOUNCE_INTERVAL_S
    };
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for p in peers {
        match p {
            SocketAddr::V4(a) => {
                v4.extend_from_slice(&a.ip().octets());
                v4.extend_from_slice(&a.port().to_be_bytes());
            }
            SocketAddr::V6(a) => {
                if let Some(m) = a.ip().to_ipv4_mapped() {
                    let a4 = SocketAddrV4::new(m, a.port());
                    v4.extend_from_slice(&a4.ip().octets());
                    v4.extend_from_slice(&a4.port().to_be_bytes());
                } else {
                    v6.extend_from_slice(&a.ip().octets());
                    v6.extend_from_slice(&a.port().to_be_bytes());
                }
            }
        }
    }
    let mut out = Vec::new();
    // Keys in sorted order, as bencoding requires: interval, min interval, peers, peers6.
    out.extend_from_slice(
        format!("d8:intervali{interval}e12:min intervali{interval}e5:peers").as_bytes(),
    );
    out.extend_from_slice(format!("{}:", v4.len()).as_bytes());
    out.extend_from_slice(&v4);
    if !v6.is_empty() {
        out.extend_from_slice(format!("6:peers6{}:", v6.len()).as_bytes());
        out.extend_from_slice(&v6);
    }
    out.push(b'e');
    out
}

/// Bencodes a failure answer.
pub fn encode_failure(reason: &str) -> Vec<u8> {
    format!("d14:failure reason{}:{}e", reason.len(), reason).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_announce() {
        let q = "info_hash=%12%34Vx%9a%bc%de%f0%12%34Vx%9a%bc%de%f0%124Vx&peer_id=-RQ0001-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=10&compact=1&event=started";
        let a = parse_announce(q).unwrap();
        assert_eq!(a.port, 6881);
        assert_eq!(&a.info_hash[..4], &[0x12, 0x34, b'V', b'x']);
        assert!(!a.stopped);
        assert!(parse_announce("port=1").is_err());
        assert!(parse_announce("info_hash=%12&port=1").is_err());
    }

    fn at(now: &std::sync::Arc<std::sync::atomic::AtomicI64>) -> Clock {
        let now = now.clone();
        Clock::from_fn(move || now.load(std::sync::atomic::Ordering::SeqCst))
    }

    fn announce(t: &Tracker, ip: &str, ih: [u8; 20], port: u16, stopped: bool) -> Vec<SocketAddr> {
        t.announce(
            ip.parse().unwrap(),
            &Announce {
                info_hash: ih,
                port,
                stopped,
            },
        )
        .unwrap()
    }

    #[test]
    fn second_peer_learns_of_the_first_and_stopped_peers_leave() {
        let t = Tracker::new(Clock::system());
        let ih = [7u8; 20];
        t.know([ih]);
        assert!(announce(&t, "127.0.0.1", ih, 1000, false).is_empty());
        assert_eq!(
            announce(&t, "127.0.0.1", ih, 2000, false),
            vec!["127.0.0.1:1000".parse().unwrap()]
        );
        announce(&t, "127.0.0.1", ih, 1000, true);
        assert_eq!(t.peers(&ih), vec!["127.0.0.1:2000".parse().unwrap()]);
    }

    #[test]
    fn unknown_torrents_are_refused_and_hold_nothing() {
        let t = Tracker::new(Clock::system());
        let got = t.announce(
            "10.0.0.1".parse().unwrap(),
            &Announce {
                info_hash: [1; 20],
                port: 1,
                stopped: false,
            },
        );
        assert_eq!(got, Err(UNKNOWN_TORRENT));
        assert_eq!(t.stats().swarms, 0);
        assert_eq!(t.stats().peers, 0);
    }

    #[test]
    fn peers_that_stop_announcing_leave_after_two_intervals_but_the_seeder_stays() {
        let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1_000));
        let t = Tracker::new(at(&now));
        let ih = [9u8; 20];
        let seeder: SocketAddr = "127.0.0.1:9".parse().unwrap();
        t.add_peer(ih, seeder);
        announce(&t, "10.0.0.1", ih, 1000, false);
        now.fetch_add(PEER_TTL_S - 1, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(t.peers(&ih).len(), 2, "one missed announce is forgiven");
        now.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            t.peers(&ih),
            vec![seeder],
            "gone for two intervals: left out"
        );
        assert_eq!(
            announce(&t, "10.0.0.2", ih, 1000, false),
            vec![seeder],
            "and forgotten at the next announce"
        );
        assert_eq!(t.stats().peers, 2);
        assert_eq!(t.stats().addresses, 1);
    }

    #[test]
    fn a_killed_client_leaves_the_answers_within_a_minute_and_a_late_one_stays() {
        use std::sync::atomic::Ordering::SeqCst;
        let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1_000));
        let t = Tracker::new(at(&now));
        let ih = [5u8; 20];
        t.know([ih]);
        let watcher: SocketAddr = "10.0.0.9:1000".parse().unwrap();
        let killed: SocketAddr = "10.0.0.1:1000".parse().unwrap();
        // Both announce; then one is killed (no `stopped`), the other keeps announcing at the
        // interval asked for, each announce up to half an interval late.
        announce(&t, "10.0.0.1", ih, 1000, false);
        announce(&t, "10.0.0.9", ih, 1000, false);
        let mut last_seen_killed = None;
        for step in 1..=4 {
            now.fetch_add(
                ANNOUNCE_INTERVAL_S as i64 + ANNOUNCE_INTERVAL_S as i64 / 2,
                SeqCst,
            );
            let answer = announce(&t, "10.0.0.9", ih, 1000, false);
            if answer.contains(&killed) {
                last_seen_killed = Some(step);
            }
            assert!(
                t.peers(&ih).contains(&watcher),
                "a late announcer stays listed"
            );
        }
        // 45 s after its last announce it was still listed (one late announce forgiven); 90 s
        // after, gone: in between, at the TTL of 60 s, it left the answers.
        assert_eq!(last_seen_killed, Some(1));
        assert_eq!(t.peers(&ih), vec![watcher]);
        assert_eq!(t.stats().peers, 1, "and forgotten");
    }

    #[test]
    fn one_address_cannot_fill_a_swarm() {
        let t = Tracker::new(Clock::system());
        let ih = [3u8; 20];
        t.know([ih]);
        for port in 1..=1000 {
            announce(&t, "10.0.0.1", ih, port, false);
        }
        assert_eq!(t.stats().peers, MAX_PEERS_PER_ADDRESS_IN_SWARM as usize);
        // A peer of the same /64 is the same address.
        announce(&t, "2001:db8::1", ih, 1, false);
        for port in 1..=100 {
            announce(&t, "2001:db8::2", ih, port, false);
        }
        assert_eq!(t.stats().peers, 2 * MAX_PEERS_PER_ADDRESS_IN_SWARM as usize);
    }

    #[test]
    fn compact_encoding_matches_bep23() {
        let body = encode_response(&["127.0.0.1:6881".parse().unwrap()]);
        assert_eq!(
            body,
            b"d8:intervali30e12:min intervali30e5:peers6:\x7f\x00\x00\x01\x1a\xe1e".to_vec()
        );
    }

    #[test]
    fn a_passkey_names_its_account_and_nothing_else_passes() {
        let keys = Passkeys::new(&[1; 32]);
        let key = keys.of(42);
        assert_eq!(key.len(), 48);
        assert_eq!(keys.account(&key), Some(42));
        // Another account's id with this MAC, a changed MAC, another store's key, junk.
        let forged = format!("{}{}", hex::encode(43i64.to_be_bytes()), &key[16..]);
        assert_eq!(keys.account(&forged), None);
        let mut flipped = key.clone().into_bytes();
        flipped[47] = if flipped[47] == b'0' { b'1' } else { b'0' };
        assert_eq!(keys.account(std::str::from_utf8(&flipped).unwrap()), None);
        assert_eq!(Passkeys::new(&[2; 32]).account(&key), None);
        for junk in ["", "zz", &key[..46], &format!("{key}00")] {
            assert_eq!(keys.account(junk), None, "{junk}");
        }
    }

    #[test]
    fn a_hidden_title_is_forgotten_with_its_swarm() {
        let t = Tracker::new(Clock::system());
        let (open, paid) = ([1u8; 20], [2u8; 20]);
        t.set_access([
            (open, Some(Access::Open)),
            (paid, Some(Access::Licensed("film".into()))),
        ]);
        assert_eq!(t.access(&paid), Some(Access::Licensed("film".into())));
        announce(&t, "10.0.0.1", open, 1000, false);
        announce(&t, "10.0.0.2", open, 1000, false);
        t.set_access([(open, None)]);
        assert_eq!(t.access(&open), None);
        assert_eq!(t.stats().peers, 0);
        assert_eq!(t.stats().addresses, 0);
        assert!(t.peers(&open).is_empty());
        let again = t.announce(
            "10.0.0.1".parse().unwrap(),
            &Announce {
                info_hash: open,
                port: 1000,
                stopped: false,
            },
        );
        assert_eq!(again, Err(UNKNOWN_TORRENT));
    }
}
