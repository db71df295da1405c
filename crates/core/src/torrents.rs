//! The app's BitTorrent session (librqbit): DHT and local service discovery off, peers come
//! from the store's tracker and peer hints; our own library, not librqbit's persistence, decides
//! what is re-added at start. The session's torrents are registered by title id.
//!
//! Each torrent writes into a folder of its own, `downloads/<info hash>/`: a torrent names its
//! files itself, so in a shared folder a stranger's torrent named like another title's file
//! would write over it (the session adds with `overwrite`, to resume). Profiles made before kept
//! every download directly in `downloads/`; a title's files move into its folder the first time
//! it is added again.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use librqbit::{
    AddTorrent, AddTorrentOptions, ManagedTorrent, Session, SessionOptions, TorrentStatsState,
};

use marquee_protocol::StoreClient;

use crate::api::{DownloadProgress, DownloadState, TitleOrigin};
use crate::error::{Error, Result};
use crate::library::{DownloadHold, LibraryRow};

/// The torrent session, where it keeps files, and its torrents by title id.
pub struct Torrents {
    session: Arc<Session>,
    /// The profile folder: downloads and published copies live under it.
    data_dir: PathBuf,
    downloads: PathBuf,
    /// Asked for peers and the tracker of store titles.
    store: StoreClient,
    handles: RwLock<HashMap<String, Arc<ManagedTorrent>>>,
    /// Titles the download queue holds back (paused until their turn): they read as queued,
    /// not paused. Set by [`crate::downloads`] each time it looks at the queue.
    held_back: RwLock<HashSet<String>>,
    /// The limit on active downloads (0: none). A title that joins the session while as many
    /// are downloading joins it paused, and the queue starts it in its turn, rather than
    /// starting and being stopped again a moment later.
    active_limit: AtomicU32,
    /// The addresses the store named as its own seeders: what comes from them is the store's,
    /// not other viewers' (the Downloads tab's "give back").
    store_seeders: RwLock<HashSet<SocketAddr>>,
    /// Titles the seeding policy no longer shares: one joins the session paused, so a person
    /// who opted out never seeds, not even for the moment before the queue looks at it; the
    /// queue starts it at once if it still has bytes to download.
    unshared: RwLock<HashSet<String>>,
}

/// What one torrent's run in the session moved, peer by peer, so far: librqbit's counters,
/// which start from nothing each time a torrent starts again (after a pause).
pub(crate) struct TitleTransfers {
    /// The title.
    pub(crate) title_id: String,
    /// This run of the torrent: another value once it was paused and started again.
    pub(crate) run: Arc<dyn std::any::Any + Send + Sync>,
    /// Whether it is complete and uploading to whoever asks.
    pub(crate) seeding: bool,
    /// Each peer of this run, by address.
    pub(crate) peers: Vec<PeerTransfer>,
}

/// The bytes one peer sent us and we sent it, in one run of a torrent.
pub(crate) struct PeerTransfer {
    /// The peer's address.
    pub(crate) peer: String,
    /// Whether it is one of the store's seeders.
    pub(crate) store: bool,
    /// Bytes received from it.
    pub(crate) received: u64,
    /// Bytes sent to it.
    pub(crate) sent: u64,
}

impl Torrents {
    /// Starts a session that keeps files under `data_dir` and listens for peers on `listen`
    /// (port 0 picks a free one).
    pub(crate) async fn start(
        data_dir: &Path,
        listen: SocketAddr,
        dht: bool,
        store: StoreClient,
    ) -> Result<Torrents> {
        let downloads = data_dir.join("downloads");
        let downloads = downloads.as_path();
        std::fs::create_dir_all(downloads).context("creating the downloads folder")?;
        let session = Session::new_with_opts(
            downloads.to_path_buf(),
            SessionOptions {
                // Every open playback response holds a stream permit from this pool, shared with
                // hash checking; a <video> opens several range requests at once.
                runtime_worker_threads: Some(16),
                // The routing table is kept in the profile, so a restart need not bootstrap
                // from nothing.
                dht: dht.then(|| librqbit::DhtSessionConfig {
                    bootstrap_addrs: None,
                    port: None,
                    persistence: Some(librqbit::dht::DhtPersistenceConfig {
                        dump_interval: None,
                        config_filename: Some(data_dir.join("dht.json")),
                    }),
                }),
                ..marquee_protocol::swarm::session_options(listen)?
            },
        )
        .await
        .context("starting the torrent session")?;
        Ok(Torrents {
            session,
            data_dir: data_dir.to_path_buf(),
            downloads: downloads.to_path_buf(),
            store,
            handles: RwLock::default(),
            held_back: RwLock::default(),
            active_limit: AtomicU32::new(0),
            store_seeders: RwLock::default(),
            unshared: RwLock::default(),
        })
    }

