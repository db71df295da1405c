//! The store's queries. Plain SQL through sqlx's `Any` driver, checked at run time and kept to
//! the common subset of SQLite and PostgreSQL: `$1` placeholders (SQLite reads them as
//! positional too), integer flags instead of booleans, `RETURNING`, `ON CONFLICT`. The schema
//! lives twice, in `migrations/` (SQLite) and `migrations_pg/` (PostgreSQL).

use std::time::Duration;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::api::{DeviceInfo, FeedTitle, OfferKind, Receipt};
use crate::error::StoreError;
use crate::passwords::Passwords;

/// The store's connection pool (SQLite or PostgreSQL, by URL).
pub(crate) type Db = AnyPool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations_pg");

/// True for `postgres://` and `postgresql://` URLs.
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the database at `url` and brings its schema up to date.
pub(crate) async fn open(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let postgres = is_postgres(url);
    let pool = AnyPoolOptions::new()
        .max_connections(if postgres { 16 } else { 4 })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if !postgres {
                    // WAL lets the feed and the wallet be read while an order is written; the
                    // busy timeout makes concurrent writers wait instead of failing.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                }
                Ok(())
            })
        })
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .with_context(|| format!("opening the store database {}", redact_url(url)))?;
    let migrator = if postgres {
        &POSTGRES_MIGRATIONS
    } else {
        &SQLITE_MIGRATIONS
    };
    migrator
        .run(&pool)
        .await
        .context("migrating the store database")?;
    Ok(pool)
}

