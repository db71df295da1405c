//! The wire types of the store's HTTP API, shared by the server and the app's store client, so
//! both sides of the contract are the same Rust types.

use serde::{Deserialize, Serialize};

/// The path prefix of every API route.
pub const API_PREFIX: &str = "/api/v1";

/// `GET /api/v1/store`: who this store is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoreInfo {
    /// Display name of the store.
    pub name: String,
    /// The store's Ed25519 public key (hex): it signs the catalog feed and every licence.
    pub public_key: String,
    /// The store's clock, unix seconds.
    pub time: i64,
}

/// `POST /api/v1/sessions`: sign in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionRequest {
    /// Account e-mail.
    pub email: String,
    /// Account password.
    pub password: String,
}

/// `POST /api/v1/account/password`: a new password for the signed-in account. Every other
/// session of the account ends; the one that asked stays open.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasswordChange {
    /// The password the account has now.
    pub current_password: String,
    /// The new one, at least [`MIN_PASSWORD_LEN`] characters.
    pub new_password: String,
}

/// A signed-in session.
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionResponse {
    /// Bearer token for the `Authorization` header.
    pub token: String,
    /// When the token stops working, unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for SessionResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never let it reach a log through `{:?}`.
        f.debug_struct("SessionResponse")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `POST /api/v1/devices`: register this computer for the signed-in account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceRequest {
    /// The app-specific device id (hex), derived from the machine id by a keyed hash.
    pub device_id: String,
    /// The device's X25519 public key (hex); content keys are wrapped for it.
    pub public_key: String,
    /// The device's Ed25519 publishing key (hex): community titles it publishes are signed
    /// with it.
    #[serde(default)]
    pub publisher_key: Option<String>,
}

/// The catalog feed as sent: the feed's JSON text and the store's signature over its bytes, so
/// a cached copy can be verified offline without any canonical-JSON rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedFeed {
    /// JSON of a [`CatalogFeed`].
    pub feed: String,
    /// Ed25519 signature (hex) over [`crate::sign::SignatureContext::Feed`] followed by `feed`.
    pub signature: String,
}

/// The catalog.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogFeed {
    /// Increases whenever the catalog changes.
    pub version: i64,
    /// When the feed was made, unix seconds.
    pub generated_at: i64,
    /// The titles of this answer: the whole catalog, one page of it, or (with `since`) only
    /// the titles changed after that version.
    pub titles: Vec<FeedTitle>,
    /// When the answer is one page: the `after` cursor of the next page; `None` on the last.
    #[serde(default)]
    pub next_after: Option<String>,
    /// For an incremental answer (`?since=`): the version it starts after.
    #[serde(default)]
    pub since: Option<i64>,
    /// The number of titles the whole answer spans (all pages), so a client can show progress.
    #[serde(default)]
    pub total: Option<u64>,
}

/// `GET /api/v1/catalog` query: every parameter is optional; without any the whole catalog is
/// sent at once, as before paging existed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogQuery {
    /// At most this many titles (1 to [`MAX_CATALOG_PAGE`]).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_after` cursor of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    /// Only titles changed after this catalog version.
    #[serde(default)]
    pub since: Option<i64>,
}

/// The largest page of the catalog feed.
pub const MAX_CATALOG_PAGE: u32 = 5000;

/// How a title is offered: one type for the wire, the store's and the app's databases and the
/// window (the app's bindings describe it with the `specta` feature).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// A rental: a time window to start and a window once started.
    Rent,
    /// A purchase: plays for good on the licensed computer.
    Buy,
    /// Free and DRM-free: the torrent holds the clear file.
    Free,
}

impl OfferKind {
    /// The kind as the wire spells it, and as both databases store it.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferKind::Rent => "rent",
            OfferKind::Buy => "buy",
            OfferKind::Free => "free",
        }
    }

    /// The kind a database row stores. Anything but `rent` or `buy` reads as free: a row that
    /// cannot say it is paid is never charged for, and a free title carries no licence to
    /// unlock anything.
    pub fn from_stored(s: &str) -> OfferKind {
        match s {
            "rent" => OfferKind::Rent,
            "buy" => OfferKind::Buy,
            _ => OfferKind::Free,
        }
    }
}

