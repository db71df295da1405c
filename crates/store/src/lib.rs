//! The Marquee store: catalog feed, accounts, wallet, orders, licence issuing, packaging of
//! studio titles into encrypted torrents, a tracker and a seeding node.
//!
//! It runs as its own binary (`marquee-store`, see [`cli`]) and in-process as the app's
//! embedded demo store: both call [`Store::start`]. The HTTP API is described in
//! `crates/store/openapi.json`; its bodies are the types of [`api`].
//!
//! # Database: SQLite or PostgreSQL
//!
//! The store talks to its database through sqlx's `Any` driver, and every query keeps to the
//! SQL that SQLite and PostgreSQL share (`$1` placeholders, 0/1 integer flags, `RETURNING`,
//! `ON CONFLICT`), so the database is a matter of configuration:
//!
//! - by default, the SQLite file `store.db` in the data folder;
//! - for PostgreSQL, give a URL: `--database-url postgres://USER:PASSWORD@HOST/DB`, or
//!   `MARQUEE_STORE_DATABASE_URL`, or `database_url = "..."` in the `--config` file, or
//!   [`StoreConfig::database_url`] in-process. The schema is created on first start
//!   (`migrations_pg/`; SQLite's is `migrations/`; a schema change is written in both).
//!
//! Several store processes may share one PostgreSQL database: a duplicate order id is caught by
//! the database's unique key, a charge only happens if the balance covers it, and both are in
//! the order's transaction. `tests/postgres.rs` runs the store against a PostgreSQL server it
//! starts itself.
//!
//! # New titles while serving
//!
//! `marquee-store package` writes the packaged title into the database of the data folder; a
//! running `serve` on the same database checks the catalog version every few seconds
//! (`--rescan`), lists what changed in the feed and seeds the new titles.

/// The HTTP API's bodies and error codes: the wire crate's, shared with the app.
pub use marquee_protocol::api;
mod catalog;
pub mod channels;
pub mod cli;
mod community;
mod db;
pub mod error;
pub mod generate;
mod http;
pub mod limit;
pub mod package;
mod passwords;
pub(crate) mod poster;
pub mod proxy;
pub mod tracker;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use ed25519_dalek::{SigningKey, VerifyingKey};
use librqbit::Session;
use marquee_protocol::server::ServerLimits;
use marquee_protocol::sign::SignatureContext;
use marquee_protocol::trackers::TrackersError;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

pub use community::MAX_REQUEST as MAX_COMMUNITY_REQUEST;
pub use error::StoreError;
pub use http::routes;
pub use limit::{Limits, Rate};
pub use proxy::TrustedProxies;

/// The e-mail of the account the demo store creates.
pub const DEMO_EMAIL: &str = "demo@marquee.local";
/// The password of the demo account. The demo store only listens on loopback.
pub const DEMO_PASSWORD: &str = "demo";
/// The demo account's starting balance: 20.00.
pub const DEMO_BALANCE_CENTS: i64 = 2000;
/// The store's currency.
pub const CURRENCY: &str = "USD";
/// How many active computers an account may have unless configured otherwise.
pub const DEFAULT_DEVICE_LIMIT: u32 = 5;
/// How long a sign-in lasts unless configured otherwise: 30 days.
pub const DEFAULT_SESSION_TTL_S: i64 = 30 * 24 * 3600;

