//! The store's queries. Plain SQL through sqlx's `Any` driver, checked at run time and kept to
//! the common subset of SQLite and PostgreSQL: `$1` placeholders (SQLite reads them as
//! positional too), integer flags instead of booleans, `RETURNING`, `ON CONFLICT`. The schema
//! lives twice, in `migrations/` (SQLite) and `migrations_pg/` (PostgreSQL).
//!
//! This module opens the pool, runs the migrations and keeps the store's signing key. Each
//! domain's queries are in the module of its name, as free functions taking the pool: [`Db`]
//! is sqlx's own pool type, so it cannot carry methods of ours.

pub(crate) mod accounts;
pub(crate) mod catalog;
pub(crate) mod community;
pub(crate) mod devices;
pub(crate) mod licences;
pub(crate) mod orders;
pub(crate) mod wallet;

use std::time::Duration;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};

/// The store's connection pool (SQLite or PostgreSQL, by URL).
pub(crate) type Db = AnyPool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations_pg");

/// Connections the store keeps to PostgreSQL.
pub(crate) const POSTGRES_POOL: usize = 16;

/// True for `postgres://` and `postgresql://` URLs.
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the database at `url` and brings its schema up to date.
pub(crate) async fn open(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let postgres = is_postgres(url);
    let pool = AnyPoolOptions::new()
        .max_connections(if postgres { POSTGRES_POOL as u32 } else { 4 })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if !postgres {
                    // WAL lets the feed and the wallet be read while an order is written; the
                    // busy timeout makes concurrent writers wait instead of failing.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // FULL: a committed charge, voucher or licence survives a power cut (NORMAL
                    // in WAL mode may lose the last commits). The store writes little; the
                    // extra fsync per commit is not what bounds it.
                    conn.execute("PRAGMA synchronous = FULL").await?;
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

/// A transaction that will write. On SQLite it takes the write lock when it begins
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes second fails at once
/// with SQLITE_BUSY, without waiting out the busy timeout, when another connection wrote in
/// between (its snapshot is stale), and the client saw a server error. On PostgreSQL a plain
/// `BEGIN`; what must not interleave there takes a row or advisory lock ([`lock_account`],
/// [`lock_catalog`]).
pub(crate) async fn begin_write(
    db: &Db,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    if db.connect_options().database_url.scheme() == "sqlite" {
        db.begin_with("BEGIN IMMEDIATE").await
    } else {
        db.begin().await
    }
}

/// True when the transaction runs on PostgreSQL.
fn on_postgres(tx: &sqlx::Transaction<'static, sqlx::Any>) -> bool {
    tx.backend_name() == "PostgreSQL"
}

/// Holds the account's row until the transaction ends, so another store process on the same
/// PostgreSQL cannot count its devices or licences in between. (SQLite: the transaction's own
/// write lock already excludes every other writer.)
pub(crate) async fn lock_account(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: i64,
) -> Result<(), sqlx::Error> {
    if on_postgres(tx) {
        sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(account)
            .fetch_optional(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Holds the catalog's sequence until the transaction ends, so two processes packaging at once
/// on the same PostgreSQL never give two titles one version.
pub(crate) async fn lock_catalog(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<(), sqlx::Error> {
    if on_postgres(tx) {
        // An arbitrary constant of ours ("MRQ" + 1): the advisory lock of the catalog.
        sqlx::query("SELECT pg_advisory_xact_lock(5067345)")
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// On PostgreSQL, an open transaction holding the advisory lock of one account's orders (in
/// the two-key space, apart from [`lock_catalog`]'s); `None` on SQLite, where one store process
/// serves a database file and its in-process lock is enough.
pub(crate) async fn lock_orders_of(
    db: &Db,
    account: i64,
) -> Result<Option<sqlx::Transaction<'static, sqlx::Any>>, sqlx::Error> {
    if db.connect_options().database_url.scheme() == "sqlite" {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    // Ids past 2^31 share a lock with a smaller one: a wait, never a missed exclusion.
    sqlx::query("SELECT pg_advisory_xact_lock(1, ($1 % 2147483647)::int4)")
        .bind(account)
        .execute(&mut *tx)
        .await?;
    Ok(Some(tx))
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

/// True when a write failed on a unique key (a taken e-mail, a client order id seen before).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pooled connection, not only the first, writes through to the disk at each commit
    /// (`synchronous = FULL`, 2) in WAL mode, with the busy timeout set: a pragma is per
    /// connection, so one connection opened without them would lose a charge to a power cut.
    #[tokio::test]
    async fn every_connection_commits_money_durably() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("store.db").display()
        );
        let db = open(&url).await.unwrap();
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut conn = db.acquire().await.unwrap();
            let synchronous: i64 = sqlx::query("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get(0);
            assert_eq!(synchronous, 2, "synchronous = FULL");
            let journal: String = sqlx::query("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get(0);
            assert_eq!(journal, "wal");
            let busy: i64 = sqlx::query("PRAGMA busy_timeout")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get(0);
            assert_eq!(busy, 10_000);
            held.push(conn);
        }
    }
}
