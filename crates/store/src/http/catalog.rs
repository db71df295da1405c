//! The catalog feed (`GET /api/v1/catalog`): the signed snapshot of [`crate::catalog`], paged,
//! filtered and revalidated by its ETag.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;

use super::shared::{QueryParams, Route, St};
use crate::api::*;
use crate::catalog;
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![("GET", "/api/v1/catalog", get(catalog))]
}

async fn catalog(
    State(s): St,
    headers: HeaderMap,
    QueryParams(q): QueryParams<CatalogQuery>,
) -> Result<Response, StoreError> {
    catalog::check_query(&q)?;
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