/// One title in the feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedTitle {
    /// Stable id (a slug).
    pub id: String,
    /// film, episode, music_video, game or community_video.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// A few sentences about the title.
    pub synopsis: String,
    /// Release year.
    pub year: i32,
    /// Running time in seconds (0 for games).
    pub runtime_s: u32,
    /// Genre.
    pub genre: String,
    /// Studio or creator.
    pub studio: String,
    /// Performing artist, for music videos.
    pub artist: Option<String>,
    /// A new release (rents at the higher price).
    pub new_release: bool,
    /// How it is offered.
    pub offer: OfferKind,
    /// Price in cents (0 when free).
    pub price_cents: i64,
    /// Currency of the price.
    pub currency: String,
    /// Series, season and episode, for episodes.
    pub series: Option<SeriesRef>,
    /// Poster path on the store (relative to the store URL).
    pub poster_path: String,
    /// Wide backdrop path on the store, if any.
    pub backdrop_path: Option<String>,
    /// Video width in pixels (0 for games).
    pub width: u32,
    /// Video height in pixels (0 for games).
    pub height: u32,
    /// MIME type of the clear media.
    pub mime: String,
    /// Size of what the torrent holds, in bytes.
    pub size_bytes: u64,
    /// The torrent's info hash (hex).
    pub info_hash: String,
    /// True when the torrent holds the encrypted container.
    pub encrypted: bool,
    /// The container's key commitment (hex), for encrypted titles.
    pub key_commitment: Option<String>,
    /// The licence others get, for free titles ("CC BY 4.0").
    pub licence_to_share: Option<String>,
    /// Rental rules, for rentals.
    pub rental: Option<RentalTerms>,
    /// The catalog version this title last changed in (see [`CatalogFeed::version`]).
    #[serde(default)]
    pub version: i64,
    /// False for titles the store lists but cannot deliver (no real video yet): the client shows
    /// them without a rent or buy button, and the store refuses orders for them.
    #[serde(default = "yes")]
    pub for_sale: bool,
    /// `sd` or `hd` when the title is one variant of a film or episode offered in both.
    #[serde(default)]
    pub variant: Option<String>,
    /// For a variant: the id of the work, shared by all its variants (the storefront shows one
    /// card per work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<String>,
    /// For community titles: the publishing account's display name.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Hidden by the store's operator (moderation): a tombstone, so clients that fetch only
    /// changes drop it too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

fn yes() -> bool {
    true
}

/// Series, season and episode numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRef {
    /// Series name.
    pub series: String,
    /// Season number.
    pub season: u32,
    /// Episode number.
    pub episode: u32,
}

/// Rental windows of a title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RentalTerms {
    /// Time to start watching after renting, seconds.
    pub start_within_s: u64,
    /// Time to finish once the first frame played, seconds.
    pub play_window_s: u64,
}

/// `GET /api/v1/wallet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletResponse {
    /// Balance in cents.
    pub balance_cents: i64,
    /// Currency of the balance.
    pub currency: String,
}

/// `POST /api/v1/orders`: rent, buy or get a free title.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Chosen by the client once per intent; a retry with the same id never charges twice.
    pub client_order_id: String,
    /// The title.
    pub title_id: String,
    /// The device the licence is for (hex app-specific id).
    pub device_id: String,
    /// For a purchase that plays on another computer of the account: move it here (that
    /// computer's licence is revoked). Without it such an order is refused with
    /// `licensed_elsewhere`, so a purchase never plays on two computers at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub move_here: bool,
}

