//! The types the app's UI sees: command arguments and results, progress updates and errors.
//! The TypeScript bindings in `ui/src/lib/ipc/bindings.ts` are generated from these and from
//! the app's commands (`cargo xtask bindings`, see `src-tauri/bindings.rs`); a test there fails
//! when the committed file has drifted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use specta::Type;

/// What kind of thing a title is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum TitleKind {
    /// A feature film.
    Film,
    /// A TV episode.
    Episode,
    /// A music video.
    MusicVideo,
    /// A PC game (a download, not a video).
    Game,
    /// A video published by a viewer.
    CommunityVideo,
}

impl TitleKind {
    /// Parses the store's kind string.
    pub fn parse(s: &str) -> TitleKind {
        match s {
            "film" => TitleKind::Film,
            "episode" => TitleKind::Episode,
            "music_video" => TitleKind::MusicVideo,
            "game" => TitleKind::Game,
            _ => TitleKind::CommunityVideo,
        }
    }
}

pub use marquee_protocol::api::OfferKind;

/// Price and kind of an offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Offer {
    /// Rent, buy or free.
    pub kind: OfferKind,
    /// Price in cents.
    #[specta(type = specta_typescript::Number)]
    pub price_cents: i64,
    /// Currency code.
    pub currency: String,
}

/// Series, season and episode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SeriesInfo {
    /// Series name.
    pub series: String,
    /// Season number.
    pub season: u32,
    /// Episode number.
    pub episode: u32,
}

/// Where a title comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum TitleOrigin {
    /// The store's catalog (studio titles and the community shelf).
    Store,
    /// Published from this computer.
    Published,
    /// Added from a magnet link or a `.torrent` file: not from the store.
    External,
}

/// A title of the catalog as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct Title {
    /// Stable id.
    pub id: String,
    /// Kind.
    pub kind: TitleKind,
    /// Display name.
    pub name: String,
    /// About the title.
    pub synopsis: String,
    /// Release year.
    pub year: i32,
    /// Running time, seconds.
    pub runtime_s: u32,
    /// Genre.
    pub genre: String,
    /// Studio or creator.
    pub studio: String,
    /// Artist, for music videos.
    pub artist: Option<String>,
    /// A new release.
    pub new_release: bool,
    /// Poster image URL.
    pub poster_url: String,
    /// Wide backdrop URL.
    pub backdrop_url: Option<String>,
    /// Series info, for episodes.
    pub series: Option<SeriesInfo>,
    /// The offer.
    pub offer: Offer,
    /// Video width.
    pub width: u32,
    /// Video height.
    pub height: u32,
    /// Download size in bytes.
    #[specta(type = specta_typescript::Number)]
    pub size_bytes: u64,
    /// Licence for sharing, for free titles.
    pub licence_to_share: Option<String>,
    /// Where it comes from.
    pub origin: TitleOrigin,
    /// For community titles: who published it.
    pub publisher: Option<String>,
    /// False for titles listed without a real video yet: shown, not offered.
    pub for_sale: bool,
    /// For a rental: its terms, as the store's signed feed states them (`None` for what is
    /// not rented, and for a library title the catalog no longer lists).
    pub rental: Option<RentalTerms>,
    /// `sd` or `hd` for one variant of a work the store offers in both (`None` otherwise).
    pub variant: Option<String>,
    /// The work this title is (one variant of): the storefront shows one card per work. The
    /// title's own id when it has no variants.
    pub work: String,
}

/// What a rental allows, as the store states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RentalTerms {
    /// How long after renting the first frame must play, seconds.
    #[specta(type = specta_typescript::Number)]
    pub start_within_s: u64,
    /// How long the rental plays once its first frame played, seconds.
    #[specta(type = specta_typescript::Number)]
    pub play_window_s: u64,
}

/// The wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Wallet {
    /// Balance in cents.
    #[specta(type = specta_typescript::Number)]
    pub balance_cents: i64,
    /// Currency code.
    pub currency: String,
}

/// Where a licence stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum LicenceStatus {
    /// A rental not watched yet.
    NotStarted,
    /// A rental being watched.
    Running,
    /// A rental that ended.
    Expired,
    /// Withdrawn by the store.
    Revoked,
    /// Licensed to another computer (a purchase can be moved here).
    OtherDevice,
    /// A purchase.
    Owned,
    /// A free title.
    Free,
}