    /// Where this computer's published videos are copied to and seeded from.
    pub(crate) fn published_folder(&self) -> PathBuf {
        self.data_dir.join("published")
    }

    /// Where the files of the title from `origin` with `info_hash` live.
    pub(crate) fn folder(&self, origin: TitleOrigin, info_hash: &str) -> Result<PathBuf> {
        title_folder(&self.data_dir, origin, info_hash)
    }

    /// Moves the files of a title that a profile made before per-title folders kept directly in
    /// `downloads/` into the title's folder, so its download resumes instead of starting over.
    /// Only a name `torrent_file` accepts is moved (no name climbs out of `downloads/`); a title
    /// whose folder exists already has moved, or is new.
    fn adopt_legacy_files(&self, torrent: &[u8], folder: &Path) {
        if folder.exists() || !folder.starts_with(&self.downloads) {
            return;
        }
        let Ok(t) = crate::torrent_file::inspect_names(torrent) else {
            return;
        };
        let old = self.downloads.join(&t.name);
        if std::fs::symlink_metadata(&old).is_err() {
            return;
        }
        let moved = std::fs::create_dir_all(folder)
            .and_then(|()| std::fs::rename(&old, folder.join(&t.name)));
        if let Err(e) = moved {
            // Not fatal: the title downloads again into its folder.
            tracing::warn!(name = %t.name, error = %e, "moving a download into its own folder");
        }
    }

    /// The store's tracker.
    pub(crate) fn announce_url(&self) -> String {
        format!("{}/announce", self.store.base())
    }

    /// The torrent of a title, if the session has it.
    pub(crate) fn get(&self, title_id: &str) -> Option<Arc<ManagedTorrent>> {
        self.handles.read().expect("handles").get(title_id).cloned()
    }

    /// Registers a torrent added for a title.
    pub(crate) fn insert(&self, title_id: &str, handle: Arc<ManagedTorrent>) {
        self.handles
            .write()
            .expect("handles")
            .insert(title_id.to_owned(), handle);
    }

    /// Forgets the torrent of a title (after it is removed from the session).
    pub(crate) fn forget(&self, title_id: &str) -> Option<Arc<ManagedTorrent>> {
        self.handles.write().expect("handles").remove(title_id)
    }

    /// Pauses a torrent; one that is not running (paused, or stopped by an error) is left as
    /// it is.
    pub(crate) async fn pause(&self, handle: &Arc<ManagedTorrent>) -> Result<()> {
        match handle.stats().state {
            TorrentStatsState::Live | TorrentStatsState::Initializing { paused: false } => {}
            TorrentStatsState::Initializing { paused: true }
            | TorrentStatsState::Paused
            | TorrentStatsState::Error => return Ok(()),
        }
        self.session
            .pause(handle)
            .await
            .map_err(|e| Error::Download(format!("it could not be paused ({e:#})")))
    }

    /// Resumes a torrent: a paused one starts, one stopped by an error has its files checked
    /// again and starts; a running one is left as it is.
    pub(crate) async fn resume(&self, handle: &Arc<ManagedTorrent>) -> Result<()> {
        match handle.stats().state {
            TorrentStatsState::Live | TorrentStatsState::Initializing { paused: false } => {
                return Ok(())
            }
            // Added paused and still checking its files: starting clears the pause request.
            TorrentStatsState::Initializing { paused: true }
            | TorrentStatsState::Paused
            | TorrentStatsState::Error => {}
        }
        self.session
            .unpause(handle)
            .await
            .map_err(|e| Error::Download(format!("it could not be resumed ({e:#})")))
    }

