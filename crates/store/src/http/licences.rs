//! Licences once issued: the status of a device's licences with a signed time, the first frame
//! of a rental, restoring what the account holds on a computer, and revoking, renewing or
//! moving a licence.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use marquee_licence::licence::LicenceKind;

use super::issuing::{already_held, issue_licence, new_purchase_licence};
use super::shared::check_device_id;
use super::shared::{Account, JsonBody, QueryParams, Route, St};
use super::store::nonce_bytes;
use crate::api::*;
use crate::db;
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/licences/status", get(licence_status)),
        (
            "POST",
            "/api/v1/licences/{licence_id}/first-frame",
            post(first_frame),
        ),
        ("POST", "/api/v1/licences/restore", post(restore)),
        ("POST", "/api/v1/licences/{licence_id}/revoke", post(revoke)),
        ("POST", "/api/v1/licences/{licence_id}/renew", post(renew)),
        (
            "POST",
            "/api/v1/licences/{licence_id}/move",
            post(move_licence),
        ),
    ]
}

/// Everything the account holds on this computer, for its current key: purchases live here or
/// playing nowhere (re-issued here), and rentals rented here still in their window. Nothing is
/// charged; purchases live on another computer stay there (they move with an order's
/// "move it here").
async fn restore(
    State(s): St,
    Account(account): Account,
    JsonBody(req): JsonBody<RestoreRequest>,
) -> Result<Json<RestoreResponse>, StoreError> {
    check_device_id(&req.device_id)?;
    let device = db::devices::device(&s.db, account, &req.device_id).await?;
    if !device.active {
        return Err(StoreError::DeviceInactive);
    }
    let _one_at_a_time = s.lock_orders(account).await?;
    let mut titles: Vec<String> = db::licences::licences_of_account(&s.db, account)
        .await?
        .into_iter()
        .map(|l| l.title_id)
        .collect();
    titles.sort();
    titles.dedup();
    let mut restored = Vec::new();
    for title_id in titles {
        let title = db::catalog::title(&s.db, &title_id).await?;
        let probe = OrderRequest {
            client_order_id: String::new(),
            title_id: title_id.clone(),
            device_id: req.device_id.clone(),
            move_here: false,
        };
        match already_held(&s, account, &title, &probe, &device).await {
            Ok(Some((order_id, licence, first_frame_at))) => restored.push(RestoredLicence {
                title_id,
                order_id,
                licence: B64.encode(licence),
                first_frame_at,
            }),
            Ok(None) | Err(StoreError::LicensedElsewhere(_)) => {}
            Err(e) => return Err(e),
        }
    }
    tracing::info!(account, restored = restored.len(), "licences restored");
    Ok(Json(RestoreResponse { restored }))
}

/// Licence ids are the hex of 16 bytes.
/// Refuses an id that is not 32 hex digits, as an unknown licence.
fn check_licence_id(licence_id: &str) -> Result<(), StoreError> {
    raw_licence_id(licence_id).map(drop)
}

async fn first_frame(
    State(s): St,
    Account(account): Account,
    Path(licence_id): Path<String>,
    JsonBody(report): JsonBody<FirstFrameReport>,
) -> Result<Json<FirstFrameRecorded>, StoreError> {
    check_licence_id(&licence_id)?;
    let licence = db::licences::licence_of(&s.db, account, &licence_id).await?;
    // A first frame cannot precede the licence nor lie in the future: clamp, so a wrong client
    // clock can only shorten a rental's window, never lengthen it.
    let at = report.at.clamp(licence.issued_at, s.now());
    let at = db::licences::set_first_frame(&s.db, &licence.id, at).await?;
    Ok(Json(FirstFrameRecorded { at }))
}

#[derive(serde::Deserialize)]
struct StatusQuery {
    device_id: String,
    #[serde(default)]
    nonce: Option<String>,
}

