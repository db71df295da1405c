//! Chunks and their signed announcements: what a viewer checks before it plays or forwards a
//! single byte.
//!
//! A broadcaster splits each segment (about one second of media, starting on a keyframe) into
//! chunks of at most [`MAX_CHUNK_BYTES`] and signs one small [`Announcement`] per chunk with the
//! channel's Ed25519 key. The announcement names the channel, the chunk's place in the stream,
//! the SHA-256 of its bytes and the wall-clock time the segment was captured, so every viewer can
//! check a chunk on its own, whoever relayed it, and can measure its lag behind live.
//!
//! Wire format of an announcement (all integers big-endian), [`ANNOUNCEMENT_LEN`] bytes:
//!
//! | bytes | field |
//! | --- | --- |
//! | 4 | magic `MQL1` |
//! | 32 | channel public key (Ed25519) |
//! | 8 | sequence number of the chunk in the stream, from 0 |
//! | 8 | segment number |
//! | 2 | index of the chunk in its segment |
//! | 2 | number of chunks in the segment |
//! | 8 | presentation time of the segment's start, ms |
//! | 4 | duration of the segment, ms |
//! | 8 | capture wall-clock of the segment's start, ms since the Unix epoch |
//! | 4 | key epoch (0: the chunk is not encrypted) |
//! | 1 | flags (bit 0: the segment starts on a keyframe) |
//! | 4 | length of the chunk's bytes |
//! | 32 | SHA-256 of the chunk's bytes |
//! | 64 | Ed25519 signature over `"marquee live chunk v1" ‖` all the bytes above |

use std::sync::Arc;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The largest chunk a viewer accepts. Chunks travel whole in one message; a bound keeps a
/// hostile peer from making a viewer buffer megabytes before the hash check can fail.
pub const MAX_CHUNK_BYTES: usize = 64 * 1024;

/// The most chunks one segment may have (a segment is about a second of media).
pub const MAX_CHUNKS_PER_SEGMENT: u16 = 256;

/// Length of an encoded announcement, signature included.
pub const ANNOUNCEMENT_LEN: usize = 4 + 32 + 8 + 8 + 2 + 2 + 8 + 4 + 8 + 4 + 1 + 4 + 32 + 64;

const MAGIC: &[u8; 4] = b"MQL1";
const CONTEXT: &[u8] = b"marquee live chunk v1";
const SIGNED_LEN: usize = ANNOUNCEMENT_LEN - 64;

/// Why a chunk or announcement was refused. Each one means the sender is not to be trusted with
/// this stream: the relay drops the chunk and demotes the peer that sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The bytes are not an announcement of this format.
    #[error("this is not a Marquee live announcement")]
    Malformed,
    /// The announcement is for another channel.
    #[error("this chunk belongs to another channel")]
    WrongChannel,
    /// The signature does not verify under the channel key.
    #[error("this chunk's announcement is not signed by the channel")]
    BadSignature,
    /// The bytes do not hash to what the announcement says.
    #[error("this chunk's bytes do not match its signed announcement")]
    BadHash,
    /// The sizes or positions in the announcement are impossible.
    #[error("this chunk's announcement describes an impossible chunk")]
    Impossible,
}

/// What the broadcaster signs about one chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The channel's public key.
    pub channel: [u8; 32],
    /// Position of the chunk in the whole stream, from 0, without gaps.
    pub sequence: u64,
    /// The segment the chunk belongs to.
    pub segment: u64,
    /// Index of the chunk inside its segment.
    pub index: u16,
    /// Number of chunks in the segment.
    pub count: u16,
    /// Presentation time of the segment's start in the stream, ms.
    pub pts_ms: u64,
    /// Duration of the segment, ms.
    pub duration_ms: u32,
    /// Wall-clock time the segment's first frame was captured, ms since the Unix epoch.
    pub capture_ms: u64,
    /// Key epoch of a paid channel's encrypted chunk; 0 when the chunk is in the clear.
    pub epoch: u32,
    /// Whether the segment starts on a keyframe (a player may start or resume there).
    pub keyframe: bool,
    /// Length of the chunk's bytes.
    pub len: u32,
    /// SHA-256 of the chunk's bytes.
    pub hash: [u8; 32],
    /// Ed25519 signature by the channel key.
    pub signature: [u8; 64],
}

