//! Everything the Marquee app does, with no Tauri dependency, one module per domain: the
//! [`catalog`] (verified against the store's signature, cached and searchable), [`orders`], the
//! profile's [`library`], [`licences`] and the trusted clock, [`sync`] with the store, the
//! [`torrents`] session and the [`downloads`] the person controls, [`playback`], [`games`] and
//! [`publishing`].
//!
//! [`Core`] is the facade the desktop shell, the tests and any CLI call: start-up, and one
//! method per operation that hands it to its domain. It is cheap to clone.

pub mod account;
pub mod api;
mod art;
pub mod catalog;
pub mod connection;
mod db;
pub mod downloads;
pub mod error;
mod games;
pub mod identity;
pub mod library;
pub mod licences;
mod orders;
pub mod playback;
pub mod publishing;
mod sync;
pub mod time;
pub mod torrents;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use marquee_protocol::sign::public_key_from_hex;
use marquee_protocol::StoreClient;

use account::vault::{SessionVault, VaultChoice};
use account::Accounts;
use api::*;
pub use catalog::verify_feed;
use catalog::Catalog;
use connection::{Backoff, Connectivity};
use db::Settings;
use downloads::Downloads;
pub use error::{Error, Result};
use games::Games;
use identity::Identity;
pub use identity::MachineIdSource;
use library::{Library, LibraryRow};
use licences::Licences;
use orders::Orders;
use playback::Playback;
use publishing::Publishing;
use sync::LicenceSync;
use torrents::Torrents;

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
    /// An account to sign in to at every start, as (e-mail, password): the embedded demo
    /// store's demo account, and tests. `None`: the person signs in (or up) in the app, and the
    /// session is kept between runs in [`CoreConfig::session_vault`].
    pub auto_sign_in: Option<(String, String)>,
    /// Where a session the person signed in with is kept.
    pub session_vault: VaultChoice,
    /// Where the torrent session listens for peers.
    pub peer_listen: SocketAddr,
    /// Whether the torrent session also finds peers through the BitTorrent DHT, beside the
    /// store's tracker and its peer hints (peer exchange is always on: librqbit speaks it with
    /// every peer).
    pub dht: bool,
    /// A listener for the playback server bound beforehand (the shell's, so the window's CSP
    /// names its origin); `None` binds 127.0.0.1 on a random port.
    pub playback_listener: Option<playback::PlaybackListener>,
    /// How soon to try the store again once it stopped answering.
    pub reconnect: Backoff,
}

impl CoreConfig {
    /// A profile in `data_dir` for the store at `store_url`, signing in as `email` at every
    /// start (the demo store, tests), with the OS machine id and a torrent session on loopback.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        store_url: impl Into<String>,
        email: impl Into<String>,
        password: impl Into<String>,
    ) -> CoreConfig {
        CoreConfig {
            auto_sign_in: Some((email.into(), password.into())),
            session_vault: VaultChoice::File,
            ..CoreConfig::signed_out(data_dir, store_url)
        }
    }

    /// A profile for a store the person signs in to in the app; the session is kept in the OS
    /// credential store where one answers.
    ///
    /// A store on this computer (the demo store, tests) keeps the swarm on loopback: peers
    /// listened for on 127.0.0.1 and no DHT, so nothing leaves the machine. A store on a
    /// network is a public swarm: peers are accepted on every interface, so other viewers can
    /// fetch from this one, and the DHT finds peers when the tracker cannot.
    pub fn signed_out(data_dir: impl Into<PathBuf>, store_url: impl Into<String>) -> CoreConfig {
        let store_url = store_url.into();
        let local = store_on_this_computer(&store_url);
        CoreConfig {
            data_dir: data_dir.into(),
            peer_listen: if local {
                SocketAddr::from(([127, 0, 0, 1], 0))
            } else {
                SocketAddr::from(([0, 0, 0, 0], 0))
            },
            dht: !local,
            store_url,
            trusted_store_key: None,
            machine_id: MachineIdSource::Os,
            auto_sign_in: None,
            session_vault: VaultChoice::Auto,
            playback_listener: None,
            reconnect: Backoff::default(),
        }
    }
}