    /// The limit on active downloads new torrents are added under (0: none).
    pub(crate) fn set_active_limit(&self, limit: u32) {
        self.active_limit.store(limit, Ordering::SeqCst);
    }

    /// Whether as many titles are downloading as the limit allows: a title added now joins the
    /// session paused and waits for the queue. Only a guess until the queue looks (a watched
    /// title downloads past the limit): the queue puts it right within a second.
    fn queue_full(&self) -> bool {
        let limit = self.active_limit.load(Ordering::SeqCst);
        if limit == 0 {
            return false;
        }
        let downloading = self
            .handles
            .read()
            .expect("torrent handles")
            .values()
            .filter(|h| !h.stats().finished && (running(h) || starting(h)))
            .count();
        downloading >= limit as usize
    }

    /// How a new download joins the session: paused when the download queue is full, for the
    /// queue to start it in its turn.
    pub(crate) fn added_in_turn(&self, peers: Vec<SocketAddr>, trackers: Vec<String>) -> Added {
        Added {
            peers,
            trackers,
            paused: self.queue_full(),
        }
    }

    /// The titles the download queue holds back from now on.
    pub(crate) fn set_held_back(&self, titles: HashSet<String>) {
        *self.held_back.write().expect("held back") = titles;
    }

    /// The titles the seeding policy no longer shares, from now on.
    pub(crate) fn set_unshared(&self, titles: HashSet<String>) {
        *self.unshared.write().expect("unshared") = titles;
    }

    /// Whether the seeding policy no longer shares the title.
    pub(crate) fn is_unshared(&self, title_id: &str) -> bool {
        self.unshared.read().expect("unshared").contains(title_id)
    }

    /// Whether the download queue holds the title back.
    pub(crate) fn is_held_back(&self, title_id: &str) -> bool {
        self.held_back.read().expect("held back").contains(title_id)
    }

    /// The progress of a torrent as the UI shows it, a title waiting its turn as queued.
    pub(crate) fn progress(&self, title_id: &str, handle: &ManagedTorrent) -> DownloadProgress {
        let mut p = progress(title_id, handle);
        if p.state == DownloadState::Paused && self.is_held_back(title_id) {
            p.state = DownloadState::Queued;
        }
        p
    }

    /// Applies the global transfer limits to the whole session, at once.
    pub(crate) fn set_limits(&self, download_kib_s: Option<u32>, upload_kib_s: Option<u32>) {
        let bps =
            |kib: Option<u32>| kib.and_then(|k| std::num::NonZeroU32::new(k.saturating_mul(1024)));
        self.session
            .ratelimits
            .set_download_bps(bps(download_kib_s));
        self.session.ratelimits.set_upload_bps(bps(upload_kib_s));
    }