/// How to start a store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Where the store keeps its database (when `database_url` is not set) and packaged titles.
    pub data_dir: PathBuf,
    /// The database: `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`. `None` is the SQLite
    /// file `store.db` in `data_dir`.
    pub database_url: Option<String>,
    /// Address of the HTTP API (port 0 picks a free one).
    pub http_addr: SocketAddr,
    /// Address the seeder listens on for peers (port 0 picks a free one).
    pub peer_addr: SocketAddr,
    /// A folder with `catalog.json` and the media it names: packaged and seeded at start, and
    /// the demo account is created.
    pub demo_dir: Option<PathBuf>,
    /// Display name.
    pub name: String,
    /// How many active computers one account may have.
    pub device_limit: u32,
    /// How long a session token works, seconds.
    pub session_ttl_s: i64,
    /// How often the store looks in its database for titles packaged by another process
    /// (`marquee-store package`) to list and seed; `None` never looks.
    pub rescan_interval: Option<Duration>,
    /// The operator's bearer token for moderation (`POST /api/v1/titles/{id}/hide`); `None`
    /// turns moderation over HTTP off.
    pub operator_token: Option<String>,
    /// Where the store reads the time (sessions, licences, orders, signed time, rate limits,
    /// the tracker's peers).
    pub clock: Clock,
    /// Rate limits of sign-in and sign-up, and how many passwords are hashed at once.
    pub limits: Limits,
    /// Answer only requests addressed to `127.0.0.1:PORT`, `[::1]:PORT` or `localhost:PORT` (the
    /// `Host` header), or to the host of `public_url`: a store on loopback (the app's embedded
    /// store, or one behind a proxy on the same machine), which a web page must not reach
    /// through a DNS name that resolves to 127.0.0.1 (DNS rebinding). Off for a store listening
    /// on a network, whose name is whatever its operator gives it.
    pub loopback_hosts_only: bool,
    /// The address viewers reach the store at (`https://store.example.com`) when it is not
    /// `http://` + `http_addr` (behind a proxy, or listening on 0.0.0.0). The store's tracker,
    /// as written into its torrents and peer lists, is this address + `/announce`.
    pub public_url: Option<String>,
    /// Further trackers every torrent the store serves lists after the store's own (a second
    /// `announce-list` tier), so a store that outgrows its own tracker can point viewers at an
    /// established one. The store's own tracker stays first.
    pub trackers: Vec<String>,
    /// The iroh relay server live channels use to reach peers behind NAT, named in the
    /// channel directory (`GET /api/v1/channels`). `None`: direct addresses only.
    pub live_relay: Option<String>,
    /// Whether the store is a directory of live channels (`/api/v1/channels`). An operator who
    /// sells titles only turns it off: those routes then answer 404, which the app reads as
    /// "this store carries no live channels".
    pub live_channels: bool,
    /// The operator's reverse proxies: only from these is `X-Forwarded-For` believed (the
    /// address rate limits count and the tracker hands out). Empty: every client is the
    /// address its connection comes from.
    pub trusted_proxies: TrustedProxies,
}

/// The clock the store reads (a test moves it on instead of waiting): the wire crate's.
pub use marquee_protocol::clock::Clock;

impl StoreConfig {
    /// A store on loopback with random ports, as the app embeds it.
    pub fn loopback(data_dir: impl Into<PathBuf>, demo_dir: Option<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            database_url: None,
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            peer_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            demo_dir,
            name: "Marquee Demo Store".to_owned(),
            device_limit: DEFAULT_DEVICE_LIMIT,
            session_ttl_s: DEFAULT_SESSION_TTL_S,
            rescan_interval: None,
            operator_token: None,
            clock: Clock::system(),
            limits: Limits::default(),
            loopback_hosts_only: true,
            public_url: None,
            trackers: Vec::new(),
            live_relay: None,
            live_channels: true,
            trusted_proxies: TrustedProxies::default(),
        }
    }

    /// Creates the data folder (owner-only) and, when the database is the SQLite file in it,
    /// that file (owner-only) before SQLite opens it: the folder holds the database with the
    /// store's signing key, the titles' content keys and the accounts' password hashes.
    pub fn prepare_data_dir(&self) -> anyhow::Result<()> {
        use marquee_protocol::private_fs;
        private_fs::create_dir(&self.data_dir)?;
        if self.database_url.is_none() {
            private_fs::create_file(&self.data_dir.join("store.db"))?;
        }
        Ok(())
    }

    /// The database URL this configuration uses.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("store.db").display()
            )
        })
    }
}

/// The host name of an `http(s)://` URL, lower case, without its port: `store.example.com`,
/// `[2001:db8::1]`.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => host,
        _ => host_port,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Where the demo catalog of this source tree lives (used when no other is given).
pub fn bundled_demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo")
}

