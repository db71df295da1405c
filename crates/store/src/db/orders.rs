//! Orders: the charge, the order and its licence in one transaction, the account's receipts,
//! and the audit of the books they keep.

use sqlx::Row;

use super::licences::{insert_licence, NewLicence};
use super::wallet::wallet;
use super::{is_unique_violation, Db};
use crate::api::{FeedTitle, OfferKind, Receipt};
use crate::error::StoreError;

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
    let mut tx = super::begin_write(db).await?;
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
                offer: OfferKind::from_stored(r.get::<String, _>(4).as_str()),
                amount_cents: r.get(5),
                currency: r.get(6),
                created_at: r.get(7),
                device_id: r.get(8),
                licence_id: r.get(9),
            }
        })
        .collect())
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
               AND (SELECT COUNT(*) FROM licences l WHERE l.order_id = o.id AND l.title_id = o.title_id
                      AND l.moved_from IS NULL) <> 1",
        )
        .await? as u64,
    })
}
