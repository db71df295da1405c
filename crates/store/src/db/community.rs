//! The community shelf's queries: a publisher's key, the listing of a publication, the signed
//! request kept for audit, and hiding.

use ed25519_dalek::VerifyingKey;
use sqlx::Row;

use super::catalog::{upsert_titles, NewTitle};
use super::Db;
use crate::api::{CommunityRequest, FeedTitle};
use crate::error::StoreError;

/// Lists (or re-lists) a community title. It has no package: the store holds no copy of the
/// video; its publisher seeds it.
pub(crate) async fn list(db: &Db, title: &FeedTitle, torrent: &[u8]) -> Result<(), StoreError> {
    upsert_titles(
        db,
        &[NewTitle {
            feed: title,
            media_path: "",
            package_path: "",
            content_key: None,
            key_commitment: None,
            torrent,
        }],
    )
    .await?;
    Ok(())
}

/// The publisher key of an active device of the account: a publication must be signed with it.
pub(crate) async fn publisher_key(
    db: &Db,
    account: i64,
    device_id: &str,
) -> Result<VerifyingKey, StoreError> {
    let row = sqlx::query(
        "SELECT active, publisher_key FROM devices WHERE account_id = $1 AND device_id = $2",
    )
    .bind(account)
    .bind(device_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::UnknownDevice)?;
    if row.get::<i64, _>(0) == 0 {
        return Err(StoreError::DeviceInactive);
    }
    let key: Option<Vec<u8>> = row.get(1);
    let key: [u8; 32] = key
        .and_then(|k| k.try_into().ok())
        .ok_or(StoreError::BadSignature)?;
    VerifyingKey::from_bytes(&key).map_err(|_| StoreError::BadSignature)
}

/// The name of the title already listed with this info hash, if any.
pub(crate) async fn name_of_info_hash(
    db: &Db,
    info_hash: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT meta_json FROM titles WHERE info_hash = $1")
        .bind(info_hash)
        .fetch_optional(db)
        .await?;
    Ok(row.and_then(|r| {
        serde_json::from_str::<FeedTitle>(&r.get::<String, _>(0))
            .ok()
            .map(|t| t.name)
    }))
}

/// An account's publications in a span of time.
pub(crate) struct Publications {
    /// How many.
    pub(crate) count: u64,
    /// When the oldest of them was made (0 for none).
    pub(crate) oldest: i64,
}

/// The account's publications made at or after `since`.
pub(crate) async fn publications_since(
    db: &Db,
    account: i64,
    since: i64,
) -> Result<Publications, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM community WHERE account_id = $1 AND created_at >= $2",
    )
    .bind(account)
    .bind(since)
    .fetch_one(db)
    .await?;
    Ok(Publications {
        count: row.get::<i64, _>(0) as u64,
        oldest: row.get(1),
    })
}

/// Keeps the signed request of a publication, for audit.
pub(crate) async fn record_publication(
    db: &Db,
    title_id: &str,
    account: i64,
    req: &CommunityRequest,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO community (title_id, account_id, device_id, payload, signature, hidden, created_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6)",
    )
    .bind(title_id)
    .bind(account)
    .bind(&req.device_id)
    .bind(&req.payload)
    .bind(&req.signature)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A community title's feed entry and torrent; [`StoreError::UnknownTitle`] for any other id.
pub(crate) async fn listing(db: &Db, id: &str) -> Result<(FeedTitle, Vec<u8>), StoreError> {
    let row = sqlx::query(
        "SELECT t.meta_json, t.torrent FROM titles t JOIN community c ON c.title_id = t.id WHERE t.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| StoreError::UnknownTitle(id.to_owned()))?;
    let title: FeedTitle = serde_json::from_str(&row.get::<String, _>(0))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok((title, row.get(1)))
}

/// Marks a publication hidden (its feed entry is re-listed as a tombstone by the caller).
pub(crate) async fn mark_hidden(db: &Db, id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE community SET hidden = 1 WHERE title_id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
