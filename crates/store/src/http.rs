//! The store's HTTP API (axum).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use marquee_licence::licence::{wrap_content_key, Licence, LicenceKind};
use marquee_licence::{ContentKey, DeviceId, RentalRules};
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::api::*;
use crate::error::{format_cents, StoreError};
use crate::{db, tracker};

type St = State<Arc<crate::State>>;

/// Requests larger than this are refused before they are read.
const MAX_BODY: usize = 64 * 1024;

pub(crate) fn router(state: Arc<crate::State>) -> Router {
    Router::new()
        .route("/api/v1/store", get(store_info))
        .route("/api/v1/sessions", post(sign_in))
        .route("/api/v1/devices", post(register_device))
        .route("/api/v1/catalog", get(catalog))
        .route("/api/v1/wallet", get(wallet))
        .route("/api/v1/orders", post(order))
        .route("/api/v1/titles/{id}/torrent", get(torrent))
        .route("/api/v1/titles/{id}/peers", get(peers))
        .route("/announce", get(announce))
        .route("/media/{file}", get(media))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// JSON bodies with our error format instead of axum's plain-text rejections.
struct JsonBody<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = StoreError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, StoreError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| StoreError::BadRequest(e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| StoreError::BadRequest(format!("malformed JSON: {e}")))
    }
}

/// The signed-in account of a request (`Authorization: Bearer <token>`).
struct Account(i64);

impl FromRequestParts<Arc<crate::State>> for Account {
    type Rejection = StoreError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<crate::State>,
    ) -> Result<Self, StoreError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StoreError::Unauthorized("you are not signed in"))?;
        Ok(Account(db::account_of_token(&state.db, token).await?))
    }
}

async fn store_info(State(s): St) -> Json<StoreInfo> {
    Json(StoreInfo {
        name: s.name.clone(),
        public_key: hex::encode(s.signing_key.verifying_key().to_bytes()),
        time: crate::now(),
    })
}

async fn sign_in(
    State(s): St,
    JsonBody(req): JsonBody<SessionRequest>,
) -> Result<Json<SessionResponse>, StoreError> {
    let (token, expires_at) = db::sign_in(&s.db, &req.email, &req.password).await?;
    Ok(Json(SessionResponse { token, expires_at }))
}