async fn licence_status(
    State(s): St,
    Account(account): Account,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Json<LicenceStatusResponse>, StoreError> {
    check_device_id(&q.device_id)?;
    let nonce = nonce_bytes(q.nonce.as_deref())?;
    Ok(Json(LicenceStatusResponse {
        revoked: db::licences::revoked_on_device(&s.db, account, &q.device_id).await?,
        first_plays: db::licences::first_plays_on_device(&s.db, account, &q.device_id).await?,
        time: s.signed_time(nonce.as_deref()),
    }))
}

async fn revoke(
    State(s): St,
    Account(account): Account,
    Path(licence_id): Path<String>,
) -> Result<StatusCode, StoreError> {
    check_licence_id(&licence_id)?;
    let licence = db::licences::licence_of(&s.db, account, &licence_id).await?;
    db::licences::revoke(&s.db, &licence.id).await?;
    tracing::info!(licence = %licence.id, "licence revoked");
    Ok(StatusCode::NO_CONTENT)
}

fn raw_licence_id(licence_id: &str) -> Result<[u8; 16], StoreError> {
    let mut raw = [0u8; 16];
    hex::decode_to_slice(licence_id, &mut raw)
        .map_err(|_| StoreError::UnknownLicence(licence_id.to_owned()))?;
    Ok(raw)
}

async fn renew(
    State(s): St,
    Account(account): Account,
    Path(licence_id): Path<String>,
) -> Result<Json<LicenceResponse>, StoreError> {
    let raw = raw_licence_id(&licence_id)?;
    let licence = db::licences::licence_of(&s.db, account, &licence_id).await?;
    if licence.revoked {
        return Err(StoreError::LicenceRevoked(licence_id));
    }
    let kind = LicenceKind::parse(&licence.kind)
        .ok_or_else(|| StoreError::Internal("stored licence kind".into()))?;
    let title = db::catalog::title(&s.db, &licence.title_id).await?;
    // The device's current key: a profile re-created on the same computer has a new one.
    let device = db::devices::device(&s.db, account, &licence.device_id).await?;
    let device_id = check_device_id(&licence.device_id)?;
    // A rental keeps its issue time, so renewing never extends its window.
    let issued_at = if kind == LicenceKind::Rent {
        licence.issued_at
    } else {
        s.now()
    };
    let bytes = issue_licence(
        &s,
        &title,
        device_id,
        device.public_key,
        kind,
        raw,
        issued_at,
    )?;
    db::licences::replace_licence(&s.db, &licence.id, issued_at, bytes.clone()).await?;
    tracing::info!(licence = %licence.id, "licence renewed");
    Ok(Json(LicenceResponse {
        licence: B64.encode(bytes),
    }))
}

async fn move_licence(
    State(s): St,
    Account(account): Account,
    Path(licence_id): Path<String>,
    JsonBody(req): JsonBody<MoveRequest>,
) -> Result<Json<LicenceResponse>, StoreError> {
    check_licence_id(&licence_id)?;
    let licence = db::licences::licence_of(&s.db, account, &licence_id).await?;
    if licence.kind != LicenceKind::Buy.as_str() {
        return Err(StoreError::NotMovable);
    }
    if licence.revoked {
        return Err(StoreError::LicenceRevoked(licence_id));
    }
    let target_id = check_device_id(&req.device_id)?;
    if req.device_id == licence.device_id {
        return Err(StoreError::BadRequest(
            "the purchase is already on that computer".into(),
        ));
    }
    let target = db::devices::device(&s.db, account, &req.device_id).await?;
    if !target.active {
        return Err(StoreError::DeviceInactive);
    }
    let _one_at_a_time = s.lock_orders(account).await?;
    let title = db::catalog::title(&s.db, &licence.title_id).await?;
    // Every live licence of the purchase goes, not only the one named: one computer at a time.
    let held = db::licences::licences_of_title(&s.db, account, &title.id).await?;
    let live: Vec<&db::licences::HeldLicence> = held
        .iter()
        .filter(|l| l.kind == LicenceKind::Buy.as_str() && !l.revoked)
        .collect();
    if !live.iter().any(|l| l.id == licence.id) {
        return Err(StoreError::LicenceRevoked(licence_id));
    }
    let new = new_purchase_licence(&s, &title, target_id, &target)?;
    let (new_id, bytes) = (new.id.clone(), new.bytes.clone());
    db::licences::supersede(&s.db, &live, new, &req.device_id).await?;
    tracing::info!(from = %licence.id, to = %new_id, "purchase moved");
    Ok(Json(LicenceResponse {
        licence: B64.encode(bytes),
    }))
}
