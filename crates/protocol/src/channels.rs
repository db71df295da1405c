//! Live channels in the store's directory: what a broadcaster registers, what a viewer reports
//! when it joins and while it watches, and what the store answers.
//!
//! The store lists channels and introduces peers; it never carries a channel's media. Every
//! word about a channel is signed by the channel's own Ed25519 key (the key its chunks are
//! signed with), so only the key holder can list a channel, keep it listed or end it, and a
//! viewer checks the record it is handed (title, init segment, broadcaster) against that key
//! itself: the store cannot alter it. A viewer's reports are signed by its node key (its iroh
//! node id is an Ed25519 public key), so nobody can report for another node.
//!
//! Every signed message carries `at`, the signer's clock in unix seconds. The store takes a
//! message only within [`CLOCK_SKEW_S`] of its own clock and only newer than the last one it
//! took from the same signer: a captured message cannot be replayed.

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::sign::{self, SignatureContext, SignatureError};

/// The longest channel title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// The largest init segment (a WebM header with its tracks: a few hundred bytes in practice;
/// as base64 in a record it stays under the store's 64 KiB body limit).
pub const MAX_INIT_SEGMENT_BYTES: usize = 32 * 1024;
/// The lowest bitrate a channel may declare, bits per second.
pub const MIN_BITRATE_BPS: u64 = 64_000;
/// The highest bitrate a channel may declare, bits per second.
pub const MAX_BITRATE_BPS: u64 = 40_000_000;
/// The most stripes a channel may use (the relay's own limit).
pub const MAX_STRIPES: u8 = 8;
/// How far a signed message's clock may be from the store's, seconds.
pub const CLOCK_SKEW_S: i64 = 300;
/// A viewer reports at least this often to stay counted and be handed to others, seconds.
pub const REPORT_EVERY_S: i64 = 5;
/// A broadcaster sends a heartbeat at least this often to stay listed, seconds.
pub const HEARTBEAT_EVERY_S: i64 = 5;
/// The most peers a join is handed.
pub const MAX_PEERS_HANDED: usize = 12;
/// Depth reported for a stripe a viewer is not connected in.
pub const NOT_CONNECTED: u8 = u8::MAX;

/// A live node: its id and where it listens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveNode {
    /// The node id: an Ed25519 public key, 64 hex digits.
    pub node: String,
    /// Where it listens, `ip:port`.
    pub addr: String,
}

/// What a broadcaster says of its channel. Signed as its JSON text ([`ChannelRecord::sign`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRecord {
    /// The channel's public key (64 hex digits): its id, and the key of its chunks.
    pub channel: String,
    /// The channel's name as listed.
    pub title: String,
    /// A poster image URL, if the channel has one.
    pub poster: Option<String>,
    /// Price in cents; 0 for a free channel.
    pub price_cents: i64,
    /// The stream's bitrate, bits per second.
    pub bitrate_bps: u64,
    /// The stream's MIME type with codecs, as Media Source Extensions takes it.
    pub mime: String,
    /// The stream's init segment (WebM header and tracks), base64.
    pub init_segment: String,
    /// Stripes of the channel's relay trees.
    pub stripes: u8,
    /// The broadcaster's node: the root of every tree.
    pub broadcaster: LiveNode,
    /// When the broadcaster signed this, unix seconds.
    pub at: i64,
}

/// `POST /api/v1/channels`: a channel goes live (or its record changes).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedChannel {
    /// The record.
    pub record: ChannelRecord,
    /// The channel key's signature of the record's JSON text, hex.
    pub signature: String,
}

/// What a channel's key says after registering: it is still live, or it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelSignalKind {
    /// Still live (`POST /api/v1/channels/{channel}/heartbeat`).
    Heartbeat,
    /// Ended (`POST /api/v1/channels/{channel}/end`).
    End,
}

/// The body of a heartbeat or an end: the time, signed by the channel key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSignal {
    /// The broadcaster's clock, unix seconds.
    pub at: i64,
    /// The channel key's signature of [`ChannelSignal::message`], hex.
    pub signature: String,
}

