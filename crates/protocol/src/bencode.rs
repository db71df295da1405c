//! Bencode (BEP 3), read without copying: the one reader behind everything Marquee does with a
//! `.torrent` (checking a stranger's file before librqbit sees it, and writing the store's
//! trackers into one). It validates a value to its end before handing it out, never recurses
//! deeper than [`MAX_DEPTH`], allocates nothing for a length before checking it against the
//! input, and borrows every string from the input. Each value keeps its whole encoding
//! ([`Value::raw`]): the info hash is the SHA-1 of the `info` dictionary exactly as written.
//!
//! Pure on purpose (`std` and `thiserror` only), so a fuzz crate builds this file on its own.

/// How deep lists and dictionaries may nest (real torrents nest 4 or 5 levels).
pub const MAX_DEPTH: usize = 64;

/// Why bytes are not the bencoded value they should be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BencodeError {
    /// Not bencoded data at `at`.
    #[error("{why} (at byte {at})")]
    Malformed {
        /// What is wrong.
        why: &'static str,
        /// Where, from the start of the input.
        at: usize,
    },
    /// A dictionary gives one key twice (two readers could each take a different one).
    #[error("it gives “{0}” twice in one section")]
    DuplicateKey(String),
}

fn malformed(why: &'static str, at: usize) -> BencodeError {
    BencodeError::Malformed { why, at }
}

/// A bencoded value, borrowed from the input, with its whole encoding.
#[derive(Clone, Copy, Debug)]
pub struct Value<'a> {
    raw: &'a [u8],
    kind: Kind<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Kind<'a> {
    /// The digits, with their sign.
    Int(&'a [u8]),
    Bytes(&'a [u8]),
    List,
    Dict,
}

impl<'a> Value<'a> {
    /// The value's whole encoding, as written.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// An integer: `None` if this is something else, `Some(None)` if it does not fit in an i64.
    pub fn int(&self) -> Option<Option<i64>> {
        let Kind::Int(text) = self.kind else {
            return None;
        };
        // Validated by `parse`: ASCII digits after an optional '-', so only the range can fail.
        Some(std::str::from_utf8(text).ok().and_then(|t| t.parse().ok()))
    }

    /// A byte string's bytes.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self.kind {
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a list.
    pub fn list(&self) -> Option<Items<'a>> {
        matches!(self.kind, Kind::List).then(|| Items::inside(self.raw))
    }

    /// A dictionary.
    pub fn dict(&self) -> Option<Dict<'a>> {
        matches!(self.kind, Kind::Dict).then_some(Dict { raw: self.raw })
    }
}

/// The values between the `l`/`d` and the `e` of an encoding [`parse`] has validated.
pub struct Items<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Items<'a> {
    fn inside(raw: &'a [u8]) -> Items<'a> {
        Items { raw, pos: 1 }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<Value<'a>, BencodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        // The last byte is the closing 'e'.
        if self.pos + 1 >= self.raw.len() {
            return None;
        }
        // Validated already (at full depth from the top), so depth 0 is within the limit.
        match parse(self.raw, self.pos, 0) {
            Ok((v, end)) => {
                self.pos = end;
                Some(Ok(v))
            }
            Err(e) => {
                self.pos = self.raw.len();
                Some(Err(e))
            }
        }
    }
}

/// A dictionary [`parse`] has validated: keys are strings, each followed by a value.
pub struct Dict<'a> {
    raw: &'a [u8],
}

impl<'a> Dict<'a> {
    /// Every key with its value, in the order written.
    pub fn entries(&self) -> Result<Vec<(&'a [u8], Value<'a>)>, BencodeError> {
        let mut items = Items::inside(self.raw);
        let mut out = Vec::new();
        while let Some(k) = items.next() {
            let k = k?;
            let v = items
                .next()
                .ok_or(malformed("a dictionary key has no value", 0))??;
            // `parse` refused a key that is not a string.
            out.push((k.bytes().unwrap_or_default(), v));
        }
        Ok(out)
    }

    /// The value of `key`; refused when the key appears twice (librqbit would read one of them
    /// and we the other).
    pub fn get(&self, key: &[u8]) -> Result<Option<Value<'a>>, BencodeError> {
        let mut found = None;
        for (k, v) in self.entries()? {
            if k == key {
                if found.is_some() {
                    return Err(BencodeError::DuplicateKey(
                        String::from_utf8_lossy(key).into_owned(),
                    ));
                }
                found = Some(v);
            }
        }
        Ok(found)
    }
}

/// Parses a whole input as one value: nothing may follow it.
pub fn parse_whole(buf: &[u8]) -> Result<Value<'_>, BencodeError> {
    let (value, end) = parse(buf, 0, 0)?;
    if end != buf.len() {
        return Err(malformed("bytes follow its end", end));
    }
    Ok(value)
}