/// The books of a store, which must always agree: what orders charged is what the ledger
/// took, no order is charged twice, every balance is the sum of its ledger, and every paid
/// order issued exactly one licence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    /// Orders recorded.
    pub orders: u64,
    /// The sum of what orders say they charged, cents.
    pub charged_cents: i64,
    /// The sum the ledger took for orders, cents.
    pub ledger_order_cents: i64,
    /// Orders with more than one ledger charge.
    pub orders_charged_twice: u64,
    /// Accounts whose balance is not the sum of their ledger.
    pub balances_off: u64,
    /// Orders of encrypted titles without exactly one licence of their own title (licences of
    /// the work's other variants, issued to the order later without a charge, not counted).
    pub paid_orders_without_one_licence: u64,
}

impl Audit {
    /// True when the books agree.
    pub fn is_clean(&self) -> bool {
        self.charged_cents == self.ledger_order_cents
            && self.orders_charged_twice == 0
            && self.balances_off == 0
            && self.paid_orders_without_one_licence == 0
    }
}

/// The shared state of a running store.
pub(crate) struct State {
    pub(crate) name: String,
    pub(crate) db: db::Db,
    pub(crate) signing_key: SigningKey,
    pub(crate) seeder: Arc<Session>,
    pub(crate) seeder_addr: SocketAddr,
    pub(crate) packages: PathBuf,
    pub(crate) tracker: tracker::Tracker,
    /// Each account's passkey for the private swarms of paid titles.
    pub(crate) passkeys: tracker::Passkeys,
    pub(crate) catalog: RwLock<Arc<catalog::Snapshot>>,
    /// Folders `/media/{file}` serves posters and backdrops from, first match wins.
    pub(crate) media_dirs: Vec<PathBuf>,
    /// Where viewers reach the store (its public URL, or the address it listens on).
    pub(crate) base_url: String,
    /// The operator's further trackers, listed after the store's own in served torrents.
    pub(crate) trackers: Vec<String>,
    /// The relay live nodes use behind NAT, if the operator runs one.
    pub(crate) live_relay: Option<String>,
    pub(crate) device_limit: u32,
    pub(crate) operator_token: Option<String>,
    pub(crate) media_dir: PathBuf,
    pub(crate) session_ttl_s: i64,
    pub(crate) clock: Clock,
    /// Bounded password hashing (see [`passwords`]).
    pub(crate) passwords: passwords::Passwords,
    /// Sign-ins per client address.
    pub(crate) sign_in_by_address: limit::Limiter<std::net::IpAddr>,
    /// Sign-ins per e-mail and client address.
    pub(crate) sign_in_by_email_and_address: limit::Limiter<(std::net::IpAddr, [u8; 16])>,
    /// Sign-ups per client address.
    pub(crate) sign_up_by_address: limit::Limiter<std::net::IpAddr>,
    /// Whose `X-Forwarded-For` is believed.
    pub(crate) trusted_proxies: TrustedProxies,
    /// Community publications one account may make in 24 hours.
    pub(crate) publications_per_day: u32,
    /// The live channel directory.
    pub(crate) channels: channels::Directory,
    /// New live viewers per client address.
    pub(crate) joins_by_address: limit::Limiter<std::net::IpAddr>,
    /// Orders of one account are processed one at a time: the check of the order id, the
    /// balance and the charge must not interleave between two retries of the same order.
    /// (The database's unique order id and conditional charge hold even without it, e.g. with
    /// several store processes on one PostgreSQL; the lock saves wasted work.)
    pub(crate) order_locks: std::sync::Mutex<HashMap<i64, Arc<Mutex<()>>>>,
    /// How many accounts' order locks may hold a PostgreSQL connection at once: half the pool.
    pub(crate) order_lock_slots: Arc<tokio::sync::Semaphore>,
    /// Catalog refreshes (and the seeding that follows them) run one at a time.
    pub(crate) refresh_lock: Mutex<i64>,
}

