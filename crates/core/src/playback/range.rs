//! The playback server's `Range` header parser (RFC 9110 §14), apart from the server so it has
//! no dependency beyond `std` and the fuzzer can build it on its own.
//!
//! Only single byte ranges are served: a multi-range request gets its first range (a `<video>`
//! never asks for more). Every computation is checked: the header comes from whatever talks to
//! the loopback port, and a number near `u64::MAX` must give an answer, not an overflow.

/// Open-ended ranges (`bytes=N-`) are answered with at most this much, so an abandoned response
/// never holds a librqbit stream (and its permit) for the rest of the file.
pub const MAX_OPEN_RANGE: u64 = 8 * 1024 * 1024;

/// A parsed `Range` header, resolved against the length.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No Range header: the whole file.
    Full,
    /// `bytes=start-end` (inclusive), already clamped: always `start <= end < len`.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// A range outside the file, or a header that is not a byte range.
    Unsatisfiable,
}

/// Parses a single-range `Range` header against a file of `len` bytes (multi-range requests get
/// the first range). Positions past `u64::MAX` are read as `u64::MAX`: a last byte that large
/// means "to the end", a first byte that large lies past any file.
pub fn parse_range(value: Option<&str>, len: u64) -> RangeRequest {
    let Some(v) = value else {
        return RangeRequest::Full;
    };
    let v = v.trim();
    // The unit is case-insensitive (RFC 9110 §14.1). `get` and not slicing: a multi-byte
    // character may sit where "bytes=" would end.
    let Some(spec) = v
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .and_then(|_| v.get(6..))
    else {
        return RangeRequest::Unsatisfiable;
    };
    // A list may hold empty elements (RFC 9110 §5.6.1); the first real one is the range.
    let Some(first) = spec.split(',').map(str::trim).find(|r| !r.is_empty()) else {
        return RangeRequest::Unsatisfiable;
    };
    let Some((a, b)) = first.split_once('-') else {
        return RangeRequest::Unsatisfiable;
    };
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = match (digits(a), digits(b)) {
        (Some(None), Some(None)) => return RangeRequest::Unsatisfiable,
        // `bytes=-N`: the last N bytes; `bytes=-0` asks for nothing, which no file satisfies.
        (Some(None), Some(Some(suffix))) => {
            if suffix == 0 || len == 0 {
                return RangeRequest::Unsatisfiable;
            }
            (len.saturating_sub(suffix), len - 1)
        }
        // `bytes=N-`: from N, at most MAX_OPEN_RANGE bytes.
        (Some(Some(start)), Some(None)) => {
            if start >= len {
                return RangeRequest::Unsatisfiable;
            }
            // start < len, so the sum's minimum is above start and `- 1` cannot underflow.
            (start, start.saturating_add(MAX_OPEN_RANGE).min(len) - 1)
        }
        (Some(Some(start)), Some(Some(end))) => {
            if end < start || start >= len {
                return RangeRequest::Unsatisfiable;
            }
            (start, end.min(len - 1))
        }
        // Anything but digits (signs, spaces inside, letters): not a byte range.
        _ => return RangeRequest::Unsatisfiable,
    };
    RangeRequest::Partial { start, end }
}