/// The answer to an order (the same answer for every retry of one order id).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderResponse {
    /// Store's order id.
    pub order_id: String,
    /// The title.
    pub title_id: String,
    /// What this order charged (0 for free titles and re-issued purchases).
    pub charged_cents: i64,
    /// Balance after the order.
    pub balance_cents: i64,
    /// Currency.
    pub currency: String,
    /// The signed licence (base64), for paid titles.
    pub licence: Option<String>,
    /// Peers known to have the title (the store's seeder first).
    pub peers: Vec<String>,
    /// Which of `peers` are the store's own seeders (see [`PeersResponse::store_seeders`]).
    #[serde(default)]
    pub store_seeders: Vec<String>,
    /// When the licence's first frame played, as the store recorded it (a rental restored on
    /// a reinstalled computer keeps its running window).
    #[serde(default)]
    pub first_frame_at: Option<i64>,
}

/// Defines [`ErrorCode`] and its list from one table, so the list cannot miss a code.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $code:literal,)*) => {
        /// The stable code of every error answer of the store. Clients branch on these, never
        /// on the sentence.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $code)] $variant,)*
            /// A code this version does not know: the store is newer than the app.
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl ErrorCode {
            /// Every code a store of this version sends.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it travels.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Unknown => "unknown",
                }
            }
        }
    };
}

error_codes! {
    /// No title with that id.
    UnknownTitle => "unknown_title",
    /// The wallet cannot pay.
    InsufficientFunds => "insufficient_funds",
    /// Missing or wrong credentials.
    Unauthorized => "unauthorized",
    /// An order id reused for a different order.
    OrderConflict => "order_conflict",
    /// The device is not registered to this account.
    UnknownDevice => "unknown_device",
    /// A malformed request.
    BadRequest => "bad_request",
    /// A body that is not the JSON the route expects.
    MalformedJson => "malformed_json",
    /// A body over the size limit.
    PayloadTooLarge => "payload_too_large",
    /// The session token expired.
    SessionExpired => "session_expired",
    /// No such route.
    NotFound => "not_found",
    /// The route exists, but not for this method.
    MethodNotAllowed => "method_not_allowed",
    /// No licence with that id belongs to the caller.
    UnknownLicence => "unknown_licence",
    /// The licence was revoked.
    LicenceRevoked => "licence_revoked",
    /// Only purchases move between computers.
    NotMovable => "not_movable",
    /// The account has as many active computers as it may.
    DeviceLimit => "device_limit",
    /// The device was deactivated.
    DeviceInactive => "device_inactive",
    /// The title is listed but cannot be delivered.
    NotForSale => "not_for_sale",
    /// Sign-up with an e-mail that has an account.
    EmailTaken => "email_taken",
    /// Sign-up with an unusable e-mail or password.
    InvalidCredentials => "invalid_credentials",
    /// No voucher with that code.
    UnknownVoucher => "unknown_voucher",
    /// The voucher was redeemed before.
    VoucherUsed => "voucher_used",
    /// The same video is already on the community shelf.
    Duplicate => "duplicate",
    /// A publishing request not signed by the device's registered publishing key.
    BadSignature => "bad_signature",
    /// Only the store's operator may do this.
    OperatorOnly => "operator_only",
    /// A purchase that plays on another computer of the account: move it, or play it there.
    LicensedElsewhere => "licensed_elsewhere",
    /// A device key that is not a usable X25519 public key (all zero, low order).
    InvalidDeviceKey => "invalid_device_key",
    /// Too many attempts (sign-in, sign-up) from one address or for one account, or too many
    /// passwords being checked at once: wait (the answer's `Retry-After` says how long) and
    /// try again.
    RateLimited => "rate_limited",
    /// A body sent without `Content-Type: application/json`.
    UnsupportedMediaType => "unsupported_media_type",
    /// The store failed on its side.
    Internal => "internal",
}

/// The body of every error answer: a stable code and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub code: ErrorCode,
    /// A sentence a person understands.
    pub message: String,
}

/// `GET /api/v1/titles/{id}/peers`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeersResponse {
    /// Addresses of peers that have (part of) the title.
    pub peers: Vec<String>,
    /// Tracker announce URL for the title.
    pub announce_url: String,
    /// Which of `peers` are the store's own seeders: what a client receives from them is the
    /// store's, not other viewers'. Absent from a store older than this field.
    #[serde(default)]
    pub store_seeders: Vec<String>,
}