/// A database URL without its password, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Loads the store's Ed25519 key, creating it on first start.
pub(crate) async fn signing_key(db: &Db) -> anyhow::Result<SigningKey> {
    if let Some(row) = sqlx::query("SELECT secret FROM store_keys WHERE name = 'signing'")
        .fetch_optional(db)
        .await?
    {
        let secret: Vec<u8> = row.get(0);
        let seed: [u8; 32] = secret
            .try_into()
            .map_err(|_| anyhow::anyhow!("the store's signing key is damaged"))?;
        return Ok(SigningKey::from_bytes(&seed));
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    sqlx::query("INSERT INTO store_keys (name, secret) VALUES ('signing', $1)")
        .bind(seed.to_vec())
        .execute(db)
        .await?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Creates an account with an opening balance at `now`; [`StoreError::EmailTaken`] if the
/// e-mail has one.
///
/// The password is hashed before the e-mail is looked at, so a taken e-mail costs the same
/// Argon2 work, and takes as long, as a new account: sign-up's answer says whether an e-mail
/// has an account (the app offers to sign in instead), but not faster than sign-up's rate
/// limit lets an address ask (see `crate::limit::Limits::sign_up_per_address`).
pub(crate) async fn create_account(
    db: &Db,
    passwords: &Passwords,
    email: &str,
    password: &str,
    balance_cents: i64,
    now: i64,
) -> Result<i64, StoreError> {
    // Hashing is deliberately slow and large: bounded, off the async workers.
    let hash = passwords.hash(password).await?;
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO accounts (email, password_hash, balance_cents, currency) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(email)
    .bind(hash)
    .bind(balance_cents)
    .bind(crate::CURRENCY)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match inserted {
        Ok(row) => row.get(0),
        Err(e) if is_unique_violation(&e) => return Err(StoreError::EmailTaken),
        Err(e) => return Err(e.into()),
    };
    if balance_cents != 0 {
        sqlx::query(
            "INSERT INTO ledger (account_id, delta_cents, reason, order_id, created_at) VALUES ($1, $2, 'opening balance', NULL, $3)",
        )
        .bind(id)
        .bind(balance_cents)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Creates an account unless one with that e-mail exists.
pub(crate) async fn ensure_account(
    db: &Db,
    passwords: &Passwords,
    email: &str,
    password: &str,
    balance_cents: i64,
    now: i64,
) -> anyhow::Result<()> {
    match create_account(db, passwords, email, password, balance_cents, now).await {
        Ok(_) | Err(StoreError::EmailTaken) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("creating account {email}: {e}")),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Checks a password and opens a session that lasts `ttl_s` from `now`; returns the token and
/// its expiry.
///
/// An unknown e-mail and a wrong password get the same answer after the same work: one
/// Argon2 check, against a dummy hash when there is no account, so neither the answer nor its
/// time says whether an e-mail has an account. Accounts made by sign-up are stored in lower
/// case, older ones as given: both spellings are looked up first, then one hash is checked.
pub(crate) async fn sign_in(
    db: &Db,
    passwords: &Passwords,
    email: &str,
    password: &str,
    ttl_s: i64,
    now: i64,
) -> Result<(String, i64), StoreError> {
    let lower = email.trim().to_lowercase();
    let row = sqlx::query(
        "SELECT id, password_hash FROM accounts WHERE email = $1 OR email = $2 ORDER BY (email = $1) DESC LIMIT 1",
    )
    .bind(email)
    .bind(&lower)
    .fetch_optional(db)
    .await?;
    let (id, stored) = match row {
        Some(row) => (Some(row.get::<i64, _>(0)), Some(row.get::<String, _>(1))),
        None => (None, None),
    };
    let ok = passwords.verify(stored, password).await?;
    match id {
        Some(id) if ok => open_session(db, id, ttl_s, now).await,
        _ => Err(StoreError::Unauthorized("unknown e-mail or wrong password")),
    }
}

/// Opens a session for an account that lasts `ttl_s` from `now`.
pub(crate) async fn open_session(
    db: &Db,
    account: i64,
    ttl_s: i64,
    now: i64,
) -> Result<(String, i64), StoreError> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let expires_at = now + ttl_s;
    // Expired sessions of this account are swept here, so the table does not grow forever.
    sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND expires_at <= $2")
        .bind(account)
        .bind(now)
        .execute(db)
        .await?;
    sqlx::query("INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash(&token))
        .bind(account)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok((token, expires_at))
}

/// The store keeps only a hash of each session token, so a leaked database opens no session.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The account of a bearer token, if its session is still open at `now`.
pub(crate) async fn account_of_token(db: &Db, token: &str, now: i64) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT account_id, expires_at FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::Unauthorized("your session is not known"))?;
    let expires_at: i64 = row.get(1);
    if expires_at <= now {
        return Err(StoreError::SessionExpired);
    }
    Ok(row.get(0))
}

/// Balance and currency of an account.
pub(crate) async fn wallet(db: &Db, account: i64) -> Result<(i64, String), StoreError> {
    let row = sqlx::query("SELECT balance_cents, currency FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(db)
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Registers a device for an account; re-registering the same device updates its key and
/// re-activates it. A new (or re-activated) device needs a free slot under `limit`. A new one is
/// recorded as registered at `now`.
pub(crate) async fn register_device(
    db: &Db,
    account: i64,
    device_id: &str,
    public_key: &[u8; 32],
    publisher_key: Option<&[u8; 32]>,
    limit: u32,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let existing = sqlx::query("SELECT account_id, active FROM devices WHERE device_id = $1")
        .bind(device_id)
        .fetch_optional(&mut *tx)
        .await?;
    let needs_slot = match &existing {
        Some(row) => {
            if row.get::<i64, _>(0) != account {
                return Err(StoreError::DeviceOfAnotherAccount);
            }
            row.get::<i64, _>(1) == 0
        }
        None => true,
    };
    if needs_slot {
        let active: i64 =
            sqlx::query("SELECT COUNT(*) FROM devices WHERE account_id = $1 AND active = 1")
                .bind(account)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
        if active >= i64::from(limit) {
            return Err(StoreError::DeviceLimit(limit));
        }
    }
    if existing.is_some() {
        // A new key for a known device: the profile was re-created on the same computer.
        sqlx::query(
            "UPDATE devices SET public_key = $1, publisher_key = $2, active = 1 WHERE device_id = $3",
        )
        .bind(public_key.to_vec())
        .bind(publisher_key.map(|k| k.to_vec()))
        .bind(device_id)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO devices (device_id, account_id, public_key, registered_at, active, publisher_key) VALUES ($1, $2, $3, $4, 1, $5)",
        )
        .bind(device_id)
        .bind(account)
        .bind(public_key.to_vec())
        .bind(now)
        .bind(publisher_key.map(|k| k.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A registered device of the caller.
pub(crate) struct DeviceRecord {
    pub(crate) public_key: [u8; 32],
    pub(crate) active: bool,
}

/// A device, if it belongs to the account.
pub(crate) async fn device(
    db: &Db,
    account: i64,
    device_id: &str,
) -> Result<DeviceRecord, StoreError> {
    let row =
        sqlx::query("SELECT account_id, public_key, active FROM devices WHERE device_id = $1")
            .bind(device_id)
            .fetch_optional(db)
            .await?
            .ok_or(StoreError::UnknownDevice)?;
    let owner: i64 = row.get(0);
    if owner != account {
        return Err(StoreError::DeviceOfAnotherAccount);
    }
    let key: Vec<u8> = row.get(1);
    Ok(DeviceRecord {
        public_key: key
            .try_into()
            .map_err(|_| StoreError::Internal("bad device key".into()))?,
        active: row.get::<i64, _>(2) != 0,
    })
}

/// The account's devices, oldest first.
pub(crate) async fn list_devices(db: &Db, account: i64) -> Result<Vec<DeviceInfo>, StoreError> {
    let rows = sqlx::query(
        "SELECT device_id, public_key, registered_at, active FROM devices WHERE account_id = $1 ORDER BY registered_at, device_id",
    )
    .bind(account)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeviceInfo {
            device_id: r.get(0),
            public_key: hex::encode(r.get::<Vec<u8>, _>(1)),
            registered_at: r.get(2),
            active: r.get::<i64, _>(3) != 0,
        })
        .collect())
}

/// Deactivates one of the account's devices: revokes every licence it holds and ends the
/// sessions it signed in with, in one transaction. Returns how many licences were revoked.
pub(crate) async fn deactivate_device(
    db: &Db,
    account: i64,
    device_id: &str,
) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let done =
        sqlx::query("UPDATE devices SET active = 0 WHERE device_id = $1 AND account_id = $2")
            .bind(device_id)
            .bind(account)
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::UnknownDevice);
    }
    let revoked = sqlx::query(
        "UPDATE licences SET revoked = 1 WHERE device_id = $1 AND revoked = 0
            AND order_id IN (SELECT id FROM orders WHERE account_id = $2)",
    )
    .bind(device_id)
    .bind(account)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM sessions WHERE device_id = $1 AND account_id = $2")
        .bind(device_id)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(revoked)
}

/// What the store knows of a packaged title.
pub(crate) struct TitleRecord {
    pub(crate) id: String,
    pub(crate) seq: i64,
    pub(crate) offer: OfferKind,
    pub(crate) price_cents: i64,
    pub(crate) package_path: String,
    pub(crate) encrypted: bool,
    pub(crate) content_key: Option<Vec<u8>>,
    pub(crate) key_commitment: Option<Vec<u8>>,
    pub(crate) info_hash: String,
    pub(crate) torrent: Vec<u8>,
    pub(crate) for_sale: bool,
}

pub(crate) fn parse_offer(s: &str) -> OfferKind {
    match s {
        "rent" => OfferKind::Rent,
        "buy" => OfferKind::Buy,
        _ => OfferKind::Free,
    }
}

pub(crate) fn offer_str(o: OfferKind) -> &'static str {
    match o {
        OfferKind::Rent => "rent",
        OfferKind::Buy => "buy",
        OfferKind::Free => "free",
    }
}

fn title_record(row: AnyRow) -> TitleRecord {
    TitleRecord {
        id: row.get("id"),
        seq: row.get("seq"),
        offer: parse_offer(row.get::<String, _>("offer").as_str()),
        price_cents: row.get("price_cents"),
        package_path: row.get("package_path"),
        encrypted: row.get::<i64, _>("encrypted") != 0,
        content_key: row.get("content_key"),
        key_commitment: row.get("key_commitment"),
        info_hash: row.get("info_hash"),
        torrent: row.get("torrent"),
        for_sale: row.get::<i64, _>("for_sale") != 0,
    }
}

const TITLE_COLUMNS: &str = "id, seq, offer, price_cents, package_path, encrypted, content_key, key_commitment, info_hash, torrent, for_sale";

/// One title by id.
pub(crate) async fn title(db: &Db, id: &str) -> Result<TitleRecord, StoreError> {
    sqlx::query(&format!("SELECT {TITLE_COLUMNS} FROM titles WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(title_record)
        .ok_or_else(|| StoreError::UnknownTitle(id.to_owned()))
}

/// Every deliverable title changed after catalog version `since` (all of them for 0).
pub(crate) async fn deliverable_titles_since(
    db: &Db,
    since: i64,
) -> anyhow::Result<Vec<TitleRecord>> {
    Ok(sqlx::query(&format!(
        "SELECT {TITLE_COLUMNS} FROM titles WHERE seq > $1 AND for_sale = 1 ORDER BY seq"
    ))
    .bind(since)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(title_record)
    .collect())
}

/// The id and package path of every title (to skip packaging what is already packaged).
pub(crate) async fn packaged_titles(db: &Db) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sqlx::query("SELECT id, package_path FROM titles")
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// A packaged title to register.
pub(crate) struct NewTitle<'a> {
    pub(crate) feed: &'a FeedTitle,
    pub(crate) media_path: &'a str,
    pub(crate) package_path: &'a str,
    pub(crate) content_key: Option<&'a [u8; 32]>,
    pub(crate) key_commitment: Option<&'a [u8; 32]>,
    pub(crate) torrent: &'a [u8],
}

/// Registers (or replaces) titles in one transaction; each gets the next catalog version.
pub(crate) async fn upsert_titles(db: &Db, titles: &[NewTitle<'_>]) -> anyhow::Result<i64> {
    let mut tx = db.begin().await?;
    let mut seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM titles")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    for t in titles {
        seq += 1;
        sqlx::query(
            "INSERT INTO titles (id, seq, kind, offer, price_cents, meta_json, media_path, package_path, encrypted, content_key, key_commitment, info_hash, size_bytes, torrent, for_sale)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, offer = excluded.offer, price_cents = excluded.price_cents,
                meta_json = excluded.meta_json, media_path = excluded.media_path, package_path = excluded.package_path,
                encrypted = excluded.encrypted, content_key = excluded.content_key, key_commitment = excluded.key_commitment,
                info_hash = excluded.info_hash, size_bytes = excluded.size_bytes, torrent = excluded.torrent, seq = excluded.seq,
                for_sale = excluded.for_sale",
        )
        .bind(&t.feed.id)
        .bind(seq)
        .bind(&t.feed.kind)
        .bind(offer_str(t.feed.offer))
        .bind(t.feed.price_cents)
        .bind(serde_json::to_string(t.feed).context("feed json")?)
        .bind(t.media_path)
        .bind(t.package_path)
        .bind(t.feed.encrypted as i64)
        .bind(t.content_key.map(|k| k.to_vec()))
        .bind(t.key_commitment.map(|k| k.to_vec()))
        .bind(&t.feed.info_hash)
        .bind(t.feed.size_bytes as i64)
        .bind(t.torrent.to_vec())
        .bind(t.feed.for_sale as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(seq)
}

/// The feed entries changed after catalog version `since` (every title for 0), in catalog
/// order, each carrying the version it last changed in.
pub(crate) async fn feed_titles_since(db: &Db, since: i64) -> anyhow::Result<Vec<FeedTitle>> {
    let rows = sqlx::query("SELECT seq, meta_json FROM titles WHERE seq > $1 ORDER BY seq")
        .bind(since)
        .fetch_all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            let mut t = serde_json::from_str::<FeedTitle>(r.get::<String, _>(1).as_str())
                .context("a stored title does not parse")?;
            t.version = r.get(0);
            Ok(t)
        })
        .collect()
}

/// The catalog's version: the highest title sequence number.
pub(crate) async fn catalog_version(db: &Db) -> anyhow::Result<i64> {
    Ok(sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM titles")
        .fetch_one(db)
        .await?
        .get(0))
}

/// A stored order.
pub(crate) struct OrderRecord {
    pub(crate) id: String,
    pub(crate) request_hash: String,
    pub(crate) title_id: String,
    pub(crate) charged_cents: i64,
    pub(crate) licence: Option<Vec<u8>>,
}

/// The order an account made with a client order id, if any, with the licence it issued.
pub(crate) async fn find_order(
    db: &Db,
    account: i64,
    client_order_id: &str,
) -> Result<Option<OrderRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT o.id, o.request_hash, o.title_id, o.charged_cents, l.bytes
           FROM orders o LEFT JOIN licences l ON l.order_id = o.id AND l.moved_from IS NULL
          WHERE o.account_id = $1 AND o.client_order_id = $2",
    )
    .bind(account)
    .bind(client_order_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| OrderRecord {
        id: r.get(0),
        request_hash: r.get(1),
        title_id: r.get(2),
        charged_cents: r.get(3),
        licence: r.get(4),
    }))
}

