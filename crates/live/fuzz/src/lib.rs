//! The checks behind the fuzz targets of `marquee-live`'s parsers, and the seeds of their
//! corpora.
//!
//! The parsers are included by path instead of depending on `marquee-live`, whose network layer
//! would be instrumented too; the cutter's EBML reader, the leaf crate `marquee-ebml`, is a
//! dependency. The files are the very ones the crate compiles.
//!
//! Every target must never panic on any input. Beyond that:
//!
//! - [`live_segment`]: a file that parses gives an init segment starting with the EBML magic
//!   (or `ftyp`, for MP4), and two loops of segments that each start with a Cluster (or a
//!   `moof`), on a keyframe, contiguous in time and never empty.
//! - [`live_announcement`]: an announcement that decodes encodes back to the same bytes, and
//!   verifying it (against any key) answers without panicking.
//! - [`live_relay`]: a viewer's relay fed frames from eight peers through the wire decoder,
//!   real signed chunks among them, with its clock moving: every call returns, what it asks to
//!   send encodes and decodes back, only verified chunks play, and every map stays within its
//!   bound.

#[path = "../../src/chunk.rs"]
pub mod chunk;
#[path = "../../src/relay.rs"]
pub mod relay;
#[path = "../../src/segment.rs"]
pub mod segment;
#[path = "../../src/fmp4.rs"]
mod fmp4;
#[path = "../../src/wire.rs"]
pub mod wire;

use ed25519_dalek::SigningKey;

/// Fuzz target `live_segment`: `data` is a whole WebM or MP4 file given to "Go live".
pub fn live_segment(data: &[u8]) {
    let Ok(source) = segment::LiveSource::parse(data) else {
        return;
    };
    // WebM: the EBML magic and Clusters; fragmented MP4: ftyp, then moof boxes.
    let mp4 = source.init_segment().get(4..8) == Some(b"ftyp");
    assert!(mp4 || source.init_segment().starts_with(&[0x1A, 0x45, 0xDF, 0xA3]));
    let mut looper = source.segments(1000);
    let per_loop = looper.segments_per_loop();
    assert!(per_loop > 0);
    let mut next_start = None;
    for segment in looper.by_ref().take(2 * per_loop.min(500)) {
        if mp4 {
            assert_eq!(segment.bytes.get(4..8), Some(&b"moof"[..]));
        } else {
            assert!(segment.bytes.starts_with(&[0x1F, 0x43, 0xB6, 0x75]));
        }
        assert!(segment.keyframe);
        if let Some(start) = next_start {
            assert_eq!(segment.start_ms, start, "segments are contiguous");
        }
        next_start = Some(segment.start_ms + segment.duration_ms);
    }
}

/// Fuzz target `live_announcement`: `data` is an announcement as it arrives from a peer.
pub fn live_announcement(data: &[u8]) {
    let Ok(announcement) = chunk::Announcement::decode(data) else {
        return;
    };
    assert_eq!(announcement.encode().as_slice(), data);
    let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
    let _ = announcement.verify(&key);
    if let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&announcement.channel) {
        let _ = announcement.verify(&key);
    }
}

/// The channel of [`live_relay`]'s real chunks.
fn relay_signer() -> chunk::ChannelSigner {
    chunk::ChannelSigner::new(SigningKey::from_bytes(&[7; 32]), 4096)
}

/// [`live_relay`]'s stream: 64 real chunks, three to a one-second segment, signed once.
fn relay_chunks() -> &'static [chunk::Chunk] {
    static CHUNKS: std::sync::OnceLock<Vec<chunk::Chunk>> = std::sync::OnceLock::new();
    CHUNKS.get_or_init(|| {
        let mut signer = relay_signer();
        (0..22u64)
            .flat_map(|k| {
                let info = chunk::SegmentInfo {
                    segment: k,
                    pts_ms: k * 1000,
                    duration_ms: 1000,
                    capture_ms: k * 1000,
                    keyframe: true,
                    epoch: 0,
                };
                signer.chunks(info, &[k as u8; 10_000])
            })
            .take(64)
            .collect()
    })
}

