//! The store's queries. Plain SQL through sqlx, checked at run time, kept to the common subset
//! of SQLite and PostgreSQL.

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{Row, SqlitePool};

use crate::api::{FeedTitle, OfferKind};
use crate::error::StoreError;

/// Loads the store's Ed25519 key, creating it on first start.
pub(crate) async fn signing_key(db: &SqlitePool) -> anyhow::Result<SigningKey> {
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
    sqlx::query("INSERT INTO store_keys (name, secret) VALUES ('signing', ?)")
        .bind(seed.to_vec())
        .execute(db)
        .await?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Creates an account unless one with that e-mail exists.
pub(crate) async fn ensure_account(
    db: &SqlitePool,
    email: &str,
    password: &str,
    balance_cents: i64,
) -> anyhow::Result<()> {
    let exists = sqlx::query("SELECT 1 FROM accounts WHERE email = ?")
        .bind(email)
        .fetch_optional(db)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
        .to_string();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO accounts (email, password_hash, balance_cents, currency) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(email)
    .bind(hash)
    .bind(balance_cents)
    .bind(crate::CURRENCY)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    sqlx::query(
        "INSERT INTO ledger (account_id, delta_cents, reason, order_id, created_at) VALUES (?, ?, 'opening balance', NULL, ?)",
    )
    .bind(id)
    .bind(balance_cents)
    .bind(crate::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How long a sign-in lasts.
const SESSION_TTL_S: i64 = 30 * 24 * 3600;

/// Checks a password and opens a session; returns the token and its expiry.
pub(crate) async fn sign_in(
    db: &SqlitePool,
    email: &str,
    password: &str,
) -> Result<(String, i64), StoreError> {
    let row = sqlx::query("SELECT id, password_hash FROM accounts WHERE email = ?")
        .bind(email)
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::Unauthorized("unknown e-mail or wrong password"))?;
    let id: i64 = row.get(0);
    let stored: String = row.get(1);
    let parsed = PasswordHash::new(&stored).map_err(|_| StoreError::Internal("bad hash".into()))?;
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .map_err(|_| StoreError::Unauthorized("unknown e-mail or wrong password"))?;
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let expires_at = crate::now() + SESSION_TTL_S;
    sqlx::query("INSERT INTO sessions (token_hash, account_id, expires_at) VALUES (?, ?, ?)")
        .bind(token_hash(&token))
        .bind(id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok((token, expires_at))
}

/// The store keeps only a hash of each session token, so a leaked database opens no session.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The account of a bearer token.
pub(crate) async fn account_of_token(db: &SqlitePool, token: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT account_id, expires_at FROM sessions WHERE token_hash = ?")
        .bind(token_hash(token))
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::Unauthorized("your session is not known"))?;
    let expires_at: i64 = row.get(1);
    if expires_at <= crate::now() {
        return Err(StoreError::Unauthorized("your session has expired"));
    }
    Ok(row.get(0))
}

/// Balance and currency of an account.
pub(crate) async fn wallet(db: &SqlitePool, account: i64) -> Result<(i64, String), StoreError> {
    let row = sqlx::query("SELECT balance_cents, currency FROM accounts WHERE id = ?")
        .bind(account)
        .fetch_one(db)
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Registers a device for an account; re-registering the same key is a no-op.
pub(crate) async fn register_device(
    db: &SqlitePool,
    account: i64,
    device_id: &str,
    public_key: &[u8; 32],
) -> Result<(), StoreError> {
    let existing = sqlx::query("SELECT account_id, public_key FROM devices WHERE device_id = ?")
        .bind(device_id)
        .fetch_optional(db)
        .await?;
    match existing {
        Some(row) => {
            let owner: i64 = row.get(0);
            if owner != account {
                return Err(StoreError::DeviceOfAnotherAccount);
            }
            // A new key for a known device: the profile was re-created on the same computer.
            sqlx::query("UPDATE devices SET public_key = ? WHERE device_id = ?")
                .bind(public_key.to_vec())
                .bind(device_id)
                .execute(db)
                .await?;
        }
        None => {
            sqlx::query(
                "INSERT INTO devices (device_id, account_id, public_key, registered_at) VALUES (?, ?, ?, ?)",
            )
            .bind(device_id)
            .bind(account)
            .bind(public_key.to_vec())
            .bind(crate::now())
            .execute(db)
            .await?;
        }
    }
    Ok(())
}

/// A device's public key, if it belongs to the account.
pub(crate) async fn device_key(
    db: &SqlitePool,
    account: i64,
    device_id: &str,
) -> Result<[u8; 32], StoreError> {
    let row = sqlx::query("SELECT account_id, public_key FROM devices WHERE device_id = ?")
        .bind(device_id)
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::UnknownDevice)?;
    let owner: i64 = row.get(0);
    if owner != account {
        return Err(StoreError::DeviceOfAnotherAccount);
    }
    let key: Vec<u8> = row.get(1);
    key.try_into()
        .map_err(|_| StoreError::Internal("bad device key".into()))
}

/// What the store knows of a packaged title.
pub(crate) struct TitleRecord {
    pub(crate) id: String,
    pub(crate) offer: OfferKind,
    pub(crate) price_cents: i64,
    pub(crate) package_path: String,
    pub(crate) encrypted: bool,
    pub(crate) content_key: Option<Vec<u8>>,
    pub(crate) key_commitment: Option<Vec<u8>>,
    pub(crate) info_hash: String,
    pub(crate) torrent: Vec<u8>,
}

fn parse_offer(s: &str) -> OfferKind {
    match s {
        "rent" => OfferKind::Rent,
        "buy" => OfferKind::Buy,
        _ => OfferKind::Free,
    }
}

fn offer_str(o: OfferKind) -> &'static str {
    match o {
        OfferKind::Rent => "rent",
        OfferKind::Buy => "buy",
        OfferKind::Free => "free",
    }
}

fn title_record(row: sqlx::sqlite::SqliteRow) -> TitleRecord {
    TitleRecord {
        id: row.get("id"),
        offer: parse_offer(row.get::<String, _>("offer").as_str()),
        price_cents: row.get("price_cents"),
        package_path: row.get("package_path"),
        encrypted: row.get::<i64, _>("encrypted") != 0,
        content_key: row.get("content_key"),
        key_commitment: row.get("key_commitment"),
        info_hash: row.get("info_hash"),
        torrent: row.get("torrent"),
    }
}

const TITLE_COLUMNS: &str =
    "id, offer, price_cents, package_path, encrypted, content_key, key_commitment, info_hash, torrent";

/// One title by id.
pub(crate) async fn title(db: &SqlitePool, id: &str) -> Result<TitleRecord, StoreError> {
    sqlx::query(&format!("SELECT {TITLE_COLUMNS} FROM titles WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(title_record)
        .ok_or_else(|| StoreError::UnknownTitle(id.to_owned()))
}

/// Every title.
pub(crate) async fn all_titles(db: &SqlitePool) -> anyhow::Result<Vec<TitleRecord>> {
    Ok(
        sqlx::query(&format!("SELECT {TITLE_COLUMNS} FROM titles ORDER BY seq"))
            .fetch_all(db)
            .await?
            .into_iter()
            .map(title_record)
            .collect(),
    )
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

/// Registers (or replaces) a packaged title.
pub(crate) async fn upsert_title(db: &SqlitePool, t: NewTitle<'_>) -> anyhow::Result<()> {
    let seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM titles")
        .fetch_one(db)
        .await?
        .get(0);
    sqlx::query(
        "INSERT INTO titles (id, seq, kind, offer, price_cents, meta_json, media_path, package_path, encrypted, content_key, key_commitment, info_hash, size_bytes, torrent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, offer = excluded.offer, price_cents = excluded.price_cents,
            meta_json = excluded.meta_json, media_path = excluded.media_path, package_path = excluded.package_path,
            encrypted = excluded.encrypted, content_key = excluded.content_key, key_commitment = excluded.key_commitment,
            info_hash = excluded.info_hash, size_bytes = excluded.size_bytes, torrent = excluded.torrent, seq = excluded.seq",
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
    .bind(t.torrent)
    .execute(db)
    .await?;
    Ok(())
}

/// The feed entries of every title, in catalog order.
pub(crate) async fn feed_titles(db: &SqlitePool) -> anyhow::Result<Vec<FeedTitle>> {
    let rows = sqlx::query("SELECT meta_json FROM titles ORDER BY seq")
        .fetch_all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            serde_json::from_str::<FeedTitle>(r.get::<String, _>(0).as_str())
                .context("a stored title does not parse")
        })
        .collect()
}

/// The catalog's version: the highest title sequence number.
pub(crate) async fn catalog_version(db: &SqlitePool) -> anyhow::Result<i64> {
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

/// The order an account made with a client order id, if any.
pub(crate) async fn find_order(
    db: &SqlitePool,
    account: i64,
    client_order_id: &str,
) -> Result<Option<OrderRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT o.id, o.request_hash, o.title_id, o.charged_cents, l.bytes
           FROM orders o LEFT JOIN licences l ON l.order_id = o.id
          WHERE o.account_id = ? AND o.client_order_id = ?",
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

/// True when the account already bought the title (a purchase is re-issued without charge).
pub(crate) async fn has_bought(
    db: &SqlitePool,
    account: i64,
    title_id: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "SELECT 1 FROM orders o JOIN licences l ON l.order_id = o.id
          WHERE o.account_id = ? AND o.title_id = ? AND l.kind = 'buy' AND l.revoked = 0 LIMIT 1",
    )
    .bind(account)
    .bind(title_id)
    .fetch_optional(db)
    .await?
    .is_some())
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
    pub(crate) licence: Option<(String, &'a str, Vec<u8>)>,
}

/// Charges the wallet, records the order and its licence: all or nothing. Returns the balance.
pub(crate) async fn place_order(db: &SqlitePool, o: NewOrder<'_>) -> Result<i64, StoreError> {
    let now = crate::now();
    let mut tx = db.begin().await?;
    // The CHECK (balance_cents >= 0) constraint is the last line of defence; the caller has
    // already refused an order the wallet cannot pay with a clear message.
    let balance: i64 = sqlx::query(
        "UPDATE accounts SET balance_cents = balance_cents - ? WHERE id = ? RETURNING balance_cents",
    )
    .bind(o.charged_cents)
    .bind(o.account)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    sqlx::query(
        "INSERT INTO orders (id, account_id, client_order_id, request_hash, title_id, device_id, charged_cents, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    .await?;
    if o.charged_cents != 0 {
        sqlx::query(
            "INSERT INTO ledger (account_id, delta_cents, reason, order_id, created_at) VALUES (?, ?, 'order', ?, ?)",
        )
        .bind(o.account)
        .bind(-o.charged_cents)
        .bind(o.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if let Some((licence_id, kind, bytes)) = o.licence {
        sqlx::query(
            "INSERT INTO licences (id, order_id, title_id, device_id, kind, issued_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(licence_id)
        .bind(o.id)
        .bind(o.title_id)
        .bind(o.device_id)
        .bind(kind)
        .bind(now)
        .bind(bytes)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(balance)
}
