//! Issued licences: what the one-PC rules read, first frames, revocation, renewal, and a
//! purchase's licence superseded when it moves to another computer.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::Db;
use crate::error::StoreError;

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

/// A licence to store.
pub(crate) struct NewLicence<'a> {
    pub(crate) id: String,
    pub(crate) kind: &'a str,
    pub(crate) issued_at: i64,
    /// When it first played: set for a licence issued again in place of a started rental.
    pub(crate) first_frame_at: Option<i64>,
    pub(crate) bytes: Vec<u8>,
}

/// Records a licence of an order inside the caller's transaction.
pub(super) async fn insert_licence(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    l: &NewLicence<'_>,
    order_id: &str,
    title_id: &str,
    device_id: &str,
    moved_from: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO licences (id, order_id, title_id, device_id, kind, issued_at, bytes, moved_from, first_frame_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&l.id)
    .bind(order_id)
    .bind(title_id)
    .bind(device_id)
    .bind(l.kind)
    .bind(l.issued_at)
    .bind(l.bytes.clone())
    .bind(moved_from)
    .bind(l.first_frame_at)
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

/// Records the first frame of a licence unless one is recorded: it never moves later. Answers
/// the first frame now recorded for it (the one that counts, whatever was reported).
pub(crate) async fn set_first_frame(db: &Db, licence_id: &str, at: i64) -> Result<i64, StoreError> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("UPDATE licences SET first_frame_at = $1 WHERE id = $2 AND first_frame_at IS NULL")
        .bind(at)
        .bind(licence_id)
        .execute(&mut *tx)
        .await?;
    // A rental's variants (SD and HD, licensed under its one order) share one window: the
    // earliest first frame of any of them is every one's, so switching quality never buys
    // more time, whichever played first or reported last.
    sqlx::query(
        "UPDATE licences SET first_frame_at =
            (SELECT MIN(o.first_frame_at) FROM licences o WHERE o.order_id = licences.order_id)
          WHERE kind = 'rent' AND order_id = (SELECT order_id FROM licences WHERE id = $1)",
    )
    .bind(licence_id)
    .execute(&mut *tx)
    .await?;
    let recorded: Option<i64> =
        sqlx::query_scalar("SELECT first_frame_at FROM licences WHERE id = $1")
            .bind(licence_id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(recorded.unwrap_or(at))
}

/// Records `new`, a licence of another variant of the work an order bought (`title_id`), under
/// that order, on `device_id`.
pub(crate) async fn add_to_order(
    db: &Db,
    new: &NewLicence<'_>,
    order_id: &str,
    title_id: &str,
    device_id: &str,
) -> Result<(), StoreError> {
    let mut tx = super::begin_write(db).await?;
    insert_licence(&mut tx, new, order_id, title_id, device_id, None).await?;
    tx.commit().await?;
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
/// moved to another computer, or re-issued after its computer was deactivated; any licence
/// issued again for its computer's new key.
pub(crate) async fn supersede(
    db: &Db,
    old: &[&HeldLicence],
    new: NewLicence<'_>,
    device_id: &str,
) -> Result<(), StoreError> {
    let first = old
        .first()
        .ok_or_else(|| StoreError::Internal("nothing to supersede".into()))?;
    let mut tx = super::begin_write(db).await?;
    for l in old {
        let revoked = sqlx::query("UPDATE licences SET revoked = 1 WHERE id = $1 AND revoked = 0")
            .bind(&l.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Superseded already by a request that ran between our read and this write: issuing
        // another would leave two live licences.
        if revoked == 0 && !l.revoked {
            return Err(StoreError::LicenceRevoked(l.id.clone()));
        }
    }
    // The order's other variants (the SD of an HD purchase) live on other computers go with
    // it: one purchase plays on one computer, whichever quality.
    sqlx::query(
        "UPDATE licences SET revoked = 1
          WHERE order_id = $1 AND device_id <> $2 AND revoked = 0 AND kind = 'buy'",
    )
    .bind(&first.order_id)
    .bind(device_id)
    .execute(&mut *tx)
    .await?;
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

/// Whether the account holds a live (not revoked) licence of a title: what a paid title's
/// private swarm asks of an announce.
pub(crate) async fn holds_title(db: &Db, account: i64, title_id: &str) -> Result<bool, StoreError> {
    let held: i64 = sqlx::query(
        "SELECT COUNT(*) FROM licences l JOIN orders o ON o.id = l.order_id
          WHERE o.account_id = $1 AND l.title_id = $2 AND l.revoked = 0",
    )
    .bind(account)
    .bind(title_id)
    .fetch_one(db)
    .await?
    .get(0);
    Ok(held > 0)
}
