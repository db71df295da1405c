//! The core's error type: each variant maps to a stable [`ErrorKind`] and a sentence that says
//! what happened and what to do next.

use marquee_licence::{DeviceError, LicenceError};

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
    /// The store answered with an error we do not handle specially.
    #[error("The store refused: {message}")]
    Store {
        /// The store's stable code.
        code: String,
        /// The store's sentence.
        message: String,
    },
    /// The store cannot be reached.
    #[error("Marquee cannot reach the store right now. Check your connection and try again; nothing was charged.")]
    StoreUnreachable(String),
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
    /// Playback failed.
    #[error("This title cannot play right now: {0}")]
    Playback(String),
    /// A file that cannot be published or added.
    #[error("{0}")]
    Publish(#[from] crate::publish::PublishError),
    /// A magnet link or torrent file that cannot be added.
    #[error("This cannot be added: {0}")]
    BadTorrent(String),
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
            Error::StoreUnreachable(_) => ErrorKind::StoreUnreachable,
            Error::LicenceInvalid(_) => ErrorKind::LicenceInvalid,
            Error::LicenceOtherDevice => ErrorKind::LicenceOtherDevice,
            Error::LicenceExpired(_) => ErrorKind::LicenceExpired,
            Error::ClockBehind { .. } => ErrorKind::ClockBehind,
            Error::LicenceRevoked => ErrorKind::LicenceRevoked,
            Error::Device(marquee_licence::DeviceError::OtherComputer) => ErrorKind::OtherComputer,
            Error::NotInLibrary(_) => ErrorKind::NotInLibrary,
            Error::Download(_) => ErrorKind::DownloadFailed,
            Error::Playback(_) => ErrorKind::Playback,
            Error::Publish(crate::publish::PublishError::Cancelled) => ErrorKind::Cancelled,
            Error::Publish(_) | Error::BadTorrent(_) => ErrorKind::PublishRefused,
            Error::Store { .. } | Error::Device(_) | Error::Internal(_) => ErrorKind::Internal,
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
}