async fn register_device(
    State(s): St,
    Account(account): Account,
    JsonBody(req): JsonBody<DeviceRequest>,
) -> Result<StatusCode, StoreError> {
    DeviceId::from_hex(&req.device_id)
        .map_err(|_| StoreError::BadRequest("device_id must be 64 hex digits".into()))?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(&req.public_key, &mut key)
        .map_err(|_| StoreError::BadRequest("public_key must be 64 hex digits".into()))?;
    db::register_device(&s.db, account, &req.device_id, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn catalog(State(s): St) -> Json<SignedFeed> {
    let feed = s.feed.read().expect("feed lock").clone();
    Json((*feed).clone())
}

async fn wallet(
    State(s): St,
    Account(account): Account,
) -> Result<Json<WalletResponse>, StoreError> {
    let (balance_cents, currency) = db::wallet(&s.db, account).await?;
    Ok(Json(WalletResponse {
        balance_cents,
        currency,
    }))
}

fn request_hash(req: &OrderRequest) -> String {
    let mut h = Sha256::new();
    for part in [&req.client_order_id, &req.title_id, &req.device_id] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
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
    let _one_at_a_time = s.order_lock.lock().await;

    if let Some(existing) = db::find_order(&s.db, account, &req.client_order_id).await? {
        if existing.request_hash != hash {
            return Err(StoreError::OrderConflict(req.client_order_id));
        }
        // A retry: the same answer, no second charge.
        let (balance_cents, currency) = db::wallet(&s.db, account).await?;
        return Ok(Json(OrderResponse {
            order_id: existing.id,
            title_id: existing.title_id.clone(),
            charged_cents: existing.charged_cents,
            balance_cents,
            currency,
            licence: existing
                .licence
                .map(|l| base64::engine::general_purpose::STANDARD.encode(l)),
            peers: peers_of(&s, &existing.title_id).await,
        }));
    }

    let title = db::title(&s.db, &req.title_id).await?;
    let device_public = db::device_key(&s.db, account, &req.device_id).await?;
    let device_id = DeviceId::from_hex(&req.device_id)
        .map_err(|_| StoreError::BadRequest("device_id must be 64 hex digits".into()))?;
    let price = match title.offer {
        OfferKind::Free => 0,
        OfferKind::Buy if db::has_bought(&s.db, account, &title.id).await? => 0,
        _ => title.price_cents,
    };
    let (balance, currency) = db::wallet(&s.db, account).await?;
    if balance < price {
        return Err(StoreError::InsufficientFunds {
            balance: format_cents(balance),
            price: format_cents(price),
        });
    }

    let order_id = uuid::Uuid::new_v4().to_string();
    let licence = if title.encrypted {
        let kind = match title.offer {
            OfferKind::Rent => LicenceKind::Rent,
            OfferKind::Buy => LicenceKind::Buy,
            OfferKind::Free => LicenceKind::Free,
        };
        let key: [u8; 32] = title
            .content_key
            .as_deref()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| StoreError::Internal("title has no content key".into()))?;
        let commitment: [u8; 32] = title
            .key_commitment
            .as_deref()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| StoreError::Internal("title has no key commitment".into()))?;
        let mut licence_id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut licence_id);
        let licence = Licence {
            licence_id,
            title_id: title.id.clone(),
            device_id,
            device_public_key: device_public,
            kind,
            issued_at: crate::now(),
            rules: (kind == LicenceKind::Rent).then(RentalRules::default),
            key_commitment: commitment,
            wrapped_key: wrap_content_key(
                &ContentKey::from_bytes(key),
                &device_public,
                &licence_id,
                &title.id,
            ),
        };
        let signed = licence.sign(&s.signing_key);
        Some((
            hex::encode(licence_id),
            kind.as_str(),
            signed.as_bytes().to_vec(),
        ))
    } else {
        None
    };
    let licence_b64 = licence
        .as_ref()
        .map(|(_, _, b)| base64::engine::general_purpose::STANDARD.encode(b));
    let balance_cents = db::place_order(
        &s.db,
        db::NewOrder {
            id: &order_id,
            account,
            client_order_id: &req.client_order_id,
            request_hash: &hash,
            title_id: &title.id,
            device_id: &req.device_id,
            charged_cents: price,
            licence,
        },
    )
    .await?;
    tracing::info!(order = %order_id, title = %title.id, charged = price, "order placed");
    Ok(Json(OrderResponse {
        order_id,
        title_id: title.id.clone(),
        charged_cents: price,
        balance_cents,
        currency,
        licence: licence_b64,
        peers: peers_of(&s, &title.id).await,
    }))
}

async fn peers_of(s: &crate::State, title_id: &str) -> Vec<String> {
    let Ok(t) = db::title(&s.db, title_id).await else {
        return vec![];
    };
    let mut ih = [0u8; 20];
    if hex::decode_to_slice(&t.info_hash, &mut ih).is_err() {
        return vec![];
    }
    let mut peers = vec![s.seeder_addr.to_string()];
    peers.extend(
        s.tracker
            .peers(&ih)
            .into_iter()
            .filter(|p| *p != s.seeder_addr)
            .map(|p| p.to_string()),
    );
    peers
}

async fn torrent(State(s): St, Path(id): Path<String>) -> Result<Response, StoreError> {
    let t = db::title(&s.db, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-bittorrent")],
        t.torrent,
    )
        .into_response())
}

async fn peers(State(s): St, Path(id): Path<String>) -> Result<Json<PeersResponse>, StoreError> {
    db::title(&s.db, &id).await?;
    Ok(Json(PeersResponse {
        peers: peers_of(&s, &id).await,
        announce_url: s.announce_url(),
    }))
}

async fn announce(
    State(s): St,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
) -> Response {
    let body = match tracker::parse_announce(query.as_deref().unwrap_or("")) {
        Ok(a) => tracker::encode_response(&s.tracker.announce(remote.ip(), &a)),
        Err(reason) => tracker::encode_failure(&reason),
    };
    ([(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

async fn media(State(s): St, Path(file): Path<String>) -> Result<Response, StoreError> {
    // Only plain file names: no separators, no "..", nothing hidden.
    let plain = !file.is_empty()
        && !file.starts_with('.')
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    let dir = s
        .media_dir
        .as_ref()
        .ok_or(StoreError::UnknownTitle(file.clone()))?;
    if !plain {
        return Err(StoreError::BadRequest("bad media name".into()));
    }
    let mime = match file.rsplit('.').next() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => return Err(StoreError::BadRequest("not an image".into())),
    };
    let bytes = tokio::fs::read(dir.join(&file))
        .await
        .map_err(|_| StoreError::UnknownTitle(file.clone()))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}
