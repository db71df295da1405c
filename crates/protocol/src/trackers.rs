//! The trackers a `.torrent` names, and how Marquee writes them into one.
//!
//! Every torrent the store serves and every `.torrent` the app saves carries `announce` = the
//! store's tracker and `announce-list` (BEP 12) = `[[store's tracker], [the operator's further
//! trackers…]]`, so that a standard client given only the file finds the swarm. Both keys sit
//! outside the `info` dictionary: [`with_trackers`] copies `info` byte for byte, so the info
//! hash (and with it everything already downloaded, seeded or listed in a catalog) does not
//! change.

use crate::bencode::{self, BencodeError};

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
        let s = bencode::parse_whole(raw).ok()?.bytes()?;
        std::str::from_utf8(s).ok().map(str::to_owned)
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

impl From<BencodeError> for TrackersError {
    fn from(e: BencodeError) -> TrackersError {
        TrackersError::NotATorrent(match e {
            BencodeError::Malformed { why, .. } => why,
            BencodeError::DuplicateKey(_) => "it gives a key twice in one section",
        })
    }
}

/// The top-level dictionary's keys and the raw bytes of their values.
fn top_level(torrent: &[u8]) -> Result<Vec<Entry<'_>>, TrackersError> {
    let dict = bencode::parse_whole(torrent)?
        .dict()
        .ok_or(TrackersError::NotATorrent(
            "it does not start with a dictionary",
        ))?;
    Ok(dict
        .entries()?
        .into_iter()
        .map(|(k, v)| (k, v.raw()))
        .collect())
}

/// The raw bytes of each item of the bencoded list `raw`.
fn list_items(raw: &[u8]) -> Result<Vec<&[u8]>, TrackersError> {
    let not_a_list = TrackersError::NotATorrent("its tracker list is not a list of lists");
    bencode::parse_whole(raw)?
        .list()
        .ok_or(not_a_list)?
        .map(|item| Ok(item?.raw()))
        .collect()
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
            Err(TrackersError::NotATorrent(
                "lists and dictionaries nest more than 64 levels deep"
            ))
        );
        assert_eq!(
            with_trackers(&bare(), &[vec![]]),
            Err(TrackersError::NoTracker)
        );
    }
}