impl Announcement {
    fn signed_bytes(&self) -> [u8; SIGNED_LEN] {
        let mut out = [0u8; SIGNED_LEN];
        let mut w = Writer {
            buf: &mut out,
            at: 0,
        };
        w.put(MAGIC);
        w.put(&self.channel);
        w.put(&self.sequence.to_be_bytes());
        w.put(&self.segment.to_be_bytes());
        w.put(&self.index.to_be_bytes());
        w.put(&self.count.to_be_bytes());
        w.put(&self.pts_ms.to_be_bytes());
        w.put(&self.duration_ms.to_be_bytes());
        w.put(&self.capture_ms.to_be_bytes());
        w.put(&self.epoch.to_be_bytes());
        w.put(&[u8::from(self.keyframe)]);
        w.put(&self.len.to_be_bytes());
        w.put(&self.hash);
        out
    }

    /// The announcement's wire bytes.
    pub fn encode(&self) -> [u8; ANNOUNCEMENT_LEN] {
        let mut out = [0u8; ANNOUNCEMENT_LEN];
        out[..SIGNED_LEN].copy_from_slice(&self.signed_bytes());
        out[SIGNED_LEN..].copy_from_slice(&self.signature);
        out
    }

    /// Reads an announcement from its wire bytes. Checks the format only: call
    /// [`Announcement::verify`] before trusting anything in it.
    pub fn decode(bytes: &[u8]) -> Result<Announcement, ChunkError> {
        if bytes.len() != ANNOUNCEMENT_LEN || &bytes[..4] != MAGIC {
            return Err(ChunkError::Malformed);
        }
        let mut r = Reader { buf: bytes, at: 4 };
        let a = Announcement {
            channel: r.array(),
            sequence: u64::from_be_bytes(r.array()),
            segment: u64::from_be_bytes(r.array()),
            index: u16::from_be_bytes(r.array()),
            count: u16::from_be_bytes(r.array()),
            pts_ms: u64::from_be_bytes(r.array()),
            duration_ms: u32::from_be_bytes(r.array()),
            capture_ms: u64::from_be_bytes(r.array()),
            epoch: u32::from_be_bytes(r.array()),
            keyframe: match r.array::<1>()[0] {
                0 => false,
                1 => true,
                _ => return Err(ChunkError::Malformed),
            },
            len: u32::from_be_bytes(r.array()),
            hash: r.array(),
            signature: r.array(),
        };
        Ok(a)
    }

    /// Checks that the announcement is for `channel`, is signed by it and describes a possible
    /// chunk. Does not look at the chunk's bytes ([`Chunk::verify`] does both).
    pub fn verify(&self, channel: &VerifyingKey) -> Result<(), ChunkError> {
        if &self.channel != channel.as_bytes() {
            return Err(ChunkError::WrongChannel);
        }
        if self.count == 0
            || self.count > MAX_CHUNKS_PER_SEGMENT
            || self.index >= self.count
            || self.len as usize > MAX_CHUNK_BYTES
            || self.duration_ms == 0
        {
            return Err(ChunkError::Impossible);
        }
        let signature = Signature::from_bytes(&self.signature);
        channel
            .verify(&[CONTEXT, &self.signed_bytes()].concat(), &signature)
            .map_err(|_| ChunkError::BadSignature)
    }

