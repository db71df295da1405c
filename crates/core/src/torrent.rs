//! The app's BitTorrent session (librqbit): DHT and local service discovery off, peers come
//! from the store's tracker and peer hints; our own library, not librqbit's persistence, decides
//! what is re-added at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use librqbit::{
    AddTorrent, AddTorrentOptions, ManagedTorrent, Session, SessionOptions, TorrentStatsState,
};

use crate::api::{DownloadProgress, DownloadState};
use crate::error::{Error, Result};

/// The torrent session and where it keeps downloads.
pub struct Torrents {
    session: Arc<Session>,
    downloads: PathBuf,
}

impl Torrents {
    /// Starts a session that listens for peers on `listen` (port 0 picks a free one).
    pub async fn start(downloads: &Path, listen: SocketAddr) -> Result<Torrents> {
        std::fs::create_dir_all(downloads).context("creating the downloads folder")?;
        let session = Session::new_with_opts(
            downloads.to_path_buf(),
            SessionOptions {
                // Every open playback response holds a stream permit from this pool, shared with
                // hash checking; a <video> opens several range requests at once.
                runtime_worker_threads: Some(16),
                ..marquee_protocol::swarm::session_options(listen)?
            },
        )
        .await
        .context("starting the torrent session")?;
        Ok(Torrents {
            session,
            downloads: downloads.to_path_buf(),
        })
    }

    /// Where peers can reach this session.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.session.listen_addr()
    }

    /// Adds (or resumes: existing pieces are checked, not fetched again) a torrent of the
    /// store, refusing one whose info hash is not the one the signed catalog names.
    pub async fn add(
        &self,
        torrent: &[u8],
        expected_info_hash: &str,
        peers: Vec<SocketAddr>,
        trackers: Vec<String>,
    ) -> Result<Arc<ManagedTorrent>> {
        let handle = self
            .add_source(
                AddTorrent::from_bytes(torrent.to_vec()),
                &self.downloads,
                peers,
                trackers,
            )
            .await?;
        if handle.info_hash().as_string() != expected_info_hash {
            // The store sent a torrent that is not the one its signed feed names.
            let _ = self.session.delete(handle.id().into(), false).await;
            return Err(Error::Download(
                "the store sent a torrent that does not match its catalog".into(),
            ));
        }
        Ok(handle)
    }

    /// Adds a torrent (bytes or a magnet link) whose files live in `folder`.
    pub async fn add_source(
        &self,
        source: AddTorrent<'_>,
        folder: &Path,
        peers: Vec<SocketAddr>,
        trackers: Vec<String>,
    ) -> Result<Arc<ManagedTorrent>> {
        let resp = self
            .session
            .add_torrent(
                source,
                Some(AddTorrentOptions {
                    overwrite: true,
                    output_folder: Some(folder.to_string_lossy().into_owned()),
                    initial_peers: Some(peers),
                    trackers: Some(trackers),
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| Error::Download(format!("{e:#}")))?;
        resp.into_handle()
            .ok_or_else(|| Error::Download("the torrent was not added".into()))
    }

    /// Removes a torrent from the session, optionally with its files.
    pub async fn remove(&self, handle: &ManagedTorrent, delete_files: bool) {
        let _ = self.session.delete(handle.id().into(), delete_files).await;
    }

    /// Stops the session.
    pub async fn stop(&self) {
        self.session.stop().await;
    }
}

/// The progress of a torrent as the UI shows it.
pub fn progress(title_id: &str, handle: &ManagedTorrent) -> DownloadProgress {
    let stats = handle.stats();
    let state = if stats.error.is_some() {
        DownloadState::Error
    } else if stats.finished {
        DownloadState::Seeding
    } else {
        match stats.state {
            TorrentStatsState::Initializing { .. } => DownloadState::Queued,
            TorrentStatsState::Live => DownloadState::Downloading,
            TorrentStatsState::Paused => DownloadState::Paused,
            TorrentStatsState::Error => DownloadState::Error,
        }
    };
    let (down, up, peers) = stats
        .live
        .as_ref()
        .map(|l| {
            (
                l.download_speed.as_bytes(),
                l.upload_speed.as_bytes(),
                l.snapshot.peer_stats.live,
            )
        })
        .unwrap_or((0, 0, 0));
    DownloadProgress {
        title_id: title_id.to_owned(),
        state,
        downloaded_bytes: stats.progress_bytes,
        total_bytes: stats.total_bytes,
        down_bytes_per_s: down,
        up_bytes_per_s: up,
        peers,
        error: stats.error.clone(),
    }
}
