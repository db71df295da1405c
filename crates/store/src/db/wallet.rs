//! The wallet: an account's balance, and the vouchers (stored by the hash of their codes) that
//! top it up.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::Db;
use crate::error::StoreError;

/// Balance and currency of an account.
pub(crate) async fn wallet(db: &Db, account: i64) -> Result<(i64, String), StoreError> {
    let row = sqlx::query("SELECT balance_cents, currency FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(db)
        .await?;
    Ok((row.get(0), row.get(1)))
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
    let mut tx = super::begin_write(db).await?;
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
    let mut tx = super::begin_write(db).await?;
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
