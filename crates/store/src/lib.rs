//! The Marquee store: catalog feed, accounts, wallet, orders, licence issuing, packaging of
//! studio titles into encrypted torrents, a tracker and a seeding node.
//!
//! It runs as its own binary (`marquee-store`) and in-process as the app's embedded demo store:
//! both call [`Store::start`].

pub mod api;
mod db;
pub mod error;
mod http;
pub mod package;
pub mod tracker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use librqbit::{ListenerOptions, Session, SessionOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

pub use error::StoreError;

/// The e-mail of the account the demo store creates.
pub const DEMO_EMAIL: &str = "demo@marquee.local";
/// The password of the demo account. The demo store only listens on loopback.
pub const DEMO_PASSWORD: &str = "demo";
/// The demo account's starting balance: 20.00.
pub const DEMO_BALANCE_CENTS: i64 = 2000;
/// The store's currency.
pub const CURRENCY: &str = "USD";

/// How to start a store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Where the store keeps its database and packaged titles.
    pub data_dir: PathBuf,
    /// Address of the HTTP API (port 0 picks a free one).
    pub http_addr: SocketAddr,
    /// Address the seeder listens on for peers (port 0 picks a free one).
    pub peer_addr: SocketAddr,
    /// A folder with `catalog.json` and the media it names: packaged and seeded at start, and
    /// the demo account is created.
    pub demo_dir: Option<PathBuf>,
    /// Display name.
    pub name: String,
}

impl StoreConfig {
    /// A store on loopback with random ports, as the app embeds it.
    pub fn loopback(data_dir: impl Into<PathBuf>, demo_dir: Option<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            peer_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            demo_dir,
            name: "Marquee Demo Store".to_owned(),
        }
    }
}

/// Where the demo catalog of this source tree lives (used when no other is given).
pub fn bundled_demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo")
}

/// The shared state of a running store.
pub(crate) struct State {
    pub(crate) name: String,
    pub(crate) db: SqlitePool,
    pub(crate) signing_key: SigningKey,
    pub(crate) seeder: Arc<Session>,
    pub(crate) seeder_addr: SocketAddr,
    pub(crate) tracker: tracker::Tracker,
    pub(crate) feed: RwLock<Arc<api::SignedFeed>>,
    pub(crate) media_dir: Option<PathBuf>,
    pub(crate) base_url: String,
    /// Orders are processed one at a time: the check of the order id, the balance and the
    /// charge must not interleave between two retries of the same order.
    pub(crate) order_lock: Mutex<()>,
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
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let db = open_db(&config.data_dir.join("store.db")).await?;
        let signing_key = db::signing_key(&db).await?;

        let packages = config.data_dir.join("packages");
        std::fs::create_dir_all(&packages)?;
        let seeder = Session::new_with_opts(
            packages.clone(),
            SessionOptions {
                dht: None,
                persistence: None,
                fastresume: false,
                disable_local_service_discovery: true,
                listen: Some(ListenerOptions {
                    listen_addr: config.peer_addr,
                    ..Default::default()
                }),
                ..Default::default()
            },
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
        let base_url = format!("http://{http_addr}");

        let media_dir = config.demo_dir.as_ref().map(|d| d.join("media"));
        let state = Arc::new(State {
            name: config.name.clone(),
            db,
            signing_key,
            seeder,
            seeder_addr,
            tracker: tracker::Tracker::default(),
            feed: RwLock::new(Arc::new(api::SignedFeed {
                feed: String::new(),
                signature: String::new(),
            })),
            media_dir,
            base_url: base_url.clone(),
            order_lock: Mutex::new(()),
        });

        if let Some(demo) = &config.demo_dir {
            package::load_demo(&state, demo, &packages).await?;
            db::ensure_account(&state.db, DEMO_EMAIL, DEMO_PASSWORD, DEMO_BALANCE_CENTS).await?;
        }
        package::seed_all(&state, &packages).await?;
        state.refresh_feed().await?;

        let shutdown = CancellationToken::new();
        let app = http::router(state.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "store server stopped");
            }
        });
        tracing::info!(url = %base_url, seeder = %seeder_addr, "store started");
        Ok(Store {
            state,
            http_addr,
            shutdown,
        })
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
        db::ensure_account(&self.state.db, email, password, balance_cents).await
    }

    /// Stops the HTTP API and the seeder.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.state.seeder.stop().await;
    }
}

impl State {
    pub(crate) fn sign(&self, context: &[u8], bytes: &[u8]) -> String {
        let mut msg = Vec::with_capacity(context.len() + bytes.len());
        msg.extend_from_slice(context);
        msg.extend_from_slice(bytes);
        hex::encode(self.signing_key.sign(&msg).to_bytes())
    }

    /// Rebuilds and re-signs the catalog feed.
    pub(crate) async fn refresh_feed(&self) -> anyhow::Result<()> {
        let titles = db::feed_titles(&self.db).await?;
        let version = db::catalog_version(&self.db).await?;
        let feed = api::CatalogFeed {
            version,
            generated_at: now(),
            titles,
        };
        let json = serde_json::to_string(&feed)?;
        let signature = self.sign(api::FEED_SIGNATURE_CONTEXT, json.as_bytes());
        *self.feed.write().expect("feed lock") = Arc::new(api::SignedFeed {
            feed: json,
            signature,
        });
        Ok(())
    }

    pub(crate) fn announce_url(&self) -> String {
        format!("{}/announce", self.base_url)
    }
}

async fn open_db(path: &Path) -> anyhow::Result<SqlitePool> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    let db = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    sqlx::migrate!("./migrations")
        .run(&db)
        .await
        .context("migrating the store database")?;
    Ok(db)
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