/// A licence's state for the library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LicenceState {
    /// Rent, buy or free.
    pub kind: OfferKind,
    /// Status now.
    pub status: LicenceStatus,
    /// A rental must start before this (unix ms).
    #[specta(type = Option<specta_typescript::Number>)]
    pub start_by_ms: Option<i64>,
    /// A started rental ends at this (unix ms).
    #[specta(type = Option<specta_typescript::Number>)]
    pub ends_at_ms: Option<i64>,
}

/// State of a title's download.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum DownloadState {
    /// Waiting its turn: the limit on active downloads holds it back until one ahead of it in
    /// the queue finishes, is paused or removed (or it is still joining the session at start).
    Queued,
    /// Downloading.
    Downloading,
    /// Complete and seeding to others.
    Seeding,
    /// Complete and paused: on disk, not seeding.
    Done,
    /// Complete, and shared as long as the seeding policy asks: on disk, not seeding.
    Shared,
    /// Paused before it completed.
    Paused,
    /// Stopped because the disk holding the downloads filled up; what was written is intact,
    /// and it goes on by itself once there is room again.
    DiskFull,
    /// Removed from the downloads (the title stays in the library; watching it downloads it
    /// again).
    Removed,
    /// Failed.
    Error,
}

/// Progress of one title's download.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct DownloadProgress {
    /// The title.
    pub title_id: String,
    /// State.
    pub state: DownloadState,
    /// Verified bytes on disk.
    #[specta(type = specta_typescript::Number)]
    pub downloaded_bytes: u64,
    /// Total size.
    #[specta(type = specta_typescript::Number)]
    pub total_bytes: u64,
    /// Download speed.
    #[specta(type = specta_typescript::Number)]
    pub down_bytes_per_s: u64,
    /// Upload speed.
    #[specta(type = specta_typescript::Number)]
    pub up_bytes_per_s: u64,
    /// Connected peers.
    pub peers: u32,
    /// What went wrong, in words.
    pub error: Option<String>,
}

/// One row of the downloads view: a download or a seed the core manages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct DownloadItem {
    /// The title's name.
    pub name: String,
    /// What kind of title it is.
    pub kind: TitleKind,
    /// Where it comes from.
    pub origin: TitleOrigin,
    /// The video's height in pixels (0 for a game): the row names its quality, so the SD and
    /// the HD of one work read as two downloads, not one listed twice.
    pub height: u32,
    /// Its progress, speeds and peers.
    pub progress: DownloadProgress,
    /// Seconds left at the current download speed; `None` when not downloading or stalled.
    #[specta(type = Option<specta_typescript::Number>)]
    pub eta_s: Option<u64>,
    /// Whether removing it may delete its files: they are in a folder of the torrent's own
    /// (not a video this computer published, seeded from its only copy in the data folder).
    pub files_deletable: bool,
    /// Its place in the download queue, from 1: the titles still to download (those
    /// downloading and those waiting their turn) in the order they start. `None` for a title
    /// out of the queue: complete, paused by the person, or stopped by an error.
    pub queue_position: Option<u32>,
    /// What this computer received of it and gave of it to others, in every run.
    pub give_back: GiveBackBytes,
}

/// Bytes this computer received and gave: of one title, in one slot of time, or in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct GiveBackBytes {
    /// Received from other viewers.
    #[specta(type = specta_typescript::Number)]
    pub from_viewers: u64,
    /// Received from the store's own seeders.
    #[specta(type = specta_typescript::Number)]
    pub from_store: u64,
    /// Sent to other viewers.
    #[specta(type = specta_typescript::Number)]
    pub given: u64,
}

/// How far back the give-back chart looks, and how finely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum GiveBackSpan {
    /// The last hour, a minute a slot.
    Hour,
    /// The last day, half an hour a slot.
    Day,
    /// The last 30 days, a day a slot (UTC days).
    Month,
}

/// What this computer received and gave back: in total, and slot by slot over a span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct GiveBack {
    /// Everything, since the profile began counting.
    pub total: GiveBackBytes,
    /// The span the slots cover.
    pub span: GiveBackSpan,
    /// How long each slot is, ms.
    #[specta(type = specta_typescript::Number)]
    pub slot_ms: u64,
    /// The span's slots, oldest first; the last is the one filling now.
    pub slots: Vec<GiveBackSlot>,
}

