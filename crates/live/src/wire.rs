//! The relay's messages on the wire: a compact binary encoding of [`Message`] with 32-byte peer
//! ids (iroh node ids, which are Ed25519 public keys).
//!
//! One message is one byte of tag followed by its fields, integers big-endian. The sizes are
//! exactly [`Message::wire_len`], which the simulator charges its links with, so the simulated
//! and the real upload figures count the same bytes (the network layer adds a 4-byte length
//! prefix per frame).
//!
//! | tag | message | fields |
//! | --- | --- | --- |
//! | 0 | `Chunk` | hops (1), announcement ([`ANNOUNCEMENT_LEN`]), the bytes (announcement's `len`) |
//! | 1 | `Have` | has-newest (1), newest (8), bits (8), depth ([`MAX_STRIPES`]), open, home, open_home, home_needs, slots (1 each) |
//! | 2 | `Want` | sequence (8) |
//! | 3 | `Join` | stripe (1), home (1), slots (2) |
//! | 4 | `Accept` | stripe (1), count (1), ids (32 each) |
//! | 5 | `Refuse` | stripe (1), count (1), ids (32 each) |
//! | 6 | `Path` | stripe (1), count (1), ids (32 each) |
//! | 7 | `Leave` | stripe (1) |
//! | 8 | `Bye` | nothing |
//! | 9 | `Handover` | stripe (1), adopt (1), heir (32) |
//!
//! Decoding trusts nothing: every length is checked against what is left before anything is
//! allocated, a chunk's length against [`MAX_CHUNK_BYTES`], a list of ids against
//! [`MAX_PEERS_LISTED`], and trailing bytes are an error. Decoding checks the format only; the
//! relay verifies every chunk's signature and hash before it plays or forwards it.

use std::sync::Arc;

use crate::chunk::{Announcement, Chunk, ChunkError, ANNOUNCEMENT_LEN, MAX_CHUNK_BYTES};
use crate::relay::{Have, Message, MAX_STRIPES};

/// A peer id on the wire: an iroh node id (Ed25519 public key).
pub type PeerId = [u8; 32];

/// The most ids a path or a suggestion may list. A path runs from the root to a node, so this
/// is also the deepest tree a message can describe; real trees are a few levels deep.
pub const MAX_PEERS_LISTED: usize = 32;

/// The longest encoded message: a full chunk with its announcement.
pub const MAX_MESSAGE_LEN: usize = 2 + ANNOUNCEMENT_LEN + MAX_CHUNK_BYTES;

const TAG_CHUNK: u8 = 0;
const TAG_HAVE: u8 = 1;
const TAG_WANT: u8 = 2;
const TAG_JOIN: u8 = 3;
const TAG_ACCEPT: u8 = 4;
const TAG_REFUSE: u8 = 5;
const TAG_PATH: u8 = 6;
const TAG_LEAVE: u8 = 7;
const TAG_BYE: u8 = 8;
const TAG_HANDOVER: u8 = 9;

/// Why bytes are not a message. Any of these means the sender does not speak the protocol (or
/// is hostile): the network layer drops the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// No bytes at all.
    #[error("empty message")]
    Empty,
    /// The first byte names no message.
    #[error("unknown message tag {0}")]
    UnknownTag(u8),
    /// The message ends before its fields do.
    #[error("message truncated")]
    Truncated,
    /// Bytes left over after the message.
    #[error("{0} bytes after the end of the message")]
    Trailing(usize),
    /// A chunk larger than [`MAX_CHUNK_BYTES`].
    #[error("chunk of {0} bytes is over the limit")]
    ChunkTooLarge(usize),
    /// A list of more than [`MAX_PEERS_LISTED`] ids.
    #[error("{0} peers listed, over the limit")]
    TooManyPeers(usize),
    /// A field holds a value it cannot have (a flag other than 0 or 1).
    #[error("invalid field value")]
    Invalid,
    /// The chunk's announcement is malformed.
    #[error("bad announcement: {0}")]
    Announcement(ChunkError),
}

