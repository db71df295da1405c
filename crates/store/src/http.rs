//! The store's HTTP API (axum).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use marquee_licence::licence::{wrap_content_key, Licence, LicenceKind};
use marquee_licence::{ContentKey, DeviceId, RentalRules};
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::api::*;
use crate::error::{format_cents, StoreError};
use crate::{catalog, db, tracker};

type St = State<Arc<crate::State>>;

/// Requests larger than this are refused before they are read.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// Every route: (method, path in axum's syntax, handler). The router is built from this table
/// and [`routes`] lists it, so the OpenAPI test sees exactly what is served.
fn table() -> Vec<(&'static str, &'static str, MethodRouter<Arc<crate::State>>)> {
    vec![
        ("GET", "/api/v1/store", get(store_info)),
        ("GET", "/api/v1/time", get(time)),
        ("POST", "/api/v1/community", post(crate::community::publish)),
        (
            "POST",
            "/api/v1/titles/{id}/hide",
            post(crate::community::hide),
        ),
        ("POST", "/api/v1/accounts", post(sign_up)),
        ("POST", "/api/v1/sessions", post(sign_in)),
        ("DELETE", "/api/v1/sessions", delete(sign_out)),
        ("GET", "/api/v1/devices", get(list_devices)),
        ("POST", "/api/v1/devices", post(register_device)),
        (
            "DELETE",
            "/api/v1/devices/{device_id}",
            delete(deactivate_device),
        ),
        ("GET", "/api/v1/catalog", get(catalog)),
        ("GET", "/api/v1/wallet", get(wallet)),
        ("POST", "/api/v1/vouchers/redeem", post(redeem_voucher)),
        ("GET", "/api/v1/orders", get(order_history)),
        ("POST", "/api/v1/orders", post(order)),
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
        ("GET", "/api/v1/titles/{id}/torrent", get(torrent)),
        ("GET", "/api/v1/titles/{id}/peers", get(peers)),
        ("GET", "/announce", get(announce)),
        ("GET", "/media/{file}", get(media)),
    ]
}

/// Every route the store serves, as (method, path) with `{name}` path parameters.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The store's router. With `loopback_port`, only requests whose `Host` is
/// `127.0.0.1:PORT` or `localhost:PORT` are answered (see [`crate::StoreConfig`]).
///
/// No route sends CORS headers, on purpose: a web page may not read the store's answers, and a
/// JSON body (which must say `Content-Type: application/json`) cannot be sent from one without
/// a preflight, which is never granted.
pub(crate) fn router(state: Arc<crate::State>, loopback_port: Option<u16>) -> Router {
    // Routing the same path twice merges the two method routers.
    let router = table()
        .into_iter()
        .fold(Router::new(), |r, (_, path, handler)| {
            r.route(path, handler)
        })
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    match loopback_port {
        Some(port) => router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| async move {
                if loopback_host(&req, port) {
                    next.run(req).await
                } else {
                    StoreError::ForeignHost.into_response()
                }
            },
        )),
        None => router,
    }
}

/// True when a request is addressed to `127.0.0.1:port` or `localhost:port`: the embedded
/// store's only names. A page that rebinds its own DNS name to 127.0.0.1 sends its own name.
fn loopback_host(req: &axum::extract::Request, port: u16) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        // HTTP/2 carries the host in the URI instead.
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    let Some((name, p)) = host.and_then(|h| h.rsplit_once(':')) else {
        return false;
    };
    p.parse::<u16>() == Ok(port) && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

async fn not_found(uri: Uri) -> StoreError {
    StoreError::NotFound(uri.path().to_owned())
}

async fn method_not_allowed(method: Method, uri: Uri) -> StoreError {
    StoreError::MethodNotAllowed(format!("{method} {}", uri.path()))
}

/// JSON bodies with our error format instead of axum's plain-text rejections.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = StoreError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, StoreError> {
        // `application/json`, with or without parameters (`; charset=utf-8`). Anything else
        // is refused before the body is read: a web page can send text/plain or a form to any
        // address without asking, but not JSON.
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(StoreError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StoreError::PayloadTooLarge(MAX_BODY)
            } else {
                StoreError::BadRequest(e.body_text())
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| StoreError::MalformedJson(e.to_string()))
    }
}

/// Query strings with our error format.
struct QueryParams<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = StoreError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, StoreError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryParams(q.0))
            .map_err(|e| StoreError::BadRequest(e.body_text()))
    }
}

/// The signed-in account of a request (`Authorization: Bearer <token>`).
pub(crate) struct Account(pub(crate) i64);

impl FromRequestParts<Arc<crate::State>> for Account {
    type Rejection = StoreError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<crate::State>,
    ) -> Result<Self, StoreError> {
        let token =
            bearer(&parts.headers).ok_or(StoreError::Unauthorized("you are not signed in"))?;
        Ok(Account(
            db::accounts::account_of_token(&state.db, token, state.now()).await?,
        ))
    }
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

