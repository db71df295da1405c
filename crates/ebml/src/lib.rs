//! # EBML, read
//!
//! The one reader of EBML, the binary format of Matroska and WebM files, behind both places
//! Marquee reads one: the publishing probe in `marquee-core` (is an uploaded video playable?)
//! and the live re-cutter in `marquee-live` (a file cut into live segments). Both read files
//! from strangers, so every length is checked against the bytes that are there before it is
//! used, nothing is allocated from a declared size, and bad input is an [`Error`] that says
//! what is wrong and at which byte, never a panic.
//!
//! An element is an ID, a size and its data:
//!
//! - the ID is a variable-length integer ("vint") of one to four bytes, kept with its length
//!   marker, as specifications write IDs (`0x1A45DFA3` is the EBML header): [`read_id`];
//! - the size is a vint of one to eight bytes without its marker; all value bits set means
//!   "unknown" (live recordings write their Segment and Clusters so): [`read_size`];
//! - a master element's data is its children, one after the other ([`children`]); the others
//!   hold a value ([`Element::uint`], [`Element::int`], [`Element::float`],
//!   [`Element::string`]).
//!
//! Positions are byte offsets into one buffer (the whole input, or its start). Every reader is
//! given the end of the range it may read, the end of the element holding it, and refuses to
//! read past it. What the elements mean (tracks, clusters, which elements may have an unknown
//! size, what a buffer cut short means) is the caller's.
//!
//! Pure on purpose (`std` and `thiserror` only), so the fuzz crates build it on its own.

use std::ops::Range;

/// The longest element ID EBML allows, in bytes (Matroska's EBMLMaxIDLength).
pub const MAX_ID_LEN: usize = 4;

/// The longest variable-length integer EBML allows, in bytes (Matroska's EBMLMaxSizeLength).
pub const MAX_VINT_LEN: usize = 8;

/// What is wrong with the bytes, and where: `offset` is from the start of the buffer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The range ends inside an element's ID or size: the input is cut short, or the element
    /// holding this one ends inside its header.
    #[error("an element header is cut short by the end of what holds it (at byte {offset})")]
    HeaderCut {
        /// Where the ID or size that is cut starts.
        offset: usize,
    },
    /// An element ID announces more than [`MAX_ID_LEN`] bytes.
    #[error("an element ID is longer than the four bytes EBML allows (at byte {offset})")]
    IdTooLong {
        /// Where the ID starts.
        offset: usize,
    },
    /// A size (or another variable-length integer) announces more than [`MAX_VINT_LEN`]
    /// bytes: its first byte is zero.
    #[error(
        "a variable-length integer is longer than the eight bytes EBML allows (at byte {offset})"
    )]
    VintTooLong {
        /// Where the integer starts.
        offset: usize,
    },
    /// An element declares more bytes than remain in the element holding it: a truncated file,
    /// or a bogus (perhaps absurdly large) size.
    #[error("element 0x{id:X} at byte {offset} declares {size} bytes but only {available} remain in the element holding it")]
    PastParent {
        /// The element's ID.
        id: u32,
        /// Where the element starts.
        offset: usize,
        /// The size it declares.
        size: u64,
        /// The bytes left between its data and the end of its parent.
        available: u64,
    },
    /// An element has an unknown size where a known one is needed.
    #[error("element 0x{id:X} at byte {offset} has an unknown size")]
    UnknownSize {
        /// The element's ID.
        id: u32,
        /// Where the element starts.
        offset: usize,
    },
    /// An integer element holds more than eight bytes.
    #[error("element 0x{id:X} at byte {offset} holds an integer of {len} bytes, more than eight")]
    IntegerTooLong {
        /// The element's ID.
        id: u32,
        /// Where the element starts.
        offset: usize,
        /// Its data's length.
        len: usize,
    },
    /// A float element holds neither 0, 4 nor 8 bytes.
    #[error("element 0x{id:X} at byte {offset} holds a float of {len} bytes, not 0, 4 or 8")]
    FloatSize {
        /// The element's ID.
        id: u32,
        /// Where the element starts.
        offset: usize,
        /// Its data's length.
        len: usize,
    },
}

