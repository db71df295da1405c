//! What the window's player reads from a live channel: the node's verified chunks, in playout
//! order, framed for the page, which appends them to a Media Source Extensions buffer.
//!
//! The page reads one streamed HTTP response from the playback server
//! (`/TOKEN/live/SESSION`): a run of frames, each `kind (u8) ‖ length (u32, big-endian) ‖
//! payload`:
//!
//! | kind | payload |
//! | --- | --- |
//! | [`FRAME_INIT`] | the channel's init segment, once, first |
//! | [`FRAME_MEDIA`] | `pts_ms (u64) ‖ capture_ms (u64) ‖ flags (u8) ‖ bytes`: the next bytes of the stream; `pts_ms` and `capture_ms` are the segment's start (its presentation time, and the wall-clock time it was captured), flag bit 0 says the bytes start a segment |
//! | [`FRAME_RESET`] | empty: bytes were skipped, so the page resets its parser; the next media frame starts a keyframe segment |
//! | [`FRAME_DELAY`] | `delay_ms (u64)`: the relay's playout delay behind capture, at the start and at every change: the page plays each frame that long after its capture |
//!
//! The parser of a Media Source buffer cannot take a segment with a hole in it, so after any
//! skip (chunks that missed their time, or a page too slow to read) nothing more of the broken
//! segment is sent: the [`Framer`] waits for the next keyframe segment and sends a reset first.
//! The same layout is read by `ui/src/lib/live/frames.ts`.

use bytes::{BufMut, Bytes, BytesMut};
use marquee_live::chunk::Chunk;
use marquee_live::net::PlayerEvent;

/// The channel's init segment.
pub const FRAME_INIT: u8 = 0;
/// Media bytes.
pub const FRAME_MEDIA: u8 = 1;
/// Bytes were skipped: reset the parser before the next media frame.
pub const FRAME_RESET: u8 = 2;
/// The relay's playout delay behind capture.
pub const FRAME_DELAY: u8 = 3;

/// Length of a media frame's own header, after the frame header.
const MEDIA_HEADER: usize = 8 + 8 + 1;

/// One frame: kind, length, payload.
fn frame(kind: u8, parts: &[&[u8]]) -> Bytes {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = BytesMut::with_capacity(5 + len);
    out.put_u8(kind);
    out.put_u32(u32::try_from(len).expect("a frame under 4 GiB"));
    for p in parts {
        out.put_slice(p);
    }
    out.freeze()
}

/// The first frame: the channel's init segment.
pub fn init_frame(init_segment: &[u8]) -> Bytes {
    frame(FRAME_INIT, &[init_segment])
}

fn media_frame(chunk: &Chunk) -> Bytes {
    let a = &chunk.announcement;
    let mut header = [0u8; MEDIA_HEADER];
    header[..8].copy_from_slice(&a.pts_ms.to_be_bytes());
    header[8..16].copy_from_slice(&a.capture_ms.to_be_bytes());
    header[16] = u8::from(a.index == 0);
    frame(FRAME_MEDIA, &[&header, &chunk.bytes])
}

/// Turns the node's player events into frames, keeping every segment the page sees whole.
#[derive(Debug, Default)]
pub struct Framer {
    /// A skip happened: nothing is sent until a keyframe segment starts, and a reset goes first.
    skipping: bool,
    /// The sequence number of the last chunk sent. A chunk that does not follow it is a hole,
    /// whether or not a skip was reported before it (the relay's report of a skip may come
    /// after the chunk it resumed at, and a full player channel drops events silently):
    /// appended to the page, the bytes of the next segment would be read as the rest of the
    /// broken one, and the decoder fails on them.
    last_sent: Option<u64>,
    /// Chunks sent to the page.
    pub sent: u64,
    /// Chunks not sent because their segment had a hole (or the page could not keep up).
    pub held_back: u64,
}