async fn store_info(State(s): St) -> Json<StoreInfo> {
    Json(StoreInfo {
        name: s.name.clone(),
        public_key: hex::encode(s.signing_key.verifying_key().to_bytes()),
        time: s.now(),
    })
}

/// The raw bytes of a client's time nonce.
fn nonce_bytes(nonce: Option<&str>) -> Result<Option<Vec<u8>>, StoreError> {
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

/// A plausible e-mail: something@something.tld, no spaces, not absurdly long.
fn plausible_email(email: &str) -> bool {
    let Some((user, domain)) = email.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace)
}

/// Takes one attempt from a rate limit, or refuses with `rate_limited`.
fn limit<K: std::hash::Hash + Eq + Clone>(
    limiter: &crate::limit::Limiter<K>,
    key: &K,
    what: &'static str,
) -> Result<(), StoreError> {
    limiter
        .check(key)
        .map_err(|retry_after_s| StoreError::RateLimited {
            what,
            retry_after_s,
        })
}

async fn sign_up(
    State(s): St,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<SignUpRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), StoreError> {
    let email = req.email.trim().to_lowercase();
    if !plausible_email(&email) {
        return Err(StoreError::InvalidCredentials(
            "please give an e-mail address such as name@example.com".into(),
        ));
    }
    if req.password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::InvalidCredentials(format!(
            "please choose a password of at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    // Counted once the request is well formed, so typing mistakes cost nothing. This limit is
    // also what bounds account enumeration: `email_taken` says an e-mail has an account, but
    // an address can ask only a handful of times an hour, each after a full Argon2 hash.
    limit(
        &s.sign_up_by_address,
        &crate::limit::address_key(remote.ip()),
        "sign-ups from here",
    )?;
    let account =
        db::accounts::create_account(&s.db, &s.passwords, &email, &req.password, 0, s.now())
            .await?;
    let (token, expires_at) =
        db::accounts::open_session(&s.db, account, s.session_ttl_s, s.now()).await?;
    tracing::info!(account, "account created");
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse { token, expires_at }),
    ))
}

async fn sign_in(
    State(s): St,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<SessionRequest>,
) -> Result<Json<SessionResponse>, StoreError> {
    limit(
        &s.sign_in_by_address,
        &crate::limit::address_key(remote.ip()),
        "sign-in attempts from here",
    )?;
    limit(
        &s.sign_in_by_email,
        &crate::limit::email_key(&req.email),
        "sign-in attempts for this e-mail",
    )?;
    let (token, expires_at) = db::accounts::sign_in(
        &s.db,
        &s.passwords,
        &req.email,
        &req.password,
        s.session_ttl_s,
        s.now(),
    )
    .await?;
    Ok(Json(SessionResponse { token, expires_at }))
}

