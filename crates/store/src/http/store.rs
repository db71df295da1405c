//! The store itself: its name and public key (`GET /api/v1/store`), and its clock signed
//! together with the client's nonce (`GET /api/v1/time`).

use axum::extract::State;
use axum::routing::get;
use axum::Json;

use super::shared::{QueryParams, Route, St};
use crate::api::*;
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/store", get(store_info)),
        ("GET", "/api/v1/time", get(time)),
    ]
}

async fn store_info(State(s): St) -> Json<StoreInfo> {
    Json(StoreInfo {
        name: s.name.clone(),
        public_key: hex::encode(s.signing_key.verifying_key().to_bytes()),
        time: s.now(),
    })
}

/// The raw bytes of a client's time nonce.
pub(super) fn nonce_bytes(nonce: Option<&str>) -> Result<Option<Vec<u8>>, StoreError> {
    nonce
        .map(|n| {
            hex::decode(n)
                .ok()
                .filter(|b| !b.is_empty() && b.len() <= MAX_TIME_NONCE)
                .ok_or_else(|| {
                    StoreError::BadRequest(format!(
                        "nonce must be 1 to {MAX_TIME_NONCE} bytes of hex"
                    ))
                })
        })
        .transpose()
}

async fn time(
    State(s): St,
    QueryParams(q): QueryParams<TimeQuery>,
) -> Result<Json<SignedTime>, StoreError> {
    let nonce = nonce_bytes(q.nonce.as_deref())?;
    Ok(Json(s.signed_time(nonce.as_deref())))
}