    /// The torrent of a library title, added to the session if it is not yet (`true` then);
    /// added paused when the person paused it (in an earlier run, say), or held back for the
    /// download queue to start in its turn.
    /// `peers` are the order's peer hints; without them the store is asked.
    pub(crate) async fn ensure(
        &self,
        row: &LibraryRow,
        peers: Option<Vec<SocketAddr>>,
    ) -> Result<(Arc<ManagedTorrent>, bool)> {
        if let Some(h) = self.get(&row.title.id) {
            return Ok((h, false));
        }
        let (peers, trackers) = match peers {
            Some(p) => (p, vec![self.announce_url()]),
            None => match self.store.peers(&row.title.id).await {
                Ok(r) => {
                    self.note_store_seeders(&r.store_seeders);
                    (
                        r.peers.iter().filter_map(|p| p.parse().ok()).collect(),
                        vec![r.announce_url],
                    )
                }
                // Offline, or signed out (the peer list needs a sign-in): the file on disk
                // still plays, and the store's tracker, which needs none, finds the peers once
                // it answers. Without it a torrent added while signed out would never find one.
                Err(_) => (vec![], vec![self.announce_url()]),
            },
        };
        let folder = self.folder(row.origin, &row.title.info_hash)?;
        self.adopt_legacy_files(&row.torrent, &folder);
        let unshared = row.hold.is_none() && self.is_unshared(&row.title.id);
        let in_turn = row.hold.is_none() && (self.queue_full() || unshared);
        let paused = row.hold == Some(DownloadHold::Paused) || in_turn;
        if in_turn {
            // Reads as queued, not paused, until the queue has looked at it.
            self.held_back
                .write()
                .expect("held back")
                .insert(row.title.id.clone());
        }
        let handle = match row.origin {
            TitleOrigin::Store => {
                self.add(
                    &row.torrent,
                    &row.title.info_hash,
                    &folder,
                    Added {
                        peers,
                        trackers,
                        paused,
                    },
                )
                .await?
            }
            TitleOrigin::Published | TitleOrigin::External => {
                self.add_source(
                    AddTorrent::from_bytes(row.torrent.clone()),
                    &folder,
                    Added {
                        peers,
                        trackers,
                        paused,
                    },
                )
                .await?
            }
        };
        self.insert(&row.title.id, handle.clone());
        Ok((handle, true))
    }

    /// The download progress of a library title; queued (or removed, when the person removed
    /// it) when the session does not have it.
    pub(crate) fn progress_of(&self, row: &LibraryRow) -> DownloadProgress {
        match self.get(&row.title.id) {
            Some(h) => self.progress(&row.title.id, &h),
            None => DownloadProgress {
                title_id: row.title.id.clone(),
                state: if row.hold == Some(DownloadHold::Removed) {
                    DownloadState::Removed
                } else {
                    DownloadState::Queued
                },
                downloaded_bytes: 0,
                total_bytes: row.title.size_bytes,
                down_bytes_per_s: 0,
                up_bytes_per_s: 0,
                peers: 0,
                error: None,
            },
        }
    }

    /// The progress of every title in the session, by title id.
    pub(crate) fn all_progress(&self) -> Vec<DownloadProgress> {
        let handles = self.handles.read().expect("handles");
        let mut list: Vec<_> = handles.iter().map(|(id, h)| self.progress(id, h)).collect();
        list.sort_by(|a, b| a.title_id.cmp(&b.title_id));
        list
    }

    /// Refuses a new download of `size` bytes that the disk holding the downloads cannot hold:
    /// said before anything is ordered or added, rather than when the disk fills.
    pub(crate) fn check_space(&self, name: &str, size: u64) -> Result<()> {
        let free = self.free_bytes()?;
        if free < size {
            return Err(Error::DiskFull {
                name: name.to_owned(),
                needed_bytes: size,
                free_bytes: free,
            });
        }
        Ok(())
    }

    /// Bytes free for this user on the disk holding the downloads.
    pub(crate) fn free_bytes(&self) -> Result<u64> {
        fs4::available_space(&self.downloads).map_err(|e| {
            Error::Download(format!(
                "the free space on the disk could not be read ({e})"
            ))
        })
    }

    /// Remembers the addresses the store names as its own seeders.
    pub(crate) fn note_store_seeders(&self, seeders: &[String]) {
        let parsed = seeders.iter().filter_map(|p| p.parse::<SocketAddr>().ok());
        self.store_seeders.write().expect("seeders").extend(parsed);
    }