/// The app's core. Cheap to clone: each domain is shared behind an `Arc`.
#[derive(Clone)]
pub struct Core {
    store: StoreClient,
    /// The store's key, checked again at every reconnection.
    store_key: VerifyingKey,
    connectivity: Arc<Connectivity>,
    /// Turns true at shutdown: the background loops (reconnecting, resuming after a full disk)
    /// end.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
    accounts: Arc<Accounts>,
    identity: Arc<Identity>,
    library: Library,
    catalog: Arc<Catalog>,
    licences: Arc<Licences>,
    sync: Arc<LicenceSync>,
    torrents: Arc<Torrents>,
    games: Arc<Games>,
    orders: Arc<Orders>,
    playback: Arc<Playback>,
    publishing: Arc<Publishing>,
    downloads: Arc<Downloads>,
}

impl Core {
    /// Opens the library, derives this computer's identity, connects to the store and checks
    /// its key, signs in (automatically, or with the session kept from an earlier run) and
    /// registers the device, starts the torrent session and the playback server, and resumes
    /// the library's downloads in the background. Nobody need be signed in: the catalog is
    /// public, and the person signs in from the window.
    pub async fn open(config: CoreConfig) -> Result<Core> {
        // Owner-only: the profile holds the sealed device key, licences and the library.
        marquee_protocol::private_fs::create_dir(&config.data_dir)?;
        let db = db::open(&config.data_dir.join("library.db")).await?;
        let identity = Arc::new(Identity::load_or_create(
            &config.data_dir,
            &config.machine_id,
        )?);
        let seal = identity.keys.local_seal_key(library::SEAL_PURPOSE);
        let (library, settings) = (
            Library::new(db.clone(), seal).await?,
            Settings::new(db.clone()),
        );

        let store = StoreClient::new(&config.store_url)?;
        let connectivity = Arc::new(Connectivity::new(&config.store_url, config.reconnect));
        let store_key = match store.store_info().await {
            Ok(info) => {
                pin_store_key(
                    &settings,
                    &info.public_key,
                    config.trusted_store_key.as_ref(),
                )
                .await?
            }
            // Offline: a store this profile has used before is known by its key, and what it
            // signed (the catalog cache, the licences) still verifies. A profile that never
            // reached its store has nothing to run on.
            Err(marquee_protocol::ClientError::Unreachable(why)) => {
                let key = known_store_key(&settings, config.trusted_store_key.as_ref())
                    .await?
                    .ok_or(Error::StoreUnreachable(why))?;
                connectivity.offline_at_start();
                tracing::warn!(store = %config.store_url, "the store does not answer: starting offline");
                key
            }
            Err(e) => return Err(e.into()),
        };
        let online = connectivity.get().online;
        let accounts = Arc::new(Accounts::new(
            store.clone(),
            identity.clone(),
            SessionVault::open(&config.data_dir, &config.store_url, config.session_vault),
            config.auto_sign_in.clone(),
        ));
        let session_refused = match &config.auto_sign_in {
            // Offline the demo account signs in when the store is back.
            Some((email, password)) if online => {
                accounts.sign_in_automatically(email, password).await?;
                false
            }
            Some(_) => false,
            None if online => accounts.resume().await?,
            None => {
                accounts.resume_offline();
                false
            }
        };

        let art = Arc::new(art::Art::new(store.clone(), config.data_dir.join("art")));
        let catalog = Arc::new(Catalog::new(store.clone(), store_key, db, art.clone()));
        let licences = Arc::new(
            Licences::open(
                store.clone(),
                store_key,
                identity.clone(),
                library.clone(),
                settings.clone(),
            )
            .await?,
        );
        if session_refused {
            licences.set_session_refused(true).await?;
        }
        let sync = Arc::new(LicenceSync::new(
            store.clone(),
            library.clone(),
            licences.clone(),
            identity.device_id,
        ));
        let torrents = Arc::new(
            Torrents::start(
                &config.data_dir,
                config.peer_listen,
                config.dht,
                store.clone(),
            )
            .await?,
        );
        let games = Arc::new(Games::new(
            config.data_dir.clone(),
            library.clone(),
            licences.clone(),
            identity.clone(),
        ));
        let orders = Arc::new(Orders::new(
            store.clone(),
            accounts.clone(),
            identity.device_id,
            catalog.clone(),
            library.clone(),
            licences.clone(),
            torrents.clone(),
            games.clone(),
        ));
        let playback = Arc::new(
            Playback::start(
                library.clone(),
                licences.clone(),
                sync.clone(),
                torrents.clone(),
                identity.clone(),
                config.playback_listener.as_ref(),
            )
            .await?,
        );
        playback.server().serve_art(art);
        let publishing = Arc::new(Publishing::new(
            store.clone(),
            identity.clone(),
            catalog.clone(),
            library.clone(),
            licences.clone(),
            torrents.clone(),
            playback.clone(),
        ));
        let downloads = Arc::new(Downloads::new(
            library.clone(),
            settings,
            torrents.clone(),
            orders.clone(),
            playback.clone(),
        ));
        // Before any torrent is added: the person's limits hold from the first byte.
        downloads.apply_limits().await?;
        let core = Core {
            store,
            store_key,
            connectivity,
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
            accounts,
            identity,
            library,
            catalog,
            licences,
            sync,
            torrents,
            games,
            orders,
            playback,
            publishing,
            downloads,
        };
        // Learn the store's time and revocations before the first playback; offline is fine.
        if online {
            if let Err(e) = core.licences_sync().await {
                tracing::warn!(error = %e, "checking licences with the store");
            }
        }
        let watching = core.clone();
        tokio::spawn(async move {
            let reach = watching.store.reachability();
            let stop = watching.stopping.subscribe();
            watching
                .connectivity
                .run(reach, stop, || watching.reconnect())
                .await;
        });
        let (downloads, stop) = (core.downloads.clone(), core.stopping.subscribe());
        tokio::spawn(async move {
            downloads
                .resume_when_space(std::time::Duration::from_secs(2), stop)
                .await
        });
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
        self.store.base()
    }