/// One slot of the give-back chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct GiveBackSlot {
    /// When it begins (unix ms).
    #[specta(type = specta_typescript::Number)]
    pub start_ms: i64,
    /// What moved in it.
    pub bytes: GiveBackBytes,
}

/// The global transfer limits: speeds in KiB/s, and how many titles download at once; `None`
/// is unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct DownloadLimits {
    /// Download limit, KiB/s.
    pub download_kib_s: Option<u32>,
    /// Upload limit, KiB/s.
    pub upload_kib_s: Option<u32>,
    /// How many titles download at once; the others wait their turn in the queue. Seeding
    /// titles do not count, and a title being watched downloads whatever its place. `None` (or
    /// 0, when set) is no limit.
    pub active_downloads: Option<u32>,
    /// When the speed limits apply; outside it, speeds are unlimited. `None`: always.
    #[serde(default)]
    pub schedule: Option<LimitsSchedule>,
}

/// A daily window of local time when the speed limits apply (the person's evenings, say),
/// from `from_minute` until `until_minute`, minutes after midnight; a window past midnight has
/// `until_minute` below `from_minute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LimitsSchedule {
    /// When the limits start applying, minutes after local midnight (0 to 1,439).
    pub from_minute: u16,
    /// When they stop applying, minutes after local midnight (0 to 1,439).
    pub until_minute: u16,
}

impl LimitsSchedule {
    /// Whether the limits apply at `minute` after local midnight.
    pub fn applies_at(&self, minute: u16) -> bool {
        if self.from_minute <= self.until_minute {
            (self.from_minute..self.until_minute).contains(&minute)
        } else {
            minute >= self.from_minute || minute < self.until_minute
        }
    }
}

/// The speed limits in force now, KiB/s (`None`: unlimited): the person's limits inside their
/// schedule's window (or always, without one), none outside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SpeedsInForce {
    /// Download limit now, KiB/s.
    pub download_kib_s: Option<u32>,
    /// Upload limit now, KiB/s.
    pub upload_kib_s: Option<u32>,
    /// Whether the schedule holds the limits off now.
    pub outside_schedule: bool,
}

/// What a profile that never set its limits has: no speed limits, and
/// [`DEFAULT_ACTIVE_DOWNLOADS`] titles downloading at once.
impl Default for DownloadLimits {
    fn default() -> DownloadLimits {
        DownloadLimits {
            download_kib_s: None,
            upload_kib_s: None,
            active_downloads: Some(DEFAULT_ACTIVE_DOWNLOADS),
            schedule: None,
        }
    }
}

/// When complete titles stop being shared with other viewers. Titles made to be shared (the
/// store's free titles, videos this computer published) are shared whatever the limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SeedingPolicy {
    /// Whether complete titles are shared at all. Off, none is (but the videos this computer
    /// published, which have no other copy).
    pub share: bool,
    /// Stop sharing a title once it gave other viewers this many times its size (`None`: no
    /// limit).
    pub until_ratio: Option<f64>,
    /// Stop sharing a title once it was shared this many hours in all (`None`: no limit).
    pub until_hours: Option<u32>,
}

/// Until the person says otherwise, every complete title is shared while Marquee runs.
impl Default for SeedingPolicy {
    fn default() -> SeedingPolicy {
        SeedingPolicy {
            share: true,
            until_ratio: None,
            until_hours: None,
        }
    }
}

/// How many titles download at once until the person says otherwise: a few at a time finish
/// sooner one by one than all of them sharing the swarm, and the first is watchable soonest.
pub const DEFAULT_ACTIVE_DOWNLOADS: u32 = 3;

/// A title in the library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct LibraryEntry {
    /// The title.
    pub title: Title,
    /// When it was rented, bought or added (unix ms).
    #[specta(type = specta_typescript::Number)]
    pub acquired_at_ms: i64,
    /// The licence.
    pub licence: LicenceState,
    /// The download.
    pub download: DownloadProgress,
    /// Where playback stopped, seconds.
    pub position_s: f64,
    /// For games: the installed (decrypted) file, once the download is complete.
    pub local_path: Option<String>,
}

/// The result of renting, buying or getting a free title.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct AcquireResult {
    /// The library entry.
    pub entry: LibraryEntry,
    /// What was charged now (0 if it was already in the library).
    #[specta(type = specta_typescript::Number)]
    pub charged_cents: i64,
    /// The wallet after the order.
    pub wallet: Wallet,
}