/// A licence of the caller's, as the one-PC rules need it.
pub(crate) struct HeldLicence {
    pub(crate) id: String,
    pub(crate) order_id: String,
    pub(crate) title_id: String,
    pub(crate) device_id: String,
    pub(crate) kind: String,
    pub(crate) issued_at: i64,
    pub(crate) revoked: bool,
    pub(crate) first_frame_at: Option<i64>,
    pub(crate) bytes: Vec<u8>,
}

const HELD_COLUMNS: &str = "l.id, l.order_id, l.title_id, l.device_id, l.kind, l.issued_at, l.revoked, l.first_frame_at, l.bytes";

fn held(r: AnyRow) -> HeldLicence {
    HeldLicence {
        id: r.get(0),
        order_id: r.get(1),
        title_id: r.get(2),
        device_id: r.get(3),
        kind: r.get(4),
        issued_at: r.get(5),
        revoked: r.get::<i64, _>(6) != 0,
        first_frame_at: r.get(7),
        bytes: r.get(8),
    }
}

/// Every licence the account was issued for a title, newest first.
pub(crate) async fn licences_of_title(
    db: &Db,
    account: i64,
    title_id: &str,
) -> Result<Vec<HeldLicence>, StoreError> {
    Ok(sqlx::query(&format!(
        "SELECT {HELD_COLUMNS} FROM licences l JOIN orders o ON o.id = l.order_id
          WHERE o.account_id = $1 AND l.title_id = $2 ORDER BY l.issued_at DESC, l.id"
    ))
    .bind(account)
    .bind(title_id)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(held)
    .collect())
}