/// `Some(None)` for an empty position, `Some(Some(n))` for ASCII digits (saturating at
/// `u64::MAX`), `None` for anything else. `str::parse` would also take a leading `+`.
fn digits(s: &str) -> Option<Option<u64>> {
    if s.is_empty() {
        return Some(None);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })))
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::*;
    use super::*;

    #[test]
    fn ordinary_ranges() {
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(
            parse_range(Some("bytes=0-1"), 100),
            Partial { start: 0, end: 1 }
        );
        assert_eq!(
            parse_range(Some("bytes=10-"), 100),
            Partial { start: 10, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-10"), 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=90-200"), 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=99-99"), 100),
            Partial { start: 99, end: 99 }
        );
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("items=0-1"), 100), Unsatisfiable);
        let big = 100 * 1024 * 1024;
        assert_eq!(
            parse_range(Some("bytes=0-"), big),
            Partial {
                start: 0,
                end: MAX_OPEN_RANGE - 1
            }
        );
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        // Overflowed at `start + MAX_OPEN_RANGE` before the arithmetic was checked.
        assert_eq!(
            parse_range(Some("bytes=18446744073709551615-"), 100),
            Unsatisfiable
        );
        assert_eq!(
            parse_range(Some("bytes=18446744073709551615-"), u64::MAX),
            Unsatisfiable
        );
        assert_eq!(
            parse_range(Some("bytes=18446744073709551614-"), u64::MAX),
            Partial {
                start: u64::MAX - 1,
                end: u64::MAX - 1
            }
        );
        // Past u64::MAX: a first byte beyond any file, a last byte meaning "to the end".
        assert_eq!(
            parse_range(Some("bytes=99999999999999999999999-"), u64::MAX),
            Unsatisfiable
        );
        assert_eq!(
            parse_range(Some("bytes=0-99999999999999999999999"), 100),
            Partial { start: 0, end: 99 }
        );
        // A suffix longer than the file is the whole file.
        assert_eq!(
            parse_range(Some("bytes=-18446744073709551615"), 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-99999999999999999999999"), 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=0-"), u64::MAX),
            Partial {
                start: 0,
                end: MAX_OPEN_RANGE - 1
            }
        );
    }

    #[test]
    fn hostile_headers_get_exact_answers() {
        // An empty suffix asks for nothing.
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        // Nothing satisfies a range on an empty file.
        assert_eq!(parse_range(Some("bytes=-5"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Unsatisfiable);
        assert_eq!(parse_range(None, 0), Full);
        // End before start.
        assert_eq!(parse_range(Some("bytes=10-9"), 100), Unsatisfiable);
        // Not digits: letters, signs (which `str::parse` accepts), a second dash, nothing.
        for header in [
            "bytes=a-b",
            "bytes=1-x",
            "bytes=+5-",
            "bytes=-+5",
            "bytes=--5",
            "bytes=1-2-3",
            "bytes=0x10-",
            "bytes=1 0-20",
            "bytes=-",
            "bytes=",
            "bytes",
            "",
            "bytes=5",
            "bytes=,,,",
            "bytes=١-٢",
            "bytés=0-1",
            "é",
        ] {
            assert_eq!(parse_range(Some(header), 100), Unsatisfiable, "{header:?}");
        }
        // Whitespace around the value and the positions is tolerated; the unit's case is not
        // significant.
        assert_eq!(
            parse_range(Some("  bytes=1-2  "), 100),
            Partial { start: 1, end: 2 }
        );
        assert_eq!(
            parse_range(Some("bytes= 1 - 2 "), 100),
            Partial { start: 1, end: 2 }
        );
        assert_eq!(
            parse_range(Some("Bytes=1-2"), 100),
            Partial { start: 1, end: 2 }
        );
        // Multi-range: the first range only, skipping empty list elements.
        assert_eq!(
            parse_range(Some("bytes=0-1, 5-9"), 100),
            Partial { start: 0, end: 1 }
        );
        assert_eq!(
            parse_range(Some("bytes=, ,5-9"), 100),
            Partial { start: 5, end: 9 }
        );
        assert_eq!(parse_range(Some("bytes=200-300, 0-1"), 100), Unsatisfiable);
        // Found by the fuzzer (its own check was wrong, the answer right): leading zeros are
        // digits, a last byte past u64::MAX is the end, and the open range after the comma does
        // not count.
        assert_eq!(
            parse_range(
                Some("bytes=092-184467440737095516158,-"),
                281_457_796_841_471
            ),
            Partial {
                start: 92,
                end: 281_457_796_841_470
            }
        );
    }
}