/// Where the window plays a title from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct PlaybackSource {
    /// The title.
    pub title_id: String,
    /// `http://127.0.0.1:PORT/TOKEN/play/ID`.
    pub url: String,
    /// MIME type.
    pub mime: String,
    /// Resume position, seconds.
    pub position_s: f64,
}

/// A file dropped on the window (or picked): the page refers to it by `drop_id` only, never by
/// path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct DroppedFile {
    /// Opaque id of the file for later commands.
    pub drop_id: String,
    /// The file's name, for display.
    pub name: String,
    /// Its size.
    #[specta(type = specta_typescript::Number)]
    pub size_bytes: u64,
    /// `video` (to publish) or `torrent` (to add).
    pub kind: DroppedKind,
}

/// What a dropped file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum DroppedKind {
    /// A video to publish.
    Video,
    /// A `.torrent` file to add.
    Torrent,
    /// A magnet link to add: its torrent's details come from its peers when its preview is
    /// asked for.
    Magnet,
}

/// What opening a magnet link led to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MagnetOpened {
    /// The link's title is in the library already: shown as it is, nothing fetched.
    InLibrary {
        /// The title.
        entry: Box<LibraryEntry>,
    },
    /// A torrent to show before it is added (`torrent_preview`, then `torrent_import`).
    Preview {
        /// The link, as a dropped file of kind `magnet`.
        file: DroppedFile,
    },
}

/// Progress of preparing a file for publishing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct PublishProgress {
    /// The dropped file.
    pub drop_id: String,
    /// `copying` then `hashing` (making the torrent).
    pub stage: PublishStage,
    /// Bytes done.
    #[specta(type = specta_typescript::Number)]
    pub done_bytes: u64,
    /// Bytes in all.
    #[specta(type = specta_typescript::Number)]
    pub total_bytes: u64,
}

/// Stages of preparing a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum PublishStage {
    /// Checking and copying into the data folder.
    Copying,
    /// Hashing the copy's pieces for the torrent.
    Hashing,
}

/// A checked, copied file ready to be described and published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct PublishDraft {
    /// Id for `publish_submit`.
    pub draft_id: String,
    /// A title to start from (the file name).
    pub suggested_name: String,
    /// `video/webm` or `video/mp4`.
    pub mime: String,
    /// Video codec.
    pub video_codec: String,
    /// Audio codec.
    pub audio_codec: Option<String>,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Duration, seconds.
    pub duration_s: Option<f64>,
    /// Size.
    #[specta(type = specta_typescript::Number)]
    pub size_bytes: u64,
    /// A URL the publish sheet's `<video>` can play the copy from (to choose a poster frame).
    pub preview_url: String,
    /// The name this computer last published under, offered again ("" the first time).
    pub publisher_name: String,
}

/// What the publish sheet sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct PublishForm {
    /// Title.
    pub name: String,
    /// Description.
    pub description: String,
    /// Language (BCP 47, e.g. "en").
    pub language: String,
    /// The licence others get, e.g. "CC BY 4.0".
    pub licence_to_share: String,
    /// The poster frame as a `data:image/jpeg;base64,…` URL, chosen from the video.
    pub poster_data_url: Option<String>,
    /// The name shown beside the video (1 to 40 characters; never the account's e-mail).
    pub publisher_name: String,
}

/// Ways to share a free title outside the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ShareLinks {
    /// A magnet link with the store's tracker.
    pub magnet: String,
}

/// What a `.torrent` file handed to Marquee holds, shown before it is added: a torrent from a
/// stranger is read (never handed to the torrent session) and the person decides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct TorrentPreview {
    /// The dropped file's id, for `torrent_import` once the person agrees.
    pub drop_id: String,
    /// The torrent's name (the file's, or its folder's); the dropped file's name when the
    /// torrent cannot be read.
    pub name: String,
    /// The files it would write, padding left out, in torrent order.
    pub files: Vec<TorrentPreviewFile>,
    /// The size of everything it downloads.
    #[specta(type = specta_typescript::Number)]
    pub total_bytes: u64,
    /// The trackers it names (Marquee adds the store's own).
    pub trackers: Vec<String>,
    /// Its info hash (40 hex digits), or none when the file is not a readable torrent.
    pub info_hash: Option<String>,
    /// Why it cannot be added, in a sentence for people, or none when it can be.
    pub refusal: Option<String>,
    /// The name of the library title that already holds this torrent, if one does: adding it
    /// again changes nothing.
    pub in_library: Option<String>,
}