/// Every licence the account was issued, newest first.
pub(crate) async fn licences_of_account(
    db: &Db,
    account: i64,
) -> Result<Vec<HeldLicence>, StoreError> {
    Ok(sqlx::query(&format!(
        "SELECT {HELD_COLUMNS} FROM licences l JOIN orders o ON o.id = l.order_id
          WHERE o.account_id = $1 ORDER BY l.issued_at DESC, l.id"
    ))
    .bind(account)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(held)
    .collect())
}

/// A title's display name, for sentences.
pub(crate) async fn title_name(db: &Db, id: &str) -> Result<String, StoreError> {
    let row = sqlx::query("SELECT meta_json FROM titles WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| StoreError::UnknownTitle(id.to_owned()))?;
    Ok(
        serde_json::from_str::<FeedTitle>(row.get::<String, _>(0).as_str())
            .map(|t| t.name)
            .unwrap_or_else(|_| id.to_owned()),
    )
}

/// A licence to store.
pub(crate) struct NewLicence<'a> {
    pub(crate) id: String,
    pub(crate) kind: &'a str,
    pub(crate) issued_at: i64,
    pub(crate) bytes: Vec<u8>,
}

/// Everything one order writes, in one transaction.
pub(crate) struct NewOrder<'a> {
    pub(crate) id: &'a str,
    pub(crate) account: i64,
    pub(crate) client_order_id: &'a str,
    pub(crate) request_hash: &'a str,
    pub(crate) title_id: &'a str,
    pub(crate) device_id: &'a str,
    pub(crate) charged_cents: i64,
    pub(crate) licence: Option<NewLicence<'a>>,
}