    /// When this chunk's media starts playing for a viewer who plays `delay_ms` behind capture:
    /// the segment's capture time plus the delay plus the chunk's share of the segment. A player
    /// appends chunks in order, so a chunk is on time when it is here by this instant.
    pub fn deadline_ms(&self, delay_ms: u64) -> u64 {
        self.capture_ms
            + delay_ms
            + u64::from(self.duration_ms) * u64::from(self.index) / u64::from(self.count)
    }

    /// When a live source has this chunk's bytes: a camera or a paced file produces a segment
    /// over its duration, so chunk `i` of `n` exists once `(i + 1) / n` of it was captured.
    pub fn available_ms(&self) -> u64 {
        self.capture_ms
            + u64::from(self.duration_ms) * (u64::from(self.index) + 1) / u64::from(self.count)
    }
}

/// A chunk of a live stream with its announcement. Cheap to clone: the bytes are shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// What the broadcaster signed about the bytes.
    pub announcement: Announcement,
    /// The media bytes (encrypted for a paid channel).
    pub bytes: Arc<[u8]>,
}

impl Chunk {
    /// Checks the announcement ([`Announcement::verify`]) and that the bytes are exactly the
    /// ones it names.
    pub fn verify(&self, channel: &VerifyingKey) -> Result<(), ChunkError> {
        self.announcement.verify(channel)?;
        if self.bytes.len() != self.announcement.len as usize {
            return Err(ChunkError::BadHash);
        }
        let hash: [u8; 32] = Sha256::digest(&self.bytes).into();
        if hash != self.announcement.hash {
            return Err(ChunkError::BadHash);
        }
        Ok(())
    }

    /// The sequence number of the chunk in its stream.
    pub fn sequence(&self) -> u64 {
        self.announcement.sequence
    }
}

/// Where one segment sits in the stream, for [`ChannelSigner::chunks`].
#[derive(Debug, Clone, Copy)]
pub struct SegmentInfo {
    /// Segment number, from 0.
    pub segment: u64,
    /// Presentation time of its start, ms.
    pub pts_ms: u64,
    /// Its duration, ms.
    pub duration_ms: u32,
    /// Wall-clock time of its first frame's capture, ms since the Unix epoch.
    pub capture_ms: u64,
    /// Whether it starts on a keyframe.
    pub keyframe: bool,
    /// Key epoch (0 in the clear).
    pub epoch: u32,
}

/// The broadcaster's side: splits segments into chunks and signs their announcements.
pub struct ChannelSigner {
    key: SigningKey,
    next_sequence: u64,
    chunk_bytes: usize,
}

impl ChannelSigner {
    /// A signer for the channel `key`, cutting segments into chunks of at most `chunk_bytes`
    /// (clamped to [`MAX_CHUNK_BYTES`]).
    pub fn new(key: SigningKey, chunk_bytes: usize) -> ChannelSigner {
        ChannelSigner {
            key,
            next_sequence: 0,
            chunk_bytes: chunk_bytes.clamp(1, MAX_CHUNK_BYTES),
        }
    }

