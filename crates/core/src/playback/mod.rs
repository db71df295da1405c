//! Playback: opening a library title on the local playback server (licence checked, container
//! header read through the torrent, content key unwrapped) and saving where it stopped.

pub mod range;
mod server;

pub use server::*;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

use librqbit::ManagedTorrent;
use marquee_licence::container::{Header, Opener, HEADER_LEN};
use tokio::io::AsyncReadExt;

use crate::api::{PlaybackSource, TitleKind};
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::library::Library;
use crate::licences::Licences;
use crate::sync::LicenceSync;
use crate::time;
use crate::torrents::Torrents;

/// The playback server and what opening a title needs.
pub(crate) struct Playback {
    server: PlaybackServer,
    library: Library,
    licences: Arc<Licences>,
    sync: Arc<LicenceSync>,
    torrents: Arc<Torrents>,
    identity: Arc<Identity>,
}

impl Playback {
    /// Starts the playback server.
    pub(crate) async fn start(
        library: Library,
        licences: Arc<Licences>,
        sync: Arc<LicenceSync>,
        torrents: Arc<Torrents>,
        identity: Arc<Identity>,
    ) -> Result<Playback> {
        Ok(Playback {
            server: PlaybackServer::start().await?,
            library,
            licences,
            sync,
            torrents,
            identity,
        })
    }

    /// The server, for publishing's previews.
    pub(crate) fn server(&self) -> &PlaybackServer {
        &self.server
    }

    /// Opens a title on the playback server. Checks the licence (signature, this computer,
    /// rental window), reads the container header through the torrent (its first piece comes
    /// first), unwraps the content key and returns the URL the window plays.
    pub(crate) async fn open(&self, title_id: &str) -> Result<PlaybackSource> {
        let row = self.library.row(title_id).await?;
        if TitleKind::parse(&row.title.kind) == TitleKind::Game {
            return Err(Error::Playback(
                "games are downloaded, not played in the window".into(),
            ));
        }
        if row.licence.is_some() {
            // Honour revocations as soon as the store is reachable.
            self.sync.sync_recent().await.ok();
        }
        let row = self.library.row(title_id).await?;
        if row.revoked {
            return Err(Error::LicenceRevoked);
        }
        if row.licence.is_some() {
            if row.tampered {
                // A library copied from another computer does not match this computer's seal
                // either: there the licence, made for that computer, says so first.
                if let Some(bytes) = &row.licence {
                    self.licences.verified(&row.title, bytes)?;
                }
                return Err(Error::LibraryTampered);
            }
            self.licences.require_checked().await?;
        }
        let now = if row.licence.is_some() {
            self.licences.trusted_now().await?
        } else {
            time::unix_now()
        };
        let (handle, _) = self.torrents.ensure(&row, None).await?;
        let (opener, plaintext_len, licence) = match &row.licence {
            Some(bytes) => {
                let licence = self.licences.verified(&row.title, bytes)?;
                licence
                    .check_time(now, row.first_frame_at)
                    .map_err(Error::from_licence)?;
                let header = read_header(&handle).await?;
                let key = licence
                    .unwrap_key(&self.identity.keys, &header.nonce_prefix)
                    .map_err(Error::from_licence)?;
                let opener =
                    Opener::new(&key, header).map_err(|e| Error::Playback(e.to_string()))?;
                (Some(opener), header.plaintext_len, Some(licence))
            }
            None if row.title.encrypted => {
                return Err(Error::LicenceInvalid("no licence is stored for it".into()))
            }
            None => (None, row.title.size_bytes, None),
        };
        self.server.open(
            title_id,
            OpenTitle {
                torrent: handle,
                mime: row.title.mime.clone(),
                opener,
                plaintext_len,
                licence,
                first_frame_at: AtomicI64::new(row.first_frame_at.unwrap_or(0)),
                clock: self.licences.clock(),
            },
        );
        Ok(PlaybackSource {
            title_id: title_id.to_owned(),
            url: self.server.url(title_id),
            mime: row.title.mime.clone(),
            position_s: row.position_s,
        })
    }

    /// Saves the playback position; the first report with `first_frame` starts the rental
    /// window.
    pub(crate) async fn report(
        &self,
        title_id: &str,
        position_s: f64,
        first_frame: bool,
    ) -> Result<()> {
        let now = self.licences.now_or_mark();
        let first = first_frame.then_some(now);
        self.library
            .report_playback(title_id, position_s.max(0.0), first)
            .await?;
        if first_frame {
            self.server.first_frame(title_id, now);
            if let Some(row) = self.library.get(title_id).await? {
                if let Some(at) = row.first_frame_at.filter(|_| !row.first_frame_reported) {
                    self.sync.report_first_frame(&row, at);
                }
            }
        }
        Ok(())
    }
}

/// Reads and parses the container header through the torrent's stream.
async fn read_header(handle: &Arc<ManagedTorrent>) -> Result<Header> {
    let read = async {
        let mut stream = handle.clone().stream(0).await?;
        let mut buf = [0u8; HEADER_LEN];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    };
    let buf = tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .map_err(|_| Error::Download("no peer sent the start of the title within a minute".into()))?
        .map_err(|e| Error::Download(format!("{e:#}")))?;
    Header::parse(&buf).map_err(|e| Error::Playback(e.to_string()))
}