    /// What each running torrent has received and sent so far in this run, peer by peer.
    /// A paused torrent has no run (nothing moves).
    pub(crate) fn transfers(&self) -> Vec<TitleTransfers> {
        let seeders = self.store_seeders.read().expect("seeders").clone();
        self.handles()
            .into_iter()
            .filter_map(|(title_id, handle)| {
                let live = handle.live()?;
                let peers = live
                    .per_peer_stats_snapshot(all_peers())
                    .peers
                    .into_iter()
                    .filter(|(_, p)| p.counters.fetched_bytes > 0 || p.counters.uploaded_bytes > 0)
                    .map(|(peer, p)| PeerTransfer {
                        store: peer
                            .parse::<SocketAddr>()
                            .is_ok_and(|a| seeders.contains(&a)),
                        peer,
                        received: p.counters.fetched_bytes,
                        sent: p.counters.uploaded_bytes,
                    })
                    .collect();
                let stats = handle.stats();
                Some(TitleTransfers {
                    title_id,
                    seeding: stats.finished && matches!(stats.state, TorrentStatsState::Live),
                    run: live,
                    peers,
                })
            })
            .collect()
    }

    /// Every torrent in the session, by title id.
    pub(crate) fn handles(&self) -> Vec<(String, Arc<ManagedTorrent>)> {
        let handles = self.handles.read().expect("handles");
        handles
            .iter()
            .map(|(id, h)| (id.clone(), h.clone()))
            .collect()
    }

    /// Where peers can reach this session.
    pub(crate) fn listen_addr(&self) -> Option<SocketAddr> {
        self.session.listen_addr()
    }

