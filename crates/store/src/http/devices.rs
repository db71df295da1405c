//! An account's computers: registering one with its licence key (and publisher key), listing
//! them against the account's limit, deactivating one, which revokes its licences and ends its
//! sessions.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::Json;

use super::shared::{bearer, check_device_id, Account, JsonBody, Route, St};
use crate::api::*;
use crate::db;
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/devices", get(list_devices)),
        ("POST", "/api/v1/devices", post(register_device)),
        (
            "DELETE",
            "/api/v1/devices/{device_id}",
            delete(deactivate_device),
        ),
    ]
}

async fn register_device(
    State(s): St,
    Account(account): Account,
    headers: HeaderMap,
    JsonBody(req): JsonBody<DeviceRequest>,
) -> Result<StatusCode, StoreError> {
    check_device_id(&req.device_id)?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(&req.public_key, &mut key)
        .map_err(|_| StoreError::BadRequest("public_key must be 64 hex digits".into()))?;
    // A licence wrapped for the all-zero or a low-order key opens for anyone holding its
    // bytes: such a key is never registered.
    marquee_licence::device::check_public_key(&key).map_err(|_| StoreError::InvalidDeviceKey)?;
    let publisher_key = match &req.publisher_key {
        Some(h) => {
            let mut k = [0u8; 32];
            hex::decode_to_slice(h, &mut k).map_err(|_| {
                StoreError::BadRequest("publisher_key must be 64 hex digits".into())
            })?;
            ed25519_dalek::VerifyingKey::from_bytes(&k).map_err(|_| {
                StoreError::BadRequest("publisher_key is not an Ed25519 key".into())
            })?;
            Some(k)
        }
        None => None,
    };
    // The session belongs to this computer from now on: deactivating it ends the session too.
    // A session another computer registered with was copied from it (a copied profile, or a
    // stolen token): it ends, so deactivating that computer is enough to shut a thief out,
    // and this computer signs in again with the password.
    if let Some(token) = bearer(&headers) {
        if !db::accounts::bind_session_device(&s.db, token, &req.device_id).await? {
            db::accounts::end_session(&s.db, token).await?;
            tracing::info!(account, "a session of another computer ended");
            return Err(StoreError::Unauthorized(
                "this sign-in belongs to another computer",
            ));
        }
    }
    // Registering may issue licences again (below): one at a time with the account's orders.
    let _one_at_a_time = s.lock_orders(account).await?;
    let registered = db::devices::register_device(
        &s.db,
        account,
        &req.device_id,
        &key,
        publisher_key.as_ref(),
        s.device_limit,
        s.now(),
    )
    .await?;
    if registered == db::devices::Registered::Rekeyed {
        // Whatever holds the old key (a copy of this computer, or its old install) must stop:
        // every live licence here is issued again under a new id for the new key, and the old
        // ids are revoked.
        let reissued = super::issuing::reissue_for_new_key(&s, account, &req.device_id).await?;
        tracing::info!(
            account,
            reissued,
            "device re-keyed: its licences issued again"
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn list_devices(
    State(s): St,
    Account(account): Account,
) -> Result<Json<DeviceList>, StoreError> {
    Ok(Json(DeviceList {
        devices: db::devices::list_devices(&s.db, account).await?,
        limit: s.device_limit,
    }))
}

async fn deactivate_device(
    State(s): St,
    Account(account): Account,
    Path(device_id): Path<String>,
) -> Result<StatusCode, StoreError> {
    // Its licences are revoked and its sessions end with it: a deactivated computer plays
    // nothing and must sign in again to come back.
    let revoked = db::devices::deactivate_device(&s.db, account, &device_id).await?;
    tracing::info!(account, revoked, "device deactivated");
    Ok(StatusCode::NO_CONTENT)
}
