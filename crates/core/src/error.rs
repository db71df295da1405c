//! The core's error type: each variant maps to a stable [`ErrorKind`] the UI branches on, and
//! reads as a sentence that says what happened and what to do next. Every code the store can
//! answer with maps to one variant ([`Error::from_store`] matches them exhaustively), so a new
//! store code cannot reach a person as "something went wrong".
//!
//! The sentence ([`std::fmt::Display`]) is English, for logs and the command line. The UI phrases
//! its own sentence in the window's language from the kind and [`Error::params`]: the values each
//! sentence needs (a title's name, sizes in bytes, times in epoch milliseconds) and, where a
//! sentence quotes text the store or a lower layer wrote, that text as `detail`, as it came.

use std::collections::BTreeMap;

use marquee_licence::{DeviceError, LicenceError};
use marquee_protocol::api::ErrorCode;
use marquee_protocol::ClientError;

use crate::api::{AppError, ErrorKind};

/// Everything a core operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store does not know the title.
    #[error("This title is not in the store any more. Refresh the store to see what is on offer.")]
    UnknownTitle(String),
    /// The wallet cannot pay (the store's sentence says how much; it reaches the UI as
    /// `detail`, in the store's words).
    #[error("Not enough in your wallet: {0}. Nothing was charged.")]
    InsufficientFunds(String),
    /// The store no longer accepts this session (it expired, or its computer was deactivated).
    #[error(
        "Your session with the store has ended. Sign in again to continue; nothing was charged."
    )]
    SignInRequired(String),
    /// The store ended this computer's session: paid titles wait for a new sign-in.
    #[error("The store ended this computer's session (it may have been deactivated for your account). Sign in again to keep watching paid titles.")]
    SessionRefused,
    /// A library record changed outside Marquee (its seal does not match).
    #[error("This title's record on this computer was changed outside Marquee, so it will not play. Restore it from your account (Account, Restore my titles); you will not be charged again.")]
    LibraryTampered,
    /// Nobody is signed in on this computer.
    #[error("You are signed out. Sign in or create an account to rent, buy and see your account.")]
    SignedOut,
    /// Sign-in with an e-mail and password that do not match an account.
    #[error("That e-mail and password do not match an account on this store. Check them and sign in again, or create an account.")]
    WrongPassword,
    /// A purchase that plays on another computer of the account.
    #[error("You bought this title and it plays on another of your computers. Choose Move it here to watch it on this one; it then stops playing there.")]
    LicensedElsewhere(String),
    /// The store refused this computer's device key.
    #[error("The store refused this computer's key as unusable. Delete Marquee's data folder and start it again to make a new one.")]
    DeviceKeyRefused,
    /// The account has as many active computers as it may.
    #[error("Your account is already in use on as many computers as it may be. Deactivate a computer you no longer use, then try again.")]
    DeviceLimit(String),
    /// This computer is not (or no longer) registered with the account.
    #[error("This computer is not registered with your account any more (it may have been deactivated). Sign in again to register it.")]
    DeviceNotRegistered(String),
    /// An order id reused for a different order.
    #[error("This order was already placed for something else. Start the purchase again; nothing was charged twice.")]
    OrderConflict,
    /// The title is listed but not delivered yet.
    #[error(
        "This title is listed but not for sale yet. Look for it again later; nothing was charged."
    )]
    NotForSale(String),
    /// Only purchases move between computers.
    #[error("Only a purchase can move between computers. Rent this title again on this computer to watch it here.")]
    NotMovable,
    /// Sign-up with an e-mail that has an account.
    #[error("An account with this e-mail already exists. Sign in instead.")]
    EmailTaken,
    /// An e-mail or password the store does not accept: the store's sentence, which reaches the
    /// UI as `detail`, in the store's words.
    #[error("{0}")]
    InvalidCredentials(String),
    /// Too many attempts for now (sign-in, sign-up): the store's sentence says how long to
    /// wait (`detail` for the UI, in the store's words); `None` when it said nothing.
    #[error("{}", .0.as_deref().unwrap_or("Too many attempts. Wait a minute and try again."))]
    RateLimited(Option<String>),
    /// A voucher code nobody issued.
    #[error("This voucher code is not known. Check it for typing mistakes.")]
    UnknownVoucher,
    /// A voucher redeemed before.
    #[error("This voucher was already redeemed. Each code tops up a wallet once.")]
    VoucherUsed,
    /// The store cannot be reached.
    #[error("Marquee cannot reach the store right now. Check your connection and try again; nothing was charged.")]
    StoreUnreachable(String),
    /// Another store answers at the address this profile first used.
    #[error("The store at this address is not the one this computer first used: its identity has changed. Marquee will not trust it; check the store address, or ask the store's operator.")]
    StoreKeyChanged,
    /// A catalog (or signed time) that does not carry the store's signature; why, in the
    /// verifier's words, reaches the UI as `detail`.
    #[error("The store's catalog did not come signed by the store ({0}), so it is not shown. Try again later; if it keeps happening, something between you and the store is altering it.")]
    CatalogUntrusted(String),
    /// The store and this version of the app do not understand each other; what did not match
    /// (the store's code and words, or the client's) reaches the UI as `detail`.
    #[error(
        "This version of Marquee and the store do not understand each other ({0}). Update Marquee."
    )]
    StoreIncompatible(String),
    /// The store failed on its side.
    #[error(
        "The store had a problem on its side. Try again in a few minutes; nothing was charged."
    )]
    StoreFailed(String),
    /// A licence that does not verify or does not match the title; why reaches the UI as
    /// `detail`, in the words of the check that failed.
    #[error("The licence for this title could not be verified ({0}). Get the title again from the store; you will not be charged twice.")]
    LicenceInvalid(String),
    /// A licence of another computer.
    #[error("This title was licensed to another computer. Move a purchase here, or rent it again on this computer.")]
    LicenceOtherDevice,
    /// A rental that ended.
    #[error("This rental ended on {}. Rent it again to watch it.", crate::time::human_utc(*.ended_at))]
    RentalEnded {
        /// When it ended, unix seconds.
        ended_at: i64,
    },
    /// A rental that was not started before its start window closed.
    #[error("This rental had to be started by {}. Rent it again to watch it.", crate::time::human_utc(*.deadline))]
    RentalNotStarted {
        /// When the window closed, unix seconds.
        deadline: i64,
    },
    /// The local clock is behind the latest trusted time.
    #[error("Your computer's clock is behind (it says {}, but it was already {}). Connect to the store to continue, or set the clock right.", crate::time::human_utc(*.local), crate::time::human_utc(*.trusted))]
    ClockBehind {
        /// What the clock says, unix seconds.
        local: i64,
        /// The latest trusted time, unix seconds.
        trusted: i64,
    },
    /// The store revoked the licence.
    #[error("The store withdrew this licence. Get the title again from the store to watch it.")]
    LicenceRevoked,
    /// Not in the library.
    #[error("This title is not in your library yet. Rent, buy or get it from the Store first.")]
    NotInLibrary(String),
    /// The torrent failed; why reaches the UI as `detail`, in the torrent layer's words.
    #[error("The download failed: {0}. Try again in a moment.")]
    Download(String),
    /// A change to a download that cannot be made as asked; the whole sentence reaches the UI
    /// as `detail`.
    #[error("{0}")]
    DownloadRefused(String),
    /// The disk holding the downloads has no room for a title: refused before anything was
    /// ordered or added. The UI gets the sizes in bytes (`needed_bytes`, `free_bytes`) and
    /// writes them in the window's language.
    #[error("There is not enough free space for “{name}”: it needs {} and the disk holding Marquee's downloads has {} free. Free some space, then try again; nothing was charged.", human_bytes(*.needed_bytes), human_bytes(*.free_bytes))]
    DiskFull {
        /// The title.
        name: String,
        /// What it needs, bytes.
        needed_bytes: u64,
        /// What the disk has free, bytes.
        free_bytes: u64,
    },
    /// Playback failed; why reaches the UI as `detail`.
    #[error("This title cannot play right now: {0}")]
    Playback(String),
    /// A file that cannot be published; the sentence reaches the UI as `detail`.
    #[error("{0}")]
    Publish(#[from] crate::publishing::file::PublishError),
    /// The store refused a publication (a duplicate, or a signature it does not accept); the
    /// store's words reach the UI as `detail`.
    #[error("The store did not publish this video: {0}.")]
    PublishRefusedByStore(String),
    /// A dropped file or draft the core no longer holds.
    #[error("That file is no longer available to Marquee. Drop it on the window again.")]
    FileGone,
    /// Sharing a paid title outside the store.
    #[error("Only free, DRM-free titles can be shared outside the store.")]
    NotShareable,
    /// A magnet link or torrent file that cannot be added; why reaches the UI as `detail`.
    #[error("This cannot be added: {0}.")]
    BadTorrent(String),
    /// A title whose file cannot be copied out of the library safely; why reaches the UI as
    /// `detail`.
    #[error("This title cannot be exported: {0}.")]
    ExportRefused(String),
    /// A live channel that is no longer on the air.
    #[error(
        "This channel is no longer live: its broadcaster ended it. See what else is live now."
    )]
    LiveEnded,
    /// A store without a directory of live channels.
    #[error(
        "This store carries no live channels: its operator sells titles only. Films, episodes and everything else in it work as before."
    )]
    LiveNotOffered,
    /// A live channel that cannot be watched here; why reaches the UI as `detail`.
    #[error("This channel cannot be watched here: {0}.")]
    LiveUnavailable(String),
    /// A video that cannot go live; why reaches the UI as `detail`.
    #[error("This video cannot go live: {0}.")]
    LiveRefused(String),
    /// This computer's identity cannot be used; the licence crate's sentence reaches the UI as
    /// `detail`.
    #[error("{0}")]
    Device(#[from] DeviceError),
    /// Anything else; the cause's chain reaches the UI as `detail`.
    #[error("Something went wrong inside Marquee: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// Results of core operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable kind for the UI.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownTitle(_) => ErrorKind::UnknownTitle,
            Error::InsufficientFunds(_) => ErrorKind::InsufficientFunds,
            Error::SignInRequired(_) => ErrorKind::SignInRequired,
            Error::SignedOut => ErrorKind::SignedOut,
            Error::SessionRefused => ErrorKind::SignInRequired,
            Error::LibraryTampered => ErrorKind::LibraryTampered,
            Error::WrongPassword => ErrorKind::WrongPassword,
            Error::LicensedElsewhere(_) => ErrorKind::LicensedElsewhere,
            Error::DeviceKeyRefused => ErrorKind::DeviceUnusable,
            Error::DeviceLimit(_) => ErrorKind::DeviceLimit,
            Error::DeviceNotRegistered(_) => ErrorKind::DeviceNotRegistered,
            Error::OrderConflict => ErrorKind::OrderConflict,
            Error::NotForSale(_) => ErrorKind::NotForSale,
            Error::NotMovable => ErrorKind::NotMovable,
            Error::EmailTaken => ErrorKind::EmailTaken,
            Error::InvalidCredentials(_) => ErrorKind::InvalidCredentials,
            Error::RateLimited(_) => ErrorKind::RateLimited,
            Error::UnknownVoucher => ErrorKind::UnknownVoucher,
            Error::VoucherUsed => ErrorKind::VoucherUsed,
            Error::StoreUnreachable(_) => ErrorKind::StoreUnreachable,
            Error::StoreKeyChanged => ErrorKind::StoreKeyChanged,
            Error::CatalogUntrusted(_) => ErrorKind::CatalogUntrusted,
            Error::StoreIncompatible(_) => ErrorKind::StoreIncompatible,
            Error::StoreFailed(_) => ErrorKind::StoreFailed,
            Error::LicenceInvalid(_) => ErrorKind::LicenceInvalid,
            Error::LicenceOtherDevice => ErrorKind::LicenceOtherDevice,
            Error::RentalEnded { .. } | Error::RentalNotStarted { .. } => ErrorKind::LicenceExpired,
            Error::ClockBehind { .. } => ErrorKind::ClockBehind,
            Error::LicenceRevoked => ErrorKind::LicenceRevoked,
            Error::Device(DeviceError::OtherComputer) => ErrorKind::OtherComputer,
            Error::NotInLibrary(_) => ErrorKind::NotInLibrary,
            Error::Download(_) => ErrorKind::DownloadFailed,
            Error::DownloadRefused(_) => ErrorKind::DownloadRefused,
            Error::DiskFull { .. } => ErrorKind::DiskFull,
            Error::Playback(_) => ErrorKind::Playback,
            Error::Publish(crate::publishing::file::PublishError::Cancelled) => {
                ErrorKind::Cancelled
            }
            Error::Publish(_) | Error::PublishRefusedByStore(_) => ErrorKind::PublishRefused,
            Error::FileGone => ErrorKind::FileGone,
            Error::NotShareable => ErrorKind::NotShareable,
            Error::BadTorrent(_) => ErrorKind::TorrentRefused,
            Error::ExportRefused(_) => ErrorKind::ExportRefused,
            Error::LiveEnded => ErrorKind::LiveEnded,
            Error::LiveNotOffered => ErrorKind::LiveNotOffered,
            Error::LiveUnavailable(_) => ErrorKind::LiveUnavailable,
            Error::LiveRefused(_) => ErrorKind::LiveRefused,
            Error::Device(_) => ErrorKind::DeviceUnusable,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The values the UI's sentence for this error needs, by name (see the module's note):
    /// `name` (a title's name), sizes as `needed`/`free` (words, for now), times as `*_ms`
    /// (epoch milliseconds, for the UI to write in the window's language), `detail` (text the
    /// store or a lower layer wrote, unchanged), and `variant` where one kind has more than one
    /// sentence (the UI picks `errors.text.<kind>_<variant>`).
    pub fn params(&self) -> BTreeMap<String, String> {
        let detail = |text: &str| params([("detail", text.to_owned())]);
        match self {
            Error::UnknownTitle(_)
            | Error::SignInRequired(_)
            | Error::LibraryTampered
            | Error::SignedOut
            | Error::WrongPassword
            | Error::LicensedElsewhere(_)
            | Error::DeviceLimit(_)
            | Error::DeviceNotRegistered(_)
            | Error::OrderConflict
            | Error::NotForSale(_)
            | Error::NotMovable
            | Error::EmailTaken
            | Error::UnknownVoucher
            | Error::VoucherUsed
            | Error::StoreUnreachable(_)
            | Error::StoreKeyChanged
            | Error::StoreFailed(_)
            | Error::LicenceOtherDevice
            | Error::LicenceRevoked
            | Error::NotInLibrary(_)
            | Error::FileGone
            | Error::NotShareable
            | Error::LiveEnded
            | Error::LiveNotOffered => BTreeMap::new(),
            Error::SessionRefused => params([("variant", "session_refused".to_owned())]),
            Error::DeviceKeyRefused => params([("variant", "key_refused".to_owned())]),
            Error::RateLimited(None) => BTreeMap::new(),
            Error::RateLimited(Some(said)) => {
                params([("detail", said.clone()), ("variant", "store".to_owned())])
            }
            Error::InsufficientFunds(said)
            | Error::InvalidCredentials(said)
            | Error::CatalogUntrusted(said)
            | Error::StoreIncompatible(said)
            | Error::LicenceInvalid(said)
            | Error::Download(said)
            | Error::DownloadRefused(said)
            | Error::Playback(said)
            | Error::BadTorrent(said)
            | Error::ExportRefused(said)
            | Error::LiveUnavailable(said)
            | Error::LiveRefused(said) => detail(said),
            Error::PublishRefusedByStore(said) => {
                params([("detail", said.clone()), ("variant", "store".to_owned())])
            }
            Error::RentalEnded { ended_at } => params([("ended_ms", ms(*ended_at))]),
            Error::RentalNotStarted { deadline } => params([
                ("deadline_ms", ms(*deadline)),
                ("variant", "not_started".to_owned()),
            ]),
            Error::ClockBehind { local, trusted } => {
                params([("local_ms", ms(*local)), ("trusted_ms", ms(*trusted))])
            }
            Error::DiskFull {
                name,
                needed_bytes,
                free_bytes,
            } => params([
                ("name", name.clone()),
                ("needed_bytes", needed_bytes.to_string()),
                ("free_bytes", free_bytes.to_string()),
            ]),
            Error::Publish(crate::publishing::file::PublishError::Cancelled) => BTreeMap::new(),
            Error::Publish(e) => detail(&e.to_string()),
            Error::Device(e) => detail(&e.to_string()),
            Error::Internal(e) => detail(&format!("{e:#}")),
        }
    }

    /// What a store's error answer means for the person. Exhaustive on purpose: a new code in
    /// the wire crate does not compile until it says something here.
    pub fn from_store(code: ErrorCode, message: String) -> Error {
        match code {
            ErrorCode::UnknownTitle => Error::UnknownTitle(message),
            ErrorCode::InsufficientFunds => Error::InsufficientFunds(message),
            ErrorCode::Unauthorized | ErrorCode::SessionExpired => Error::SignInRequired(message),
            ErrorCode::DeviceLimit => Error::DeviceLimit(message),
            ErrorCode::UnknownDevice | ErrorCode::DeviceInactive => {
                Error::DeviceNotRegistered(message)
            }
            ErrorCode::OrderConflict => Error::OrderConflict,
            ErrorCode::NotForSale => Error::NotForSale(message),
            ErrorCode::NotMovable => Error::NotMovable,
            ErrorCode::EmailTaken => Error::EmailTaken,
            ErrorCode::InvalidCredentials => Error::InvalidCredentials(sentence(&message)),
            ErrorCode::RateLimited => {
                Error::RateLimited((!message.trim().is_empty()).then(|| sentence(&message)))
            }
            ErrorCode::UnknownVoucher => Error::UnknownVoucher,
            ErrorCode::VoucherUsed => Error::VoucherUsed,
            ErrorCode::UnknownLicence => {
                Error::LicenceInvalid("the store has no record of it".into())
            }
            ErrorCode::LicenceRevoked => Error::LicenceRevoked,
            ErrorCode::LicensedElsewhere => Error::LicensedElsewhere(message),
            ErrorCode::InvalidDeviceKey => Error::DeviceKeyRefused,
            ErrorCode::Duplicate | ErrorCode::BadSignature => Error::PublishRefusedByStore(message),
            // The app never sends these on purpose: they mean the two sides disagree on the API.
            ErrorCode::BadRequest
            | ErrorCode::MalformedJson
            | ErrorCode::PayloadTooLarge
            | ErrorCode::NotFound
            | ErrorCode::MethodNotAllowed
            | ErrorCode::UnsupportedMediaType
            | ErrorCode::OperatorOnly
            | ErrorCode::Unknown => {
                Error::StoreIncompatible(format!("{}: {message}", code.as_str()))
            }
            ErrorCode::Internal => Error::StoreFailed(message),
        }
    }

    /// Maps a licence check failure to what the person should see.
    pub fn from_licence(e: LicenceError) -> Error {
        match e {
            LicenceError::OtherDevice => Error::LicenceOtherDevice,
            LicenceError::Expired { ended_at } => Error::RentalEnded { ended_at },
            LicenceError::StartWindowPassed { deadline } => Error::RentalNotStarted { deadline },
            other => Error::LicenceInvalid(other.to_string()),
        }
    }
}