/// The bytes of the vint at `pos`, which must lie within `..end` and be at most `max_len`
/// bytes long; `too_long` is the refusal when it announces more.
fn vint_bytes(
    buf: &[u8],
    pos: usize,
    end: usize,
    max_len: usize,
    too_long: Error,
) -> Result<&[u8], Error> {
    let range = &buf[..end.min(buf.len())];
    let cut = Error::HeaderCut { offset: pos };
    let first = *range.get(pos).ok_or(cut.clone())?;
    // The length is one more than the leading zero bits: a zero byte would announce nine or
    // more.
    let len = first.leading_zeros() as usize + 1;
    if len > max_len {
        return Err(too_long);
    }
    pos.checked_add(len)
        .and_then(|e| range.get(pos..e))
        .ok_or(cut)
}

/// Reads the element ID at `pos`, within `..end`: the ID with its marker bits, and its length.
pub fn read_id(buf: &[u8], pos: usize, end: usize) -> Result<(u32, usize), Error> {
    let bytes = vint_bytes(buf, pos, end, MAX_ID_LEN, Error::IdTooLong { offset: pos })?;
    let id = bytes.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b));
    Ok((id, bytes.len()))
}

/// Reads the variable-length integer at `pos`, within `..end`: its value without the marker
/// bit, and its length. (A block's track number is one; for element sizes see [`read_size`].)
pub fn read_vint(buf: &[u8], pos: usize, end: usize) -> Result<(u64, usize), Error> {
    let bytes = vint_bytes(
        buf,
        pos,
        end,
        MAX_VINT_LEN,
        Error::VintTooLong { offset: pos },
    )?;
    let len = bytes.len();
    // The marker cleared: in an eight-byte vint the first byte is the marker alone.
    let first = u64::from(bytes[0]) & (0xFF >> len);
    let value = bytes[1..]
        .iter()
        .fold(first, |acc, &b| (acc << 8) | u64::from(b));
    Ok((value, len))
}

/// Reads the element size at `pos`, within `..end`, and its length: `None` for "unknown"
/// (all value bits set, in any length).
pub fn read_size(buf: &[u8], pos: usize, end: usize) -> Result<(Option<u64>, usize), Error> {
    let (value, len) = read_vint(buf, pos, end)?;
    let unknown = value == (1u64 << (7 * len)) - 1;
    Ok(((!unknown).then_some(value), len))
}

/// An element's header: its ID and declared size, where it starts and where its data starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The ID, with its marker bits.
    pub id: u32,
    /// Where the element (its ID) starts.
    pub offset: usize,
    /// Where its data starts, right after the size.
    pub data: usize,
    /// The declared size of its data; `None` when unknown.
    pub size: Option<u64>,
}

impl Header {
    /// Reads the header at `pos`, whose ID and size must lie within `..end`, the end of the
    /// element holding it. The size is not checked yet: see [`Header::end`].
    pub fn read(buf: &[u8], pos: usize, end: usize) -> Result<Header, Error> {
        let (id, id_len) = read_id(buf, pos, end)?;
        let (size, size_len) = read_size(buf, pos + id_len, end)?;
        Ok(Header {
            id,
            offset: pos,
            data: pos + id_len + size_len,
            size,
        })
    }

    /// Where the data ends, checked against `parent_end`, the end of the element holding it:
    /// `None` for an unknown size (the element then runs to the end of its parent, or to the
    /// first element that cannot be its child: the caller knows which).
    pub fn end(&self, parent_end: usize) -> Result<Option<usize>, Error> {
        let Some(size) = self.size else {
            return Ok(None);
        };
        let available = parent_end.saturating_sub(self.data) as u64;
        if size > available {
            return Err(Error::PastParent {
                id: self.id,
                offset: self.offset,
                size,
                available,
            });
        }
        // Not more than `available`, so it fits in a usize and the sum does not overflow.
        Ok(Some(self.data + size as usize))
    }

