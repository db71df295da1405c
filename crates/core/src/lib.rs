//! Everything the Marquee app does, with no Tauri dependency, one module per domain: the
//! [`account`], the [`catalog`] (verified against the store's signature, cached and
//! searchable), `orders`, the profile's [`library`], [`licences`] and the trusted clock, `sync`
//! with the store, the [`connection`] to it, the [`torrents`] session and the [`downloads`] the
//! person controls, [`playback`], `games`, [`publishing`] and [`live`] channels.
//!
//! [`Core`] is the facade the desktop shell, the tests and any CLI call. This file holds only
//! how it opens; each domain module adds the operations it offers in an `impl Core` block of
//! its own, so an operation is written once, in its domain. Shared leaves that import nothing
//! of the core's: [`api`] (what the window sees), `title` (the title record a profile keeps),
//! [`time`] ([`torrent_file`], reading `.torrent` files, is the wire crate's). `cargo xtask modules` checks that no
//! module imports one that imports it back.

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
pub mod live;
mod orders;
pub mod playback;
pub mod publishing;
mod sync;
pub mod time;
mod title;
pub mod torrents;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use ed25519_dalek::VerifyingKey;
/// Reading `.torrent` files from anyone: the wire crate's, which the store runs on what it
/// publishes too.
pub use marquee_protocol::torrent_file;
use marquee_protocol::{clock::Clock, StoreClient};

use account::{vault::SessionVault, vault::VaultChoice, Accounts};
pub use catalog::verify_feed;
use catalog::Catalog;
use connection::{Backoff, Connectivity};
use db::Settings;
use downloads::Downloads;
pub use error::{Error, Result};
use games::Games;
use identity::Identity;
pub use identity::MachineIdSource;
use library::Library;
use licences::{revocations::Revocations, Licences};
use live::Live;
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
    /// How much the playback server holds at once and for how long.
    pub playback_limits: playback::PlaybackLimits,
    /// How soon to try the store again once it stopped answering.
    pub reconnect: Backoff,
    /// This computer's clock: [`Clock::system`] unless a test moves time on.
    pub clock: Clock,
    /// This computer's monotonic clock, which setting the date does not move: rental windows
    /// count on it between confirmations of the time. [`Clock::monotonic`] unless a test moves
    /// it.
    pub monotonic: Clock,
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
    /// credential store where one answers. The swarm stays on loopback for a store on this
    /// computer and is public for one on a network ([`torrents::swarm_for_store`]).
    pub fn signed_out(data_dir: impl Into<PathBuf>, store_url: impl Into<String>) -> CoreConfig {
        let store_url = store_url.into();
        let (peer_listen, dht) = torrents::swarm_for_store(&store_url);
        CoreConfig {
            data_dir: data_dir.into(),
            peer_listen,
            dht,
            store_url,
            trusted_store_key: None,
            machine_id: MachineIdSource::Os,
            auto_sign_in: None,
            session_vault: VaultChoice::Auto,
            playback_listener: None,
            playback_limits: playback::PlaybackLimits::default(),
            reconnect: Backoff::default(),
            clock: Clock::system(),
            monotonic: Clock::monotonic(),
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
    /// Turns true at shutdown: the background loops (reconnecting, resuming downloads) end.
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
    live: Arc<Live>,
}

impl Core {
    /// Opens the library and this computer's identity, checks the store's key (or starts
    /// offline on the pinned one), signs in (automatically, or with a kept session), starts the
    /// torrent session and the playback server, and resumes downloads in the background.
    pub async fn open(config: CoreConfig) -> Result<Core> {
        // Owner-only: the profile holds the sealed device key, licences and the library.
        marquee_protocol::private_fs::create_dir(&config.data_dir)?;
        let db = db::open(&config.data_dir.join("library.db")).await?;
        let identity = Arc::new(Identity::load_or_create(
            &config.data_dir,
            &config.machine_id,
        )?);
        let seal = identity.keys.local_seal_key(library::SEAL_PURPOSE);
        let library = Library::new(db.clone(), seal).await?;
        let settings = Settings::new(db.clone());

        let store = StoreClient::new(&config.store_url)?;
        let connectivity = Arc::new(Connectivity::new(&config));
        let store_key = connection::check_store_key(
            &store,
            &settings,
            config.trusted_store_key.as_ref(),
            &connectivity,
        )
        .await?;
        let online = connectivity.get().online;
        let accounts = Arc::new(Accounts::new(
            store.clone(),
            identity.clone(),
            SessionVault::open(&config.data_dir, &config.store_url, config.session_vault),
            config.auto_sign_in.clone(),
        ));
        let session_refused = accounts.start(online).await?;
        let art = Arc::new(art::Art::new(store.clone(), config.data_dir.join("art")));
        let catalog = Arc::new(Catalog::new(
            store.clone(),
            store_key,
            db.clone(),
            art.clone(),
        ));
        let licences = Arc::new(
            Licences::open(
                store.clone(),
                store_key,
                identity.clone(),
                library.clone(),
                settings.clone(),
                config.clock.clone(),
                config.monotonic.clone(),
            )
            .await?,
        );
        if session_refused {
            licences.set_session_refused(true).await?;
        }
        let revocations = Revocations::default();
        let sync = Arc::new(LicenceSync::new(
            store.clone(),
            library.clone(),
            licences.clone(),
            identity.device_id,
            revocations.clone(),
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
                &config,
                revocations,
            )
            .await?,
        );
        playback.server().serve_art(art.clone());
        let live = Arc::new(Live::new(
            store.clone(),
            art,
            playback.server().clone(),
            &config.store_url,
            config.data_dir.clone(),
        ));
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
            downloads::give_back::Ledger::new(db.clone()),
            config.clock.clone(),
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
            live,
        };
        if online {
            core.licences_sync_at_start().await;
        }
        core.keep_connected();
        core.resume_downloads_in_background();
        Ok(core)
    }

    /// Leaves any live channel and ends any broadcast, stops the torrent session and the
    /// playback server (the shell's listener goes back for a later core) and closes the
    /// profile's database. The core is not used afterwards.
    pub async fn shutdown(&self) {
        self.stopping.send_replace(true);
        self.live_leave().await;
        self.live_broadcast_stop().await;
        self.torrents.stop().await;
        self.downloads.write_give_back().await;
        self.playback.stop();
        self.library.close().await;
    }
}