/// Ends the session of the request (signing out): its token opens nothing afterwards.
async fn sign_out(
    State(s): St,
    Account(_): Account,
    headers: HeaderMap,
) -> Result<StatusCode, StoreError> {
    if let Some(token) = bearer(&headers) {
        db::accounts::end_session(&s.db, token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn check_device_id(device_id: &str) -> Result<DeviceId, StoreError> {
    DeviceId::from_hex(device_id)
        .map_err(|_| StoreError::BadRequest("device_id must be 64 hex digits".into()))
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
    db::devices::register_device(
        &s.db,
        account,
        &req.device_id,
        &key,
        publisher_key.as_ref(),
        s.device_limit,
        s.now(),
    )
    .await?;
    // The session now belongs to this computer: deactivating it ends the session too.
    if let Some(token) = bearer(&headers) {
        db::accounts::bind_session_device(&s.db, token, &req.device_id).await?;
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

async fn catalog(
    State(s): St,
    headers: HeaderMap,
    QueryParams(q): QueryParams<CatalogQuery>,
) -> Result<Response, StoreError> {
    let snapshot = s.catalog();
    let etag = snapshot.etag(&q);
    let revalidated = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| catalog::matches_etag(v, &etag));
    let cache = [
        (header::ETAG, etag),
        // Clients may keep the feed but must ask again (cheaply, with If-None-Match) each time.
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    if revalidated {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let state = s.clone();
    // The whole feed at 100,000 titles takes a while to serialise: off the async workers.
    let feed = tokio::task::spawn_blocking(move || snapshot.answer(&q, catalog::signer(&state)))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
    Ok((cache, Json(&*feed)).into_response())
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

/// A licence the store signed, read back (its device key, its rules).
fn read_licence(s: &crate::State, bytes: &[u8]) -> Result<Licence, StoreError> {
    marquee_licence::SignedLicence::from_bytes(bytes.to_vec())
        .and_then(|l| l.verify(&s.signing_key.verifying_key()))
        .map_err(|e| StoreError::Internal(format!("a stored licence does not verify: {e}")))
}

/// A live licence on `device`, wrapped for its current key: a reinstall on the same computer
/// has a new key under the same device id, so the old bytes would not open there. Re-wrapping
/// keeps the licence's id, kind and issue time, so a rental's window does not move.
async fn for_current_key(
    s: &crate::State,
    held: &db::licences::HeldLicence,
    device: &db::devices::DeviceRecord,
) -> Result<Vec<u8>, StoreError> {
    let licence = read_licence(s, &held.bytes)?;
    if licence.device_public_key == device.public_key {
        return Ok(held.bytes.clone());
    }
    let title = db::catalog::title(&s.db, &held.title_id).await?;
    let bytes = issue_licence(
        s,
        &title,
        licence.device_id,
        device.public_key,
        licence.kind,
        licence.licence_id,
        licence.issued_at,
    )?;
    db::licences::replace_licence(&s.db, &held.id, licence.issued_at, bytes.clone()).await?;
    tracing::info!(licence = %held.id, "licence re-wrapped for a new device key");
    Ok(bytes)
}

/// The answer to a retry of an order: the same answer, no second charge. The licence is the
/// order's live one, re-wrapped when this computer's key changed since.
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
        peers: peers_of(s, &existing.title_id).await,
        first_frame_at,
    }))
}

fn licence_kind(offer: OfferKind) -> LicenceKind {
    match offer {
        OfferKind::Rent => LicenceKind::Rent,
        OfferKind::Buy => LicenceKind::Buy,
        OfferKind::Free => LicenceKind::Free,
    }
}

/// Signs a licence of `title` for a device.
fn issue_licence(
    s: &crate::State,
    title: &db::catalog::TitleRecord,
    device_id: DeviceId,
    device_public: [u8; 32],
    kind: LicenceKind,
    licence_id: [u8; 16],
    issued_at: i64,
) -> Result<Vec<u8>, StoreError> {
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
    let licence = Licence {
        licence_id,
        title_id: title.id.clone(),
        device_id,
        device_public_key: device_public,
        kind,
        issued_at,
        rules: (kind == LicenceKind::Rent).then(RentalRules::default),
        key_commitment: commitment,
        wrapped_key: wrap_content_key(
            &ContentKey::from_bytes(key),
            &device_public,
            &licence_id,
            &title.id,
        ),
    };
    Ok(licence.sign(&s.signing_key).into_bytes())
}

/// A fresh licence of a purchase for `device`, to supersede the account's earlier ones.
fn new_purchase_licence(
    s: &crate::State,
    title: &db::catalog::TitleRecord,
    device_id: DeviceId,
    device: &db::devices::DeviceRecord,
) -> Result<db::licences::NewLicence<'static>, StoreError> {
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let issued_at = s.now();
    Ok(db::licences::NewLicence {
        id: hex::encode(id),
        kind: LicenceKind::Buy.as_str(),
        issued_at,
        bytes: issue_licence(
            s,
            title,
            device_id,
            device.public_key,
            LicenceKind::Buy,
            id,
            issued_at,
        )?,
    })
}

/// True while a rental can still play: before its start deadline, and within its window once
/// started.
fn rental_open(l: &db::licences::HeldLicence, now: i64) -> bool {
    let rules = RentalRules::default();
    let start_by = l.issued_at.saturating_add(rules.start_within_s as i64);
    match l.first_frame_at {
        None => now < start_by,
        Some(first) => first < start_by && now < first.saturating_add(rules.play_window_s as i64),
    }
}

/// What the account already holds of a title for `device`, decided by the store so a client
/// cannot get a second computer playing one purchase, nor pay twice for what it holds:
/// - a purchase live on this computer is handed back (re-wrapped after a reinstall);
/// - a purchase live on another computer is refused unless the order says "move it here",
///   which revokes the other computer's licence;
/// - a purchase that plays nowhere (its computer was deactivated) is re-issued here;
/// - a rental rented on this computer and still in its window is handed back; a rental on
///   another computer never moves, so renting here is a new rental.
///
/// `None`: nothing held, the order is charged as new.
async fn already_held(
    s: &crate::State,
    account: i64,
    title: &db::catalog::TitleRecord,
    req: &OrderRequest,
    device: &db::devices::DeviceRecord,
) -> Result<Option<(String, Vec<u8>, Option<i64>)>, StoreError> {
    let held = db::licences::licences_of_title(&s.db, account, &title.id).await?;
    let device_id = check_device_id(&req.device_id)?;
    match title.offer {
        OfferKind::Free => Ok(None),
        OfferKind::Rent => {
            let now = s.now();
            match held.iter().find(|l| {
                l.kind == LicenceKind::Rent.as_str()
                    && !l.revoked
                    && l.device_id == req.device_id
                    && rental_open(l, now)
            }) {
                Some(l) => Ok(Some((
                    l.order_id.clone(),
                    for_current_key(s, l, device).await?,
                    l.first_frame_at,
                ))),
                None => Ok(None),
            }
        }
        OfferKind::Buy => {
            let bought: Vec<&db::licences::HeldLicence> = held
                .iter()
                .filter(|l| l.kind == LicenceKind::Buy.as_str())
                .collect();
            let live: Vec<&db::licences::HeldLicence> =
                bought.iter().copied().filter(|l| !l.revoked).collect();
            if let Some(here) = live.iter().find(|l| l.device_id == req.device_id) {
                return Ok(Some((
                    here.order_id.clone(),
                    for_current_key(s, here, device).await?,
                    None,
                )));
            }
            let superseded = match (live.is_empty(), bought.first()) {
                (_, None) => return Ok(None),
                // Owned, playing nowhere: the newest licence is the one to supersede.
                (true, Some(newest)) => vec![*newest],
                (false, Some(_)) if req.move_here => live,
                (false, Some(_)) => {
                    return Err(StoreError::LicensedElsewhere(
                        db::catalog::title_name(&s.db, &title.id).await?,
                    ))
                }
            };
            let new = new_purchase_licence(s, title, device_id, device)?;
            let bytes = new.bytes.clone();
            db::licences::supersede(&s.db, &superseded, new, &req.device_id).await?;
            tracing::info!(title = %title.id, "purchase licensed to another computer of the account");
            Ok(Some((superseded[0].order_id.clone(), bytes, None)))
        }
    }
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
    let lock = s.order_lock(account);
    let _one_at_a_time = lock.lock().await;

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
                peers: peers_of(&s, &title.id).await,
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
        peers: peers_of(&s, &title.id).await,
        first_frame_at: None,
    }))
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
    let lock = s.order_lock(account);
    let _one_at_a_time = lock.lock().await;
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
fn check_licence_id(licence_id: &str) -> Result<(), StoreError> {
    let mut raw = [0u8; 16];
    hex::decode_to_slice(licence_id, &mut raw)
        .map_err(|_| StoreError::UnknownLicence(licence_id.to_owned()))
}