/// A running store. Dropping it does not stop it; call [`Store::shutdown`].
#[derive(Clone)]
pub struct Store {
    state: Arc<State>,
    http_addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Store {
    /// Opens the database (running migrations), loads or creates the store's signing key,
    /// starts the seeder, packages the demo catalog if configured, and serves the HTTP API.
    pub async fn start(config: StoreConfig) -> anyhow::Result<Store> {
        config
            .prepare_data_dir()
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let db = db::open(&config.database_url()).await?;
        let signing_key = db::signing_key(&db).await?;

        let packages = config.data_dir.join("packages");
        std::fs::create_dir_all(&packages)?;
        let seeder = Session::new_with_opts(
            packages.clone(),
            marquee_protocol::swarm::session_options(config.peer_addr)?,
        )
        .await
        .context("starting the store's seeder")?;
        let seeder_addr = seeder
            .listen_addr()
            .context("the seeder is not listening")?;

        let listener = tokio::net::TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding the store to {}", config.http_addr))?;
        let http_addr = listener.local_addr()?;
        let base_url = match &config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{http_addr}"),
        };

        let mut media_dirs = vec![config.data_dir.join("media")];
        media_dirs.extend(config.demo_dir.as_ref().map(|d| d.join("media")));
        let state = Arc::new(State {
            name: config.name.clone(),
            db,
            passkeys: tracker::Passkeys::new(&signing_key.to_bytes()),
            signing_key,
            seeder,
            seeder_addr,
            packages: packages.clone(),
            tracker: tracker::Tracker::new(config.clock.clone()),
            catalog: RwLock::new(Arc::new(catalog::Snapshot::empty(config.clock.now()))),
            media_dirs,
            base_url: base_url.clone(),
            trackers: config.trackers.clone(),
            live_relay: config.live_relay.clone(),
            device_limit: config.device_limit,
            operator_token: config.operator_token.clone(),
            media_dir: config.data_dir.join("media"),
            session_ttl_s: config.session_ttl_s,
            clock: config.clock.clone(),
            passwords: passwords::Passwords::new(&config.limits),
            sign_in_by_address: limit::Limiter::new(
                config.limits.sign_in_per_address,
                config.limits.max_keys,
                config.clock.clone(),
            ),
            sign_in_by_email_and_address: limit::Limiter::new(
                config.limits.sign_in_per_email_and_address,
                config.limits.max_keys,
                config.clock.clone(),
            ),
            sign_up_by_address: limit::Limiter::new(
                config.limits.sign_up_per_address,
                config.limits.max_keys,
                config.clock.clone(),
            ),
            trusted_proxies: config.trusted_proxies.clone(),
            publications_per_day: config.limits.publications_per_day,
            channels: channels::Directory::new(config.clock.clone()),
            joins_by_address: limit::Limiter::new(
                config.limits.joins_per_address,
                config.limits.max_keys,
                config.clock.clone(),
            ),
            order_locks: std::sync::Mutex::new(HashMap::new()),
            order_lock_slots: Arc::new(tokio::sync::Semaphore::new(db::POSTGRES_POOL / 2)),
            refresh_lock: Mutex::new(0),
        });

        if let Some(demo) = &config.demo_dir {
            package::load_demo(&state.db, demo, &packages).await?;
            db::accounts::ensure_account(
                &state.db,
                &state.passwords,
                DEMO_EMAIL,
                DEMO_PASSWORD,
                DEMO_BALANCE_CENTS,
                state.now(),
            )
            .await?;
        }
        state.refresh_catalog().await?;

        let shutdown = CancellationToken::new();
        if let Some(every) = config.rescan_interval {
            let (state, stop) = (state.clone(), shutdown.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tick.tick() => {
                            if let Err(e) = state.refresh_catalog().await {
                                tracing::warn!(error = %format!("{e:#}"), "catalog rescan failed");
                            }
                        }
                    }
                }
            });
        }
        let app = http::router(
            state.clone(),
            config.loopback_hosts_only.then(|| http::LoopbackHosts {
                port: http_addr.port(),
                public: config.public_url.as_deref().and_then(url_host),
            }),
            config.live_channels,
        );
        let stop = shutdown.clone();
        let limits = ServerLimits {
            connections: config.limits.connections,
            header_read: Duration::from_millis(config.limits.header_read_ms),
        };
        let request_timeout = Duration::from_millis(config.limits.request_ms);
        tokio::spawn(marquee_protocol::server::serve(
            listener,
            limits,
            async move { stop.cancelled().await },
            move |peer| http::service(app.clone(), peer, request_timeout),
        ));
        tracing::info!(url = %base_url, seeder = %seeder_addr, "store started");
        Ok(Store {
            state,
            http_addr,
            shutdown,
        })
    }

    /// Live channels held and viewers tracked over all of them: the directory's size, for
    /// tests that flood it.
    pub fn channels_size(&self) -> (usize, usize) {
        self.state.channels.size()
    }

    /// The base URL of the HTTP API, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The store's public key: clients verify the feed and licences with it.
    pub fn public_key(&self) -> VerifyingKey {
        self.state.signing_key.verifying_key()
    }

    /// Where the seeder accepts peers.
    pub fn seeder_addr(&self) -> SocketAddr {
        self.state.seeder_addr
    }

    /// Creates an account with a starting balance, unless the e-mail is taken.
    pub async fn create_account(
        &self,
        email: &str,
        password: &str,
        balance_cents: i64,
    ) -> anyhow::Result<()> {
        db::accounts::ensure_account(
            &self.state.db,
            &self.state.passwords,
            email,
            password,
            balance_cents,
            self.state.now(),
        )
        .await
    }

    /// Lets the tracker also answer for these torrents, which are not in the catalog: an
    /// operator tracking what its viewers share beyond the store (and tests standing in for
    /// the public trackers strangers' torrents name).
    pub fn track_also(&self, info_hashes: impl IntoIterator<Item = [u8; 20]>) {
        self.state.tracker.know(info_hashes);
    }

    /// What the tracker holds now (peers, swarms, memory).
    pub fn tracker_stats(&self) -> tracker::TrackerStats {
        self.state.tracker.stats()
    }

    /// Checks the books (see [`Audit`]).
    pub async fn audit(&self) -> anyhow::Result<Audit> {
        db::orders::audit(&self.state.db).await
    }

    /// Picks up titles another process registered in the database now, instead of at the next
    /// rescan.
    pub async fn refresh_catalog(&self) -> anyhow::Result<()> {
        self.state.refresh_catalog().await
    }

    /// Stops the HTTP API and the seeder.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.state.seeder.stop().await;
    }
}