    /// Adds (or resumes: existing pieces are checked, not fetched again) a torrent of the
    /// store, refusing one whose info hash is not the one the signed catalog names.
    async fn add(
        &self,
        torrent: &[u8],
        expected_info_hash: &str,
        folder: &Path,
        how: Added,
    ) -> Result<Arc<ManagedTorrent>> {
        store_torrent_names(torrent)?;
        let handle = self
            .add_source(AddTorrent::from_bytes(torrent.to_vec()), folder, how)
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
    pub(crate) async fn add_source(
        &self,
        source: AddTorrent<'_>,
        folder: &Path,
        how: Added,
    ) -> Result<Arc<ManagedTorrent>> {
        let resp = self
            .session
            .add_torrent(
                source,
                Some(AddTorrentOptions {
                    overwrite: true,
                    output_folder: Some(folder.to_string_lossy().into_owned()),
                    initial_peers: Some(how.peers),
                    trackers: Some(how.trackers),
                    paused: how.paused,
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| Error::Download(format!("{e:#}")))?;
        resp.into_handle()
            .ok_or_else(|| Error::Download("the torrent was not added".into()))
    }

    /// The torrent a magnet link names, as its peers describe it, without adding it: nothing is
    /// downloaded or written. Within `timeout`.
    pub(crate) async fn magnet_metadata(
        &self,
        link: &str,
        trackers: Vec<String>,
        timeout: std::time::Duration,
    ) -> Result<Vec<u8>> {
        let session = self.session.clone();
        // librqbit asks only the trackers a magnet link names (`trackers` in the options is
        // read for torrent files alone): the others go into the link.
        let magnet = librqbit::Magnet::parse(link)
            .map_err(|_| Error::BadTorrent("this is not a magnet link".into()))?;
        let id = magnet.as_id20().ok_or_else(|| {
            Error::BadTorrent(
                "this magnet link gives no BitTorrent v1 info hash, which Marquee needs".into(),
            )
        })?;
        let mut all = magnet.trackers.clone();
        all.extend(
            trackers
                .iter()
                .filter(|t| !magnet.trackers.contains(t))
                .cloned(),
        );
        let link = librqbit::Magnet::from_id20(id, all, None).to_string();
        // A task of its own: librqbit checks what peers send with code that can panic on some
        // of it (a piece length of 0 divides by zero). A panic then ends that task, and the
        // person is told the details were damaged; the app goes on.
        let mut task = tokio::spawn(async move {
            session
                .add_torrent(
                    AddTorrent::from_url(link),
                    Some(AddTorrentOptions {
                        list_only: true,
                        ..Default::default()
                    }),
                )
                .await
                .map(|added| match added {
                    librqbit::AddTorrentResponse::ListOnly(listed) => {
                        Some(listed.torrent_bytes.to_vec())
                    }
                    librqbit::AddTorrentResponse::AlreadyManaged(_, handle)
                    | librqbit::AddTorrentResponse::Added(_, handle) => handle
                        .metadata
                        .load_full()
                        .map(|m| m.torrent_bytes.to_vec()),
                })
        });
        let joined = match tokio::time::timeout(timeout, &mut task).await {
            Ok(joined) => joined,
            Err(_) => {
                task.abort();
                return Err(Error::BadTorrent(format!(
                    "no viewer sent this link's details within {} seconds: check that someone is sharing it and try again",
                    timeout.as_secs()
                )));
            }
        };
        match joined {
            Ok(Ok(Some(bytes))) => Ok(bytes),
            Ok(Ok(None)) => Err(Error::BadTorrent(
                "the link's peers sent no details of its torrent".into(),
            )),
            Ok(Err(e)) => Err(Error::BadTorrent(format!(
                "the details this link's peers sent cannot be used ({e:#}); ask whoever shared it for another link"
            ))),
            Err(_) => Err(Error::BadTorrent(
                "the details this link's peers sent are damaged; ask whoever shared it for another link".into(),
            )),
        }
    }

    /// Removes a torrent from the session, optionally with its files.
    pub(crate) async fn remove(&self, handle: &ManagedTorrent, delete_files: bool) {
        let _ = self.session.delete(handle.id().into(), delete_files).await;
    }

    /// Stops the session.
    pub(crate) async fn stop(&self) {
        self.session.stop().await;
    }
}

/// Refuses a store's torrent whose names this computer, or another system, would not save as
/// named (`C:x` replaces the download folder on Windows, `CON` is no file there, …): the store
/// should never list one, and a store is not trusted to have checked. Only names are checked:
/// librqbit 9 makes torrents of whole pieces with one hash too many, which the store's are.
fn store_torrent_names(torrent: &[u8]) -> Result<()> {
    use crate::torrent_file::TorrentFileError;
    crate::torrent_file::inspect_names(torrent).map_err(|e| {
        Error::Download(match e {
            TorrentFileError::UnsafeName { name, problem } => format!(
                "the store's torrent of this title names a file “{}”, which {problem}, so Marquee will not download it; tell the store",
                name.escape_default()
            ),
            other => format!(
                "the store's torrent of this title cannot be used ({other}); tell the store"
            ),
        })
    })?;
    Ok(())
}

/// How a torrent joins the session.
pub(crate) struct Added {
    /// Peers to try first (the order's hints).
    pub(crate) peers: Vec<SocketAddr>,
    /// Trackers to announce to.
    pub(crate) trackers: Vec<String>,
    /// Added paused: its files are checked, nothing is fetched or served.
    pub(crate) paused: bool,
}

impl Added {
    /// Added running, with these peers and trackers.
    pub(crate) fn running(peers: Vec<SocketAddr>, trackers: Vec<String>) -> Added {
        Added {
            peers,
            trackers,
            paused: false,
        }
    }
}

/// Where the files of a title live in the profile `data_dir`: a video this computer published
/// in `published/` (its copy, named by its content, is made there before its torrent), any
/// other title in `downloads/<info hash>/`. The info hash must be 40 hex digits, so the folder
/// is always one level inside `downloads/`.
pub(crate) fn title_folder(
    data_dir: &Path,
    origin: TitleOrigin,
    info_hash: &str,
) -> Result<PathBuf> {
    if origin == TitleOrigin::Published {
        return Ok(data_dir.join("published"));
    }
    if info_hash.len() != 40 || !info_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Download(format!(
            "the title's info hash “{info_hash}” is not 40 hexadecimal digits"
        )));
    }
    Ok(data_dir
        .join("downloads")
        .join(info_hash.to_ascii_lowercase()))
}

/// Whether a torrent is running: fetching or serving pieces.
///
/// A torrent still checking its files is neither running nor paused here: librqbit loses a
/// pause or a resume that lands during the check (a resume then left the storage closed and
/// the torrent stopped with "file is None, torrent was probably paused"), so the queue waits
/// for the check to end.
pub(crate) fn running(handle: &ManagedTorrent) -> bool {
    matches!(handle.stats().state, TorrentStatsState::Live)
}

/// Whether a torrent is paused (not stopped by an error) with its files checked (see
/// [`running`]).
pub(crate) fn paused(handle: &ManagedTorrent) -> bool {
    matches!(handle.stats().state, TorrentStatsState::Paused)
}

/// Whether a torrent is still checking its files, about to run.
fn starting(handle: &ManagedTorrent) -> bool {
    matches!(
        handle.stats().state,
        TorrentStatsState::Initializing { paused: false }
    )
}

/// librqbit's filter for every peer of a torrent's run, not only those connected now: a peer's
/// counters outlive its connection, so bytes moved just before it left still count. librqbit
/// exports the filter's type only through its HTTP API's feature, so it is built from its
/// serialised form.
fn all_peers<F: serde::de::DeserializeOwned>() -> F {
    serde_json::from_value(serde_json::json!({ "state": "all" }))
        .expect("librqbit's peer filter takes \"all\"")
}

/// Whether a torrent stopped on an error.
pub(crate) fn errored(handle: &ManagedTorrent) -> bool {
    matches!(handle.stats().state, TorrentStatsState::Error)
}

/// The progress of a torrent as the UI shows it.
pub fn progress(title_id: &str, handle: &ManagedTorrent) -> DownloadProgress {
    let stats = handle.stats();
    let paused = matches!(stats.state, TorrentStatsState::Paused);
    let disk_full = stats.error.as_deref().is_some_and(is_disk_full);
    let state = if disk_full {
        DownloadState::DiskFull
    } else if stats.error.is_some() {
        DownloadState::Error
    } else if stats.finished && paused {
        DownloadState::Done
    } else if stats.finished {
        DownloadState::Seeding
    } else {
        match stats.state {
            TorrentStatsState::Initializing { paused: true } => DownloadState::Paused,
            TorrentStatsState::Initializing { paused: false } => DownloadState::Queued,
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
        error: if disk_full {
            Some(DISK_FULL.to_owned())
        } else {
            stats.error.as_deref().map(without_backtrace)
        },
    }
}

/// What a download stopped by a full disk says.
const DISK_FULL: &str = "The disk holding Marquee's downloads is full. What was downloaded is \
                         intact, and this download goes on by itself once there is space again.";

/// Whether librqbit's error is a full disk. librqbit keeps only the error's text, and it
/// reaches the disk through `nix` on Unix ("ENOSPC: No space left on device") and through the
/// standard library elsewhere ("... (os error 112)"): ENOSPC and EDQUOT (a quota) on Linux
/// and macOS, ERROR_DISK_FULL (112) and ERROR_HANDLE_DISK_FULL (39) on Windows.
fn is_disk_full(error: &str) -> bool {
    let said: &[&str] = if cfg!(windows) {
        &["(os error 112)", "(os error 39)"]
    } else if cfg!(target_os = "macos") {
        &["ENOSPC", "EDQUOT", "(os error 28)", "(os error 69)"]
    } else {
        &["ENOSPC", "EDQUOT", "(os error 28)", "(os error 122)"]
    };
    said.iter().any(|c| error.contains(c))
}

/// librqbit's error for people: without the backtrace anyhow appends when backtraces are on.
fn without_backtrace(error: &str) -> String {
    match error.find("\n\nStack backtrace:") {
        Some(at) => error[..at].to_owned(),
        None => error.to_owned(),
    }
}

/// Where the torrent session listens for peers and whether it uses the DHT, for a profile whose
/// store is at `store_url`. A store on this computer (the demo store, tests) keeps the swarm on
/// loopback: peers listened for on 127.0.0.1 and no DHT, so nothing leaves the machine. A store
/// on a network is a public swarm: peers are accepted on every interface, so other viewers can
/// fetch from this one, and the DHT finds peers when the tracker cannot.
pub(crate) fn swarm_for_store(store_url: &str) -> (SocketAddr, bool) {
    if store_on_this_computer(store_url) {
        (SocketAddr::from(([127, 0, 0, 1], 0)), false)
    } else {
        (SocketAddr::from(([0, 0, 0, 0], 0)), true)
    }
}

/// Whether the store's address is this computer (a loopback address or `localhost`). An
/// address that does not parse counts as local: the store client refuses it anyway, and no
/// swarm should go public on a guess.
pub(crate) fn store_on_this_computer(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    else {
        return true;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// What this domain tells of the core.
impl crate::Core {
    /// Where this profile's torrent session accepts peers.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.torrents.listen_addr()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_store_torrent_naming_a_file_windows_would_misplace_is_refused() {
        let torrent = |name: &str| {
            let mut t = format!("d4:infod6:lengthi100e4:name{}:{name}", name.len()).into_bytes();
            t.extend_from_slice(b"12:piece lengthi16384e6:pieces20:");
            t.extend_from_slice(&[7u8; 20]);
            t.extend_from_slice(b"ee");
            t
        };
        assert!(super::store_torrent_names(&torrent("neon-harbor.mqc")).is_ok());
        for name in [
            "C:marquee-probe.dll",
            "CON.webm",
            "video.webm:hidden",
            "nul",
            "a.",
        ] {
            let e = super::store_torrent_names(&torrent(name))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("names a file “{name}”")) && e.contains("tell the store"),
                "{e}"
            );
        }
    }

    use super::*;

    #[test]
    fn a_full_disk_is_told_from_other_errors() {
        let enospc = std::io::Error::from_raw_os_error(if cfg!(windows) { 112 } else { 28 });
        let said = format!("error writing to file 0 (\"a.webm\"): {enospc}");
        assert!(is_disk_full(&said), "{said}");
        // As librqbit says it on Linux (through nix), backtrace and all.
        let nix = "error writing to file 0 (\"\"big.webm\"\")\n\nCaused by:\n    0: error calling \
                   pwritev\n    1: ENOSPC: No space left on device\n\nStack backtrace:\n   0: <E>";
        assert_eq!(is_disk_full(nix), cfg!(unix));
        assert!(!is_disk_full(
            "error writing to file 0: Permission denied (os error 13)"
        ));
        assert!(!is_disk_full("(os error 280)"));
        assert!(!without_backtrace(nix).contains("Stack backtrace"));
        assert!(without_backtrace(nix).ends_with("No space left on device"));
    }

    #[test]
    fn each_title_has_a_folder_of_its_own_inside_downloads() {
        let data = Path::new("/profile");
        let hash = "0123456789ABCDEF0123456789abcdef01234567";
        for origin in [TitleOrigin::Store, TitleOrigin::External] {
            assert_eq!(
                title_folder(data, origin, hash).unwrap(),
                data.join("downloads")
                    .join("0123456789abcdef0123456789abcdef01234567")
            );
        }
        assert_eq!(
            title_folder(data, TitleOrigin::Published, "").unwrap(),
            data.join("published")
        );
        // Anything but 40 hex digits could name another folder.
        for bad in [
            "",
            "..",
            "../../../etc",
            &hash[..39],
            &format!("{hash}0"),
            "g".repeat(40).as_str(),
        ] {
            assert!(
                title_folder(data, TitleOrigin::External, bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_store_on_this_computer_keeps_the_swarm_on_loopback() {
        for local in [
            "http://127.0.0.1:8640",
            "http://127.8.0.1",
            "http://localhost:1/",
            "http://[::1]:9",
            "not a url",
        ] {
            let c = crate::CoreConfig::signed_out("/p", local);
            assert!(c.peer_listen.ip().is_loopback() && !c.dht, "{local}");
        }
        for public in [
            "https://store.example.com",
            "http://192.0.2.7:8640",
            "http://[2001:db8::1]",
        ] {
            let c = crate::CoreConfig::signed_out("/p", public);
            assert!(c.peer_listen.ip().is_unspecified() && c.dht, "{public}");
        }
    }
}