/// Whether an encoded frame is a [`Message::Chunk`]: the network layer drops chunks that
/// waited too long to be sent, and only those.
pub fn is_chunk(frame: &[u8]) -> bool {
    frame.first() == Some(&TAG_CHUNK)
}

/// Encodes one message. Lists longer than [`MAX_PEERS_LISTED`] are cut to that length (the
/// relay never builds longer ones; a cut list is still a valid, shorter suggestion or path).
pub fn encode(message: &Message<PeerId>) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.wire_len());
    match message {
        Message::Chunk { chunk, hops } => {
            out.push(TAG_CHUNK);
            out.push(*hops);
            out.extend_from_slice(&chunk.announcement.encode());
            out.extend_from_slice(&chunk.bytes);
        }
        Message::Have(have) => {
            out.push(TAG_HAVE);
            out.push(u8::from(have.newest.is_some()));
            out.extend_from_slice(&have.newest.unwrap_or(0).to_be_bytes());
            out.extend_from_slice(&have.bits.to_be_bytes());
            out.extend_from_slice(&have.depth);
            out.extend_from_slice(&[
                have.open,
                have.home,
                have.open_home,
                have.home_needs,
                have.slots,
            ]);
        }
        Message::Want { sequence } => {
            out.push(TAG_WANT);
            out.extend_from_slice(&sequence.to_be_bytes());
        }
        Message::Join {
            stripe,
            home,
            slots,
        } => {
            out.push(TAG_JOIN);
            out.extend_from_slice(&[*stripe, *home]);
            out.extend_from_slice(&slots.to_be_bytes());
        }
        Message::Accept { stripe, path } => ids(&mut out, TAG_ACCEPT, *stripe, path),
        Message::Refuse { stripe, suggest } => ids(&mut out, TAG_REFUSE, *stripe, suggest),
        Message::Path { stripe, path } => ids(&mut out, TAG_PATH, *stripe, path),
        Message::Leave { stripe } => out.extend_from_slice(&[TAG_LEAVE, *stripe]),
        Message::Bye => out.push(TAG_BYE),
        Message::Handover {
            stripe,
            heir,
            adopt,
        } => {
            out.extend_from_slice(&[TAG_HANDOVER, *stripe, u8::from(*adopt)]);
            out.extend_from_slice(heir);
        }
    }
    out
}

fn ids(out: &mut Vec<u8>, tag: u8, stripe: u8, ids: &[PeerId]) {
    let ids = &ids[..ids.len().min(MAX_PEERS_LISTED)];
    out.extend_from_slice(&[tag, stripe, ids.len() as u8]);
    for id in ids {
        out.extend_from_slice(id);
    }
}