    /// This computer's app-specific device id.
    pub fn device_id(&self) -> marquee_licence::DeviceId {
        self.identity.device_id
    }

    /// Where this profile's torrent session accepts peers.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.torrents.listen_addr()
    }

    /// Stops the torrent session and closes the profile's database. The core is not used
    /// afterwards.
    pub async fn shutdown(&self) {
        self.stopping.send_replace(true);
        self.torrents.stop().await;
        self.library.close().await;
    }

    /// Whether the store answers; offline, what the last attempt saw and when the next is.
    pub fn connection_get(&self) -> api::Connection {
        self.connectivity.get()
    }

    /// Every change of [`Core::connection_get`], for the window.
    pub fn connection_watch(&self) -> tokio::sync::watch::Receiver<api::Connection> {
        self.connectivity.watch()
    }

    /// The store answers again: checks it is this profile's store, restores the session and
    /// this computer's registration, and refreshes the catalog and licences. Any step the
    /// store does not answer fails it, to be tried again.
    async fn reconnect(&self) -> Result<()> {
        let info = self.store.store_info().await?;
        if public_key_from_hex(&info.public_key).ok() != Some(self.store_key) {
            return Err(Error::StoreKeyChanged);
        }
        if self.accounts.reconnected().await? {
            self.licences.set_session_refused(true).await?;
        }
        self.catalog.refresh().await?;
        match self.licences_sync().await {
            Err(e @ Error::StoreUnreachable(_)) => return Err(e),
            Err(e) => tracing::warn!(error = %e, "checking licences with the store"),
            Ok(()) => {}
        }
        Ok(())
    }

    async fn resume_downloads(&self) -> Result<()> {
        for listed in self.library.list().await? {
            // Read again just before adding: adding one title after another takes a while, and
            // the person may have paused or removed a later one in the Downloads tab meanwhile.
            let Some(row) = self.library.get(&listed.title.id).await? else {
                continue;
            };
            if row.hold == Some(library::DownloadHold::Removed) {
                continue;
            }
            if let Err(e) = self.orders.start_download(&row, None).await {
                tracing::warn!(title = %row.title.id, error = %e, "could not resume");
            }
        }
        Ok(())
    }

    /// A library title as the UI shows it: its view, licence, download and installed game.
    fn entry(&self, row: &LibraryRow) -> LibraryEntry {
        LibraryEntry {
            title: self.catalog.library_view(&row.title, row.origin),
            acquired_at_ms: row.acquired_at * 1000,
            licence: self.licences.state(row),
            download: self.torrents.progress_of(row),
            position_s: row.position_s,
            local_path: self.games.installed(&row.title.id),
        }
    }

    // Account.

    /// Who is signed in, on which store, and where the session is kept.
    pub fn account_get(&self) -> AccountInfo {
        self.accounts.info()
    }

    /// Signs in with an e-mail and password (never kept: only the session is), registers this
    /// computer, and learns the account's licence state for it.
    pub async fn account_sign_in(&self, email: &str, password: &str) -> Result<AccountInfo> {
        let info = self.accounts.sign_in(email, password).await?;
        self.after_sign_in().await;
        Ok(info)
    }

    /// Creates an account on the store and signs in to it.
    pub async fn account_sign_up(&self, email: &str, password: &str) -> Result<AccountInfo> {
        let info = self.accounts.sign_up(email, password).await?;
        self.after_sign_in().await;
        Ok(info)
    }

    async fn after_sign_in(&self) {
        if let Err(e) = self.licences_sync().await {
            tracing::warn!(error = %e, "checking licences after signing in");
        }
    }

    /// Signs out: the store ends the session and this computer forgets it. The library stays;
    /// renting and buying need a sign-in again.
    pub async fn account_sign_out(&self) -> Result<AccountInfo> {
        self.accounts.sign_out().await
    }

    /// The account page: wallet, receipts and the account's computers.
    pub async fn account_overview(&self) -> Result<AccountOverview> {
        self.accounts.overview().await
    }

    /// Tops the wallet up with a voucher code.
    pub async fn voucher_redeem(&self, code: &str) -> Result<Wallet> {
        self.accounts.voucher_redeem(code).await
    }

    /// Deactivates one of the account's computers: its licences are revoked and its sessions
    /// end (this one's too, when it is this computer).
    pub async fn device_deactivate(&self, device_id: &str) -> Result<AccountInfo> {
        self.accounts.device_deactivate(device_id).await
    }

    /// Puts back in the library what the account holds on this computer (a reinstall, a
    /// deleted profile), re-wrapped for this computer's key, without a charge.
    pub async fn library_restore(&self) -> Result<RestoreResult> {
        Ok(RestoreResult {
            restored: self.orders.restore().await?,
        })
    }

    // Catalog.

    /// The catalog, verified against the store's signature; the last verified copy when the
    /// store cannot be reached.
    pub async fn catalog_list(&self) -> Result<Vec<Title>> {
        self.catalog.list().await
    }

    /// Titles matching what the person typed, best first.
    pub async fn catalog_search(&self, query: &str) -> Result<Vec<Title>> {
        self.catalog.search(query).await
    }

    // Orders.

    /// The wallet.
    pub async fn wallet_get(&self) -> Result<Wallet> {
        self.orders.wallet().await
    }

    /// Rents, buys or gets a free title, then starts its download. A title already in the
    /// library with a licence that still plays is not ordered again; a retry with the same
    /// `client_order_id` is never charged twice by the store.
    pub async fn title_acquire(
        &self,
        title_id: &str,
        client_order_id: &str,
    ) -> Result<AcquireResult> {
        self.downloads.before_acquire(title_id).await?;
        let done = self
            .orders
            .acquire(title_id, client_order_id, false)
            .await?;
        Ok(AcquireResult {
            entry: self.entry(&done.row),
            charged_cents: done.charged_cents,
            wallet: done.wallet,
        })
    }

    // Library and downloads.

    /// Every title in the library.
    pub async fn library_list(&self) -> Result<Vec<LibraryEntry>> {
        Ok(self
            .library
            .list()
            .await?
            .iter()
            .map(|r| self.entry(r))
            .collect())
    }

    /// Download progress of every title in the session.
    pub fn downloads(&self) -> Vec<DownloadProgress> {
        self.torrents.all_progress()
    }

    /// Every download and seed with its name, state, progress, speeds, peers and time left.
    pub async fn downloads_list(&self) -> Result<Vec<DownloadItem>> {
        self.downloads.list().await
    }

    /// Pauses a title's download or seeding; it stays paused after a restart.
    pub async fn download_pause(&self, title_id: &str) -> Result<()> {
        self.downloads.pause(title_id).await
    }

    /// Resumes a paused title, or downloads a removed one again.
    pub async fn download_resume(&self, title_id: &str) -> Result<()> {
        self.downloads.resume(title_id).await
    }

    /// Removes a title from the downloads, keeping its files or deleting its folder
    /// (`downloads/<info hash>/`, nothing else). Its library entry and licence stay; watching or
    /// getting it again downloads it again. Refused while the title is playing.
    pub async fn download_remove(&self, title_id: &str, delete_files: bool) -> Result<()> {
        self.downloads.remove(title_id, delete_files).await
    }

    /// The global download and upload limits.
    pub async fn downloads_limits_get(&self) -> Result<DownloadLimits> {
        self.downloads.limits().await
    }

    /// Sets, keeps and applies the global download and upload limits (KiB/s, `None` for none).
    pub async fn downloads_limits_set(&self, limits: DownloadLimits) -> Result<DownloadLimits> {
        self.downloads.set_limits(limits).await
    }

    // Playback.

    /// Opens a title on the playback server. Checks the licence (signature, this computer,
    /// rental window), reads the container header through the torrent (its first piece comes
    /// first), unwraps the content key and returns the URL the window plays.
    /// A paused or removed download starts again: the person asked to watch now.
    pub async fn playback_open(&self, title_id: &str) -> Result<PlaybackSource> {
        self.downloads.before_watch(title_id).await?;
        self.playback.open(title_id).await
    }

    /// Saves the playback position; a report with `first_frame` starts the rental window if the
    /// playback server has not already (a rental's window starts with the first clear bytes it
    /// sends, whoever asks for them).
    pub async fn playback_report(
        &self,
        title_id: &str,
        position_s: f64,
        first_frame: bool,
    ) -> Result<()> {
        self.playback
            .report(title_id, position_s, first_frame)
            .await
    }

    // Licences and sync.

    /// Moves a purchase that plays on another computer of this account to this one: the store
    /// issues a licence for this device and revokes the other's. Works whether or not this
    /// profile holds the other computer's licence (a copied profile, or a purchase made there).
    pub async fn licence_move(&self, title_id: &str) -> Result<LibraryEntry> {
        let local = self.library.get(title_id).await?;
        if local.as_ref().is_some_and(|r| r.licence.is_some()) {
            if let Ok(row) = self.licences.move_here(title_id).await {
                return Ok(self.entry(&row));
            }
        }
        let order_id = uuid::Uuid::new_v4().to_string();
        let done = self.orders.acquire(title_id, &order_id, true).await?;
        Ok(self.entry(&done.row))
    }

    /// Asks the store for its time and for revoked licences; marks revoked titles and reports
    /// first frames the store has not heard of. Quietly does nothing offline.
    pub async fn licences_sync(&self) -> Result<()> {
        self.sync.sync().await
    }

    // Publishing and sharing.

    /// Registers a file the shell received from a drop or the file picker. Only the shell calls
    /// this: the page never hands the core a path.
    pub fn drop_register(&self, path: PathBuf) -> DroppedFile {
        self.publishing.drop_register(path)
    }

    /// Cancels preparing a dropped file.
    pub fn publish_cancel(&self, drop_id: &str) {
        self.publishing.publish_cancel(drop_id)
    }

    /// Checks a dropped video, copies it into the data folder (the original is only read),
    /// makes its torrent and starts seeding it, and opens it for the sheet's preview.
    pub async fn publish_prepare(
        &self,
        drop_id: &str,
        progress: impl Fn(PublishProgress) + Send + Sync + 'static,
    ) -> Result<PublishDraft> {
        self.publishing.publish_prepare(drop_id, progress).await
    }

    /// Drops a draft: stops seeding it and deletes its copy (the original is untouched).
    pub async fn publish_discard(&self, draft_id: &str) -> Result<()> {
        self.publishing.publish_discard(draft_id).await
    }

    /// Publishes a draft to the store's community shelf, signed by this device's publishing
    /// key, and keeps seeding it.
    pub async fn publish_submit(&self, draft_id: &str, form: PublishForm) -> Result<LibraryEntry> {
        Ok(self.entry(&self.publishing.publish_submit(draft_id, form).await?))
    }

    /// A magnet link for a free title (paid titles are not shared this way).
    pub async fn share_links(&self, title_id: &str) -> Result<ShareLinks> {
        self.publishing.share_links(title_id).await
    }

    /// File names to suggest when saving a free title: (video file, `.torrent` file), from its
    /// name, with characters file systems refuse replaced.
    pub async fn export_names(&self, title_id: &str) -> Result<(String, String)> {
        self.publishing.export_names(title_id).await
    }

    /// The `.torrent` file of a free title.
    pub async fn torrent_file(&self, title_id: &str) -> Result<Vec<u8>> {
        self.publishing.torrent_file(title_id).await
    }

    /// Copies a free title's downloaded file to `dest`.
    pub async fn title_export(&self, title_id: &str, dest: &Path) -> Result<()> {
        self.publishing.title_export(title_id, dest).await
    }

    /// What a `.torrent` file the shell received holds, and why it cannot be added if it
    /// cannot: shown before [`Core::torrent_import`], which adds it. Adds and writes nothing.
    pub async fn torrent_preview(&self, drop_id: &str) -> Result<TorrentPreview> {
        self.publishing.torrent_preview(drop_id).await
    }

    /// Adds a `.torrent` file the shell received (drop or file association) as a free title
    /// that is not from the store.
    pub async fn torrent_import(&self, drop_id: &str) -> Result<LibraryEntry> {
        Ok(self.entry(&self.publishing.torrent_import(drop_id).await?))
    }

    /// Adds a magnet link as a free title that is not from the store.
    pub async fn magnet_open(&self, link: &str) -> Result<LibraryEntry> {
        Ok(self.entry(&self.publishing.magnet_open(link).await?))
    }
}