/// Fuzz target `live_relay`: `data` is a script of what eight peers send one viewer. Each step
/// starts with a byte `op`: `op % 4 == 0` moves the clock `(op >> 2) * 10` ms and ticks;
/// `op % 4 == 1` delivers real chunk `op >> 2` from peer 0 (the broadcaster); otherwise a frame
/// follows (peer byte, length `u16` big-endian, the bytes) and goes through [`wire::decode`]
/// to the relay as the peer's message.
pub fn live_relay(data: &[u8]) {
    use relay::{Event, Relay, RelayConfig};
    let chunks = relay_chunks();
    let channel = relay_signer().channel();
    let config = RelayConfig::viewer(4, 2.0);
    let (slots, wants_max, neighbours_max) =
        (config.slots, config.wants_max, config.neighbours_max);
    let mut relay = Relay::viewer([200u8; 32], channel, config, 1, 0);
    relay.add_peers([[0u8; 32], [1u8; 32]], 0);
    let mut now = 0u64;
    let mut rest = data;
    while let Some((&op, after)) = rest.split_first() {
        rest = after;
        match op % 4 {
            0 => {
                now += u64::from(op >> 2) * 10;
                relay.tick(now);
            }
            1 => {
                let chunk = chunks[usize::from(op >> 2) % chunks.len()].clone();
                relay.handle([0u8; 32], relay::Message::Chunk { chunk, hops: 0 }, now);
            }
            _ => {
                let Some((&peer, after)) = rest.split_first() else {
                    break;
                };
                let Some((len, after)) = after.split_first_chunk::<2>() else {
                    break;
                };
                let len = usize::from(u16::from_be_bytes(*len)).min(after.len());
                let (frame, after) = after.split_at(len);
                rest = after;
                if let Ok(message) = wire::decode(frame) {
                    relay.handle([peer % 8; 32], message, now);
                }
            }
        }
        for event in relay.drain() {
            match event {
                Event::Send { message, .. } => {
                    let bytes = wire::encode(&message);
                    assert_eq!(bytes.len(), message.wire_len(), "{message:?}");
                    wire::decode(&bytes).expect("what the relay sends decodes");
                }
                Event::Play(chunk) => chunk.verify(&channel).expect("only verified chunks play"),
                _ => {}
            }
        }
        let f = relay.footprint();
        assert!(
            f.neighbours <= neighbours_max + usize::from(slots) + 4,
            "{f:?}"
        );
        assert!(f.children <= usize::from(slots), "{f:?}");
        assert!(f.wants <= wants_max, "{f:?}");
        assert!(f.banned <= relay::BANNED_MAX, "{f:?}");
        assert!(f.heard <= relay::WINDOW as usize, "{f:?}");
        assert!(f.stored_bytes <= relay::STORED_BYTES_MAX, "{f:?}");
        assert!(f.chunks <= chunks.len(), "{f:?}");
    }
}

/// A WebM file unlike the demo films, whose Clusters all start on their only keyframe: two 4 s
/// Clusters (1 ms ticks) with a video keyframe every second and audio between, which the
/// re-cutter cuts at the keyframes inside them; the second of unknown size, a BlockGroup
/// keyframe at 2 s, a CRC-32 and a Position to drop.
fn long_clusters_webm() -> Vec<u8> {
    // Every size in eight bytes (0x01, then seven bytes of value), whatever the length.
    fn el(id: &[u8], data: &[u8]) -> Vec<u8> {
        let size = (data.len() as u64) | (1 << 56);
        [id, &size.to_be_bytes()[..], data].concat()
    }
    fn uint(id: &[u8], value: u64) -> Vec<u8> {
        el(id, &value.to_be_bytes())
    }
    fn block(track: u8, time: i16, flags: u8) -> Vec<u8> {
        let frame = format!("{track}:{time}");
        [
            &[0x80 | track][..],
            &time.to_be_bytes(),
            &[flags],
            frame.as_bytes(),
        ]
        .concat()
    }
    fn track(number: u64, kind: u64, codec: &[u8]) -> Vec<u8> {
        let body = [
            uint(&[0xD7], number),
            uint(&[0x83], kind),
            el(&[0x86], codec),
        ];
        el(&[0xAE], &body.concat())
    }
    const CLUSTER: [u8; 4] = [0x1F, 0x43, 0xB6, 0x75];
    let header = [uint(&[0x42, 0xF7], 1), el(&[0x42, 0x82], b"webm")].concat();
    let mut segment = el(
        &[0x15, 0x49, 0xA9, 0x66],
        &uint(&[0x2A, 0xD7, 0xB1], 1_000_000),
    );
    let tracks = [track(1, 1, b"V_VP9"), track(2, 2, b"A_OPUS")].concat();
    segment.extend(el(&[0x16, 0x54, 0xAE, 0x6B], &tracks));
    for c in 0..2u64 {
        let mut body = el(&[0xBF], &[0; 4]);
        body.extend(uint(&[0xE7], 4000 * c));
        body.extend(uint(&[0xA7], 1234));
        for t in (0..4000i16).step_by(40) {
            body.extend(match t {
                // A BlockGroup without ReferenceBlock: a keyframe.
                2000 => el(&[0xA0], &el(&[0xA1], &block(1, t, 0))),
                t if t % 1000 == 0 => el(&[0xA3], &block(1, t, 0x80)),
                t => el(&[0xA3], &block(1, t, 0)),
            });
            if t % 80 == 0 {
                body.extend(el(&[0xA3], &block(2, t, 0x80)));
            }
        }
        if c == 0 {
            segment.extend(el(&CLUSTER, &body));
        } else {
            segment.extend(
                [
                    &CLUSTER[..],
                    &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
                ]
                .concat(),
            );
            segment.extend(body);
        }
    }
    [
        el(&[0x1A, 0x45, 0xDF, 0xA3], &header),
        el(&[0x18, 0x53, 0x80, 0x67], &segment),
    ]
    .concat()
}