/// What a viewer says when it joins and every [`REPORT_EVERY_S`] while it watches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewerReport {
    /// The channel watched (64 hex digits).
    pub channel: String,
    /// The viewer's node.
    pub viewer: LiveNode,
    /// Its depth in each stripe ([`NOT_CONNECTED`] where it has no parent yet).
    pub depth: Vec<u8>,
    /// Bit `s` set: it would take a child in stripe `s`.
    pub open: u8,
    /// A stripe it needs peers for (nobody it knows has room there), if any.
    pub need_stripe: Option<u8>,
    /// The viewer's clock, unix seconds.
    pub at: i64,
}

/// `POST /api/v1/channels/{channel}/viewers`: a viewer joins, or reports while it watches.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedViewerReport {
    /// The report.
    pub report: ViewerReport,
    /// The viewer's node key's signature of the report's JSON text, hex.
    pub signature: String,
}

/// The answer to a viewer's report: the channel's record as its broadcaster signed it, and a
/// few peers to connect to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinResponse {
    /// The channel, with the broadcaster's signature: check it with [`SignedChannel::verify`].
    pub channel: SignedChannel,
    /// Peers with room near the root, a few per stripe, shallow ones first; the broadcaster
    /// only while the trees are small.
    pub peers: Vec<LiveNode>,
    /// Viewers counted now.
    pub viewers: u64,
}

/// One live channel in `GET /api/v1/channels`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelListing {
    /// The channel's key (64 hex digits).
    pub channel: String,
    /// Its title.
    pub title: String,
    /// Its poster URL, if any.
    pub poster: Option<String>,
    /// Price in cents; 0 for a free channel.
    pub price_cents: i64,
    /// The stream's bitrate, bits per second.
    pub bitrate_bps: u64,
    /// Viewers counted now.
    pub viewers: u64,
    /// When it went live, unix seconds.
    pub started_at: i64,
}

/// The largest channel poster a store takes, bytes: a 16:9 JPEG or PNG of a few hundred pixels
/// (the app sends 480×270), well inside the API's 64 KiB body limit once in base64.
pub const MAX_POSTER_BYTES: usize = 40 * 1024;

/// `POST /api/v1/channels/poster`: a signed-in account's channel poster, a JPEG or PNG in
/// base64. The store answers its path (`{"poster": "/media/…"}`) to list in the channel's
/// record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChannelPoster {
    /// The picture, base64.
    pub image: String,
}

/// `GET /api/v1/channels`: the channels live now, most watched first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChannelsResponse {
    /// The channels.
    pub channels: Vec<ChannelListing>,
    /// The iroh relay server the store's operator runs for live peers behind NAT: every
    /// broadcaster and viewer of this store keeps a connection to it. Absent: direct
    /// addresses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

/// Why a live relay URL is refused: it must be an `http://` or `https://` address with a
/// host, and nothing more than a path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the live relay {0:?} must be an https:// (or, on a LAN, http://) address with a host")]
pub struct RelayUrlError(pub String);

/// Checks a live relay URL the way clients will read it: parsed as a URL (as
/// [`crate::trackers::check_tracker_url`] does), `http` or `https`, with a host and no query.
pub fn check_relay_url(url: &str) -> Result<(), RelayUrlError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| RelayUrlError(url.to_string()))?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && url.len() <= 512;
    if ok {
        Ok(())
    } else {
        Err(RelayUrlError(url.to_string()))
    }
}