/// How placing an order ended.
pub(crate) enum Placed {
    /// Charged and recorded; the balance after.
    Done(i64),
    /// Another request recorded this client order id first (nothing was written).
    Duplicate,
    /// The wallet could not pay (nothing was written); the balance.
    InsufficientFunds(i64),
}

/// Charges the wallet, records the order (placed at `now`) and its licence: all or nothing.
pub(crate) async fn place_order(db: &Db, o: NewOrder<'_>, now: i64) -> Result<Placed, StoreError> {
    let mut tx = db.begin().await?;
    // The balance check is part of the charge, so two orders can never both spend the same
    // money; the CHECK (balance_cents >= 0) constraint is the last line of defence.
    let balance = sqlx::query(
        "UPDATE accounts SET balance_cents = balance_cents - $1 WHERE id = $2 AND balance_cents >= $3 RETURNING balance_cents",
    )
    .bind(o.charged_cents)
    .bind(o.account)
    .bind(o.charged_cents)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(balance) = balance.map(|r| r.get::<i64, _>(0)) else {
        drop(tx);
        let (balance, _) = wallet(db, o.account).await?;
        return Ok(Placed::InsufficientFunds(balance));
    };
    let inserted = sqlx::query(
        "INSERT INTO orders (id, account_id, client_order_id, request_hash, title_id, device_id, charged_cents, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(o.id)
    .bind(o.account)
    .bind(o.client_order_id)
    .bind(o.request_hash)
    .bind(o.title_id)
    .bind(o.device_id)
    .bind(o.charged_cents)
    .bind(now)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        // Dropping the transaction rolls the charge back.
        Err(e) if is_unique_violation(&e) => return Ok(Placed::Duplicate),
        Err(e) => return Err(e.into()),
    }
    if o.charged_cents != 0 {
        sqlx::query(
            "INSERT INTO ledger (account_id, delta_cents, reason, order_id, created_at) VALUES ($1, $2, 'order', $3, $4)",
        )
        .bind(o.account)
        .bind(-o.charged_cents)
        .bind(o.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(l) = o.licence {
        insert_licence(&mut tx, &l, o.id, o.title_id, o.device_id, None).await?;
    }
    tx.commit().await?;
    Ok(Placed::Done(balance))
}

async fn insert_licence(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    l: &NewLicence<'_>,
    order_id: &str,
    title_id: &str,
    device_id: &str,
    moved_from: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO licences (id, order_id, title_id, device_id, kind, issued_at, bytes, moved_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&l.id)
    .bind(order_id)
    .bind(title_id)
    .bind(device_id)
    .bind(l.kind)
    .bind(l.issued_at)
    .bind(l.bytes.clone())
    .bind(moved_from)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A stored licence of the caller.
pub(crate) struct LicenceRecord {
    pub(crate) id: String,
    pub(crate) title_id: String,
    pub(crate) device_id: String,
    pub(crate) kind: String,
    pub(crate) issued_at: i64,
    pub(crate) revoked: bool,
}

/// A licence, if it belongs to the account.
pub(crate) async fn licence_of(
    db: &Db,
    account: i64,
    licence_id: &str,
) -> Result<LicenceRecord, StoreError> {
    let row = sqlx::query(
        "SELECT l.id, l.title_id, l.device_id, l.kind, l.issued_at, l.revoked
           FROM licences l JOIN orders o ON o.id = l.order_id
          WHERE l.id = $1 AND o.account_id = $2",
    )
    .bind(licence_id)
    .bind(account)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| StoreError::UnknownLicence(licence_id.to_owned()))?;
    Ok(LicenceRecord {
        id: row.get(0),
        title_id: row.get(1),
        device_id: row.get(2),
        kind: row.get(3),
        issued_at: row.get(4),
        revoked: row.get::<i64, _>(5) != 0,
    })
}

/// Records the first frame of a licence unless one is recorded: it never moves later.
pub(crate) async fn set_first_frame(db: &Db, licence_id: &str, at: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE licences SET first_frame_at = $1 WHERE id = $2 AND first_frame_at IS NULL")
        .bind(at)
        .bind(licence_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes a licence.
pub(crate) async fn revoke(db: &Db, licence_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE licences SET revoked = 1 WHERE id = $1")
        .bind(licence_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces a licence's signed bytes (a renewal: same id, same rules).
pub(crate) async fn replace_licence(
    db: &Db,
    licence_id: &str,
    issued_at: i64,
    bytes: Vec<u8>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE licences SET bytes = $1, issued_at = $2 WHERE id = $3 AND revoked = 0")
        .bind(bytes)
        .bind(issued_at)
        .bind(licence_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Issues `new` on `device_id` in place of the licences `old` (all of one order's title):
/// revokes them and records `new` under the order of the first, in one transaction. A purchase
/// moved to another computer, or re-issued after its computer was deactivated.
pub(crate) async fn supersede(
    db: &Db,
    old: &[&HeldLicence],
    new: NewLicence<'_>,
    device_id: &str,
) -> Result<(), StoreError> {
    let first = old
        .first()
        .ok_or_else(|| StoreError::Internal("nothing to supersede".into()))?;
    let mut tx = db.begin().await?;
    for l in old {
        sqlx::query("UPDATE licences SET revoked = 1 WHERE id = $1")
            .bind(&l.id)
            .execute(&mut *tx)
            .await?;
    }
    insert_licence(
        &mut tx,
        &new,
        &first.order_id,
        &first.title_id,
        device_id,
        Some(&first.id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// When this device's started licences first played, as the store recorded it.
pub(crate) async fn first_plays_on_device(
    db: &Db,
    account: i64,
    device_id: &str,
) -> Result<Vec<crate::api::FirstPlay>, StoreError> {
    Ok(sqlx::query(
        "SELECT l.id, l.first_frame_at FROM licences l JOIN orders o ON o.id = l.order_id
          WHERE o.account_id = $1 AND l.device_id = $2 AND l.first_frame_at IS NOT NULL ORDER BY l.id",
    )
    .bind(account)
    .bind(device_id)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| crate::api::FirstPlay {
        licence_id: r.get(0),
        at: r.get(1),
    })
    .collect())
}

/// Ends a session.
pub(crate) async fn end_session(db: &Db, token: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(db)
        .await?;
    Ok(())
}

/// Binds a session to the first device it registered, so deactivating the device ends it.
pub(crate) async fn bind_session_device(
    db: &Db,
    token: &str,
    device_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET device_id = $1 WHERE token_hash = $2 AND device_id IS NULL")
        .bind(device_id)
        .bind(token_hash(token))
        .execute(db)
        .await?;
    Ok(())
}

/// The revoked licence ids of an account on one device.
pub(crate) async fn revoked_on_device(
    db: &Db,
    account: i64,
    device_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query(
        "SELECT l.id FROM licences l JOIN orders o ON o.id = l.order_id
          WHERE o.account_id = $1 AND l.device_id = $2 AND l.revoked = 1 ORDER BY l.id",
    )
    .bind(account)
    .bind(device_id)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| r.get(0))
    .collect())
}

/// The account's orders, newest first.
pub(crate) async fn order_history(db: &Db, account: i64) -> Result<Vec<Receipt>, StoreError> {
    let rows = sqlx::query(
        "SELECT o.id, o.client_order_id, o.title_id, t.meta_json, t.offer, o.charged_cents, a.currency,
                o.created_at, o.device_id, l.id
           FROM orders o
           JOIN accounts a ON a.id = o.account_id
           JOIN titles t ON t.id = o.title_id
           LEFT JOIN licences l ON l.order_id = o.id AND l.moved_from IS NULL
          WHERE o.account_id = $1
          ORDER BY o.created_at DESC, o.id DESC",
    )
    .bind(account)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let meta: String = r.get(3);
            let name = serde_json::from_str::<FeedTitle>(&meta)
                .map(|t| t.name)
                .unwrap_or_default();
            Receipt {
                order_id: r.get(0),
                client_order_id: r.get(1),
                title_id: r.get(2),
                title_name: name,
                offer: parse_offer(r.get::<String, _>(4).as_str()),
                amount_cents: r.get(5),
                currency: r.get(6),
                created_at: r.get(7),
                device_id: r.get(8),
                licence_id: r.get(9),
            }
        })
        .collect())
}

/// The hash a voucher code is stored under: case, spaces and dashes do not matter.
pub(crate) fn voucher_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(
        format!("marquee voucher v1:{normal}").as_bytes(),
    ))
}

/// Stores vouchers (by the hash of their codes) worth `value_cents` each, created at `now`.
pub(crate) async fn create_vouchers(
    db: &Db,
    codes: &[String],
    value_cents: i64,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for code in codes {
        sqlx::query(
            "INSERT INTO vouchers (code_hash, value_cents, created_at) VALUES ($1, $2, $3)",
        )
        .bind(voucher_hash(code))
        .bind(value_cents)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Redeems a voucher into the account's wallet, once, at `now`. Returns the new balance.
pub(crate) async fn redeem_voucher(
    db: &Db,
    account: i64,
    code: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let hash = voucher_hash(code);
    let mut tx = db.begin().await?;
    // Claiming the voucher and crediting the wallet commit together or not at all.
    let claimed = sqlx::query(
        "UPDATE vouchers SET redeemed_by = $1, redeemed_at = $2 WHERE code_hash = $3 AND redeemed_by IS NULL RETURNING value_cents",
    )
    .bind(account)
    .bind(now)
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(value) = claimed.map(|r| r.get::<i64, _>(0)) else {
        drop(tx);
        let exists = sqlx::query("SELECT 1 FROM vouchers WHERE code_hash = $1")
            .bind(&hash)
            .fetch_optional(db)
            .await?
            .is_some();
        return Err(if exists {
            StoreError::VoucherUsed
        } else {
            StoreError::UnknownVoucher
        });
    };
    let balance: i64 = sqlx::query(
        "UPDATE accounts SET balance_cents = balance_cents + $1 WHERE id = $2 RETURNING balance_cents",
    )
    .bind(value)
    .bind(account)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    sqlx::query(
        "INSERT INTO ledger (account_id, delta_cents, reason, order_id, created_at) VALUES ($1, $2, 'voucher', NULL, $3)",
    )
    .bind(account)
    .bind(value)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(balance)
}

/// Books that must always agree; see [`crate::Audit`].
pub(crate) async fn audit(db: &Db) -> anyhow::Result<crate::Audit> {
    let one = |sql: &'static str| async move {
        anyhow::Ok(sqlx::query(sql).fetch_one(db).await?.get::<i64, _>(0))
    };
    Ok(crate::Audit {
        orders: one("SELECT COUNT(*) FROM orders").await? as u64,
        charged_cents: one("SELECT CAST(COALESCE(SUM(charged_cents), 0) AS BIGINT) FROM orders").await?,
        ledger_order_cents: -one(
            "SELECT CAST(COALESCE(SUM(delta_cents), 0) AS BIGINT) FROM ledger WHERE reason = 'order'",
        )
        .await?,
        orders_charged_twice: one(
            "SELECT COUNT(*) FROM (SELECT order_id FROM ledger WHERE reason = 'order' GROUP BY order_id HAVING COUNT(*) > 1) t",
        )
        .await? as u64,
        balances_off: one(
            "SELECT COUNT(*) FROM accounts a WHERE a.balance_cents <> (SELECT COALESCE(SUM(delta_cents), 0) FROM ledger g WHERE g.account_id = a.id)",
        )
        .await? as u64,
        paid_orders_without_one_licence: one(
            "SELECT COUNT(*) FROM orders o JOIN titles t ON t.id = o.title_id WHERE t.encrypted = 1
               AND (SELECT COUNT(*) FROM licences l WHERE l.order_id = o.id AND l.moved_from IS NULL) <> 1",
        )
        .await? as u64,
    })
}