/// The seeds: (target, name, bytes): the demo films, a film of long Clusters, and a real signed
/// announcement.
pub fn seeds() -> std::io::Result<Vec<(&'static str, String, Vec<u8>)>> {
    let mut out = Vec::new();
    let media = concat!(env!("CARGO_MANIFEST_DIR"), "/../../store/demo/media");
    let mut names: Vec<_> = std::fs::read_dir(media)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "webm"))
        .collect();
    names.sort();
    // Two films are enough to seed the structure; the fuzzer mutates from there.
    for path in names.into_iter().take(2) {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.push(("live_segment", name, std::fs::read(&path)?));
    }
    out.push((
        "live_segment",
        "long-clusters.webm".to_string(),
        long_clusters_webm(),
    ));
    out.push((
        "live_segment",
        "glass-rain-8s.mp4".to_string(),
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/glass-rain-8s.mp4"
        ))?,
    ));
    let mut signer = chunk::ChannelSigner::new(SigningKey::from_bytes(&[7; 32]), 4096);
    let info = chunk::SegmentInfo {
        segment: 3,
        pts_ms: 3000,
        duration_ms: 1000,
        capture_ms: 1_700_000_000_000,
        keyframe: true,
        epoch: 0,
    };
    for (i, c) in signer.chunks(info, &[5u8; 9000]).into_iter().enumerate() {
        out.push((
            "live_announcement",
            format!("chunk-{i}"),
            c.announcement.encode().to_vec(),
        ));
    }
    // A viewer's first seconds: Haves and an Accept from the broadcaster, its chunks, ticks,
    // then a lying Have and a forged chunk from a neighbour.
    let mut script = Vec::new();
    let frame = |peer: u8, message: relay::Message<[u8; 32]>, script: &mut Vec<u8>| {
        let bytes = wire::encode(&message);
        script.push(2);
        script.push(peer);
        script.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        script.extend_from_slice(&bytes);
    };
    let have = |newest| {
        relay::Message::Have(relay::Have {
            newest,
            bits: u64::MAX,
            depth: [0; relay::MAX_STRIPES],
            open: 0x0f,
            home: 0,
            open_home: 0x0f,
            home_needs: 0,
            slots: 4,
        })
    };
    frame(0, have(Some(2)), &mut script);
    for stripe in 0..4 {
        let path = vec![[0u8; 32]];
        frame(0, relay::Message::Accept { stripe, path }, &mut script);
    }
    for k in 0..48u8 {
        script.push(1 + (k << 2));
        if k % 3 == 2 {
            script.push(50 << 2);
        }
    }
    frame(1, have(Some(u64::MAX)), &mut script);
    let mut forged = relay_chunks()[5].clone();
    forged.bytes = std::sync::Arc::from(vec![0u8; forged.bytes.len()]);
    frame(
        1,
        relay::Message::Chunk {
            chunk: forged,
            hops: 0,
        },
        &mut script,
    );
    script.push(60 << 2);
    out.push(("live_relay", "first-seconds".to_string(), script));
    Ok(out)
}