impl State {
    pub(crate) fn sign(&self, context: SignatureContext, bytes: &[u8]) -> String {
        marquee_protocol::sign::sign(&self.signing_key, context, bytes)
    }

    /// Unix seconds now, by the store's clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The store's clock, signed together with the client's nonce (if it sent one), so the
    /// reading answers that request alone.
    pub(crate) fn signed_time(&self, nonce: Option<&[u8]>) -> api::SignedTime {
        let time = self.now();
        api::SignedTime {
            time,
            nonce: nonce.map(hex::encode),
            signature: self.sign(
                SignatureContext::Time,
                &api::SignedTime::signed_bytes(time, nonce),
            ),
        }
    }

    /// The current catalog snapshot.
    pub(crate) fn catalog(&self) -> Arc<catalog::Snapshot> {
        self.catalog.read().expect("catalog lock").clone()
    }

    /// Applies the titles changed since the last refresh to the catalog snapshot and seeds the
    /// new deliverable ones. Cheap when nothing changed: one query of the catalog version.
    pub(crate) async fn refresh_catalog(&self) -> anyhow::Result<()> {
        let mut seeded_up_to = self.refresh_lock.lock().await;
        let current = self.catalog();
        let version = db::catalog::catalog_version(&self.db).await?;
        if version == current.version && *seeded_up_to == version && version != 0 {
            return Ok(());
        }
        let changed = db::catalog::feed_titles_since(&self.db, current.version).await?;
        // The tracker answers for the store's titles only, studio and community alike: free
        // ones to anyone, paid ones to the accounts that hold them; hidden ones not at all.
        self.tracker.set_access(changed.iter().filter_map(|t| {
            let mut ih = [0u8; 20];
            hex::decode_to_slice(&t.info_hash, &mut ih).ok()?;
            let access = match (t.hidden, t.offer) {
                (true, _) => None,
                (false, api::OfferKind::Free) => Some(tracker::Access::Open),
                (false, _) => Some(tracker::Access::Licensed(t.id.clone())),
            };
            Some((ih, access))
        }));
        if !changed.is_empty() || current.version == 0 {
            let next = Arc::new(current.apply(changed, self.now()));
            *self.catalog.write().expect("catalog lock") = next;
        }
        package::seed_since(self, *seeded_up_to).await?;
        *seeded_up_to = version;
        Ok(())
    }