    /// The channel's public key.
    pub fn channel(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Splits one segment's bytes into signed chunks, numbered on from the last segment's.
    pub fn chunks(&mut self, info: SegmentInfo, bytes: &[u8]) -> Vec<Chunk> {
        let mut count = bytes.len().div_ceil(self.chunk_bytes).max(1);
        let mut size = self.chunk_bytes;
        if count > usize::from(MAX_CHUNKS_PER_SEGMENT) {
            // A very large segment gets larger chunks rather than a broken stream.
            count = usize::from(MAX_CHUNKS_PER_SEGMENT);
            size = bytes.len().div_ceil(count);
        }
        let mut out = Vec::with_capacity(count);
        for index in 0..count {
            let part =
                &bytes[(index * size).min(bytes.len())..((index + 1) * size).min(bytes.len())];
            let mut announcement = Announcement {
                channel: self.key.verifying_key().to_bytes(),
                sequence: self.next_sequence,
                segment: info.segment,
                index: index as u16,
                count: count as u16,
                pts_ms: info.pts_ms,
                duration_ms: info.duration_ms.max(1),
                capture_ms: info.capture_ms,
                epoch: info.epoch,
                keyframe: info.keyframe,
                len: part.len() as u32,
                hash: Sha256::digest(part).into(),
                signature: [0; 64],
            };
            announcement.signature = self
                .key
                .sign(&[CONTEXT, &announcement.signed_bytes()].concat())
                .to_bytes();
            self.next_sequence += 1;
            out.push(Chunk {
                announcement,
                bytes: part.into(),
            });
        }
        out
    }
}

struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    /// Callers check the total length first, so every read is in bounds.
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.at..self.at + N]);
        self.at += N;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> ChannelSigner {
        ChannelSigner::new(SigningKey::from_bytes(&[3; 32]), 1000)
    }

    fn info(segment: u64) -> SegmentInfo {
        SegmentInfo {
            segment,
            pts_ms: segment * 1000,
            duration_ms: 1000,
            capture_ms: 1_700_000_000_000 + segment * 1000,
            keyframe: true,
            epoch: 0,
        }
    }

    #[test]
    fn chunks_are_numbered_on_and_verify_after_a_round_trip() {
        let mut s = signer();
        let first = s.chunks(info(0), &[1u8; 2500]);
        let second = s.chunks(info(1), &[2u8; 10]);
        assert_eq!(first.len(), 3);
        assert_eq!(first[2].bytes.len(), 500);
        assert_eq!(second[0].sequence(), 3);
        for c in first.iter().chain(&second) {
            let decoded = Announcement::decode(&c.announcement.encode()).unwrap();
            assert_eq!(decoded, c.announcement);
            Chunk {
                announcement: decoded,
                bytes: c.bytes.clone(),
            }
            .verify(&s.channel())
            .unwrap();
        }
        assert_eq!(
            first[1].announcement.deadline_ms(2000),
            first[1].announcement.capture_ms + 2333
        );
        assert_eq!(
            first[2].announcement.available_ms(),
            first[2].announcement.capture_ms + 1000
        );
    }

    #[test]
    fn altered_bytes_forged_fields_and_other_channels_are_refused() {
        let mut s = signer();
        let chunk = s.chunks(info(0), &[9u8; 800]).remove(0);
        let channel = s.channel();

        let mut altered = chunk.clone();
        let mut bytes = altered.bytes.to_vec();
        bytes[10] ^= 1;
        altered.bytes = bytes.into();
        assert_eq!(altered.verify(&channel), Err(ChunkError::BadHash));

        // Moving a chunk to another place in the stream (a replay) breaks the signature.
        let mut moved = chunk.clone();
        moved.announcement.sequence += 100;
        assert_eq!(moved.verify(&channel), Err(ChunkError::BadSignature));

        let mut earlier = chunk.clone();
        earlier.announcement.capture_ms -= 1;
        assert_eq!(earlier.verify(&channel), Err(ChunkError::BadSignature));

        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        assert_eq!(chunk.verify(&other), Err(ChunkError::WrongChannel));

        // Signed by someone else but claiming this channel.
        let mut forger = ChannelSigner::new(SigningKey::from_bytes(&[5; 32]), 1000);
        let mut forged = forger.chunks(info(0), &[9u8; 800]).remove(0);
        forged.announcement.channel = channel.to_bytes();
        assert_eq!(forged.verify(&channel), Err(ChunkError::BadSignature));

        let mut impossible = chunk.clone();
        impossible.announcement.index = impossible.announcement.count;
        assert_eq!(impossible.verify(&channel), Err(ChunkError::Impossible));

        assert_eq!(Announcement::decode(&[0; 10]), Err(ChunkError::Malformed));
        let mut wire = chunk.announcement.encode();
        wire[0] = b'X';
        assert_eq!(Announcement::decode(&wire), Err(ChunkError::Malformed));
        chunk.verify(&channel).unwrap();
    }
}