/// `GET /api/v1/time`: the store's clock, signed, so a client can trust it offline as a
/// high-water mark against a clock turned back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTime {
    /// Unix seconds.
    pub time: i64,
    /// The client's nonce (hex) this reading answers, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Ed25519 signature (hex) over [`crate::sign::SignatureContext::Time`], `time.to_be_bytes()`
    /// and the raw nonce bytes (none without a nonce): see [`SignedTime::signed_bytes`].
    pub signature: String,
}

/// The longest nonce a client may send with a time request, in bytes.
pub const MAX_TIME_NONCE: usize = 32;

impl SignedTime {
    /// The bytes the signature covers: the time, then the nonce. A reading for one nonce
    /// cannot be replayed as the answer to another.
    pub fn signed_bytes(time: i64, nonce: Option<&[u8]>) -> Vec<u8> {
        let mut bytes = time.to_be_bytes().to_vec();
        bytes.extend_from_slice(nonce.unwrap_or_default());
        bytes
    }
}

/// `GET /api/v1/time?nonce=<hex>` and the `nonce` of the licence status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeQuery {
    /// Up to [`MAX_TIME_NONCE`] random bytes (hex) the client chose for this request.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// `POST /api/v1/licences/{licence_id}/first-frame`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstFrameReport {
    /// When the first frame played, unix seconds (trusted time on the client).
    pub at: i64,
}

/// The answer to a [`FirstFrameReport`]: the first frame as the store keeps it, which the
/// client adopts. It can differ from the report: a report is clamped to the store's clock (a
/// client clock a second ahead by rounding must not lengthen the window), a first frame never
/// moves once recorded, and a rental's variants share the earliest one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstFrameRecorded {
    /// The recorded first frame, unix seconds by the store's clock.
    pub at: i64,
}

/// `GET /api/v1/licences/status?device_id=<hex>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceStatusResponse {
    /// Hex ids of this account's licences for that device that are revoked.
    pub revoked: Vec<String>,
    /// When each of this device's started rentals first played, as the store recorded it: the
    /// client keeps the earlier of this and its own record, so editing its own cannot reset a
    /// window.
    #[serde(default)]
    pub first_plays: Vec<FirstPlay>,
    /// The store's signed time at the answer.
    pub time: SignedTime,
}

/// One licence's first play, in [`LicenceStatusResponse`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstPlay {
    /// The licence (hex).
    pub licence_id: String,
    /// When its first decrypted bytes played, unix seconds.
    pub at: i64,
}

/// `POST /api/v1/licences/restore`: what the account holds on this computer, issued again for
/// its current key (a reinstall or a deleted profile), without a charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRequest {
    /// This computer's device id (hex).
    pub device_id: String,
}

/// One restored title in [`RestoreResponse`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoredLicence {
    /// The title.
    pub title_id: String,
    /// The order that paid for it.
    pub order_id: String,
    /// The signed licence for this computer's current key (base64).
    pub licence: String,
    /// When it first played, for a started rental.
    pub first_frame_at: Option<i64>,
}

/// The answer to [`RestoreRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreResponse {
    /// Purchases that play on this computer and rentals rented here still in their window.
    pub restored: Vec<RestoredLicence>,
}

/// A licence, re-issued (`renew`) or issued for another device (`move`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceResponse {
    /// The signed licence, base64.
    pub licence: String,
}

/// `POST /api/v1/licences/{licence_id}/move`: move a purchase to another computer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveRequest {
    /// The device (hex app-specific id) of the same account that gets the purchase.
    pub device_id: String,
}

/// One registered computer in `GET /api/v1/devices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The app-specific device id (hex).
    pub device_id: String,
    /// The device's X25519 public key (hex).
    pub public_key: String,
    /// When it was first registered, unix seconds.
    pub registered_at: i64,
    /// False once deactivated: its licences stay, new orders for it are refused.
    pub active: bool,
}