    /// The tracker's announce URL: the open one, or with `account`'s passkey (the one paid
    /// titles' private swarms take).
    pub(crate) fn announce_url(&self, account: Option<i64>) -> String {
        match account {
            None => format!("{}/announce", self.base_url),
            Some(a) => format!("{}/announce/{}", self.base_url, self.passkeys.of(a)),
        }
    }

    /// `torrent` as the store serves it: `announce` = its own tracker (`announce_url`),
    /// `announce-list` = `[[its own tracker], [the operator's further trackers]]`, the further
    /// ones only for a free title (`open`): a paid title's swarm is private to its holders, and
    /// a public tracker would tell anyone who watches it. The torrents in the database carry no
    /// trackers (packaging does not know where the store will be reached), so they are written
    /// in here, on the way out; the `info` dictionary, and so the info hash, is copied byte for
    /// byte.
    pub(crate) fn served_torrent(
        &self,
        torrent: &[u8],
        announce_url: &str,
        open: bool,
    ) -> Result<Vec<u8>, TrackersError> {
        let further: &[String] = if open { &self.trackers } else { &[] };
        let tiers = marquee_protocol::trackers::store_tiers(announce_url, further);
        marquee_protocol::trackers::with_trackers(torrent, &tiers)
    }

    /// Takes the lock that serialises one account's orders, licence moves and restores: the
    /// one-PC rule reads what the account holds, then writes. In this process a mutex; on
    /// PostgreSQL also an advisory lock, held until the guard drops, so two store processes
    /// on one database take turns too.
    pub(crate) async fn lock_orders(&self, account: i64) -> Result<OrdersLock, StoreError> {
        let mutex = self
            .order_locks
            .lock()
            .expect("order locks")
            .entry(account)
            .or_default()
            .clone();
        let local = mutex.lock_owned().await;
        // On PostgreSQL each held lock keeps a pooled connection open beside the order's own
        // queries: at most half the pool holds locks, so the queries of those orders always
        // find a connection (otherwise 16 accounts ordering at once would wait on each other).
        let slot = if db::is_postgres(self.db.connect_options().database_url.as_str()) {
            Some(
                self.order_lock_slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            )
        } else {
            None
        };
        let shared = db::lock_orders_of(&self.db, account).await?;
        Ok(OrdersLock {
            _local: local,
            _shared: shared,
            _slot: slot,
        })
    }
}

/// One account's orders, held (see [`State::lock_orders`]).
pub(crate) struct OrdersLock {
    _local: tokio::sync::OwnedMutexGuard<()>,
    /// The open transaction holding PostgreSQL's advisory lock; rolled back on drop.
    _shared: Option<sqlx::Transaction<'static, sqlx::Any>>,
    /// One of the slots for held locks (PostgreSQL).
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

#[cfg(test)]
mod tests {
    use super::url_host;

    #[test]
    fn url_host_drops_scheme_credentials_port_and_path() {
        assert_eq!(
            url_host("https://Store.Example.com/").as_deref(),
            Some("store.example.com")
        );
        assert_eq!(
            url_host("http://u:p@store.example.com:8443/x?y").as_deref(),
            Some("store.example.com")
        );
        assert_eq!(
            url_host("http://[2001:db8::1]:80").as_deref(),
            Some("[2001:db8::1]")
        );
        assert_eq!(
            url_host("http://[2001:db8::1]").as_deref(),
            Some("[2001:db8::1]")
        );
        assert_eq!(url_host("store.example.com"), None);
    }
}
