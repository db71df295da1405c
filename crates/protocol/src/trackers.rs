//! The trackers a `.torrent` names, and how Marquee writes them into one.
//!
//! Every torrent the store serves and every `.torrent` the app saves carries `announce` = the
//! store's tracker and `announce-list` (BEP 12) = `[[store's tracker], [the operator's further
//! trackers…]]`, so that a standard client given only the file finds the swarm. Both keys sit
//! outside the `info` dictionary: [`with_trackers`] copies `info` byte for byte, so the info
//! hash (and with it everything already downloaded, seeded or listed in a catalog) does not
//! change.

/// Why a torrent's trackers could not be read or written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrackersError {
    /// The bytes are not a bencoded dictionary (or not one that ends where the bytes do).
    #[error("this is not a torrent file: {0}")]
    NotATorrent(&'static str),
    /// There is no tracker to write.
    #[error("a torrent needs at least one tracker address to carry")]
    NoTracker,
    /// An address that cannot name a tracker.
    #[error("{url:?} cannot be a tracker address: {why}")]
    BadTrackerUrl {
        /// The address as given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// Checks that `url` can name a tracker in a torrent: an `http://`, `https://` or `udp://`
/// address with a host (BitTorrent clients know no other kind).
pub fn check_tracker_url(url: &str) -> Result<(), TrackersError> {
    let bad = |why| TrackersError::BadTrackerUrl {
        url: url.to_owned(),
        why,
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| bad("it is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https" | "udp") {
        return Err(bad("it must start with http://, https:// or udp://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    Ok(())
}

/// Deeper nesting than this is refused: no torrent needs it, and it bounds the recursion.
const MAX_DEPTH: usize = 64;

/// The tiers to write: the store's own tracker alone first, then the operator's further
/// trackers as one tier (without the store's own and without repeats), left out when there are
/// none.
pub fn store_tiers(store_tracker: &str, further: &[String]) -> Vec<Vec<String>> {
    let mut tiers = vec![vec![store_tracker.to_owned()]];
    let mut rest: Vec<String> = Vec::new();
    for url in further {
        if url != store_tracker && !rest.contains(url) {
            rest.push(url.clone());
        }
    }
    if !rest.is_empty() {
        tiers.push(rest);
    }
    tiers
}

/// The tiers of `announce-list`, or `[[announce]]` when there is no list; entries that are not
/// UTF-8 text are left out, as are empty tiers.
pub fn tiers_of(torrent: &[u8]) -> Result<Vec<Vec<String>>, TrackersError> {
    let entries = top_level(torrent)?;
    let text = |raw: &[u8]| -> Option<String> {
        let (s, end) = string_at(raw, 0).ok()?;
        (end == raw.len())
            .then(|| std::str::from_utf8(s).ok().map(str::to_owned))
            .flatten()
    };
    if let Some((_, list)) = entries.iter().find(|(k, _)| *k == b"announce-list") {
        let mut tiers = Vec::new();
        for tier in list_items(list)? {
            let urls: Vec<String> = list_items(tier)?.into_iter().filter_map(text).collect();
            if !urls.is_empty() {
                tiers.push(urls);
            }
        }
        if !tiers.is_empty() {
            return Ok(tiers);
        }
    }
    Ok(entries
        .iter()
        .find(|(k, _)| *k == b"announce")
        .and_then(|(_, v)| text(v))
        .filter(|u| !u.is_empty())
        .map(|u| vec![vec![u]])
        .unwrap_or_default())
}

/// `torrent` with `announce` set to the first tracker of `tiers` and `announce-list` set to
/// `tiers`; every other key, `info` first of all, is copied byte for byte (keys stay sorted,
/// as bencoding requires).
pub fn with_trackers(torrent: &[u8], tiers: &[Vec<String>]) -> Result<Vec<u8>, TrackersError> {
    let tiers: Vec<&Vec<String>> = tiers.iter().filter(|t| !t.is_empty()).collect();
    let first = tiers
        .first()
        .and_then(|t| t.first())
        .ok_or(TrackersError::NoTracker)?;
    let mut announce = Vec::new();
    put_string(&mut announce, first.as_bytes());
    let mut list = vec![b'l'];
    for tier in &tiers {
        list.push(b'l');
        for url in tier.iter() {
            put_string(&mut list, url.as_bytes());
        }
        list.push(b'e');
    }
    list.push(b'e');

    let mut entries: Vec<Entry<'_>> = top_level(torrent)?
        .into_iter()
        .filter(|(k, _)| *k != b"announce" && *k != b"announce-list")
        .collect();
    entries.push((b"announce", &announce));
    entries.push((b"announce-list", &list));
    // Bencoded dictionaries are sorted by raw key bytes; a stable sort keeps whatever order
    // an unsorted original had among its own keys.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(torrent.len() + list.len() + announce.len() + 32);
    out.push(b'd');
    for (k, v) in entries {
        put_string(&mut out, k);
        out.extend_from_slice(v);
    }
    out.push(b'e');
    Ok(out)
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(s.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(s);
}

/// A dictionary key and the raw bytes of its value.
type Entry<'a> = (&'a [u8], &'a [u8]);

/// The top-level dictionary's keys and the raw bytes of their values.
fn top_level(torrent: &[u8]) -> Result<Vec<Entry<'_>>, TrackersError> {
    if torrent.first() != Some(&b'd') {
        return Err(TrackersError::NotATorrent(
            "it does not start with a dictionary",
        ));
    }
    let mut entries = Vec::new();
    let mut pos = 1;
    loop {
        match torrent.get(pos) {
            Some(b'e') => break,
            None => return Err(TrackersError::NotATorrent("it ends too early")),
            _ => {}
        }
        let (key, value_start) = string_at(torrent, pos)?;
        let value_end = skip(torrent, value_start, 1)?;
        entries.push((key, &torrent[value_start..value_end]));
        pos = value_end;
    }
    if pos + 1 != torrent.len() {
        return Err(TrackersError::NotATorrent("bytes follow its end"));
    }
    Ok(entries)
}

/// The raw bytes of each item of the bencoded list `raw`.
fn list_items(raw: &[u8]) -> Result<Vec<&[u8]>, TrackersError> {
    if raw.first() != Some(&b'l') {
        return Err(TrackersError::NotATorrent(
            "its tracker list is not a list of lists",
        ));
    }
    let mut items = Vec::new();
    let mut pos = 1;
    while raw.get(pos) != Some(&b'e') {
        let end = skip(raw, pos, 1)?;
        items.push(&raw[pos..end]);
        pos = end;
    }
    Ok(items)
}

/// A byte string at `pos`: its bytes and the position after it.
fn string_at(b: &[u8], pos: usize) -> Result<(&[u8], usize), TrackersError> {
    const BAD: TrackersError = TrackersError::NotATorrent("a text length is malformed");
    let colon = b[pos.min(b.len())..]
        .iter()
        .position(|&c| c == b':')
        .ok_or(BAD)?;
    let digits = &b[pos..pos + colon];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    let len: usize = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or(BAD)?;
    let start = pos + colon + 1;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= b.len())
        .ok_or(TrackersError::NotATorrent("it ends too early"))?;
    Ok((&b[start..end], end))
}

/// The position after the bencoded value at `pos`.
fn skip(b: &[u8], pos: usize, depth: usize) -> Result<usize, TrackersError> {
    if depth > MAX_DEPTH {
        return Err(TrackersError::NotATorrent("it is nested too deeply"));
    }
    match b.get(pos) {
        Some(b'i') => {
            let end = b[pos..]
                .iter()
                .position(|&c| c == b'e')
                .ok_or(TrackersError::NotATorrent("it ends too early"))?;
            Ok(pos + end + 1)
        }
        Some(b'l' | b'd') => {
            let dict = b[pos] == b'd';
            let mut p = pos + 1;
            loop {
                match b.get(p) {
                    Some(b'e') => return Ok(p + 1),
                    None => return Err(TrackersError::NotATorrent("it ends too early")),
                    _ => {}
                }
                if dict {
                    p = string_at(b, p)?.1;
                }
                p = skip(b, p, depth + 1)?;
            }
        }
        Some(c) if c.is_ascii_digit() => Ok(string_at(b, pos)?.1),
        Some(_) => Err(TrackersError::NotATorrent(
            "it holds a value that is not bencoded",
        )),
        None => Err(TrackersError::NotATorrent("it ends too early")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: &str = "http://store.example:8640/announce";

    /// A torrent as the store's packaging makes it: no tracker at all.
    fn bare() -> Vec<u8> {
        b"d10:created by7:rqbit-x4:infod6:lengthi5e4:name5:a.mkv12:piece lengthi262144e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"
            .to_vec()
    }

    fn info_of(t: &[u8]) -> &[u8] {
        top_level(t)
            .unwrap()
            .into_iter()
            .find(|(k, _)| *k == b"info")
            .unwrap()
            .1
    }

    #[test]
    fn trackers_are_written_and_info_is_untouched() {
        let further = vec!["udp://open.example:6969/announce".to_owned()];
        let out = with_trackers(&bare(), &store_tiers(STORE, &further)).unwrap();
        assert_eq!(info_of(&out), info_of(&bare()), "info copied byte for byte");
        assert_eq!(
            out,
            [
                &b"d8:announce34:http://store.example:8640/announce13:announce-listll34:http://store.example:8640/announceel32:udp://open.example:6969/announceee10:created by7:rqbit-x4:info"[..],
                info_of(&bare()),
                b"e",
            ]
            .concat()
        );
        assert_eq!(
            tiers_of(&out).unwrap(),
            vec![vec![STORE.to_owned()], further.clone()]
        );
        // Writing again replaces, never appends.
        let again = with_trackers(&out, &store_tiers(STORE, &[])).unwrap();
        assert_eq!(tiers_of(&again).unwrap(), vec![vec![STORE.to_owned()]]);
        assert_eq!(info_of(&again), info_of(&bare()));
    }

    #[test]
    fn the_store_tier_comes_first_once() {
        let further = [
            STORE.to_owned(),
            "http://b/announce".into(),
            "http://b/announce".into(),
        ];
        assert_eq!(
            store_tiers(STORE, &further),
            vec![vec![STORE.to_owned()], vec!["http://b/announce".to_owned()]]
        );
        assert_eq!(store_tiers(STORE, &[]), vec![vec![STORE.to_owned()]]);
    }

    #[test]
    fn tracker_addresses_are_checked_in_words() {
        for good in [STORE, "https://t.example/announce", "udp://t.example:6969"] {
            assert_eq!(check_tracker_url(good), Ok(()), "{good}");
        }
        assert_eq!(
            check_tracker_url("ftp://t.example/").unwrap_err().to_string(),
            "\"ftp://t.example/\" cannot be a tracker address: it must start with http://, https:// or udp://"
        );
        assert!(check_tracker_url("tracker.example").is_err());
    }

    #[test]
    fn announce_alone_reads_as_one_tier() {
        let t = b"d8:announce8:http://a4:infod1:xi1eee";
        assert_eq!(tiers_of(t).unwrap(), vec![vec!["http://a".to_owned()]]);
        assert_eq!(tiers_of(&bare()).unwrap(), Vec::<Vec<String>>::new());
    }

    #[test]
    fn damaged_bytes_are_refused_in_words() {
        for bad in [
            &b""[..],
            b"le",
            b"d4:infod",
            b"d4:infodee trailing",
            b"d4:info99:x",
            b"d4:infoxe",
        ] {
            let e = with_trackers(bad, &[vec![STORE.to_owned()]]).unwrap_err();
            assert!(
                e.to_string().starts_with("this is not a torrent file: "),
                "{e}"
            );
        }
        let deep = [&b"d4:info"[..], &[b'l'; 100], &[b'e'; 100], b"e"].concat();
        assert_eq!(
            with_trackers(&deep, &[vec![STORE.to_owned()]]),
            Err(TrackersError::NotATorrent("it is nested too deeply"))
        );
        assert_eq!(
            with_trackers(&bare(), &[vec![]]),
            Err(TrackersError::NoTracker)
        );
    }
}
