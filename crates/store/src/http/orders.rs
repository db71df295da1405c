//! Orders: placing one (`POST /api/v1/orders`: the charge, the order and its licence, once per
//! client order id, a retry answered alike) and the account's receipts (`GET`). What the
//! account already holds of a title, and the signing of licences, are in [`super::issuing`],
//! which the licences' routes share.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::issuing::{already_held, for_current_key, issue_licence, licence_kind};
use super::shared::check_device_id;
use super::shared::{Account, JsonBody, Route, St};
use super::tracker::peers_of;
use crate::api::*;
use crate::db;
use crate::error::{format_cents, StoreError};

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/orders", get(order_history)),
        ("POST", "/api/v1/orders", post(order)),
    ]
}

async fn order_history(
    State(s): St,
    Account(account): Account,
) -> Result<Json<OrderHistory>, StoreError> {
    Ok(Json(OrderHistory {
        orders: db::orders::order_history(&s.db, account).await?,
    }))
}

fn request_hash(req: &OrderRequest) -> String {
    let mut h = Sha256::new();
    for part in [&req.client_order_id, &req.title_id, &req.device_id] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    // Only when set, so the hashes of orders placed before the flag existed still match.
    if req.move_here {
        h.update(b"move_here");
    }
    hex::encode(h.finalize())
}

/// The answer to a retry of an order: the same answer, no second charge. The licence is the
/// order's live one, issued again when this computer's key changed since.
async fn replay(
    s: &crate::State,
    account: i64,
    existing: db::orders::OrderRecord,
    hash: &str,
    req: &OrderRequest,
) -> Result<Json<OrderResponse>, StoreError> {
    if existing.request_hash != hash {
        return Err(StoreError::OrderConflict(req.client_order_id.clone()));
    }
    let mut licence = existing.licence;
    let mut first_frame_at = None;
    if licence.is_some() {
        let held = db::licences::licences_of_title(&s.db, account, &existing.title_id).await?;
        if let Some(live) = held
            .iter()
            .find(|l| l.order_id == existing.id && !l.revoked && l.device_id == req.device_id)
        {
            let device = db::devices::device(&s.db, account, &req.device_id).await?;
            licence = Some(for_current_key(s, live, &device).await?);
            first_frame_at = live.first_frame_at;
        }
    }
    let (balance_cents, currency) = db::wallet::wallet(&s.db, account).await?;
    Ok(Json(OrderResponse {
        order_id: existing.id,
        title_id: existing.title_id.clone(),
        charged_cents: existing.charged_cents,
        balance_cents,
        currency,
        licence: licence.map(|l| B64.encode(l)),
        peers: peers_of(s, &existing.title_id, account)
            .await
            .unwrap_or_default(),
        store_seeders: vec![s.seeder_addr.to_string()],
        first_frame_at,
    }))
}

async fn order(
    State(s): St,
    Account(account): Account,
    JsonBody(req): JsonBody<OrderRequest>,
) -> Result<Json<OrderResponse>, StoreError> {
    if req.client_order_id.is_empty() || req.client_order_id.len() > 128 {
        return Err(StoreError::BadRequest(
            "client_order_id must be 1 to 128 characters".into(),
        ));
    }
    let hash = request_hash(&req);
    // One order of an account at a time: the one-PC rules below read, then write.
    let _one_at_a_time = s.lock_orders(account).await?;

    if let Some(existing) = db::orders::find_order(&s.db, account, &req.client_order_id).await? {
        return replay(&s, account, existing, &hash, &req).await;
    }

    let title = db::catalog::title(&s.db, &req.title_id).await?;
    if !title.for_sale {
        return Err(StoreError::NotForSale(title.id));
    }
    let device_id = check_device_id(&req.device_id)?;
    let device = db::devices::device(&s.db, account, &req.device_id).await?;
    if !device.active {
        return Err(StoreError::DeviceInactive);
    }
    if title.encrypted {
        if let Some((order_id, licence, first_frame_at)) =
            already_held(&s, account, &title, &req, &device).await?
        {
            let (balance_cents, currency) = db::wallet::wallet(&s.db, account).await?;
            return Ok(Json(OrderResponse {
                order_id,
                title_id: title.id.clone(),
                charged_cents: 0,
                balance_cents,
                currency,
                licence: Some(B64.encode(licence)),
                peers: peers_of(&s, &title.id, account).await.unwrap_or_default(),
                store_seeders: vec![s.seeder_addr.to_string()],
                first_frame_at,
            }));
        }
    }
    let price = match title.offer {
        OfferKind::Free => 0,
        _ => title.price_cents,
    };
    let (balance, currency) = db::wallet::wallet(&s.db, account).await?;
    if balance < price {
        return Err(StoreError::InsufficientFunds {
            balance: format_cents(balance),
            price: format_cents(price),
        });
    }

    let order_id = uuid::Uuid::new_v4().to_string();
    let kind = licence_kind(title.offer);
    let issued_at = s.now();
    let licence = if title.encrypted {
        let mut licence_id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut licence_id);
        let bytes = issue_licence(
            &s,
            &title,
            device_id,
            device.public_key,
            kind,
            licence_id,
            issued_at,
        )?;
        Some(db::licences::NewLicence {
            id: hex::encode(licence_id),
            kind: kind.as_str(),
            issued_at,
            first_frame_at: None,
            bytes,
        })
    } else {
        None
    };
    let licence_b64 = licence.as_ref().map(|l| B64.encode(&l.bytes));
    let placed = db::orders::place_order(
        &s.db,
        db::orders::NewOrder {
            id: &order_id,
            account,
            client_order_id: &req.client_order_id,
            request_hash: &hash,
            title_id: &title.id,
            device_id: &req.device_id,
            charged_cents: price,
            licence,
        },
        issued_at,
    )
    .await?;
    let balance_cents = match placed {
        db::orders::Placed::Done(balance) => balance,
        db::orders::Placed::InsufficientFunds(balance) => {
            return Err(StoreError::InsufficientFunds {
                balance: format_cents(balance),
                price: format_cents(price),
            })
        }
        // Another store process on the same database took this order id first.
        db::orders::Placed::Duplicate => {
            let existing = db::orders::find_order(&s.db, account, &req.client_order_id)
                .await?
                .ok_or_else(|| StoreError::Internal("a duplicate order vanished".into()))?;
            return replay(&s, account, existing, &hash, &req).await;
        }
    };
    tracing::info!(order = %order_id, title = %title.id, charged = price, "order placed");
    Ok(Json(OrderResponse {
        order_id,
        title_id: title.id.clone(),
        charged_cents: price,
        balance_cents,
        currency,
        licence: licence_b64,
        peers: peers_of(&s, &title.id, account).await.unwrap_or_default(),
        store_seeders: vec![s.seeder_addr.to_string()],
        first_frame_at: None,
    }))
}