/// One file of a [`TorrentPreview`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct TorrentPreviewFile {
    /// Its path inside the torrent, parts joined with `/`.
    pub path: String,
    /// Its size.
    #[specta(type = specta_typescript::Number)]
    pub size_bytes: u64,
}

/// Stable error kinds the UI may branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The store does not know the title.
    UnknownTitle,
    /// The wallet cannot pay.
    InsufficientFunds,
    /// The store no longer accepts this session: sign in again.
    SignInRequired,
    /// Nobody is signed in: sign in or sign up.
    SignedOut,
    /// The e-mail and password match no account.
    WrongPassword,
    /// A purchase that plays on another computer of the account: move it here.
    LicensedElsewhere,
    /// A library record was edited outside Marquee: restore it from the account.
    LibraryTampered,
    /// The account is on as many computers as it may be: deactivate one.
    DeviceLimit,
    /// This computer is not registered with the account (or was deactivated).
    DeviceNotRegistered,
    /// An order id was used for a different order.
    OrderConflict,
    /// The title is listed but not for sale yet.
    NotForSale,
    /// Only purchases move between computers.
    NotMovable,
    /// Sign-up with an e-mail that has an account.
    EmailTaken,
    /// An e-mail or password the store does not accept.
    InvalidCredentials,
    /// Too many attempts for now (sign-in, sign-up): wait, then try again.
    RateLimited,
    /// An unknown voucher code.
    UnknownVoucher,
    /// A voucher that was redeemed before.
    VoucherUsed,
    /// A licence failed to verify.
    LicenceInvalid,
    /// A licence of another computer.
    LicenceOtherDevice,
    /// A rental that ended.
    LicenceExpired,
    /// The store revoked the licence.
    LicenceRevoked,
    /// The computer's clock is behind the latest trusted time.
    ClockBehind,
    /// This profile was made on another computer: register this one to continue.
    OtherComputer,
    /// This computer's identity cannot be used (an empty or shared machine id, a damaged key).
    DeviceUnusable,
    /// The store cannot be reached.
    StoreUnreachable,
    /// Another store answers at the address this profile first used.
    StoreKeyChanged,
    /// The catalog is not signed by the store.
    CatalogUntrusted,
    /// The store and this version of the app do not understand each other.
    StoreIncompatible,
    /// The store failed on its side.
    StoreFailed,
    /// The title is not in the library.
    NotInLibrary,
    /// The download failed.
    DownloadFailed,
    /// A download the person asked to change cannot be, as asked (playing, a published
    /// video's only copy, a limit out of range).
    DownloadRefused,
    /// The disk holding the downloads has no room for a title.
    DiskFull,
    /// Playback failed.
    Playback,
    /// A file could not be published.
    PublishRefused,
    /// A dropped file or draft is no longer held: drop it again.
    FileGone,
    /// Only free titles are shared outside the store.
    NotShareable,
    /// A magnet link or torrent file that cannot be added.
    TorrentRefused,
    /// A title whose file cannot be copied out safely (its torrent names it unsafely).
    ExportRefused,
    /// An update that was not installed (its signature, its download, the installer); the
    /// installed version keeps working.
    UpdateRefused,
    /// The person cancelled.
    Cancelled,
    /// A live channel that is no longer on the air.
    LiveEnded,
    /// The store has no directory of live channels: its operator sells titles only.
    LiveNotOffered,
    /// A live channel that cannot be watched here (a paid channel, a relay that could not
    /// start, a record its broadcaster did not sign).
    LiveUnavailable,
    /// A video that cannot go live (not WebM, no keyframe to start on, too large, no title).
    LiveRefused,
    /// A setting the settings page cannot take as given (a store address that is not one, a
    /// store fixed by the environment); nothing changed.
    SettingsRefused,
    /// Anything else.
    Internal,
}

