//! The checks behind the fuzz targets of `marquee-live`'s parsers, and the seeds of their
//! corpora.
//!
//! The parsers are included by path instead of depending on `marquee-live`, whose network layer
//! would be instrumented too. The files are the very ones the crate compiles.
//!
//! Every target must never panic on any input. Beyond that:
//!
//! - [`live_segment`]: a file that parses gives an init segment starting with the EBML magic,
//!   and two loops of segments that each start with a Cluster, on a keyframe, contiguous in
//!   time and never empty.
//! - [`live_announcement`]: an announcement that decodes encodes back to the same bytes, and
//!   verifying it (against any key) answers without panicking.

#[path = "../../src/chunk.rs"]
pub mod chunk;
#[path = "../../src/segment.rs"]
pub mod segment;

use ed25519_dalek::SigningKey;

/// Fuzz target `live_segment`: `data` is a whole WebM file given to "Go live".
pub fn live_segment(data: &[u8]) {
    let Ok(source) = segment::LiveSource::parse(data) else {
        return;
    };
    assert!(source.init_segment().starts_with(&[0x1A, 0x45, 0xDF, 0xA3]));
    let mut looper = source.segments(1000);
    let per_loop = looper.segments_per_loop();
    assert!(per_loop > 0);
    let mut next_start = None;
    for segment in looper.by_ref().take(2 * per_loop.min(500)) {
        assert!(segment.bytes.starts_with(&[0x1F, 0x43, 0xB6, 0x75]));
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

/// The seeds: (target, name, bytes): the demo films, and a real signed announcement.
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
    Ok(out)
}