/// `GET /api/v1/devices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// The account's computers, oldest first.
    pub devices: Vec<DeviceInfo>,
    /// How many active computers an account may have.
    pub limit: u32,
}

/// `POST /api/v1/accounts`: sign up. The answer (201) is a [`SessionResponse`].
#[derive(Clone, Serialize, Deserialize)]
pub struct SignUpRequest {
    /// E-mail address, the account's name.
    pub email: String,
    /// At least 8 characters.
    pub password: String,
}

impl std::fmt::Debug for SignUpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Passwords never reach a log.
        f.debug_struct("SignUpRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The shortest password sign-up accepts.
pub const MIN_PASSWORD_LEN: usize = 8;

/// One order in the purchase history: a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The store's order id.
    pub order_id: String,
    /// The client's order id.
    pub client_order_id: String,
    /// The title.
    pub title_id: String,
    /// The title's display name.
    pub title_name: String,
    /// rent, buy or free.
    pub offer: OfferKind,
    /// What was charged, in cents.
    pub amount_cents: i64,
    /// Currency of the amount.
    pub currency: String,
    /// When, unix seconds.
    pub created_at: i64,
    /// The device the licence was issued for.
    pub device_id: String,
    /// The licence the order issued (hex), for paid titles.
    pub licence_id: Option<String>,
}

/// `GET /api/v1/orders`: the purchase history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderHistory {
    /// Receipts, newest first.
    pub orders: Vec<Receipt>,
}

/// `POST /api/v1/vouchers/redeem`. The answer is the [`WalletResponse`] after redeeming.
#[derive(Clone, Serialize, Deserialize)]
pub struct RedeemRequest {
    /// The voucher code as printed (dashes and case do not matter).
    pub code: String,
}

impl std::fmt::Debug for RedeemRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A voucher code is money: never logged.
        f.write_str("RedeemRequest { code: <redacted> }")
    }
}

/// `POST /api/v1/community`: publish a viewer's video to the community shelf. `payload` is the
/// JSON of a [`CommunityPayload`]; `signature` is the publishing device's Ed25519 signature (hex)
/// over [`crate::sign::SignatureContext::Publish`] followed by `payload`, checked against the key the device registered, so
/// nobody can publish in another creator's name.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommunityRequest {
    /// The publishing device (hex app-specific id).
    pub device_id: String,
    /// JSON of a [`CommunityPayload`].
    pub payload: String,
    /// Signature (hex).
    pub signature: String,
}

/// What a viewer publishes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommunityPayload {
    /// Title.
    pub name: String,
    /// Description.
    pub synopsis: String,
    /// Language (BCP 47).
    pub language: String,
    /// The licence others get.
    pub licence_to_share: String,
    /// `video/webm` or `video/mp4`.
    pub mime: String,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Running time, seconds.
    pub runtime_s: u32,
    /// Size of the file.
    pub size_bytes: u64,
    /// The torrent's info hash (hex).
    pub info_hash: String,
    /// The torrent file (base64).
    pub torrent: String,
    /// Poster image, JPEG or PNG (base64).
    pub poster: Option<String>,
    /// When it was published, unix seconds.
    pub published_at: i64,
    /// The name shown beside the video, chosen by the publisher (never their e-mail): see
    /// [`publisher_name_problem`]. Empty when a client sent none, which the store refuses.
    #[serde(default)]
    pub publisher_name: String,
}

/// The longest name a publisher may be shown by, in characters.
pub const PUBLISHER_NAME_MAX_CHARS: usize = 40;

/// What is wrong with the name a publisher chose to be shown by, trimmed, if anything: the app
/// checks it before publishing and the store again, with these words.
pub fn publisher_name_problem(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if name.is_empty() {
        Some("say what name to show beside the video (your e-mail is never shown)")
    } else if name.chars().count() > PUBLISHER_NAME_MAX_CHARS {
        Some("the name shown beside the video takes at most 40 characters")
    } else if name.chars().any(char::is_control) {
        Some("the name shown beside the video cannot hold control characters")
    } else {
        None
    }
}

