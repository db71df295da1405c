//! Posters and backdrops (`GET /media/{file}`), read from the store's media folders. Apart from
//! the catalog's feed: it serves files from disk, nothing from the database.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::shared::{Route, St};
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![("GET", "/media/{file}", get(media))]
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