impl Framer {
    /// The frames for one player event (none, one, or a reset and a media frame).
    pub fn frames(&mut self, event: &PlayerEvent) -> Vec<Bytes> {
        match event {
            PlayerEvent::Play(chunk) => {
                let a = &chunk.announcement;
                let mut out = Vec::with_capacity(2);
                let follows = match self.last_sent {
                    Some(last) => a.sequence == last + 1,
                    // The first chunk must start a keyframe segment, or the page has nothing
                    // to start decoding from.
                    None => a.index == 0 && a.keyframe,
                };
                if !follows {
                    self.skipping = true;
                }
                if self.skipping {
                    if !(a.index == 0 && a.keyframe) {
                        self.held_back += 1;
                        return out;
                    }
                    self.skipping = false;
                    // Nothing sent yet: the page's parser has nothing to forget.
                    if self.last_sent.is_some() {
                        out.push(frame(FRAME_RESET, &[]));
                    }
                }
                self.sent += 1;
                self.last_sent = Some(a.sequence);
                out.push(media_frame(chunk));
                out
            }
            PlayerEvent::Skipped { .. } => {
                self.skip();
                Vec::new()
            }
            PlayerEvent::Started { delay_ms, .. } | PlayerEvent::Delay { delay_ms } => {
                vec![frame(FRAME_DELAY, &[&delay_ms.to_be_bytes()])]
            }
        }
    }

    /// The page did not take a frame: the segment it was part of is broken for the page too.
    pub fn skip(&mut self) {
        self.skipping = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_live::chunk::{ChannelSigner, SegmentInfo};

    fn chunks(segment: u64, keyframe: bool, bytes: &[u8]) -> Vec<Chunk> {
        let mut signer = ChannelSigner::new(
            ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
            bytes.len().div_ceil(3),
        );
        let info = SegmentInfo {
            segment,
            pts_ms: segment * 1000,
            duration_ms: 1000,
            capture_ms: 1_700_000_000_000 + segment * 1000,
            keyframe,
            epoch: 0,
        };
        signer.chunks(info, bytes)
    }

    /// Reads frames back the way the page does.
    fn parse(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let kind = b[0];
            let len = u32::from_be_bytes(b[1..5].try_into().unwrap()) as usize;
            out.push((kind, b[5..5 + len].to_vec()));
            b = &b[5 + len..];
        }
        out
    }

    #[test]
    fn media_frames_carry_the_segment_times_and_its_start() {
        let mut f = Framer::default();
        let c = chunks(3, true, b"abcdefghi");
        let mut wire = init_frame(b"INIT").to_vec();
        for chunk in &c {
            for fr in f.frames(&PlayerEvent::Play(chunk.clone())) {
                wire.extend_from_slice(&fr);
            }
        }
        let frames = parse(&wire);
        assert_eq!(frames[0], (FRAME_INIT, b"INIT".to_vec()));
        assert_eq!(frames.len(), 4);
        let (kind, p) = &frames[1];
        assert_eq!(*kind, FRAME_MEDIA);
        assert_eq!(u64::from_be_bytes(p[..8].try_into().unwrap()), 3000);
        assert_eq!(
            u64::from_be_bytes(p[8..16].try_into().unwrap()),
            1_700_000_003_000
        );
        assert_eq!(p[16], 1, "the first chunk starts its segment");
        assert_eq!(&p[17..], b"abc");
        assert_eq!(frames[2].1[16], 0);
        let joined: Vec<u8> = frames[1..]
            .iter()
            .flat_map(|(_, p)| p[17..].to_vec())
            .collect();
        assert_eq!(joined, b"abcdefghi");
    }

    /// Chunks of segments `first..` (three chunks each), numbered in stream order.
    fn stream(first: u64, segments: u64) -> Vec<Vec<Chunk>> {
        let mut signer = ChannelSigner::new(ed25519_dalek::SigningKey::from_bytes(&[7; 32]), 3);
        (first..first + segments)
            .map(|segment| {
                let info = SegmentInfo {
                    segment,
                    pts_ms: segment * 1000,
                    duration_ms: 1000,
                    capture_ms: 1_700_000_000_000 + segment * 1000,
                    keyframe: true,
                    epoch: 0,
                };
                signer.chunks(info, format!("seg{segment}.....").as_bytes())
            })
            .collect()
    }