/// Whether the store's address is this computer (a loopback address or `localhost`). An
/// address that does not parse counts as local: the store client refuses it anyway, and no
/// swarm should go public on a guess.
fn store_on_this_computer(url: &str) -> bool {
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

/// The store key this profile trusts without asking the store: the caller's, else the one
/// pinned at the first contact.
async fn known_store_key(
    settings: &Settings,
    trusted: Option<&VerifyingKey>,
) -> Result<Option<VerifyingKey>> {
    if let Some(trusted) = trusted {
        return Ok(Some(*trusted));
    }
    match settings.get("store_key").await? {
        Some(pinned) => public_key_from_hex(&pinned)
            .map(Some)
            .map_err(|_| Error::StoreIncompatible("the pinned store key is malformed".into())),
        None => Ok(None),
    }
}

/// Checks the store's key: the key the caller trusts, or the key seen at the first contact
/// with the store (a changed key means another store answers at that address).
async fn pin_store_key(
    settings: &Settings,
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
    match settings.get("store_key").await? {
        Some(pinned) if pinned != announced => Err(Error::StoreKeyChanged),
        Some(_) => Ok(key),
        None => {
            settings.set("store_key", announced).await?;
            Ok(key)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_on_this_computer_keeps_the_swarm_on_loopback() {
        for local in [
            "http://127.0.0.1:8640",
            "http://127.8.0.1",
            "http://localhost:1/",
            "http://[::1]:9",
            "not a url",
        ] {
            let c = CoreConfig::signed_out("/p", local);
            assert!(c.peer_listen.ip().is_loopback() && !c.dht, "{local}");
        }
        for public in [
            "https://store.example.com",
            "http://192.0.2.7:8640",
            "http://[2001:db8::1]",
        ] {
            let c = CoreConfig::signed_out("/p", public);
            assert!(c.peer_listen.ip().is_unspecified() && c.dht, "{public}");
        }
    }
}