/// A live channel the store's directory lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LiveChannel {
    /// The channel's id: its public key, hex.
    pub channel: String,
    /// Its title.
    pub title: String,
    /// Its poster, served from loopback, if the broadcaster gave one on the store.
    pub poster_url: Option<String>,
    /// Viewers the directory counts now.
    #[specta(type = specta_typescript::Number)]
    pub viewers: u64,
    /// When it went live, unix seconds.
    #[specta(type = specta_typescript::Number)]
    pub started_at: i64,
    /// Price of a pass in cents (0: free).
    #[specta(type = specta_typescript::Number)]
    pub price_cents: i64,
    /// Its bitrate, bits per second.
    #[specta(type = specta_typescript::Number)]
    pub bitrate_bps: u64,
}

/// A channel being watched: where the player reads it from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LiveSession {
    /// This viewing's id (a new one each time a channel is watched).
    pub session: String,
    /// The channel's id.
    pub channel: String,
    /// Its title.
    pub title: String,
    /// The stream's MIME type with its codecs, for Media Source Extensions.
    pub mime: String,
    /// Where the player reads the verified stream from (the loopback playback server).
    pub stream_url: String,
    /// Its bitrate, bits per second.
    #[specta(type = specta_typescript::Number)]
    pub bitrate_bps: u64,
}

/// Where a watched channel stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// Joining the relay: nothing played yet.
    Joining,
    /// Playing.
    Playing,
    /// Nothing arrived for a few seconds: the broadcaster paused, or the network did.
    Waiting,
    /// The broadcaster ended the channel.
    Ended,
    /// This computer stopped watching (the window closed, the app quit): the player closes.
    Stopped,
}

/// What a viewer is told once a second while watching.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LiveStatus {
    /// Where it stands.
    pub state: LiveState,
    /// Its relay's playout delay behind capture, ms.
    #[specta(type = Option<specta_typescript::Number>)]
    pub delay_ms: Option<u64>,
    /// What this computer sends to other viewers, bytes a second.
    #[specta(type = specta_typescript::Number)]
    pub upload_bytes_per_s: u64,
    /// What it receives, bytes a second.
    #[specta(type = specta_typescript::Number)]
    pub download_bytes_per_s: u64,
    /// Children it relays to, all stripes together.
    pub feeding: u32,
    /// Viewers of the channel, as the directory last said.
    #[specta(type = specta_typescript::Number)]
    pub viewers: u64,
    /// Chunks played on time.
    #[specta(type = specta_typescript::Number)]
    pub played: u64,
    /// Chunks that missed their time.
    #[specta(type = specta_typescript::Number)]
    pub missed: u64,
}

/// A video checked for going live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct LiveDraft {
    /// The dropped or picked file.
    pub drop_id: String,
    /// The file's name.
    pub name: String,
    /// A title suggested from the file's name.
    pub title: String,
    /// The file's size.
    #[specta(type = specta_typescript::Number)]
    pub size_bytes: u64,
    /// One pass of the loop, seconds.
    pub duration_s: f64,
    /// Its mean bitrate, bits per second.
    #[specta(type = specta_typescript::Number)]
    pub bitrate_bps: u64,
    /// Its MIME type with codecs.
    pub mime: String,
    /// How long its segments mostly are, seconds (its keyframes decide).
    pub segment_s: f64,
}

/// The first seconds of a video checked for going live, as the channel will send them: for the
/// sheet's preview (played through Media Source Extensions) and its poster frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LivePreview {
    /// The stream's MIME type with codecs.
    pub mime: String,
    /// Its init segment, base64.
    pub init: String,
    /// Its first media segments, base64.
    pub media: String,
}

/// The broadcast running from this computer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LiveBroadcast {
    /// Its channel's id.
    pub channel: String,
    /// Its title.
    pub title: String,
    /// Its bitrate, bits per second.
    #[specta(type = specta_typescript::Number)]
    pub bitrate_bps: u64,
    /// When it went live, unix seconds.
    #[specta(type = specta_typescript::Number)]
    pub started_at: i64,
}

/// Where a broadcast stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastState {
    /// On the air.
    Live,
    /// Stopped: the directory no longer lists it.
    Ended,
}

/// What a broadcaster is told once a second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct BroadcastStatus {
    /// Where it stands.
    pub state: BroadcastState,
    /// Viewers, as the directory last counted them.
    #[specta(type = specta_typescript::Number)]
    pub viewers: u64,
    /// What this computer sends, bytes a second (about twice the stream, whatever the audience).
    #[specta(type = specta_typescript::Number)]
    pub upload_bytes_per_s: u64,
    /// The stream's bitrate, bits per second.
    #[specta(type = specta_typescript::Number)]
    pub bitrate_bps: u64,
    /// Children it feeds directly, all stripes together.
    pub feeding: u32,
}

