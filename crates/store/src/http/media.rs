//! Posters and backdrops (`GET /media/{file}`), read from the store's media folders, and the
//! generated catalog's posters, drawn on first request ([`crate::poster`]). Apart from the
//! catalog's feed: it serves files from disk, nothing from the database.

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
    if let Some(key) = crate::poster::key_of(&file) {
        // Only posters the catalog names: a stranger cannot make the store draw at will.
        let path = format!("/media/{file}");
        if s.catalog().titles.iter().any(|t| t.poster_path == path) {
            let key = key.to_owned();
            let png = tokio::task::spawn_blocking(move || crate::poster::draw(&key))
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            // Kept beside the community posters: drawn once per store.
            if let Some(dir) = s.media_dirs.first() {
                let kept = dir.join(&file);
                let part = dir.join(format!(".{file}.part"));
                let written = async {
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::write(&part, &png).await
                };
                if written.await.is_ok() {
                    let _ = tokio::fs::rename(&part, &kept).await;
                }
            }
            return Ok((
                [
                    (header::CONTENT_TYPE, "image/png"),
                    (header::CACHE_CONTROL, "public, max-age=86400"),
                ],
                png,
            )
                .into_response());
        }
    }
    Err(StoreError::NotFound(format!("/media/{file}")))
}