/// A map of sentence values.
fn params<const N: usize>(values: [(&str, String); N]) -> BTreeMap<String, String> {
    values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Unix seconds as epoch milliseconds, in digits.
fn ms(unix_s: i64) -> String {
    unix_s.saturating_mul(1000).to_string()
}

/// A size for people, in English and the units the window uses (the window writes its own
/// through `Intl`; this is for the core's sentences and the shell's): "2.6 MB", "870 KB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let (mut value, mut unit) = (bytes as f64, 0);
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ if value < 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.0} {}", UNITS[unit]),
    }
}

/// The store's sentences start in lower case and carry no full stop (they are written to
/// follow a colon): shown on their own, they become a sentence.
fn sentence(s: &str) -> String {
    let s = s.trim().trim_end_matches('.');
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
        None => "The store did not accept this e-mail or password.".into(),
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Unreachable(why) => Error::StoreUnreachable(why),
            ClientError::Refused { code, message, .. } => Error::from_store(code, message),
            ClientError::Malformed(why) => Error::StoreIncompatible(why),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Internal(anyhow::Error::new(e).context("library database"))
    }
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::from(&e)
    }
}

impl From<&Error> for AppError {
    fn from(e: &Error) -> Self {
        AppError {
            kind: e.kind(),
            message: e.to_string(),
            params: e.params(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_in_the_window() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(2_600_939), "2.6 MB");
        assert_eq!(human_bytes(25_170_145), "25 MB");
    }

    #[test]
    fn licence_failures_become_sentences_with_a_next_step() {
        let e = Error::from_licence(LicenceError::OtherDevice);
        assert_eq!(e.kind(), ErrorKind::LicenceOtherDevice);
        assert!(e.to_string().contains("another computer"));
        let e = Error::from_licence(LicenceError::Expired { ended_at: 0 });
        assert_eq!(e.kind(), ErrorKind::LicenceExpired);
        assert_eq!(
            e.to_string(),
            "This rental ended on 1 January 1970 at 00:00 UTC. Rent it again to watch it."
        );
    }

    #[test]
    fn every_store_code_reaches_the_person_as_its_own_kind_with_a_sentence() {
        for &code in ErrorCode::ALL.iter().chain([&ErrorCode::Unknown]) {
            let e = Error::from_store(code, "detail from the store".into());
            let kind = e.kind();
            assert_ne!(
                kind,
                ErrorKind::Internal,
                "{code:?} reaches the person as internal"
            );
            let sentence = e.to_string();
            assert!(
                sentence.starts_with(|c: char| c.is_uppercase()) && sentence.ends_with('.'),
                "{code:?}: {sentence:?} is not a sentence"
            );
            assert!(
                !sentence.contains("Something went wrong"),
                "{code:?}: {sentence}"
            );
        }
        // The codes the issue names, each with the next step a person can take.
        let says = |code, step: &str| {
            let e = Error::from_store(code, String::new());
            assert!(e.to_string().contains(step), "{code:?}: {e}");
        };
        says(ErrorCode::SessionExpired, "Sign in again");
        says(ErrorCode::LicensedElsewhere, "Move it here");
        says(ErrorCode::DeviceLimit, "Deactivate a computer");
        says(ErrorCode::OrderConflict, "Start the purchase again");
        says(ErrorCode::NotForSale, "not for sale yet");
        says(ErrorCode::InsufficientFunds, "Nothing was charged");
        says(ErrorCode::RateLimited, "Wait a minute and try again");
        let e = Error::from_store(
            ErrorCode::RateLimited,
            "too many sign-in attempts from here: wait a minute and try again".into(),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(
            e.to_string(),
            "Too many sign-in attempts from here: wait a minute and try again."
        );
        assert_eq!(Error::StoreKeyChanged.kind(), ErrorKind::StoreKeyChanged);
    }

    /// One of each variant (the licence crate's device errors by two of theirs).
    fn one_of_each() -> Vec<Error> {
        let text = || "detail from the store".to_owned();
        vec![
            Error::UnknownTitle(text()),
            Error::InsufficientFunds("$4.00 short".into()),
            Error::SignInRequired(text()),
            Error::SessionRefused,
            Error::LibraryTampered,
            Error::SignedOut,
            Error::WrongPassword,
            Error::LicensedElsewhere(text()),
            Error::DeviceKeyRefused,
            Error::DeviceLimit(text()),
            Error::DeviceNotRegistered(text()),
            Error::OrderConflict,
            Error::NotForSale(text()),
            Error::NotMovable,
            Error::EmailTaken,
            Error::InvalidCredentials("The password is too short.".into()),
            Error::RateLimited(None),
            Error::RateLimited(Some("Too many sign-in attempts: wait a minute.".into())),
            Error::UnknownVoucher,
            Error::VoucherUsed,
            Error::StoreUnreachable(text()),
            Error::StoreKeyChanged,
            Error::CatalogUntrusted("bad signature".into()),
            Error::StoreIncompatible("not_found: no such route".into()),
            Error::StoreFailed(text()),
            Error::LicenceInvalid("not base64".into()),
            Error::LicenceOtherDevice,
            Error::RentalEnded { ended_at: 0 },
            Error::RentalNotStarted {
                deadline: 1_772_574_000,
            },
            Error::ClockBehind {
                local: 1_700_000_000,
                trusted: 1_772_574_000,
            },
            Error::LicenceRevoked,
            Error::NotInLibrary(text()),
            Error::Download("the tracker did not answer".into()),
            Error::DownloadRefused("A title that is playing cannot be paused.".into()),
            Error::DiskFull {
                name: "First Light".into(),
                needed_bytes: 2_600_939,
                free_bytes: 1_250_000,
            },
            Error::Playback("the file is damaged".into()),
            Error::Publish(crate::publishing::file::PublishError::BadName),
            Error::Publish(crate::publishing::file::PublishError::Cancelled),
            Error::PublishRefusedByStore("a title with this file already exists".into()),
            Error::FileGone,
            Error::NotShareable,
            Error::BadTorrent("it is not a magnet link or a torrent file".into()),
            Error::ExportRefused("its file name is unsafe".into()),
            Error::LiveEnded,
            Error::LiveNotOffered,
            Error::LiveUnavailable("it is a paid channel".into()),
            Error::LiveRefused("it is not WebM".into()),
            Error::Device(DeviceError::OtherComputer),
            Error::Device(DeviceError::EmptyMachineId),
            Error::Internal(anyhow::anyhow!("disk I/O").context("library database")),
        ]
    }

    fn keys(e: &Error) -> Vec<String> {
        e.params().into_keys().collect()
    }

    #[test]
    fn params_hold_what_each_sentence_needs() {
        let e = Error::DiskFull {
            name: "First Light".into(),
            needed_bytes: 2_600_939,
            free_bytes: 1_250_000,
        };
        assert_eq!(keys(&e), ["free_bytes", "name", "needed_bytes"]);
        assert_eq!(e.params()["needed_bytes"], "2600939");
        assert_eq!(e.params()["name"], "First Light");
        let e = Error::ClockBehind {
            local: 1_700_000_000,
            trusted: 1_772_574_000,
        };
        assert_eq!(e.params()["local_ms"], "1700000000000");
        assert_eq!(e.params()["trusted_ms"], "1772574000000");
        let e = Error::from_licence(LicenceError::Expired { ended_at: 60 });
        assert_eq!(e.params()["ended_ms"], "60000");
        let e = Error::from_licence(LicenceError::StartWindowPassed { deadline: 60 });
        assert_eq!(keys(&e), ["deadline_ms", "variant"]);
        assert_eq!(e.kind(), ErrorKind::LicenceExpired);
        // The store's words stay as they came.
        let e = Error::from_store(ErrorCode::InsufficientFunds, "$4.00 short".into());
        assert_eq!(e.params()["detail"], "$4.00 short");
        let e = Error::from_store(ErrorCode::Duplicate, "already published".into());
        assert_eq!(e.params()["detail"], "already published");
        assert_eq!(e.params()["variant"], "store");
        assert!(Error::from_store(ErrorCode::RateLimited, String::new())
            .params()
            .is_empty());
        for e in [
            Error::BadTorrent("x".into()),
            Error::LiveRefused("x".into()),
            Error::Device(DeviceError::EmptyMachineId),
            Error::Internal(anyhow::anyhow!("x")),
        ] {
            assert_eq!(keys(&e), ["detail"], "{e:?}");
        }
        for e in [
            Error::SignedOut,
            Error::FileGone,
            Error::StoreUnreachable("x".into()),
        ] {
            assert!(e.params().is_empty(), "{e:?}");
        }
        // The UI gets them with the kind and the English sentence.
        let app = AppError::from(Error::BadTorrent("it is empty".into()));
        assert_eq!(app.kind, ErrorKind::TorrentRefused);
        assert_eq!(app.message, "This cannot be added: it is empty.");
        assert_eq!(app.params["detail"], "it is empty");
    }

    /// The window's English sentence, `errors.text.<kind>[_<variant>]` in the UI's messages,
    /// filled with `params` reads as the core's: for every variant whose values are text.
    #[test]
    fn the_windows_english_reads_as_the_cores_sentence() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ui/src/lib/i18n/messages/en/errors.json"
        );
        let messages: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("the UI's English"))
                .expect("JSON");
        let texts = &messages["text"];
        for e in one_of_each() {
            let params = e.params();
            let kind = serde_json::to_value(e.kind()).unwrap();
            let kind = kind.as_str().unwrap();
            let key = match params.get("variant") {
                Some(v) => format!("{kind}_{v}"),
                None => kind.to_owned(),
            };
            let mut text = texts[&key]
                .as_str()
                .unwrap_or_else(|| panic!("no errors.text.{key} for {e:?}"))
                .to_owned();
            // Dates and sizes are the window's to write (in its time zone and language): `x_ms`
            // and `x_bytes` fill `{{x}}`.
            let formatted = |k: &str| k.ends_with("_ms") || k.ends_with("_bytes");
            if params.keys().any(|k| formatted(k)) {
                for name in text.clone().split("{{").skip(1) {
                    let name = name.split("}}").next().unwrap();
                    assert!(
                        params.contains_key(name)
                            || params.contains_key(&format!("{name}_ms"))
                            || params.contains_key(&format!("{name}_bytes")),
                        "{key}: {name}"
                    );
                }
                continue;
            }
            for (name, value) in &params {
                text = text.replace(&format!("{{{{{name}}}}}"), value);
            }
            assert!(!text.contains("{{"), "{key}: {text} lacks a value");
            let core = e.to_string();
            // The core's `Cancelled` is a clause ("publishing was cancelled…"); the window
            // never shows it, and writes it as a sentence.
            if matches!(
                e,
                Error::Publish(crate::publishing::file::PublishError::Cancelled)
            ) {
                assert!(
                    text.trim_end_matches('.').eq_ignore_ascii_case(&core),
                    "{text} / {core}"
                );
                continue;
            }
            assert_eq!(text, core, "errors.text.{key}");
        }
    }

    #[test]
    fn retrying_is_offered_only_where_it_can_help() {
        // A refusal that retrying cannot change never says "try again" on its own.
        for e in [
            Error::from_store(ErrorCode::NotMovable, String::new()),
            Error::from_store(ErrorCode::EmailTaken, String::new()),
            Error::StoreKeyChanged,
            Error::FileGone,
            Error::NotShareable,
        ] {
            assert!(!e.to_string().contains("Try again"), "{e}");
        }
    }
}