/// The MIME type a title's file is served with, from its name: the video formats the app plays
/// and zip (games); `None` for anything else.
pub fn mime_of(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    Some(match ext {
        "webm" => "video/webm",
        "mp4" | "m4v" => "video/mp4",
        "mkv" => "video/x-matroska",
        "zip" => "application/zip",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feed title with every field set, and the JSON the wire has carried for it: the feed
    /// is signed text that older apps parse, so its shape and field order are pinned.
    fn full_title() -> (FeedTitle, &'static str) {
        let title = FeedTitle {
            id: "orbital-s01e02".into(),
            kind: "episode".into(),
            name: "Orbital: Drift".into(),
            synopsis: "The crew loses the station.".into(),
            year: 2026,
            runtime_s: 35,
            genre: "Science fiction".into(),
            studio: "Northlight".into(),
            artist: Some("The Band".into()),
            new_release: true,
            offer: OfferKind::Rent,
            price_cents: 400,
            currency: "EUR".into(),
            series: Some(SeriesRef {
                series: "Orbital".into(),
                season: 1,
                episode: 2,
            }),
            poster_path: "/media/orbital.jpg".into(),
            backdrop_path: Some("/media/orbital-wide.jpg".into()),
            width: 1280,
            height: 720,
            mime: "video/webm".into(),
            size_bytes: 1_234_567,
            info_hash: "ab".repeat(20),
            encrypted: true,
            key_commitment: Some("cd".repeat(4)),
            licence_to_share: Some("CC BY 4.0".into()),
            rental: Some(RentalTerms {
                start_within_s: 2_592_000,
                play_window_s: 172_800,
            }),
            version: 7,
            for_sale: true,
            variant: Some("hd".into()),
            work: Some("w".into()),
            publisher: Some("Ada".into()),
            hidden: true,
        };
        let json = concat!(
            r#"{"id":"orbital-s01e02","kind":"episode","name":"Orbital: Drift","#,
            r#""synopsis":"The crew loses the station.","year":2026,"runtime_s":35,"#,
            r#""genre":"Science fiction","studio":"Northlight","artist":"The Band","#,
            r#""new_release":true,"offer":"rent","price_cents":400,"currency":"EUR","#,
            r#""series":{"series":"Orbital","season":1,"episode":2},"#,
            r#""poster_path":"/media/orbital.jpg","backdrop_path":"/media/orbital-wide.jpg","#,
            r#""width":1280,"height":720,"mime":"video/webm","size_bytes":1234567,"#,
            r#""info_hash":"abababababababababababababababababababab","encrypted":true,"#,
            r#""key_commitment":"cdcdcdcd","licence_to_share":"CC BY 4.0","#,
            r#""rental":{"start_within_s":2592000,"play_window_s":172800},"version":7,"#,
            r#""for_sale":true,"variant":"hd","work":"w","publisher":"Ada","hidden":true}"#
        );
        (title, json)
    }

    #[test]
    fn a_feed_title_is_the_same_json_as_ever() {
        let (title, json) = full_title();
        assert_eq!(serde_json::to_string(&title).unwrap(), json);
        assert_eq!(serde_json::from_str::<FeedTitle>(json).unwrap(), title);

        // The fields added over time may be absent (older stores), and `hidden` is only
        // written when true.
        let mut plain = title.clone();
        plain.artist = None;
        plain.series = None;
        plain.hidden = false;
        let written = serde_json::to_string(&plain).unwrap();
        assert!(written.contains(r#""artist":null,"#), "{written}");
        assert!(written.contains(r#""series":null,"#), "{written}");
        assert!(!written.contains("hidden"), "{written}");
        let mut old: serde_json::Value = serde_json::from_str(&written).unwrap();
        for added in ["version", "for_sale", "variant", "work", "publisher"] {
            old.as_object_mut().unwrap().remove(added);
        }
        let parsed: FeedTitle = serde_json::from_value(old).unwrap();
        assert_eq!((parsed.version, parsed.for_sale), (0, true));
        assert_eq!((parsed.variant, parsed.publisher), (None, None));
    }
}