/// Parses (and validates, to its end) the value starting at `buf[pos]`, `depth` levels down;
/// returns it and the position after it. Positions in errors are offsets of `buf`.
pub fn parse(buf: &[u8], pos: usize, depth: usize) -> Result<(Value<'_>, usize), BencodeError> {
    let Some(&first) = buf.get(pos) else {
        return Err(malformed("it ends where a value should start", pos));
    };
    let (kind, end) = match first {
        b'i' => {
            let body_start = pos + 1;
            let close =
                find_byte(buf, body_start, b'e').ok_or(malformed("a number is not closed", pos))?;
            let digits = &buf[body_start..close];
            let unsigned = digits.strip_prefix(b"-").unwrap_or(digits);
            let canonical = !unsigned.is_empty()
                && unsigned.iter().all(u8::is_ascii_digit)
                && (unsigned == b"0" || unsigned[0] != b'0')
                && digits != b"-0";
            if !canonical {
                return Err(malformed("a number is malformed", pos));
            }
            (Kind::Int(digits), close + 1)
        }
        b'0'..=b'9' => {
            let colon = find_byte(buf, pos, b':')
                .ok_or(malformed("a string's length is not followed by ':'", pos))?;
            let mut len = 0usize;
            for &d in &buf[pos..colon] {
                if !d.is_ascii_digit() {
                    return Err(malformed("a string's length is not a number", pos));
                }
                // Checked: twenty digits would overflow; the length is compared with what is
                // left of the input before anything is read or allocated.
                len = len
                    .checked_mul(10)
                    .and_then(|l| l.checked_add(usize::from(d - b'0')))
                    .ok_or(malformed("a string is longer than the file", pos))?;
            }
            let start = colon + 1;
            let end = start
                .checked_add(len)
                .filter(|&end| end <= buf.len())
                .ok_or(malformed("a string is longer than the file", pos))?;
            (Kind::Bytes(&buf[start..end]), end)
        }
        b'l' | b'd' => {
            if depth >= MAX_DEPTH {
                return Err(malformed(
                    "lists and dictionaries nest more than 64 levels deep",
                    pos,
                ));
            }
            let dict = first == b'd';
            let mut at = pos + 1;
            loop {
                match buf.get(at) {
                    None => return Err(malformed("a list or dictionary is not closed", pos)),
                    Some(b'e') => break,
                    Some(b) if dict && !b.is_ascii_digit() => {
                        return Err(malformed("a dictionary key is not a string", at))
                    }
                    Some(_) => {}
                }
                let (_, next) = parse(buf, at, depth + 1)?;
                at = next;
                if dict {
                    if buf.get(at) == Some(&b'e') {
                        return Err(malformed("a dictionary key has no value", at));
                    }
                    let (_, next) = parse(buf, at, depth + 1)?;
                    at = next;
                }
            }
            (if dict { Kind::Dict } else { Kind::List }, at + 1)
        }
        _ => return Err(malformed("a value has an unknown type", pos)),
    };
    Ok((
        Value {
            raw: &buf[pos..end],
            kind,
        },
        end,
    ))
}

/// The position of the first `byte` at or after `from`.
fn find_byte(buf: &[u8], from: usize, byte: u8) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == byte)
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_encoding_and_dictionaries_their_order() {
        let v = parse_whole(b"d1:bi-7e1:al3:xyzi0eee").unwrap();
        let d = v.dict().unwrap();
        let entries = d.entries().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0, b"b");
        assert_eq!(entries[0].1.int(), Some(Some(-7)));
        assert_eq!(entries[1].1.raw(), b"l3:xyzi0ee");
        let items: Vec<_> = d.get(b"a").unwrap().unwrap().list().unwrap().collect();
        assert_eq!(items[0].as_ref().unwrap().bytes(), Some(&b"xyz"[..]));
        assert_eq!(d.get(b"missing").unwrap().map(|v| v.raw()), None);
    }

    #[test]
    fn malformed_input_is_refused_where_it_goes_wrong() {
        for (bytes, why, at) in [
            (&b"i01e"[..], "a number is malformed", 0),
            (b"i-0e", "a number is malformed", 0),
            (b"5:abc", "a string is longer than the file", 0),
            (
                b"99999999999999999999999:x",
                "a string is longer than the file",
                0,
            ),
            (b"di1ei2ee", "a dictionary key is not a string", 1),
            (b"d1:ae", "a dictionary key has no value", 4),
            (b"l", "a list or dictionary is not closed", 0),
            (b"x", "a value has an unknown type", 0),
            (b"i1ei2e", "bytes follow its end", 3),
        ] {
            assert_eq!(
                parse_whole(bytes).unwrap_err(),
                BencodeError::Malformed { why, at },
                "{bytes:?}"
            );
        }
        let deep = [&[b'l'; 100][..], &[b'e'; 100]].concat();
        assert!(matches!(
            parse_whole(&deep),
            Err(BencodeError::Malformed { why, .. }) if why.contains("64 levels")
        ));
        let twice = parse_whole(b"d1:ai1e1:ai2ee").unwrap();
        assert_eq!(
            twice.dict().unwrap().get(b"a").unwrap_err(),
            BencodeError::DuplicateKey("a".into())
        );
    }
}
