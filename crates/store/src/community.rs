//! The community shelf: videos viewers publish from the app, listed beside the studio titles.
//!
//! The store never holds the file: the publisher seeds it, and the store lists the title, keeps
//! its torrent and poster, and tracks its swarm. Each publication is signed by the publishing
//! device's Ed25519 key, registered with the device, so nobody can publish in another creator's
//! name; the signed request is kept for audit. The operator can hide a title.
//!
//! This module checks what a publication carries; its routes are in `http::community` and its
//! queries in [`crate::db::community`].

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::api::CommunityPayload;
use crate::error::StoreError;

/// Largest poster accepted.
const MAX_POSTER: usize = 4 * 1024 * 1024;

/// The largest publication request: the poster in base64 (4/3 of its bytes) beside the
/// torrent (20 bytes a piece: 10 KiB for a 2 GB video) and the description.
pub const MAX_REQUEST: usize = MAX_POSTER / 3 * 4 + 512 * 1024;

fn bad(why: &str) -> StoreError {
    StoreError::BadRequest(why.to_owned())
}

/// A poster image and its file extension.
pub(crate) type Poster = (Vec<u8>, &'static str);

/// Checks the payload's fields and its torrent; returns the decoded torrent and poster.
/// The year a publication is listed under: the app's own date for it, but never after the
/// store's today (a computer's clock far in the future, or a forged payload, once overflowed
/// here and dropped the connection) nor before 1970.
pub(crate) fn year_of(published_at: i64, now: i64) -> i32 {
    const YEAR_S: i64 = 31_556_952;
    let at = published_at.clamp(0, now.max(0));
    i32::try_from(1970 + at / YEAR_S).unwrap_or(i32::MAX)
}

pub(crate) fn validate(p: &CommunityPayload) -> Result<(Vec<u8>, Option<Poster>), StoreError> {
    let name_len = p.name.trim().chars().count();
    if name_len == 0 || name_len > 200 {
        return Err(bad("the title must have 1 to 200 characters"));
    }
    if let Some(problem) = marquee_protocol::api::publisher_name_problem(&p.publisher_name) {
        return Err(bad(problem));
    }
    if p.synopsis.chars().count() > 5000 {
        return Err(bad("the description is longer than 5000 characters"));
    }
    if p.mime != "video/webm" && p.mime != "video/mp4" {
        return Err(bad("only WebM and MP4 videos can be published"));
    }
    if p.language.len() > 35 || p.licence_to_share.chars().count() > 100 {
        return Err(bad("the language or licence is malformed"));
    }
    let torrent = B64
        .decode(&p.torrent)
        .map_err(|_| bad("the torrent is not base64"))?;
    // Every viewer saves the file under the torrent's name: the same check the apps make, and
    // before librqbit reads it (it panics on some malformed torrents).
    if let Err(e) = marquee_protocol::torrent_file::inspect_names(&torrent) {
        return Err(bad(&format!("the torrent cannot be listed: {e}")));
    }
    let parsed =
        librqbit::torrent_from_bytes(&torrent).map_err(|_| bad("the torrent does not parse"))?;
    if parsed.info_hash.as_string() != p.info_hash {
        return Err(bad("the info hash does not match the torrent"));
    }
    if parsed.info.data.length != Some(p.size_bytes) {
        return Err(bad("the torrent must hold exactly the one published file"));
    }
    let poster = match &p.poster {
        None => None,
        Some(b) => {
            let bytes = B64.decode(b).map_err(|_| bad("the poster is not base64"))?;
            if bytes.len() > MAX_POSTER {
                return Err(bad("the poster is larger than 4 MB"));
            }
            let ext = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                "jpg"
            } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                "png"
            } else {
                return Err(bad("the poster must be a JPEG or PNG image"));
            };
            Some((bytes, ext))
        }
    };
    Ok((torrent, poster))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-file torrent named `name`, as bytes.
    fn torrent(name: &[u8]) -> Vec<u8> {
        let mut t = b"d4:infod6:lengthi100e4:name".to_vec();
        t.extend_from_slice(format!("{}:", name.len()).as_bytes());
        t.extend_from_slice(name);
        t.extend_from_slice(b"12:piece lengthi16384e6:pieces20:");
        t.extend_from_slice(&[7u8; 20]);
        t.extend_from_slice(b"ee");
        t
    }

    fn payload(torrent: &[u8]) -> CommunityPayload {
        CommunityPayload {
            name: "A home movie".into(),
            synopsis: String::new(),
            language: "en".into(),
            licence_to_share: "CC BY 4.0".into(),
            mime: "video/webm".into(),
            width: 640,
            height: 360,
            runtime_s: 10,
            size_bytes: 100,
            info_hash: "00".repeat(20),
            torrent: B64.encode(torrent),
            poster: None,
            published_at: 0,
            publisher_name: "Lake Films".into(),
        }
    }

    #[test]
    fn a_publisher_without_a_name_of_their_own_is_refused_in_words() {
        let t = torrent(b"home-movie.webm");
        for (name, why) in [
            ("", "say what name to show"),
            ("   ", "say what name to show"),
            (&"x".repeat(41), "at most 40 characters"),
            ("Lake\u{7}Films", "control characters"),
        ] {
            let e = validate(&CommunityPayload {
                publisher_name: name.into(),
                ..payload(&t)
            })
            .unwrap_err()
            .to_string();
            assert!(e.contains(why), "{name:?}: {e}");
        }
    }

    #[test]
    fn a_publication_whose_file_name_some_computer_cannot_save_is_refused() {
        for (name, why) in [
            (&b"CON.webm"[..], "a name Windows keeps for a device"),
            (b"C:marquee-probe.dll", "drive letter"),
            (b"video.webm:hidden", "colon"),
            (b"nul", "a name Windows keeps for a device"),
            (b"clip.webm.", "ends with a dot"),
            (b"clip\x01.webm", "control character"),
            (b"\xff\xfe.webm", "other than UTF-8"),
        ] {
            let e = validate(&payload(&torrent(name))).unwrap_err().to_string();
            assert!(
                e.contains("the torrent cannot be listed") && e.contains(why),
                "{:?}: {e}",
                String::from_utf8_lossy(name)
            );
        }
        // A fine name gets past the name check (to the info hash, which is made up here).
        let e = validate(&payload(&torrent(b"home-movie.webm")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("info hash"), "{e}");
    }

    #[test]
    fn a_publication_dated_at_the_ends_of_time_is_listed_under_a_real_year() {
        let now = 1_796_000_000; // December 2026
        assert_eq!(super::year_of(now - 3_600, now), 2026);
        assert_eq!(super::year_of(i64::MAX, now), 2026);
        assert_eq!(super::year_of(i64::MIN, now), 1970);
        assert_eq!(super::year_of(1_700_000_000, now), 2023);
    }
}
