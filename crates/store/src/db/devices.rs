//! An account's computers and their keys, under the account's device limit; deactivating one
//! revokes its licences and ends its sessions.

use sqlx::Row;

use super::Db;
use crate::api::DeviceInfo;
use crate::error::StoreError;

/// What registering a device changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registered {
    /// A computer new to the account, or one it had deactivated, with a free slot.
    New,
    /// A computer the account had, with the key it had: nothing changed.
    Same,
    /// A computer the account had, with a new key (a reinstall, or another machine presenting
    /// the same id): the licences wrapped for its old key must be re-issued under new ids.
    Rekeyed,
}

/// Registers a device for an account; re-registering the same device updates its key and
/// re-activates it. A new (or re-activated) device needs a free slot under `limit`. A new one is
/// recorded as registered at `now`. Devices are the account's own: another account on the same
/// computer has a row of its own.
pub(crate) async fn register_device(
    db: &Db,
    account: i64,
    device_id: &str,
    public_key: &[u8; 32],
    publisher_key: Option<&[u8; 32]>,
    limit: u32,
    now: i64,
) -> Result<Registered, StoreError> {
    let mut tx = super::begin_write(db).await?;
    super::lock_account(&mut tx, account).await?;
    let existing = sqlx::query(
        "SELECT active, public_key FROM devices WHERE account_id = $1 AND device_id = $2",
    )
    .bind(account)
    .bind(device_id)
    .fetch_optional(&mut *tx)
    .await?;
    let needs_slot = existing
        .as_ref()
        .is_none_or(|row| row.get::<i64, _>(0) == 0);
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
    let registered = match &existing {
        None => Registered::New,
        Some(row) if row.get::<Vec<u8>, _>(1) != public_key.as_slice() => Registered::Rekeyed,
        Some(_) if needs_slot => Registered::New,
        Some(_) => Registered::Same,
    };
    if existing.is_some() {
        sqlx::query(
            "UPDATE devices SET public_key = $1, publisher_key = $2, active = 1 WHERE account_id = $3 AND device_id = $4",
        )
        .bind(public_key.to_vec())
        .bind(publisher_key.map(|k| k.to_vec()))
        .bind(account)
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
    Ok(registered)
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
    let row = sqlx::query(
        "SELECT public_key, active FROM devices WHERE account_id = $1 AND device_id = $2",
    )
    .bind(account)
    .bind(device_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::UnknownDevice)?;
    let key: Vec<u8> = row.get(0);
    Ok(DeviceRecord {
        public_key: key
            .try_into()
            .map_err(|_| StoreError::Internal("bad device key".into()))?,
        active: row.get::<i64, _>(1) != 0,
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
    let mut tx = super::begin_write(db).await?;
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
