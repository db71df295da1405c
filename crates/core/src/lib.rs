//! Everything the Marquee app does, with no Tauri dependency: the catalog (verified against the
//! store's signature and cached), the local library (sqlx + SQLite), the torrent session
//! (librqbit), licence checks, the local playback server and the store client.
//!
//! [`Core`] is the facade the desktop shell, the tests and any CLI call. It is cheap to clone.

pub mod api;
pub mod clock;
pub mod error;
pub mod identity;
pub mod library;
mod licences;
pub mod playback;
pub mod probe;
pub mod publish;
pub mod range;
mod share;
pub mod time;
pub mod torrent;
pub mod torrent_file;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine;
use ed25519_dalek::VerifyingKey;
use librqbit::ManagedTorrent;
use marquee_licence::container::{Header, Opener, HEADER_LEN};
use marquee_licence::{Licence, SignedLicence, Validity};
use marquee_protocol::api::{CatalogFeed, FeedTitle, OrderRequest, SignedFeed};
use marquee_protocol::sign::{public_key_from_hex, verify, SignatureContext};
use marquee_protocol::StoreClient;
use tokio::io::AsyncReadExt;

use api::*;
pub use error::{Error, Result};
use identity::Identity;
pub use identity::MachineIdSource;
use library::{Library, LibraryRow};
use playback::{OpenTitle, PlaybackServer};
use torrent::Torrents;

/// How to open the core.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// The profile folder: library, device key, downloads.
    pub data_dir: PathBuf,
    /// The store's base URL, e.g. `http://127.0.0.1:8640`.
    pub store_url: String,
    /// The store's public key when the caller knows it for certain (a store it started
    /// itself); `None` trusts the key seen at the first contact and refuses any other later.
    pub trusted_store_key: Option<VerifyingKey>,
    /// Where the machine id comes from.
    pub machine_id: MachineIdSource,
    /// The account to sign in with.
    pub email: String,
    /// Its password.
    pub password: String,
    /// Where the torrent session listens for peers.
    pub peer_listen: SocketAddr,
}