/// Decodes one message, refusing anything that is not exactly one well-formed message.
pub fn decode(bytes: &[u8]) -> Result<Message<PeerId>, WireError> {
    let (&tag, body) = bytes.split_first().ok_or(WireError::Empty)?;
    let mut r = Reader { buf: body };
    let message = match tag {
        TAG_CHUNK => {
            let hops = r.u8()?;
            let announcement =
                Announcement::decode(r.take(ANNOUNCEMENT_LEN)?).map_err(WireError::Announcement)?;
            let len = announcement.len as usize;
            if len > MAX_CHUNK_BYTES {
                return Err(WireError::ChunkTooLarge(len));
            }
            // `take` checks the length against what arrived before anything is copied.
            let bytes: Arc<[u8]> = r.take(len)?.into();
            Message::Chunk {
                chunk: Chunk {
                    announcement,
                    bytes,
                },
                hops,
            }
        }
        TAG_HAVE => {
            let has_newest = match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(WireError::Invalid),
            };
            let newest = r.u64()?;
            let bits = r.u64()?;
            let depth: [u8; MAX_STRIPES] = r.array()?;
            let [open, home, open_home, home_needs, slots] = r.array()?;
            Message::Have(Have {
                newest: has_newest.then_some(newest),
                bits,
                depth,
                open,
                home,
                open_home,
                home_needs,
                slots,
            })
        }
        TAG_WANT => Message::Want { sequence: r.u64()? },
        TAG_JOIN => {
            let [stripe, home] = r.array()?;
            let slots = u16::from_be_bytes(r.array()?);
            Message::Join {
                stripe,
                home,
                slots,
            }
        }
        TAG_ACCEPT => {
            let (stripe, path) = r.ids()?;
            Message::Accept { stripe, path }
        }
        TAG_REFUSE => {
            let (stripe, suggest) = r.ids()?;
            Message::Refuse { stripe, suggest }
        }
        TAG_PATH => {
            let (stripe, path) = r.ids()?;
            Message::Path { stripe, path }
        }
        TAG_LEAVE => Message::Leave { stripe: r.u8()? },
        TAG_BYE => Message::Bye,
        TAG_HANDOVER => {
            let stripe = r.u8()?;
            let adopt = match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(WireError::Invalid),
            };
            Message::Handover {
                stripe,
                adopt,
                heir: r.array()?,
            }
        }
        other => return Err(WireError::UnknownTag(other)),
    };
    if !r.buf.is_empty() {
        return Err(WireError::Trailing(r.buf.len()));
    }
    Ok(message)
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn ids(&mut self) -> Result<(u8, Vec<PeerId>), WireError> {
        let stripe = self.u8()?;
        let count = usize::from(self.u8()?);
        if count > MAX_PEERS_LISTED {
            return Err(WireError::TooManyPeers(count));
        }
        // Check the whole list arrived before allocating for it.
        let raw = self.take(count * 32)?;
        let ids = raw
            .chunks_exact(32)
            .map(|id| id.try_into().expect("chunks_exact gives 32 bytes"))
            .collect();
        Ok((stripe, ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{ChannelSigner, SegmentInfo};
    use ed25519_dalek::SigningKey;

    fn chunk(len: usize) -> Chunk {
        let mut signer = ChannelSigner::new(SigningKey::from_bytes(&[7; 32]), 8 * 1024);
        let info = SegmentInfo {
            segment: 3,
            pts_ms: 6_000,
            duration_ms: 2_000,
            capture_ms: 1_700_000_000_000,
            keyframe: true,
            epoch: 0,
        };
        let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        signer.chunks(info, &bytes).remove(0)
    }

    fn every_variant() -> Vec<Message<PeerId>> {
        vec![
            Message::Chunk {
                chunk: chunk(8 * 1024),
                hops: 3,
            },
            Message::Chunk {
                chunk: chunk(0),
                hops: 0,
            },
            Message::Have(Have {
                newest: Some(1234),
                bits: 0xdead_beef_0bad_f00d,
                depth: [1, 2, 3, 4, 255, 255, 255, 255],
                open: 0b0101,
                home: 2,
                open_home: 0b0100,
                home_needs: 5,
                slots: 6,
            }),
            Message::Have(Have {
                newest: None,
                bits: 0,
                depth: [255; MAX_STRIPES],
                open: 0,
                home: 0,
                open_home: 0,
                home_needs: 0,
                slots: 0,
            }),
            Message::Want { sequence: u64::MAX },
            Message::Join {
                stripe: 1,
                home: 3,
                slots: 513,
            },
            Message::Accept {
                stripe: 2,
                path: vec![[1; 32], [2; 32], [3; 32]],
            },
            Message::Refuse {
                stripe: 0,
                suggest: vec![],
            },
            Message::Refuse {
                stripe: 3,
                suggest: (0..MAX_PEERS_LISTED as u8).map(|i| [i; 32]).collect(),
            },
            Message::Path {
                stripe: 1,
                path: vec![[9; 32]],
            },
            Message::Leave { stripe: 3 },
            Message::Handover {
                stripe: 1,
                heir: [7; 32],
                adopt: true,
            },
            Message::Handover {
                stripe: 2,
                heir: [8; 32],
                adopt: false,
            },
            Message::Bye,
        ]
    }

    #[test]
    fn every_variant_round_trips_at_its_wire_len() {
        for message in every_variant() {
            let bytes = encode(&message);
            assert_eq!(bytes.len(), message.wire_len(), "{message:?}");
            let back = decode(&bytes).unwrap();
            // Message has no PartialEq (chunks compare by content): compare re-encodings.
            assert_eq!(encode(&back), bytes, "{message:?}");
            if let (Message::Chunk { chunk: a, .. }, Message::Chunk { chunk: b, .. }) =
                (&message, &back)
            {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn truncated_input_is_refused() {
        for message in every_variant() {
            let bytes = encode(&message);
            for cut in 0..bytes.len() {
                assert!(
                    decode(&bytes[..cut]).is_err(),
                    "{message:?} cut at {cut} decoded"
                );
            }
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        for message in every_variant() {
            let mut bytes = encode(&message);
            bytes.push(0);
            assert_eq!(decode(&bytes).unwrap_err(), WireError::Trailing(1));
        }
    }

    #[test]
    fn oversized_lists_and_chunks_are_refused() {
        let mut bytes = vec![TAG_PATH, 0, (MAX_PEERS_LISTED + 1) as u8];
        bytes.extend(std::iter::repeat_n(0u8, 32 * (MAX_PEERS_LISTED + 1)));
        assert_eq!(
            decode(&bytes).unwrap_err(),
            WireError::TooManyPeers(MAX_PEERS_LISTED + 1)
        );
        // A list that claims 255 ids but carries none: refused before any allocation.
        assert!(decode(&[TAG_REFUSE, 0, 255]).is_err());

        // An announcement claiming a chunk over the limit: refused without reading it.
        let mut big = chunk(16);
        big.announcement.len = (MAX_CHUNK_BYTES + 1) as u32;
        let mut bytes = vec![TAG_CHUNK, 0];
        bytes.extend_from_slice(&big.announcement.encode());
        assert_eq!(
            decode(&bytes).unwrap_err(),
            WireError::ChunkTooLarge(MAX_CHUNK_BYTES + 1)
        );
        // A chunk whose announced length does not match the bytes that came.
        let small = chunk(16);
        let mut bytes = vec![TAG_CHUNK, 0];
        bytes.extend_from_slice(&small.announcement.encode());
        bytes.extend_from_slice(&[0; 15]);
        assert_eq!(decode(&bytes).unwrap_err(), WireError::Truncated);
    }

    #[test]
    fn encoding_cuts_overlong_lists() {
        let message = Message::Refuse {
            stripe: 0,
            suggest: vec![[5; 32]; MAX_PEERS_LISTED + 10],
        };
        match decode(&encode(&message)).unwrap() {
            Message::Refuse { suggest, .. } => assert_eq!(suggest.len(), MAX_PEERS_LISTED),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_never_panics() {
        assert_eq!(decode(&[]).unwrap_err(), WireError::Empty);
        assert_eq!(decode(&[200]).unwrap_err(), WireError::UnknownTag(200));
        assert_eq!(
            decode(&[
                TAG_HAVE, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0
            ])
            .unwrap_err(),
            WireError::Invalid
        );
        // A chunk with a bad magic.
        let mut bytes = encode(&Message::Chunk {
            chunk: chunk(10),
            hops: 0,
        });
        bytes[2] ^= 0xff;
        assert!(matches!(
            decode(&bytes).unwrap_err(),
            WireError::Announcement(_)
        ));
        // Pseudo-random bytes of every length, each tag in turn: errors or messages, no panic.
        let mut x: u64 = 0x1234_5678_9abc_def0;
        for len in 0..600 {
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                bytes.push(x as u8);
            }
            if let Some(first) = bytes.first_mut() {
                *first %= 10;
            }
            let _ = decode(&bytes);
        }
    }
}
