//! Accounts and their sessions: creating an account, checking a password, and the sessions a
//! bearer token opens (kept as hashes of their tokens). Sessions sit with accounts: they are a
//! handful of queries on one table.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{is_unique_violation, Db};
use crate::error::StoreError;
use crate::passwords::Passwords;

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
    let mut tx = super::begin_write(db).await?;
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

/// The account's password hash.
pub(crate) async fn password_hash(db: &Db, account: i64) -> Result<String, StoreError> {
    Ok(
        sqlx::query("SELECT password_hash FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_one(db)
            .await?
            .get(0),
    )
}

/// Sets a new password hash and ends every session of the account but the one of `keep`, in
/// one transaction: a session someone else holds ends with the old password.
pub(crate) async fn change_password(
    db: &Db,
    account: i64,
    hash: &str,
    keep: &str,
) -> Result<u64, StoreError> {
    let mut tx = super::begin_write(db).await?;
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    let ended = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
        .bind(account)
        .bind(token_hash(keep))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(ended)
}

/// Ends every session of the account; how many there were.
pub(crate) async fn end_all_sessions(db: &Db, account: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account)
        .execute(db)
        .await?
        .rows_affected())
}

/// Ends a session.
pub(crate) async fn end_session(db: &Db, token: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(db)
        .await?;
    Ok(())
}

/// Binds a session to the device it registers, so deactivating the device ends it. A session
/// belongs to one computer: false when it is bound to another (a token copied or stolen from
/// the computer that signed in), or gone.
pub(crate) async fn bind_session_device(
    db: &Db,
    token: &str,
    device_id: &str,
) -> Result<bool, StoreError> {
    let bound = sqlx::query(
        "UPDATE sessions SET device_id = $1 WHERE token_hash = $2 AND (device_id IS NULL OR device_id = $1)",
    )
    .bind(device_id)
    .bind(token_hash(token))
    .execute(db)
    .await?
    .rows_affected();
    Ok(bound == 1)
}
