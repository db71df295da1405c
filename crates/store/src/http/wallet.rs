//! The wallet: an account's balance (`GET /api/v1/wallet`) and the vouchers that top it up
//! (`POST /api/v1/vouchers/redeem`). Named for the wallet rather than the vouchers, which are
//! only its way in.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Json;

use super::shared::{Account, JsonBody, Route, St};
use crate::api::*;
use crate::db;
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/wallet", get(wallet)),
        ("POST", "/api/v1/vouchers/redeem", post(redeem_voucher)),
    ]
}

async fn wallet(
    State(s): St,
    Account(account): Account,
) -> Result<Json<WalletResponse>, StoreError> {
    let (balance_cents, currency) = db::wallet::wallet(&s.db, account).await?;
    Ok(Json(WalletResponse {
        balance_cents,
        currency,
    }))
}

async fn redeem_voucher(
    State(s): St,
    Account(account): Account,
    JsonBody(req): JsonBody<RedeemRequest>,
) -> Result<Json<WalletResponse>, StoreError> {
    let balance_cents = db::wallet::redeem_voucher(&s.db, account, &req.code, s.now()).await?;
    tracing::info!(account, "voucher redeemed");
    Ok(Json(WalletResponse {
        balance_cents,
        currency: crate::CURRENCY.to_owned(),
    }))
}
