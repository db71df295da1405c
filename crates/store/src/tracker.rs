//! A small HTTP BitTorrent tracker (BEP 3 announce, BEP 23 compact peer lists) for the store's
//! torrents. DHT is off in Marquee, so this is how a viewer finds the store's seeder and the
//! other viewers of a title.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a peer stays listed after its last announce.
const PEER_TTL: Duration = Duration::from_secs(30 * 60);
/// The re-announce interval we ask clients for.
pub const ANNOUNCE_INTERVAL_S: u64 = 60;
/// The interval while a swarm has no other peer: a viewer who announced before the first
/// seeder should hear of it within seconds, not a minute later.
pub const LONELY_INTERVAL_S: u64 = 5;
/// At most this many peers in one answer.
const MAX_PEERS: usize = 50;

/// The swarm members of every info hash.
#[derive(Default)]
pub struct Tracker {
    swarms: Mutex<HashMap<[u8; 20], HashMap<SocketAddr, Instant>>>,
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

impl Tracker {
    /// Records an announce from `ip` and returns the other peers of the swarm.
    pub fn announce(&self, ip: IpAddr, a: &Announce) -> Vec<SocketAddr> {
        let me = SocketAddr::new(ip, a.port);
        let now = Instant::now();
        let mut swarms = self.swarms.lock().expect("tracker lock");
        let swarm = swarms.entry(a.info_hash).or_default();
        swarm.retain(|_, seen| now.duration_since(*seen) < PEER_TTL);
        if a.stopped {
            swarm.remove(&me);
        } else {
            swarm.insert(me, now);
        }
        swarm
            .keys()
            .filter(|p| **p != me)
            .take(MAX_PEERS)
            .copied()
            .collect()
    }

    /// Adds a peer that is known without an announce (the store's own seeder).
    pub fn add_peer(&self, info_hash: [u8; 20], peer: SocketAddr) {
        let mut swarms = self.swarms.lock().expect("tracker lock");
        swarms
            .entry(info_hash)
            .or_default()
            .insert(peer, Instant::now());
    }

    /// The current peers of a swarm.
    pub fn peers(&self, info_hash: &[u8; 20]) -> Vec<SocketAddr> {
        let now = Instant::now();
        let swarms = self.swarms.lock().expect("tracker lock");
        swarms
            .get(info_hash)
            .map(|s| {
                s.iter()
                    .filter(|(_, seen)| now.duration_since(**seen) < PEER_TTL)
                    .map(|(p, _)| *p)
                    .take(MAX_PEERS)
                    .collect()
            })
            .unwrap_or_default()
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
    out.extend_from_slice(format!("d8:intervali{interval}e5:peers").as_bytes());
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

    #[test]
    fn second_peer_learns_of_the_first_and_stopped_peers_leave() {
        let t = Tracker::default();
        let ih = [7u8; 20];
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let first = t.announce(
            ip,
            &Announce {
                info_hash: ih,
                port: 1000,
                stopped: false,
            },
        );
        assert!(first.is_empty());
        let second = t.announce(
            ip,
            &Announce {
                info_hash: ih,
                port: 2000,
                stopped: false,
            },
        );
        assert_eq!(second, vec!["127.0.0.1:1000".parse().unwrap()]);
        t.announce(
            ip,
            &Announce {
                info_hash: ih,
                port: 1000,
                stopped: true,
            },
        );
        assert_eq!(t.peers(&ih), vec!["127.0.0.1:2000".parse().unwrap()]);
    }

    #[test]
    fn compact_encoding_matches_bep23() {
        let body = encode_response(&["127.0.0.1:6881".parse().unwrap()]);
        assert_eq!(
            body,
            b"d8:intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe1e".to_vec()
        );
    }
}
