//! What every domain of the API shares: the store's state as handlers take it, the body limit,
//! the shape of a route, and extractors that answer in the store's error format (JSON bodies,
//! query strings, the signed-in account). A leaf: it imports no domain of the API.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::MethodRouter;
use serde::de::DeserializeOwned;

use crate::db;
use crate::error::StoreError;

/// The store's state, as handlers take it.
pub(super) type St = State<Arc<crate::State>>;

/// One route: (method, path in axum's syntax, handler).
pub(super) type Route = (&'static str, &'static str, MethodRouter<Arc<crate::State>>);

/// Requests larger than this are refused before they are read, unless their route says
/// otherwise ([`with_body_limit`]).
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// The body limit of a route that takes more than [`MAX_BODY`], as [`JsonBody`] reports it.
#[derive(Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// A route whose bodies may be up to `limit` bytes: sized to what the route carries (a
/// publication's poster), every other route keeping [`MAX_BODY`].
pub(super) fn with_body_limit(
    route: MethodRouter<Arc<crate::State>>,
    limit: usize,
) -> MethodRouter<Arc<crate::State>> {
    route
        .layer::<_, std::convert::Infallible>(axum::extract::DefaultBodyLimit::max(limit))
        .layer::<_, std::convert::Infallible>(axum::Extension(BodyLimit(limit)))
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
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(MAX_BODY, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StoreError::PayloadTooLarge(limit)
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
pub(super) struct QueryParams<T>(pub(super) T);

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

/// The address of the client a request comes from: its connection's, or behind one of the
/// operator's trusted proxies, the one they forward for (see [`crate::proxy`]).
pub(super) struct Client(pub(super) std::net::IpAddr);

impl FromRequestParts<Arc<crate::State>> for Client {
    type Rejection = StoreError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<crate::State>,
    ) -> Result<Self, StoreError> {
        let axum::extract::ConnectInfo(peer) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .copied()
            .ok_or_else(|| StoreError::Internal("a request without its connection".into()))?;
        Ok(Client(state.trusted_proxies.client(peer, &parts.headers)))
    }
}

/// The bearer token of a request.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The raw id of a device, or `bad_request` when it is not 64 lowercase hex digits: every
/// domain that names a device checks it so. One spelling only: devices and sessions are
/// matched by the id's text, so "AB…" or " ab…" would otherwise be a second computer.
pub(super) fn check_device_id(device_id: &str) -> Result<marquee_licence::DeviceId, StoreError> {
    marquee_licence::DeviceId::from_hex(device_id)
        .ok()
        .filter(|id| id.to_hex() == device_id)
        .ok_or_else(|| StoreError::BadRequest("device_id must be 64 lowercase hex digits".into()))
}