    fn kinds(framer: &mut Framer, chunk: &Chunk) -> Vec<u8> {
        framer
            .frames(&PlayerEvent::Play(chunk.clone()))
            .iter()
            .map(|f| f[0])
            .collect()
    }

    #[test]
    fn a_hole_nobody_reported_still_resets_the_page_before_the_next_segment() {
        let s = stream(1, 4);
        assert_eq!(s[0].len(), 3);
        let mut f = Framer::default();
        assert_eq!(kinds(&mut f, &s[0][0]), [FRAME_MEDIA]);
        // The rest of segment 1 never came, and no skip was reported before segment 2 (the
        // relay once reported it after): segment 2 must not be appended onto segment 1's start.
        assert_eq!(kinds(&mut f, &s[1][0]), [FRAME_RESET, FRAME_MEDIA]);
        assert_eq!(kinds(&mut f, &s[1][1]), [FRAME_MEDIA]);
        // Segment 2's last chunk never came either: segment 3 starts afresh.
        assert_eq!(kinds(&mut f, &s[2][0]), [FRAME_RESET, FRAME_MEDIA]);
        // A chunk lost inside a segment: the rest of it is held back until the next segment.
        assert!(kinds(&mut f, &s[2][2]).is_empty(), "s[2][1] is missing");
        assert_eq!(kinds(&mut f, &s[3][0]), [FRAME_RESET, FRAME_MEDIA]);
        assert_eq!((f.sent, f.held_back), (5, 1));
    }

    #[test]
    fn the_page_starts_at_a_keyframe_segment_whatever_the_relay_plays_first() {
        let s = stream(1, 2);
        let mut f = Framer::default();
        assert!(kinds(&mut f, &s[0][1]).is_empty());
        assert!(kinds(&mut f, &s[0][2]).is_empty());
        assert_eq!(
            kinds(&mut f, &s[1][0]),
            [FRAME_MEDIA],
            "nothing to reset yet"
        );
    }

    #[test]
    fn the_relay_delay_goes_to_the_page_at_the_start_and_at_every_change() {
        let mut f = Framer::default();
        let started = f.frames(&PlayerEvent::Started {
            at_ms: 5,
            delay_ms: 1600,
        });
        assert_eq!(
            parse(&started[0]),
            vec![(FRAME_DELAY, 1600u64.to_be_bytes().to_vec())]
        );
        let changed = f.frames(&PlayerEvent::Delay { delay_ms: 2100 });
        assert_eq!(parse(&changed[0])[0].1, 2100u64.to_be_bytes().to_vec());
    }

    #[test]
    fn after_a_skip_nothing_is_sent_until_a_keyframe_segment_starts_and_a_reset_goes_first() {
        let mut f = Framer::default();
        let first = chunks(1, true, b"aaabbbccc");
        assert_eq!(f.frames(&PlayerEvent::Play(first[0].clone())).len(), 1);
        assert!(f
            .frames(&PlayerEvent::Skipped { from: 1, to: 2 })
            .is_empty());
        // The rest of the broken segment, and a segment that does not start on a keyframe.
        assert!(f.frames(&PlayerEvent::Play(first[2].clone())).is_empty());
        let no_key = chunks(2, false, b"dddeeefff");
        assert!(f.frames(&PlayerEvent::Play(no_key[0].clone())).is_empty());
        let next = chunks(3, true, b"ggghhhiii");
        let out = f.frames(&PlayerEvent::Play(next[0].clone()));
        assert_eq!(out.len(), 2);
        assert_eq!(parse(&out[0]), vec![(FRAME_RESET, Vec::new())]);
        assert_eq!(parse(&out[1])[0].1[16], 1);
        assert_eq!(f.frames(&PlayerEvent::Play(next[1].clone())).len(), 1);
        assert_eq!((f.sent, f.held_back), (3, 2));
    }
}