    /// The element, whose size must be known and within `parent_end`.
    pub fn element(&self, parent_end: usize) -> Result<Element, Error> {
        let end = self.end(parent_end)?.ok_or(Error::UnknownSize {
            id: self.id,
            offset: self.offset,
        })?;
        Ok(Element {
            id: self.id,
            offset: self.offset,
            data: self.data..end,
        })
    }
}

/// An element of known size, read from a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// The ID, with its marker bits.
    pub id: u32,
    /// Where the element (its ID) starts.
    pub offset: usize,
    /// Its data.
    pub data: Range<usize>,
}

impl Element {
    /// Reads the element at `pos`, which must lie within `..end` and have a known size.
    pub fn read(buf: &[u8], pos: usize, end: usize) -> Result<Element, Error> {
        Header::read(buf, pos, end)?.element(end)
    }

    /// The whole element, header included.
    pub fn whole(&self) -> Range<usize> {
        self.offset..self.data.end
    }

    /// Its data. Panics if the element was not read from `buf`.
    pub fn bytes<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.data.clone()]
    }

    /// Its data as an unsigned integer (big-endian, at most eight bytes; none is 0).
    pub fn uint(&self, buf: &[u8]) -> Result<u64, Error> {
        let bytes = self.integer(buf)?;
        Ok(bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// Its data as a signed integer (big-endian two's complement, at most eight bytes; none is
    /// 0).
    pub fn int(&self, buf: &[u8]) -> Result<i64, Error> {
        let bytes = self.integer(buf)?;
        // Sign-extended from the first byte.
        let start = if bytes.first().is_some_and(|&b| b & 0x80 != 0) {
            -1
        } else {
            0
        };
        Ok(bytes
            .iter()
            .fold(start, |acc: i64, &b| (acc << 8) | i64::from(b)))
    }

    fn integer<'a>(&self, buf: &'a [u8]) -> Result<&'a [u8], Error> {
        let bytes = self.bytes(buf);
        if bytes.len() > 8 {
            return Err(Error::IntegerTooLong {
                id: self.id,
                offset: self.offset,
                len: bytes.len(),
            });
        }
        Ok(bytes)
    }

    /// Its data as a float: none is 0, four bytes an `f32`, eight an `f64` (big-endian).
    pub fn float(&self, buf: &[u8]) -> Result<f64, Error> {
        let bytes = self.bytes(buf);
        if let Ok(b) = <[u8; 4]>::try_from(bytes) {
            Ok(f64::from(f32::from_be_bytes(b)))
        } else if let Ok(b) = <[u8; 8]>::try_from(bytes) {
            Ok(f64::from_be_bytes(b))
        } else if bytes.is_empty() {
            Ok(0.0)
        } else {
            Err(Error::FloatSize {
                id: self.id,
                offset: self.offset,
                len: bytes.len(),
            })
        }
    }

    /// Its data as text: the NUL padding at its end dropped, bytes that are not UTF-8 replaced
    /// by U+FFFD.
    pub fn string(&self, buf: &[u8]) -> String {
        String::from_utf8_lossy(self.bytes(buf))
            .trim_end_matches('\0')
            .to_owned()
    }
}

/// The children of a master element of known size, one after the other, each of known size.
/// Yields the first error, then stops.
#[derive(Clone, Debug)]
pub struct Children<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

/// The elements in `buf[data]`: the children of the element whose data that is.
pub fn children(buf: &[u8], data: Range<usize>) -> Children<'_> {
    Children {
        buf,
        pos: data.start,
        end: data.end,
    }
}