/// Why a signed message about a channel is refused. Each says what is wrong in words a
/// broadcaster can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// A key or node id that is not 64 hex digits of a valid Ed25519 key.
    #[error("{0} is not a valid key (64 hex digits of an Ed25519 public key)")]
    BadKey(&'static str),
    /// The signature does not check out.
    #[error("the signature is not the {0}'s")]
    BadSignature(&'static str),
    /// The signer's clock is too far from the store's.
    #[error("the message is dated {at}, more than {CLOCK_SKEW_S} s from the store's clock ({now}): set the computer's clock")]
    Skewed {
        /// The message's time.
        at: i64,
        /// The store's.
        now: i64,
    },
    /// A field out of bounds.
    #[error("{0}")]
    Invalid(String),
}

fn key(hex_key: &str, what: &'static str) -> Result<VerifyingKey, ChannelError> {
    sign::public_key_from_hex(hex_key).map_err(|_| ChannelError::BadKey(what))
}

fn checked(result: Result<(), SignatureError>, whose: &'static str) -> Result<(), ChannelError> {
    result.map_err(|_| ChannelError::BadSignature(whose))
}

/// Checks a signed time against the store's clock.
pub fn check_time(at: i64, now: i64) -> Result<(), ChannelError> {
    if (at - now).abs() > CLOCK_SKEW_S {
        return Err(ChannelError::Skewed { at, now });
    }
    Ok(())
}

impl LiveNode {
    /// Checks the node id and the address's form (`ip:port`, port not 0).
    pub fn check(&self) -> Result<VerifyingKey, ChannelError> {
        let k = key(&self.node, "the node id")?;
        let addr: std::net::SocketAddr = self.addr.parse().map_err(|_| {
            ChannelError::Invalid(format!("the address {:?} is not ip:port", self.addr))
        })?;
        if addr.port() == 0 || addr.ip().is_unspecified() || addr.ip().is_multicast() {
            return Err(ChannelError::Invalid(format!(
                "nobody can connect to the address {}",
                self.addr
            )));
        }
        Ok(k)
    }
}

impl ChannelRecord {
    /// The bytes the channel key signs: the record's JSON text.
    pub fn message(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a record serialises")
    }

    /// Signs the record with the channel's key.
    pub fn sign(self, key: &SigningKey) -> SignedChannel {
        let signature = sign::sign(key, SignatureContext::Channel, &self.message());
        SignedChannel {
            record: self,
            signature,
        }
    }

    /// Checks every field's bounds (not the signature).
    pub fn check(&self) -> Result<(), ChannelError> {
        let invalid = |m: String| Err(ChannelError::Invalid(m));
        let chars = self.title.trim().chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS || self.title.chars().any(char::is_control) {
            return invalid(format!(
                "a channel's title has 1 to {MAX_TITLE_CHARS} characters, none of them control characters"
            ));
        }
        if let Some(poster) = &self.poster {
            if !(poster.starts_with("https://") || poster.starts_with("http://"))
                || poster.len() > 2048
            {
                return invalid("the poster is an http(s) URL of at most 2048 characters".into());
            }
        }
        if self.price_cents < 0 || self.price_cents > 100_000 {
            return invalid("the price is 0 (free) to 100000 cents".into());
        }
        if !(MIN_BITRATE_BPS..=MAX_BITRATE_BPS).contains(&self.bitrate_bps) {
            return invalid(format!(
                "the bitrate is {MIN_BITRATE_BPS} to {MAX_BITRATE_BPS} bits per second"
            ));
        }
        if !(self.mime.starts_with("video/webm") || self.mime.starts_with("video/mp4"))
            || self.mime.len() > 200
        {
            return invalid("the stream is video/webm or video/mp4 (with its codecs)".into());
        }
        use base64::Engine as _;
        let init = base64::engine::general_purpose::STANDARD
            .decode(&self.init_segment)
            .map_err(|_| ChannelError::Invalid("the init segment is not base64".into()))?;
        if init.is_empty() || init.len() > MAX_INIT_SEGMENT_BYTES {
            return invalid(format!(
                "the init segment has 1 to {MAX_INIT_SEGMENT_BYTES} bytes"
            ));
        }
        if !(1..=MAX_STRIPES).contains(&self.stripes) {
            return invalid(format!("a channel has 1 to {MAX_STRIPES} stripes"));
        }
        key(&self.channel, "the channel")?;
        self.broadcaster.check()?;
        Ok(())
    }
}

impl SignedChannel {
    /// Checks the record's fields and that the channel's own key signed it; returns the key.
    pub fn verify(&self) -> Result<VerifyingKey, ChannelError> {
        self.record.check()?;
        let k = key(&self.record.channel, "the channel")?;
        checked(
            sign::verify(
                &k,
                SignatureContext::Channel,
                &self.record.message(),
                &self.signature,
            ),
            "channel key",
        )?;
        Ok(k)
    }
}

impl ChannelSignal {
    /// The bytes the channel key signs: the kind, the channel and the time.
    pub fn message(kind: ChannelSignalKind, channel: &str, at: i64) -> Vec<u8> {
        let kind = match kind {
            ChannelSignalKind::Heartbeat => "heartbeat",
            ChannelSignalKind::End => "end",
        };
        format!("{kind} {channel} {at}").into_bytes()
    }

    /// A signal of `kind` about `channel`, signed with its key at `at`.
    pub fn new(kind: ChannelSignalKind, key: &SigningKey, at: i64) -> ChannelSignal {
        let channel = hex::encode(key.verifying_key().as_bytes());
        ChannelSignal {
            at,
            signature: sign::sign(
                key,
                SignatureContext::ChannelSignal,
                &ChannelSignal::message(kind, &channel, at),
            ),
        }
    }

    /// Checks that `channel`'s key signed this signal of `kind`.
    pub fn verify(&self, kind: ChannelSignalKind, channel: &str) -> Result<(), ChannelError> {
        let k = key(channel, "the channel")?;
        checked(
            sign::verify(
                &k,
                SignatureContext::ChannelSignal,
                &ChannelSignal::message(kind, channel, self.at),
                &self.signature,
            ),
            "channel key",
        )
    }
}

impl ViewerReport {
    /// The bytes the viewer's node key signs: the report's JSON text.
    pub fn message(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a report serialises")
    }

    /// Signs the report with the viewer's node key.
    pub fn sign(self, key: &SigningKey) -> SignedViewerReport {
        let signature = sign::sign(key, SignatureContext::ViewerReport, &self.message());
        SignedViewerReport {
            report: self,
            signature,
        }
    }
}

impl SignedViewerReport {
    /// Checks the report's fields and that the viewer's node key signed it.
    pub fn verify(&self) -> Result<(), ChannelError> {
        let r = &self.report;
        key(&r.channel, "the channel")?;
        let k = r.viewer.check()?;
        if r.depth.is_empty() || r.depth.len() > usize::from(MAX_STRIPES) {
            return Err(ChannelError::Invalid(format!(
                "a report gives a depth for each of 1 to {MAX_STRIPES} stripes"
            )));
        }
        if r.need_stripe
            .is_some_and(|s| usize::from(s) >= r.depth.len())
        {
            return Err(ChannelError::Invalid(
                "the stripe needing peers is not one of the channel's".into(),
            ));
        }
        checked(
            sign::verify(
                &k,
                SignatureContext::ViewerReport,
                &r.message(),
                &self.signature,
            ),
            "viewer's node key",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn record(key: &SigningKey) -> ChannelRecord {
        ChannelRecord {
            channel: hex::encode(key.verifying_key().as_bytes()),
            title: "Harbour cam".into(),
            poster: None,
            price_cents: 0,
            bitrate_bps: 1_000_000,
            mime: "video/webm; codecs=\"vp9,opus\"".into(),
            init_segment: base64::engine::general_purpose::STANDARD
                .encode([0x1A, 0x45, 0xDF, 0xA3]),
            stripes: 4,
            broadcaster: LiveNode {
                node: hex::encode(SigningKey::from_bytes(&[7; 32]).verifying_key().as_bytes()),
                addr: "192.168.1.20:4433".into(),
            },
            at: 1_750_000_000,
        }
    }

    #[test]
    fn a_record_verifies_against_its_own_key_only() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let signed = record(&key).sign(&key);
        assert_eq!(signed.verify().unwrap(), key.verifying_key());
        let mut changed = signed.clone();
        changed.record.price_cents = 100;
        assert_eq!(
            changed.verify(),
            Err(ChannelError::BadSignature("channel key"))
        );
        let other = SigningKey::from_bytes(&[2; 32]);
        let mut claimed = record(&other).sign(&other);
        claimed.record.channel = signed.record.channel.clone();
        assert_eq!(
            claimed.verify(),
            Err(ChannelError::BadSignature("channel key"))
        );
    }

    #[test]
    fn records_out_of_bounds_are_refused_in_words() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![0u8; n]);
        type Change = fn(&mut ChannelRecord);
        let cases: Vec<(Change, &str)> = vec![
            (|r| r.title = " ".into(), "title"),
            (|r| r.title = "x".repeat(121), "title"),
            (|r| r.title = "a\u{7}b".into(), "title"),
            (|r| r.poster = Some("file:///etc/passwd".into()), "poster"),
            (|r| r.price_cents = -1, "price"),
            (|r| r.bitrate_bps = 1_000, "bitrate"),
            (|r| r.mime = "video/x-matroska".into(), "video/webm"),
            (|r| r.init_segment = "not base64!".into(), "base64"),
            (|r| r.stripes = 0, "stripes"),
            (|r| r.stripes = 9, "stripes"),
            (|r| r.broadcaster.addr = "0.0.0.0:4433".into(), "connect"),
            (|r| r.broadcaster.addr = "nowhere".into(), "ip:port"),
            (|r| r.broadcaster.node = "ab".into(), "node id"),
        ];
        for (change, word) in cases {
            let mut r = record(&key);
            change(&mut r);
            let e = r.clone().sign(&key).verify().unwrap_err().to_string();
            assert!(e.contains(word), "{r:?}: {e}");
        }
        let mut big = record(&key);
        big.init_segment = b64(MAX_INIT_SEGMENT_BYTES + 1);
        assert!(big
            .sign(&key)
            .verify()
            .unwrap_err()
            .to_string()
            .contains("init segment"));
    }

    #[test]
    fn signals_and_reports_are_bound_to_their_kind_channel_and_signer() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let channel = hex::encode(key.verifying_key().as_bytes());
        let beat = ChannelSignal::new(ChannelSignalKind::Heartbeat, &key, 10);
        assert!(beat.verify(ChannelSignalKind::Heartbeat, &channel).is_ok());
        // A heartbeat is not an end, and is about one channel only.
        assert!(beat.verify(ChannelSignalKind::End, &channel).is_err());
        assert!(beat
            .verify(ChannelSignalKind::Heartbeat, &hex::encode([9u8; 32]))
            .is_err());

        let node = SigningKey::from_bytes(&[5; 32]);
        let report = ViewerReport {
            channel,
            viewer: LiveNode {
                node: hex::encode(node.verifying_key().as_bytes()),
                addr: "10.0.0.2:5000".into(),
            },
            depth: vec![1, 2, 255, 3],
            open: 1,
            need_stripe: Some(2),
            at: 10,
        };
        assert!(report.clone().sign(&node).verify().is_ok());
        let stranger = SigningKey::from_bytes(&[6; 32]);
        assert!(report.clone().sign(&stranger).verify().is_err());
        let mut bad = report.clone();
        bad.need_stripe = Some(4);
        assert!(bad.sign(&node).verify().is_err());
        assert!(check_time(10 + CLOCK_SKEW_S + 1, 10)
            .unwrap_err()
            .to_string()
            .contains("clock"));
    }

    #[test]
    fn a_live_relay_is_an_http_or_https_address_with_a_host() {
        for good in [
            "https://relay.example.com",
            "https://relay.example.com/",
            "http://192.168.1.20:3340",
        ] {
            assert_eq!(check_relay_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "relay.example.com",
            "ftp://relay.example.com",
            "https://",
            "https://relay.example.com/?token=x",
            "https://relay.example.com/#x",
            "https://relay example.com",
        ] {
            let e = check_relay_url(bad).unwrap_err();
            assert!(e.to_string().contains("https://"), "{bad}: {e}");
        }
    }
}
