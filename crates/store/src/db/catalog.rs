//! Titles: what packaging registers, the feed and orders read. Every change gives a title the
//! next catalog version (its `seq`).

use anyhow::Context;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::Db;
use crate::api::{FeedTitle, OfferKind};
use crate::error::StoreError;

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

fn title_record(row: AnyRow) -> TitleRecord {
    TitleRecord {
        id: row.get("id"),
        seq: row.get("seq"),
        offer: OfferKind::from_stored(row.get::<String, _>("offer").as_str()),
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

/// Records where a title's package is now (its data folder moved with its files).
pub(crate) async fn set_package_path(db: &Db, id: &str, path: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE titles SET package_path = $1 WHERE id = $2")
        .bind(path)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
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

/// The other variants of `title_id`'s work (its SD or HD sibling), in id order; none for a
/// title alone in its work.
pub(crate) async fn other_variants(db: &Db, title_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query(
        "SELECT t.id FROM titles t JOIN titles me ON me.id = $1
          WHERE t.work = me.work AND t.id <> me.id ORDER BY t.id",
    )
    .bind(title_id)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| r.get(0))
    .collect())
}

/// Registers (or replaces) titles in one transaction; each gets the next catalog version.
pub(crate) async fn upsert_titles(db: &Db, titles: &[NewTitle<'_>]) -> anyhow::Result<i64> {
    let mut tx = super::begin_write(db).await?;
    super::lock_catalog(&mut tx).await?;
    let mut seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM titles")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    for t in titles {
        seq += 1;
        sqlx::query(
            "INSERT INTO titles (id, seq, kind, offer, price_cents, meta_json, media_path, package_path, encrypted, content_key, key_commitment, info_hash, size_bytes, torrent, for_sale, work)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, offer = excluded.offer, price_cents = excluded.price_cents,
                meta_json = excluded.meta_json, media_path = excluded.media_path, package_path = excluded.package_path,
                encrypted = excluded.encrypted, content_key = excluded.content_key, key_commitment = excluded.key_commitment,
                info_hash = excluded.info_hash, size_bytes = excluded.size_bytes, torrent = excluded.torrent, seq = excluded.seq,
                for_sale = excluded.for_sale, work = excluded.work",
        )
        .bind(&t.feed.id)
        .bind(seq)
        .bind(&t.feed.kind)
        .bind(t.feed.offer.as_str())
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
        .bind(t.feed.work.as_deref().unwrap_or(&t.feed.id))
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