impl Iterator for Children<'_> {
    type Item = Result<Element, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let next = Element::read(self.buf, self.pos, self.end);
        self.pos = match &next {
            Ok(el) => el.data.end,
            Err(_) => self.end,
        };
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An element with a one-byte size (the data shorter than 127 bytes).
    fn el(id: &[u8], data: &[u8]) -> Vec<u8> {
        assert!(data.len() < 0x7F);
        [id, &[0x80 | data.len() as u8], data].concat()
    }

    #[test]
    fn ids_keep_their_marker_and_are_at_most_four_bytes() {
        assert_eq!(read_id(&[0xA3], 0, 1), Ok((0xA3, 1)));
        assert_eq!(read_id(&[0x42, 0x86], 0, 2), Ok((0x4286, 2)));
        assert_eq!(read_id(&[0x2A, 0xD7, 0xB1], 0, 3), Ok((0x2A_D7B1, 3)));
        let ebml = [0, 0x1A, 0x45, 0xDF, 0xA3];
        assert_eq!(read_id(&ebml, 1, 5), Ok((0x1A45_DFA3, 4)));
        // Five bytes, and a zero byte (nine or more).
        assert_eq!(
            read_id(&[0x08, 1, 2, 3, 4], 0, 5),
            Err(Error::IdTooLong { offset: 0 })
        );
        assert_eq!(
            read_id(&[7, 0x00, 1], 1, 3),
            Err(Error::IdTooLong { offset: 1 })
        );
    }

    #[test]
    fn a_vint_is_cut_by_the_end_given_not_only_by_the_buffer() {
        assert_eq!(read_id(&[], 0, 0), Err(Error::HeaderCut { offset: 0 }));
        assert_eq!(
            read_id(&[0x1A, 0x45], 0, 2),
            Err(Error::HeaderCut { offset: 0 })
        );
        // The bytes are in the buffer, but past the end of the parent.
        let ebml = [0x1A, 0x45, 0xDF, 0xA3];
        assert_eq!(read_id(&ebml, 0, 3), Err(Error::HeaderCut { offset: 0 }));
        assert_eq!(
            read_size(&[0x81], 0, 0),
            Err(Error::HeaderCut { offset: 0 })
        );
        assert_eq!(
            read_size(&[0x40, 0x01], 0, 1),
            Err(Error::HeaderCut { offset: 0 })
        );
        // An end past the buffer reads no further than the buffer.
        assert_eq!(
            read_size(&[0x40], 0, 100),
            Err(Error::HeaderCut { offset: 0 })
        );
        assert_eq!(
            read_vint(&[0x81], 5, 9),
            Err(Error::HeaderCut { offset: 5 })
        );
        // The largest position does not overflow.
        assert_eq!(
            read_vint(&[0x81], usize::MAX, usize::MAX),
            Err(Error::HeaderCut { offset: usize::MAX })
        );
    }

    #[test]
    fn sizes_drop_their_marker_and_all_ones_is_unknown() {
        assert_eq!(read_size(&[0x80], 0, 1), Ok((Some(0), 1)));
        assert_eq!(read_size(&[0x81], 0, 1), Ok((Some(1), 1)));
        assert_eq!(read_size(&[0xFE], 0, 1), Ok((Some(126), 1)));
        // 127 needs two bytes: 0xFF is "unknown".
        assert_eq!(read_size(&[0x40, 0x7F], 0, 2), Ok((Some(127), 2)));
        assert_eq!(read_size(&[0xFF], 0, 1), Ok((None, 1)));
        assert_eq!(read_size(&[0x7F, 0xFF], 0, 2), Ok((None, 2)));
        let unknown_8 = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(read_size(&unknown_8, 0, 8), Ok((None, 8)));
        let largest = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE];
        assert_eq!(read_size(&largest, 0, 8), Ok((Some((1 << 56) - 2), 8)));
        // A first byte of zero would be nine bytes or more.
        assert_eq!(
            read_size(
                &[0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
                0,
                9
            ),
            Err(Error::VintTooLong { offset: 0 })
        );
        // A plain vint (a track number) has no "unknown".
        assert_eq!(read_vint(&[0xFF], 0, 1), Ok((0x7F, 1)));
        assert_eq!(read_vint(&[0x41, 0x02], 0, 2), Ok((0x102, 2)));
    }

    #[test]
    fn a_header_is_checked_against_its_parents_end() {
        let buf = [el(&[0x42, 0x82], b"webm"), vec![0; 4]].concat();
        let h = Header::read(&buf, 0, buf.len()).unwrap();
        assert_eq!(
            h,
            Header {
                id: 0x4282,
                offset: 0,
                data: 3,
                size: Some(4)
            }
        );
        assert_eq!(h.end(7), Ok(Some(7)));
        assert_eq!(
            h.end(6),
            Err(Error::PastParent {
                id: 0x4282,
                offset: 0,
                size: 4,
                available: 3
            })
        );
        // A parent that ends before the data starts leaves nothing.
        assert_eq!(
            h.end(2),
            Err(Error::PastParent {
                id: 0x4282,
                offset: 0,
                size: 4,
                available: 0
            })
        );
        assert_eq!(
            Element::read(&buf, 0, buf.len()),
            Ok(Element {
                id: 0x4282,
                offset: 0,
                data: 3..7
            })
        );
        // The largest size does not overflow anything.
        let mut huge = vec![0xA3, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE];
        huge.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            Element::read(&huge, 0, huge.len()),
            Err(Error::PastParent {
                id: 0xA3,
                offset: 0,
                size: (1 << 56) - 2,
                available: 3
            })
        );
        // The size is read within the parent too.
        assert_eq!(
            Header::read(&buf, 0, 2),
            Err(Error::HeaderCut { offset: 2 })
        );
    }

    #[test]
    fn an_unknown_size_runs_to_where_the_caller_says() {
        let buf = [0x18, 0x53, 0x80, 0x67, 0xFF, 0xE7, 0x81, 0x00];
        let h = Header::read(&buf, 0, buf.len()).unwrap();
        assert_eq!((h.id, h.data, h.size), (0x1853_8067, 5, None));
        assert_eq!(h.end(buf.len()), Ok(None));
        assert_eq!(
            h.element(buf.len()),
            Err(Error::UnknownSize {
                id: 0x1853_8067,
                offset: 0
            })
        );
        assert_eq!(
            Element::read(&buf, 0, buf.len()),
            Err(Error::UnknownSize {
                id: 0x1853_8067,
                offset: 0
            })
        );
    }

    #[test]
    fn children_walk_a_range_and_stop_at_the_first_error() {
        let kids = [el(&[0xE7], &[1]), el(&[0xA3], b"ab")].concat();
        let buf = el(&[0x1F, 0x43, 0xB6, 0x75], &kids);
        let cluster = Element::read(&buf, 0, buf.len()).unwrap();
        assert_eq!(cluster.whole(), 0..buf.len());
        let found: Vec<Element> = children(&buf, cluster.data.clone())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            found,
            [
                Element {
                    id: 0xE7,
                    offset: 5,
                    data: 7..8
                },
                Element {
                    id: 0xA3,
                    offset: 8,
                    data: 10..12
                },
            ]
        );
        assert_eq!(found[1].bytes(&buf), b"ab");
        // Cut one byte short, the second child runs past its parent; nothing follows the error.
        let mut walk = children(&buf, 5..11);
        assert!(walk.next().unwrap().is_ok());
        assert_eq!(
            walk.next(),
            Some(Err(Error::PastParent {
                id: 0xA3,
                offset: 8,
                size: 2,
                available: 1
            }))
        );
        assert_eq!(walk.next(), None);
        assert_eq!(children(&buf, 3..3).next(), None);
    }

    /// An element holding `data`, read back.
    fn value(data: &[u8]) -> (Vec<u8>, Element) {
        let mut buf = vec![0xEC];
        buf.extend(el(&[0x44, 0x89], data));
        let element = Element::read(&buf, 1, buf.len()).unwrap();
        (buf, element)
    }

    #[test]
    fn unsigned_and_signed_integers_are_at_most_eight_bytes() {
        let (buf, e) = value(&[]);
        assert_eq!((e.uint(&buf), e.int(&buf)), (Ok(0), Ok(0)));
        let (buf, e) = value(&[0x0F, 0x42, 0x40]);
        assert_eq!(e.uint(&buf), Ok(1_000_000));
        let (buf, e) = value(&[0xFF]);
        assert_eq!((e.uint(&buf), e.int(&buf)), (Ok(255), Ok(-1)));
        let (buf, e) = value(&[0xFF, 0x38]);
        assert_eq!(e.int(&buf), Ok(-200));
        let (buf, e) = value(&[0x7F]);
        assert_eq!(e.int(&buf), Ok(127));
        let (buf, e) = value(&[0xFF; 8]);
        assert_eq!((e.uint(&buf), e.int(&buf)), (Ok(u64::MAX), Ok(-1)));
        let (buf, e) = value(&[0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(e.int(&buf), Ok(i64::MIN));
        let (buf, e) = value(&[0; 9]);
        let too_long = Err(Error::IntegerTooLong {
            id: 0x4489,
            offset: 1,
            len: 9,
        });
        assert_eq!(e.uint(&buf), too_long);
        assert_eq!(e.int(&buf).map(|i| i as u64), too_long);
    }

    #[test]
    fn floats_are_zero_four_or_eight_bytes() {
        let (buf, e) = value(&[]);
        assert_eq!(e.float(&buf), Ok(0.0));
        let (buf, e) = value(&2500f32.to_be_bytes());
        assert_eq!(e.float(&buf), Ok(2500.0));
        let (buf, e) = value(&0.1f64.to_be_bytes());
        assert_eq!(e.float(&buf), Ok(0.1));
        for len in [1, 2, 3, 5, 7, 9, 16] {
            let (buf, e) = value(&vec![0x40; len]);
            assert_eq!(
                e.float(&buf),
                Err(Error::FloatSize {
                    id: 0x4489,
                    offset: 1,
                    len
                })
            );
        }
    }

    #[test]
    fn strings_lose_their_nul_padding_only() {
        let (buf, e) = value(b"webm\0\0\0");
        assert_eq!(e.string(&buf), "webm");
        let (buf, e) = value(b"a\0b\0");
        assert_eq!(e.string(&buf), "a\0b");
        let (buf, e) = value(&[b'V', 0xFF, b'9']);
        assert_eq!(e.string(&buf), "V\u{FFFD}9");
        let (buf, e) = value(&[]);
        assert_eq!(e.string(&buf), "");
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases = [
            (
                Error::HeaderCut { offset: 12 },
                "an element header is cut short by the end of what holds it (at byte 12)",
            ),
            (
                Error::IdTooLong { offset: 3 },
                "an element ID is longer than the four bytes EBML allows (at byte 3)",
            ),
            (
                Error::VintTooLong { offset: 4 },
                "a variable-length integer is longer than the eight bytes EBML allows (at byte 4)",
            ),
            (
                Error::PastParent {
                    id: 0xA3,
                    offset: 40,
                    size: 1000,
                    available: 7,
                },
                "element 0xA3 at byte 40 declares 1000 bytes but only 7 remain in the element holding it",
            ),
            (
                Error::UnknownSize {
                    id: 0x1654_AE6B,
                    offset: 9,
                },
                "element 0x1654AE6B at byte 9 has an unknown size",
            ),
            (
                Error::IntegerTooLong {
                    id: 0xE7,
                    offset: 5,
                    len: 9,
                },
                "element 0xE7 at byte 5 holds an integer of 9 bytes, more than eight",
            ),
            (
                Error::FloatSize {
                    id: 0x4489,
                    offset: 5,
                    len: 3,
                },
                "element 0x4489 at byte 5 holds a float of 3 bytes, not 0, 4 or 8",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