/// An error as the UI gets it: a kind to branch on, the values its sentence needs, and the
/// sentence in English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AppError {
    /// Stable kind.
    pub kind: ErrorKind,
    /// What happened and what to do next, in English (logs, the command line); the UI phrases
    /// its own sentence from `kind` and `params`.
    pub message: String,
    /// The values the UI's sentence needs, by name (`Error::params` says which): numbers and
    /// epoch milliseconds in digits, and `detail`, text the store or a lower layer wrote, as it
    /// came.
    pub params: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialise_as_the_ui_expects() {
        let e = AppError {
            kind: ErrorKind::InsufficientFunds,
            message: "x".into(),
            params: BTreeMap::from([("detail".to_owned(), "$4.00 short".to_owned())]),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"insufficient_funds","message":"x","params":{"detail":"$4.00 short"}}"#
        );
    }
}

/// Where this computer keeps the session secret between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SessionVaultKind {
    /// The OS credential store: Secret Service, Keychain or Credential Manager.
    OsCredentialStore,
    /// A file in the profile readable only by this user (no credential store answered).
    OwnerOnlyFile,
    /// Not kept: the embedded demo store signs its demo account in at every start.
    NotKept,
}

/// Who is signed in, on which store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AccountInfo {
    /// The store's address.
    pub store_url: String,
    /// The embedded demo store, signed in to its demo account automatically.
    pub demo_store: bool,
    /// The signed-in e-mail; `None` when signed out.
    pub email: Option<String>,
    /// Whether this computer is registered with the account (needed to rent or buy).
    pub device_registered: bool,
    /// Why it is not, in words (the device limit, say), when signed in but not registered.
    pub device_problem: Option<AppError>,
    /// Where the session is kept.
    pub session_vault: SessionVaultKind,
}

/// One computer of the account, on the account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AccountDevice {
    /// The app-specific device id (hex).
    pub device_id: String,
    /// When it was first registered, milliseconds since the Unix epoch.
    #[specta(type = specta_typescript::Number)]
    pub registered_at_ms: i64,
    /// False once deactivated.
    pub active: bool,
    /// This computer.
    pub this_device: bool,
}

/// One receipt of the purchase history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AccountReceipt {
    /// The store's order id.
    pub order_id: String,
    /// The title.
    pub title_id: String,
    /// Its name.
    pub title_name: String,
    /// Rent, buy or free.
    pub offer: OfferKind,
    /// What was charged, in cents.
    #[specta(type = specta_typescript::Number)]
    pub amount_cents: i64,
    /// Currency of the amount.
    pub currency: String,
    /// When, milliseconds since the Unix epoch.
    #[specta(type = specta_typescript::Number)]
    pub created_at_ms: i64,
    /// The computer it was for.
    pub device_id: String,
    /// That computer is this one.
    pub this_device: bool,
}

/// The account page: wallet, receipts and computers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct AccountOverview {
    /// Who is signed in.
    pub account: AccountInfo,
    /// The wallet.
    pub wallet: Wallet,
    /// Receipts, newest first.
    pub receipts: Vec<AccountReceipt>,
    /// The account's computers, oldest first.
    pub devices: Vec<AccountDevice>,
    /// How many computers may be active at once.
    pub device_limit: u32,
}

/// What restoring the account's titles on this computer did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RestoreResult {
    /// Titles put (back) in the library, playable here.
    pub restored: Vec<String>,
}

/// Whether the store answers. Offline, the app runs on what this computer holds: the catalog
/// as last verified, the downloaded titles and their licences (within each licence's window
/// and the trusted clock); it reconnects by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Connection {
    /// The store answered the latest call.
    pub online: bool,
    /// Since when it has (or has not), milliseconds since the Unix epoch.
    #[specta(type = specta_typescript::Number)]
    pub since_ms: i64,
    /// Offline: what the last attempt saw, in words for a person (no store answered, or one
    /// that is not this profile's store).
    pub problem: Option<String>,
    /// Offline: when Marquee tries again by itself, milliseconds since the Unix epoch.
    #[specta(type = specta_typescript::Number)]
    pub next_try_ms: Option<i64>,
}