impl CoreConfig {
    /// A profile in `data_dir` for the store at `store_url`, signing in as `email`, with the
    /// OS machine id and a torrent session on loopback.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        store_url: impl Into<String>,
        email: impl Into<String>,
        password: impl Into<String>,
    ) -> CoreConfig {
        CoreConfig {
            data_dir: data_dir.into(),
            store_url: store_url.into(),
            trusted_store_key: None,
            machine_id: MachineIdSource::Os,
            email: email.into(),
            password: password.into(),
            peer_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// The app's core. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    /// Trusted time for rental windows.
    clock: Arc<clock::TrustedClock>,
    /// When the store last told us its time and revocations.
    last_sync: std::sync::Mutex<Option<std::time::Instant>>,
    library: Library,
    identity: Identity,
    store: StoreClient,
    store_key: VerifyingKey,
    torrents: Torrents,
    playback: PlaybackServer,
    handles: RwLock<HashMap<String, Arc<ManagedTorrent>>>,
    feed: RwLock<Option<Arc<CatalogFeed>>>,
    /// Dropped files and publish drafts.
    drops: share::Drops,
    /// One acquisition at a time: a double click must not add a title twice.
    acquire_lock: tokio::sync::Mutex<()>,
}

impl Core {
    /// Opens the library, derives this computer's identity, connects to the store and checks
    /// its key, signs in, registers the device, starts the torrent session and the playback
    /// server, and resumes the library's downloads in the background.
    pub async fn open(config: CoreConfig) -> Result<Core> {
        std::fs::create_dir_all(&config.data_dir).map_err(anyhow::Error::from)?;
        let library = Library::open(&config.data_dir.join("library.db")).await?;
        let identity = Identity::load_or_create(&config.data_dir, &config.machine_id)?;

        let mut store = StoreClient::new(&config.store_url)?;
        let info = store.store_info().await?;
        let store_key = pin_store_key(
            &library,
            &info.public_key,
            config.trusted_store_key.as_ref(),
        )
        .await?;
        store.sign_in(&config.email, &config.password).await?;
        store
            .register_device(
                &identity.device_id.to_hex(),
                &identity.keys.public_key(),
                &identity.keys.publisher_key().verifying_key().to_bytes(),
            )
            .await?;

        let clock = Arc::new(clock::TrustedClock::new(
            Core::load_high_water(&library).await?,
        ));
        let torrents =
            Torrents::start(&config.data_dir.join("downloads"), config.peer_listen).await?;
        let playback = PlaybackServer::start().await?;
        let core = Core {
            inner: Arc::new(Inner {
                data_dir: config.data_dir.clone(),
                clock,
                last_sync: std::sync::Mutex::new(None),
                library,
                identity,
                store,
                store_key,
                torrents,
                playback,
                handles: RwLock::default(),
                feed: RwLock::default(),
                drops: share::Drops::default(),
                acquire_lock: tokio::sync::Mutex::new(()),
            }),
        };
        // Learn the store's time and revocations before the first playback; offline is fine.
        if let Err(e) = core.licences_sync().await {
            tracing::warn!(error = %e, "checking licences with the store");
        }
        let resuming = core.clone();
        tokio::spawn(async move {
            if let Err(e) = resuming.resume_downloads().await {
                tracing::warn!(error = %e, "resuming downloads");
            }
        });
        Ok(core)
    }

    /// The store's base URL.
    pub fn store_url(&self) -> &str {
        self.inner.store.base()
    }

    /// This computer's app-specific device id.
    pub fn device_id(&self) -> marquee_licence::DeviceId {
        self.inner.identity.device_id
    }

    /// Where this profile's torrent session accepts peers.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner.torrents.listen_addr()
    }

    /// Stops the torrent session.
    pub async fn shutdown(&self) {
        self.inner.torrents.stop().await;
    }

    async fn resume_downloads(&self) -> Result<()> {
        for row in self.inner.library.list().await? {
            if let Err(e) = self.ensure_torrent(&row, None).await {
                tracing::warn!(title = %row.title.id, error = %e, "could not resume");
            }
        }
        Ok(())
    }

    /// The catalog, verified against the store's signature; the last verified copy when the
    /// store cannot be reached.
    pub async fn catalog_list(&self) -> Result<Vec<Title>> {
        let feed = self.refresh_feed().await?;
        // Hidden titles are the operator's tombstones: never shown.
        Ok(feed
            .titles
            .iter()
            .filter(|t| !t.hidden)
            .map(|t| self.title_view(t))
            .collect())
    }

    async fn refresh_feed(&self) -> Result<Arc<CatalogFeed>> {
        let key_hex = hex::encode(self.inner.store_key.to_bytes());
        let signed = match self.inner.store.catalog().await {
            Ok(signed) => {
                let feed = verify_feed(&self.inner.store_key, &signed)?;
                self.inner
                    .library
                    .cache_feed(&key_hex, &signed.feed, &signed.signature)
                    .await?;
                return Ok(self.set_feed(feed));
            }
            Err(marquee_protocol::ClientError::Unreachable(why)) => {
                match self.inner.library.cached_feed().await? {
                    Some((key, feed, signature)) if key == key_hex => {
                        SignedFeed { feed, signature }
                    }
                    _ => return Err(Error::StoreUnreachable(why)),
                }
            }
            Err(e) => return Err(e.into()),
        };
        let feed = verify_feed(&self.inner.store_key, &signed)?;
        Ok(self.set_feed(feed))
    }

    fn set_feed(&self, feed: CatalogFeed) -> Arc<CatalogFeed> {
        let feed = Arc::new(feed);
        let changed = self
            .inner
            .feed
            .read()
            .expect("feed lock")
            .as_ref()
            .is_none_or(|old| old.version != feed.version || old.titles.len() != feed.titles.len());
        if changed {
            // Re-index in the background: browsing must not wait for search.
            let (library, indexed) = (self.inner.library.clone(), feed.clone());
            tokio::spawn(async move {
                if let Err(e) = library.index_catalog(&indexed.titles).await {
                    tracing::warn!(error = %e, "indexing the catalog for search");
                }
            });
        }
        *self.inner.feed.write().expect("feed lock") = Some(feed.clone());
        feed
    }

    async fn feed_title(&self, title_id: &str) -> Result<FeedTitle> {
        let cached = self.inner.feed.read().expect("feed lock").clone();
        let feed = match cached {
            Some(f) if f.titles.iter().any(|t| t.id == title_id) => f,
            _ => self.refresh_feed().await?,
        };
        feed.titles
            .iter()
            .find(|t| t.id == title_id)
            .cloned()
            .ok_or_else(|| Error::UnknownTitle(title_id.to_owned()))
    }

    fn title_view(&self, t: &FeedTitle) -> Title {
        self.title_view_from(t, TitleOrigin::Store)
    }

    fn title_view_from(&self, t: &FeedTitle, origin: TitleOrigin) -> Title {
        let base = self.inner.store.base();
        Title {
            id: t.id.clone(),
            kind: TitleKind::parse(&t.kind),
            name: t.name.clone(),
            synopsis: t.synopsis.clone(),
            year: t.year,
            runtime_s: t.runtime_s,
            genre: t.genre.clone(),
            studio: t.studio.clone(),
            artist: t.artist.clone(),
            new_release: t.new_release,
            // Titles from outside the store have no poster; the UI draws one.
            poster_url: if t.poster_path.is_empty() {
                String::new()
            } else {
                format!("{base}{}", t.poster_path)
            },
            backdrop_url: t.backdrop_path.as_ref().map(|p| format!("{base}{p}")),
            series: t.series.as_ref().map(|s| SeriesInfo {
                series: s.series.clone(),
                season: s.season,
                episode: s.episode,
            }),
            offer: Offer {
                kind: offer_kind(t.offer),
                price_cents: t.price_cents,
                currency: t.currency.clone(),
            },
            width: t.width,
            height: t.height,
            size_bytes: t.size_bytes,
            licence_to_share: t.licence_to_share.clone(),
            origin,
            publisher: t.publisher.clone(),
            for_sale: t.for_sale,
        }
    }

    /// Titles matching what the person typed, best first.
    pub async fn catalog_search(&self, query: &str) -> Result<Vec<Title>> {
        // Take the cached feed out of the lock before awaiting anything.
        let cached = self.inner.feed.read().expect("feed lock").clone();
        let feed = match cached {
            Some(f) => f,
            None => self.refresh_feed().await?,
        };
        let ids = self.inner.library.search(query, 60).await?;
        let by_id: HashMap<&str, &FeedTitle> =
            feed.titles.iter().map(|t| (t.id.as_str(), t)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .map(|t| self.title_view(t))
            .collect())
    }

    /// The wallet.
    pub async fn wallet_get(&self) -> Result<Wallet> {
        let w = self.inner.store.wallet().await?;
        Ok(Wallet {
            balance_cents: w.balance_cents,
            currency: w.currency,
        })
    }

    /// Rents, buys or gets a free title, then starts its download. A title already in the
    /// library with a licence that still plays is not ordered again; a retry with the same
    /// `client_order_id` is never charged twice by the store.
    pub async fn title_acquire(
        &self,
        title_id: &str,
        client_order_id: &str,
    ) -> Result<AcquireResult> {
        let _one_at_a_time = self.inner.acquire_lock.lock().await;
        if let Some(row) = self.inner.library.get(title_id).await? {
            let playable = match &row.licence {
                // Free titles need no clock: a clock set back never blocks them.
                None => true,
                Some(_) if row.revoked => false,
                Some(bytes) => {
                    let now = self.trusted_now().await?;
                    self.verified_licence(&row.title, bytes)
                        .and_then(|l| {
                            l.check_time(now, row.first_frame_at)
                                .map_err(Error::from_licence)
                        })
                        .is_ok()
                }
            };
            if playable {
                self.ensure_torrent(&row, None).await?;
                return Ok(AcquireResult {
                    entry: self.entry(&row),
                    charged_cents: 0,
                    wallet: self.wallet_get().await?,
                });
            }
        }

        let title = self.feed_title(title_id).await?;
        let order = self
            .inner
            .store
            .order(&OrderRequest {
                client_order_id: client_order_id.to_owned(),
                title_id: title_id.to_owned(),
                device_id: self.inner.identity.device_id.to_hex(),
            })
            .await?;
        let licence = match (&order.licence, title.encrypted) {
            (Some(b64), true) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| Error::LicenceInvalid("not base64".into()))?;
                self.verified_licence(&title, &bytes)?;
                Some(bytes)
            }
            (None, false) => None,
            _ => return Err(Error::LicenceInvalid("the store sent no licence".into())),
        };
        let torrent = self.inner.store.torrent(title_id).await?;
        self.inner
            .library
            .add(
                &title,
                &order.order_id,
                &torrent,
                licence.as_deref(),
                TitleOrigin::Store,
                time::now_s(),
            )
            .await?;
        let row = self.library_row(title_id).await?;
        let peers = order.peers.iter().filter_map(|p| p.parse().ok()).collect();
        self.ensure_torrent(&row, Some(peers)).await?;
        tracing::info!(title = %title_id, charged = order.charged_cents, "acquired");
        Ok(AcquireResult {
            entry: self.entry(&row),
            charged_cents: order.charged_cents,
            wallet: Wallet {
                balance_cents: order.balance_cents,
                currency: order.currency,
            },
        })
    }

    /// Verifies a licence's signature and that it is for this title, this computer and this
    /// container.
    fn verified_licence(&self, title: &FeedTitle, bytes: &[u8]) -> Result<Licence> {
        let signed = SignedLicence::from_bytes(bytes.to_vec()).map_err(Error::from_licence)?;
        let licence = signed
            .verify(&self.inner.store_key)
            .map_err(Error::from_licence)?;
        if licence.title_id != title.id {
            return Err(Error::LicenceInvalid("it is for another title".into()));
        }
        licence
            .check_device(&self.inner.identity.device_id)
            .map_err(Error::from_licence)?;
        if title.key_commitment.as_deref() != Some(hex::encode(licence.key_commitment).as_str()) {
            return Err(Error::LicenceInvalid(
                "it is for another version of this title".into(),
            ));
        }
        Ok(licence)
    }

    /// The torrent of a library row, added to the session if it is not yet.
    async fn ensure_torrent(
        &self,
        row: &LibraryRow,
        peers: Option<Vec<SocketAddr>>,
    ) -> Result<Arc<ManagedTorrent>> {
        if let Some(h) = self
            .inner
            .handles
            .read()
            .expect("handles")
            .get(&row.title.id)
        {
            return Ok(h.clone());
        }
        let (peers, trackers) = match peers {
            Some(p) => (p, vec![format!("{}/announce", self.inner.store.base())]),
            None => match self.inner.store.peers(&row.title.id).await {
                Ok(r) => (
                    r.peers.iter().filter_map(|p| p.parse().ok()).collect(),
                    vec![r.announce_url],
                ),
                // Offline: the file on disk still plays; peers come back with the store.
                Err(_) => (vec![], vec![]),
            },
        };
        let handle = match row.origin {
            TitleOrigin::Store => {
                self.inner
                    .torrents
                    .add(&row.torrent, &row.title.info_hash, peers, trackers)
                    .await?
            }
            TitleOrigin::Published | TitleOrigin::External => {
                let folder = self.origin_folder(row.origin);
                self.inner
                    .torrents
                    .add_source(
                        librqbit::AddTorrent::from_bytes(row.torrent.clone()),
                        &folder,
                        peers,
                        trackers,
                    )
                    .await?
            }
        };
        self.inner
            .handles
            .write()
            .expect("handles")
            .insert(row.title.id.clone(), handle.clone());
        if TitleKind::parse(&row.title.kind) == TitleKind::Game {
            let (core, row, handle) = (self.clone(), row.clone(), handle.clone());
            tokio::spawn(async move {
                if let Err(e) = core.install_game(&row, &handle).await {
                    tracing::warn!(title = %row.title.id, error = %e, "installing the game");
                }
            });
        }
        Ok(handle)
    }

    /// Where a game is installed: the clear download, decrypted with this computer's licence.
    fn game_path(&self, title_id: &str) -> PathBuf {
        self.inner
            .data_dir
            .join("games")
            .join(title_id)
            .join(format!("{title_id}.zip"))
    }

    /// Once a game's download completes, decrypts it (verifying every chunk) into the games
    /// folder, so the player gets a file they can open.
    async fn install_game(
        &self,
        row: &LibraryRow,
        handle: &Arc<ManagedTorrent>,
    ) -> Result<PathBuf> {
        handle
            .wait_until_completed()
            .await
            .map_err(|e| Error::Download(format!("{e:#}")))?;
        let out = self.game_path(&row.title.id);
        if out.exists() {
            return Ok(out);
        }
        let name = handle
            .name()
            .ok_or_else(|| Error::Download("the torrent has no name".into()))?;
        let download = self.inner.data_dir.join("downloads").join(name);
        let licence = match &row.licence {
            Some(bytes) => Some(self.verified_licence(&row.title, bytes)?),
            None => None,
        };
        let keys = self.inner.identity.keys.clone();
        let target = out.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            let dir = target.parent().expect("a games folder");
            std::fs::create_dir_all(dir).map_err(anyhow::Error::from)?;
            let part = target.with_extension("part");
            match licence {
                Some(licence) => {
                    let mut input = std::io::BufReader::new(
                        std::fs::File::open(&download).map_err(anyhow::Error::from)?,
                    );
                    let mut head = [0u8; HEADER_LEN];
                    std::io::Read::read_exact(&mut input, &mut head)
                        .map_err(anyhow::Error::from)?;
                    let header =
                        Header::parse(&head).map_err(|e| Error::Playback(e.to_string()))?;
                    let key = licence
                        .unwrap_key(&keys, &header.nonce_prefix)
                        .map_err(Error::from_licence)?;
                    let input = std::io::Read::chain(&head[..], input);
                    let output = std::fs::File::create(&part).map_err(anyhow::Error::from)?;
                    marquee_licence::container::decrypt(
                        &key,
                        input,
                        std::io::BufWriter::new(output),
                    )
                    .map_err(|e| Error::Download(e.to_string()))?;
                }
                None => {
                    std::fs::copy(&download, &part).map_err(anyhow::Error::from)?;
                }
            }
            std::fs::rename(&part, &target).map_err(anyhow::Error::from)?;
            Ok(())
        })
        .await
        .map_err(|e| Error::Internal(e.into()))??;
        self.inner.library.mark_completed(&row.title.id).await?;
        tracing::info!(title = %row.title.id, path = %out.display(), "game installed");
        Ok(out)
    }

    fn entry(&self, row: &LibraryRow) -> LibraryEntry {
        let handle = self
            .inner
            .handles
            .read()
            .expect("handles")
            .get(&row.title.id)
            .cloned();
        LibraryEntry {
            title: self.title_view_from(&row.title, row.origin),
            acquired_at_ms: row.acquired_at * 1000,
            licence: self.licence_state(row),
            download: match handle {
                Some(h) => torrent::progress(&row.title.id, &h),
                None => DownloadProgress {
                    title_id: row.title.id.clone(),
                    state: DownloadState::Queued,
                    downloaded_bytes: 0,
                    total_bytes: row.title.size_bytes,
                    down_bytes_per_s: 0,
                    up_bytes_per_s: 0,
                    peers: 0,
                    error: None,
                },
            },
            position_s: row.position_s,
            local_path: Some(self.game_path(&row.title.id))
                .filter(|p| p.exists())
                .map(|p| p.to_string_lossy().into_owned()),
        }
    }

    fn licence_state(&self, row: &LibraryRow) -> LicenceState {
        let kind = offer_kind(row.title.offer);
        let mut state = LicenceState {
            kind,
            status: match kind {
                OfferKind::Free => LicenceStatus::Free,
                OfferKind::Buy => LicenceStatus::Owned,
                OfferKind::Rent => LicenceStatus::NotStarted,
            },
            start_by_ms: None,
            ends_at_ms: None,
        };
        if kind == OfferKind::Buy && row.licence.is_some() {
            if row.revoked {
                state.status = LicenceStatus::Revoked;
            } else if let Some(Err(Error::LicenceOtherDevice)) = row
                .licence
                .as_deref()
                .map(|b| self.verified_licence(&row.title, b))
            {
                state.status = LicenceStatus::OtherDevice;
            }
        }
        if kind != OfferKind::Rent {
            return state;
        }
        if row.revoked {
            state.status = LicenceStatus::Revoked;
            return state;
        }
        let licence = match row
            .licence
            .as_deref()
            .map(|b| self.verified_licence(&row.title, b))
        {
            Some(Ok(l)) => l,
            Some(Err(Error::LicenceOtherDevice)) => {
                state.status = LicenceStatus::OtherDevice;
                return state;
            }
            _ => {
                state.status = LicenceStatus::Expired;
                return state;
            }
        };
        // The listing never refuses: a clock set back shows the state at the trusted mark.
        let now = time::now_s().max(self.inner.clock.high_water());
        match licence.check_time(now, row.first_frame_at) {
            Ok(Validity::NotStarted { start_by }) => state.start_by_ms = Some(start_by * 1000),
            Ok(Validity::Running { ends_at }) => {
                state.status = LicenceStatus::Running;
                state.ends_at_ms = Some(ends_at * 1000);
            }
            Ok(Validity::Unlimited) => state.status = LicenceStatus::Owned,
            Err(marquee_licence::LicenceError::Expired { ended_at }) => {
                state.status = LicenceStatus::Expired;
                state.ends_at_ms = Some(ended_at * 1000);
            }
            Err(_) => state.status = LicenceStatus::Expired,
        }
        state
    }

    /// A title of the library, or a "not in your library" error.
    pub(crate) async fn library_row(&self, title_id: &str) -> Result<LibraryRow> {
        self.inner
            .library
            .get(title_id)
            .await?
            .ok_or_else(|| Error::NotInLibrary(title_id.to_owned()))
    }

    /// Every title in the library.
    pub async fn library_list(&self) -> Result<Vec<LibraryEntry>> {
        Ok(self
            .inner
            .library
            .list()
            .await?
            .iter()
            .map(|r| self.entry(r))
            .collect())
    }

    /// Download progress of every title in the session.
    pub fn downloads(&self) -> Vec<DownloadProgress> {
        let handles = self.inner.handles.read().expect("handles");
        let mut list: Vec<_> = handles
            .iter()
            .map(|(id, h)| torrent::progress(id, h))
            .collect();
        list.sort_by(|a, b| a.title_id.cmp(&b.title_id));
        list
    }

    /// Opens a title on the playback server. Checks the licence (signature, this computer,
    /// rental window), reads the container header through the torrent (its first piece comes
    /// first), unwraps the content key and returns the URL the window plays.
    pub async fn playback_open(&self, title_id: &str) -> Result<PlaybackSource> {
        let row = self.library_row(title_id).await?;
        if TitleKind::parse(&row.title.kind) == TitleKind::Game {
            return Err(Error::Playback(
                "games are downloaded, not played in the window".into(),
            ));
        }
        if row.licence.is_some() {
            // Honour revocations as soon as the store is reachable.
            self.licences_sync_recent().await.ok();
        }
        let row = self.library_row(title_id).await?;
        if row.revoked {
            return Err(Error::LicenceRevoked);
        }
        let now = if row.licence.is_some() {
            self.trusted_now().await?
        } else {
            time::now_s()
        };
        let handle = self.ensure_torrent(&row, None).await?;
        let (opener, plaintext_len, licence) = match &row.licence {
            Some(bytes) => {
                let licence = self.verified_licence(&row.title, bytes)?;
                licence
                    .check_time(now, row.first_frame_at)
                    .map_err(Error::from_licence)?;
                let header = read_header(&handle).await?;
                let key = licence
                    .unwrap_key(&self.inner.identity.keys, &header.nonce_prefix)
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
        self.inner.playback.open(
            title_id,
            OpenTitle {
                torrent: handle,
                mime: row.title.mime.clone(),
                opener,
                plaintext_len,
                licence,
                first_frame_at: AtomicI64::new(row.first_frame_at.unwrap_or(0)),
                clock: self.inner.clock.clone(),
            },
        );
        Ok(PlaybackSource {
            title_id: title_id.to_owned(),
            url: self.inner.playback.url(title_id),
            mime: row.title.mime.clone(),
            position_s: row.position_s,
        })
    }

    /// Saves the playback position; the first report with `first_frame` starts the rental
    /// window.
    pub async fn playback_report(
        &self,
        title_id: &str,
        position_s: f64,
        first_frame: bool,
    ) -> Result<()> {
        let now = self
            .inner
            .clock
            .now(time::now_s())
            .unwrap_or_else(|b| b.trusted);
        let first = first_frame.then_some(now);
        self.inner
            .library
            .report_playback(title_id, position_s.max(0.0), first)
            .await?;
        if first_frame {
            self.inner.playback.first_frame(title_id, now);
            if let Some(row) = self.inner.library.get(title_id).await? {
                if let Some(at) = row.first_frame_at.filter(|_| !row.first_frame_reported) {
                    self.report_first_frame(&row, at);
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

/// Checks the store's key: the key the caller trusts, or the key seen at the first contact
/// with the store (a changed key means another store answers at that address).
async fn pin_store_key(
    library: &Library,
    announced: &str,
    trusted: Option<&VerifyingKey>,
) -> Result<VerifyingKey> {
    let key = public_key_from_hex(announced)
        .map_err(|_| Error::StoreIncompatible("the store announced a malformed key".into()))?;
    if let Some(trusted) = trusted {
        return if *trusted == key {
            Ok(key)
        } else {
            Err(Error::StoreKeyChanged)
        };
    }
    match library.setting("store_key").await? {
        Some(pinned) if pinned != announced => Err(Error::StoreKeyChanged),
        Some(_) => Ok(key),
        None => {
            library.set_setting("store_key", announced).await?;
            Ok(key)
        }
    }
}

/// Verifies a signed feed and parses it.
pub fn verify_feed(key: &VerifyingKey, signed: &SignedFeed) -> Result<CatalogFeed> {
    verify(
        key,
        SignatureContext::Feed,
        signed.feed.as_bytes(),
        &signed.signature,
    )
    .map_err(|e| Error::CatalogUntrusted(e.to_string()))?;
    serde_json::from_str(&signed.feed)
        .map_err(|e| Error::StoreIncompatible(format!("the catalog does not parse: {e}")))
}

fn offer_kind(o: marquee_protocol::api::OfferKind) -> OfferKind {
    match o {
        marquee_protocol::api::OfferKind::Rent => OfferKind::Rent,
        marquee_protocol::api::OfferKind::Buy => OfferKind::Buy,
        marquee_protocol::api::OfferKind::Free => OfferKind::Free,
    }
}
