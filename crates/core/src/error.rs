//! The core's error type: each variant maps to a stable [`ErrorKind`] the UI branches on, and
//! reads as a sentence that says what happened and what to do next. Every code the store can
//! answer with maps to one variant ([`Error::from_store`] matches them exhaustively), so a new
//! store code cannot reach a person as "something went wrong".

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
    /// The wallet cannot pay (the store's sentence says how much).
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
    /// An e-mail or password the store does not accept.
    #[error("{0}")]
    InvalidCredentials(String),
    /// Too many attempts for now (sign-in, sign-up): the store's sentence says how long to
    /// wait.
    #[error("{0}")]
    RateLimited(String),
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
    /// A catalog (or signed time) that does not carry the store's signature.
    #[error("The store's catalog did not come signed by the store ({0}), so it is not shown. Try again later; if it keeps happening, something between you and the store is altering it.")]
    CatalogUntrusted(String),
    /// The store and this version of the app do not understand each other.
    #[error(
        "This version of Marquee and the store do not understand each other ({0}). Update Marquee."
    )]
    StoreIncompatible(String),
    /// The store failed on its side.
    #[error(
        "The store had a problem on its side. Try again in a few minutes; nothing was charged."
    )]
    StoreFailed(String),
    /// A licence that does not verify or does not match the title.
    #[error("The licence for this title could not be verified ({0}). Get the title again from the store; you will not be charged twice.")]
    LicenceInvalid(String),
    /// A licence of another computer.
    #[error("This title was licensed to another computer. Move a purchase here, or rent it again on this computer.")]
    LicenceOtherDevice,
    /// A rental that ended or was never started in time.
    #[error("{0} Rent it again to watch it.")]
    LicenceExpired(String),
    /// The local clock is behind the latest trusted time.
    #[error("Your computer's clock is behind (it says {local}, but it was already {trusted}). Connect to the store to continue, or set the clock right.")]
    ClockBehind {
        /// What the clock says.
        local: String,
        /// The latest trusted time.
        trusted: String,
    },
    /// The store revoked the licence.
    #[error("The store withdrew this licence. Get the title again from the store to watch it.")]
    LicenceRevoked,
    /// Not in the library.
    #[error("This title is not in your library yet. Rent, buy or get it from the Store first.")]
    NotInLibrary(String),
    /// The torrent failed.
    #[error("The download failed: {0}. Try again in a moment.")]
    Download(String),
    /// A change to a download that cannot be made as asked.
    #[error("{0}")]
    DownloadRefused(String),
    /// The disk holding the downloads has no room for a title: refused before anything was
    /// ordered or added.
    #[error("There is not enough free space for “{name}”: it needs {needed} and the disk holding Marquee's downloads has {free} free. Free some space, then try again; nothing was charged.")]
    DiskFull {
        /// The title.
        name: String,
        /// What it needs, for people ("2.6 MB").
        needed: String,
        /// What the disk has, for people.
        free: String,
    },
    /// Playback failed.
    #[error("This title cannot play right now: {0}")]
    Playback(String),
    /// A file that cannot be published.
    #[error("{0}")]
    Publish(#[from] crate::publishing::file::PublishError),
    /// The store refused a publication (a duplicate, or a signature it does not accept).
    #[error("The store did not publish this video: {0}.")]
    PublishRefusedByStore(String),
    /// A dropped file or draft the core no longer holds.
    #[error("That file is no longer available to Marquee. Drop it on the window again.")]
    FileGone,
    /// Sharing a paid title outside the store.
    #[error("Only free, DRM-free titles can be shared outside the store.")]
    NotShareable,
    /// A magnet link or torrent file that cannot be added.
    #[error("This cannot be added: {0}.")]
    BadTorrent(String),
    /// A title whose file cannot be copied out of the library safely.
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
    /// A live channel that cannot be watched here.
    #[error("This channel cannot be watched here: {0}.")]
    LiveUnavailable(String),
    /// A video that cannot go live.
    #[error("This video cannot go live: {0}.")]
    LiveRefused(String),
    /// This computer's identity cannot be used.
    #[error("{0}")]
    Device(#[from] DeviceError),
    /// Anything else.
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
            Error::LicenceExpired(_) => ErrorKind::LicenceExpired,
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
            ErrorCode::RateLimited => Error::RateLimited(if message.trim().is_empty() {
                "Too many attempts. Wait a minute and try again.".into()
            } else {
                sentence(&message)
            }),
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
            LicenceError::Expired { ended_at } => Error::LicenceExpired(format!(
                "This rental ended on {}.",
                crate::time::human_utc(ended_at)
            )),
            LicenceError::StartWindowPassed { deadline } => Error::LicenceExpired(format!(
                "This rental had to be started by {}.",
                crate::time::human_utc(deadline)
            )),
            other => Error::LicenceInvalid(other.to_string()),
        }
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
        AppError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