async fn first_frame(
    State(s): St,
    Account(account): Account,
    Path(licence_id): Path<String>,
    JsonBody(report): JsonBody<FirstFrameReport>,
) -> Result<StatusCode, StoreError> {
    check_licence_id(&licence_id)?;
    let licence = db::licences::licence_of(&s.db, account, &licence_id).await?;
    // A first frame cannot precede the licence nor lie in the future: clamp, so a wrong client
    // clock can only shorten a rental's window, never lengthen it.
    let at = report.at.clamp(licence.issued_at, s.now());
    db::licences::set_first_frame(&s.db, &licence.id, at).await?;
    Ok(StatusCode::NO_CONTENT)
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
    let lock = s.order_lock(account);
    let _one_at_a_time = lock.lock().await;
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

async fn peers_of(s: &crate::State, title_id: &str) -> Vec<String> {
    let Ok(t) = db::catalog::title(&s.db, title_id).await else {
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
    let t = db::catalog::title(&s.db, &id).await?;
    // A synthetic title (scale tests) has no torrent at all: nothing to name a tracker in.
    let body = if t.torrent.is_empty() {
        t.torrent
    } else {
        s.served_torrent(&t.torrent).map_err(|e| {
            StoreError::Internal(format!("the stored torrent of {id} cannot be served: {e}"))
        })?
    };
    Ok(([(header::CONTENT_TYPE, "application/x-bittorrent")], body).into_response())
}

/// Who is watching a title is for signed-in accounts only.
async fn peers(
    State(s): St,
    _: Account,
    Path(id): Path<String>,
) -> Result<Json<PeersResponse>, StoreError> {
    db::catalog::title(&s.db, &id).await?;
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
        Ok(a) => match s.tracker.announce(remote.ip(), &a) {
            Ok(peers) => tracker::encode_response(&peers),
            Err(reason) => tracker::encode_failure(reason),
        },
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
    if !plain {
        return Err(StoreError::BadRequest("bad media name".into()));
    }
    let mime = match file.rsplit('.').next() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => return Err(StoreError::BadRequest("not an image".into())),
    };
    for dir in &s.media_dirs {
        if let Ok(bytes) = tokio::fs::read(dir.join(&file)).await {
            return Ok((
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=86400"),
                ],
                bytes,
            )
                .into_response());
        }
    }
    Err(StoreError::NotFound(format!("/media/{file}")))
}
