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
