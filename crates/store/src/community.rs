//! The community shelf: videos viewers publish from the app, listed beside the studio titles.
//!
//! The store never holds the file: the publisher seeds it, and the store lists the title, keeps
//! its torrent and poster, and tracks its swarm. Each publication is signed by the publishing
//! device's Ed25519 key, registered with the device, so nobody can publish in another creator's
//! name; the signed request is kept for audit. The operator can hide a title.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use marquee_protocol::sign::{verify, SignatureContext};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::api::{CommunityPayload, CommunityRequest, FeedTitle, OfferKind};
use crate::db::{self, Db};
use crate::error::StoreError;
use crate::http::{check_device_id, Account, JsonBody};

/// Largest poster accepted.
const MAX_POSTER: usize = 4 * 1024 * 1024;

fn bad(why: &str) -> StoreError {
    StoreError::BadRequest(why.to_owned())
}

/// A poster image and its file extension.
type Poster = (Vec<u8>, &'static str);

/// Checks the payload's fields and its torrent; returns the decoded torrent and poster.
fn validate(p: &CommunityPayload) -> Result<(Vec<u8>, Option<Poster>), StoreError> {
    let name_len = p.name.trim().chars().count();
    if name_len == 0 || name_len > 200 {
        return Err(bad("the title must have 1 to 200 characters"));
    }
    if p.synopsis.chars().count() > 5000 {
        return Err(bad("the description is longer than 5000 characters"));
    }
    if p.mime != "video/webm" && p.mime != "video/mp4" {
        return Err(bad("only WebM and MP4 videos can be published"));
    }
    if p.language.len() > 35 || p.licence_to_share.chars().count() > 100 {
        return Err(bad("the language or licence is malformed"));
    }
    let torrent = B64
        .decode(&p.torrent)
        .map_err(|_| bad("the torrent is not base64"))?;
    let parsed =
        librqbit::torrent_from_bytes(&torrent).map_err(|_| bad("the torrent does not parse"))?;
    if parsed.info_hash.as_string() != p.info_hash {
        return Err(bad("the info hash does not match the torrent"));
    }
    if parsed.info.data.length != Some(p.size_bytes) {
        return Err(bad("the torrent must hold exactly the one published file"));
    }
    let poster = match &p.poster {
        None => None,
        Some(b) => {
            let bytes = B64.decode(b).map_err(|_| bad("the poster is not base64"))?;
            if bytes.len() > MAX_POSTER {
                return Err(bad("the poster is larger than 4 MB"));
            }
            let ext = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                "jpg"
            } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                "png"
            } else {
                return Err(bad("the poster must be a JPEG or PNG image"));
            };
            Some((bytes, ext))
        }
    };
    Ok((torrent, poster))
}

/// `POST /api/v1/community`.
pub(crate) async fn publish(
    State(s): State<Arc<crate::State>>,
    Account(account): Account,
    JsonBody(req): JsonBody<CommunityRequest>,
) -> Result<(StatusCode, Json<FeedTitle>), StoreError> {
    check_device_id(&req.device_id)?;
    let key = publisher_key(&s.db, account, &req.device_id).await?;
    verify(
        &key,
        SignatureContext::Publish,
        req.payload.as_bytes(),
        &req.signature,
    )
    .map_err(|_| StoreError::BadSignature)?;
    let payload: CommunityPayload = serde_json::from_str(&req.payload)
        .map_err(|e| StoreError::MalformedJson(format!("the payload: {e}")))?;
    let (torrent, poster) = validate(&payload)?;

    if let Some(existing) = name_of_info_hash(&s.db, &payload.info_hash).await? {
        return Err(StoreError::Duplicate(existing));
    }
    let id = format!("c-{}", &payload.info_hash[..16]);
    let poster_path = match &poster {
        Some((bytes, ext)) => {
            let file = format!("{id}.{ext}");
            tokio::fs::create_dir_all(&s.media_dir)
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            tokio::fs::write(s.media_dir.join(&file), bytes)
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            format!("/media/{file}")
        }
        None => String::new(),
    };
    let publisher = display_name(&s.db, account).await?;
    let year = 1970 + (payload.published_at.max(0) / 31_556_952) as i32;
    let title = FeedTitle {
        id: id.clone(),
        kind: "community_video".into(),
        name: payload.name.trim().to_owned(),
        synopsis: payload.synopsis.trim().to_owned(),
        year,
        runtime_s: payload.runtime_s,
        genre: "Community".into(),
        studio: publisher.clone(),
        artist: None,
        new_release: false,
        offer: OfferKind::Free,
        price_cents: 0,
        currency: crate::CURRENCY.to_owned(),
        series: None,
        poster_path,
        backdrop_path: None,
        width: payload.width,
        height: payload.height,
        mime: payload.mime.clone(),
        size_bytes: payload.size_bytes,
        info_hash: payload.info_hash.clone(),
        encrypted: false,
        key_commitment: None,
        licence_to_share: Some(payload.licence_to_share.clone()),
        rental: None,
        version: 0,
        for_sale: true,
        variant: None,
        publisher: Some(publisher),
        hidden: false,
    };
    list(&s.db, &title, &torrent).await?;
    sqlx::query(
        "INSERT INTO community (title_id, account_id, device_id, payload, signature, hidden, created_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6)",
    )
    .bind(&id)
    .bind(account)
    .bind(&req.device_id)
    .bind(&req.payload)
    .bind(&req.signature)
    .bind(s.now())
    .execute(&s.db)
    .await?;
    s.refresh_catalog().await?;
    tracing::info!(title = %id, "community title published");
    let listed = s
        .catalog()
        .titles
        .iter()
        .find(|t| t.id == id)
        .map(|t| (**t).clone())
        .unwrap_or(title);
    Ok((StatusCode::CREATED, Json(listed)))
}

/// `POST /api/v1/titles/{id}/hide`: the operator hides a community title (moderation). Its
/// feed entry stays as a tombstone (`hidden`), so clients that fetch changes learn of it.
pub(crate) async fn hide(
    State(s): State<Arc<crate::State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, StoreError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = matches!((&s.operator_token, given), (Some(t), Some(g)) if bool::from(t.as_bytes().ct_eq(g.as_bytes())));
    if !allowed {
        return Err(StoreError::OperatorOnly);
    }
    let row = sqlx::query(
        "SELECT t.meta_json, t.torrent FROM titles t JOIN community c ON c.title_id = t.id WHERE t.id = $1",
    )
    .bind(&id)
    .fetch_optional(&s.db)
    .await?
    .ok_or_else(|| StoreError::UnknownTitle(id.clone()))?;
    let mut title: FeedTitle = serde_json::from_str(&row.get::<String, _>(0))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    title.hidden = true;
    title.for_sale = false;
    let torrent: Vec<u8> = row.get(1);
    list(&s.db, &title, &torrent).await?;
    sqlx::query("UPDATE community SET hidden = 1 WHERE title_id = $1")
        .bind(&id)
        .execute(&s.db)
        .await?;
    s.refresh_catalog().await?;
    tracing::info!(title = %id, "community title hidden by the operator");
    Ok(StatusCode::NO_CONTENT)
}

/// Lists (or re-lists) a community title. It has no package: the store holds no copy of the
/// video; its publisher seeds it.
async fn list(db: &Db, title: &FeedTitle, torrent: &[u8]) -> Result<(), StoreError> {
    db::catalog::upsert_titles(
        db,
        &[db::catalog::NewTitle {
            feed: title,
            media_path: "",
            package_path: "",
            content_key: None,
            key_commitment: None,
            torrent,
        }],
    )
    .await?;
    Ok(())
}

async fn publisher_key(db: &Db, account: i64, device_id: &str) -> Result<VerifyingKey, StoreError> {
    let row =
        sqlx::query("SELECT account_id, active, publisher_key FROM devices WHERE device_id = $1")
            .bind(device_id)
            .fetch_optional(db)
            .await?
            .ok_or(StoreError::UnknownDevice)?;
    if row.get::<i64, _>(0) != account {
        return Err(StoreError::DeviceOfAnotherAccount);
    }
    if row.get::<i64, _>(1) == 0 {
        return Err(StoreError::DeviceInactive);
    }
    let key: Option<Vec<u8>> = row.get(2);
    let key: [u8; 32] = key
        .and_then(|k| k.try_into().ok())
        .ok_or(StoreError::BadSignature)?;
    VerifyingKey::from_bytes(&key).map_err(|_| StoreError::BadSignature)
}

async fn name_of_info_hash(db: &Db, info_hash: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT meta_json FROM titles WHERE info_hash = $1")
        .bind(info_hash)
        .fetch_optional(db)
        .await?;
    Ok(row.and_then(|r| {
        serde_json::from_str::<FeedTitle>(&r.get::<String, _>(0))
            .ok()
            .map(|t| t.name)
    }))
}

/// The name shown for a publisher: the part of the account's e-mail before the `@`.
async fn display_name(db: &Db, account: i64) -> Result<String, StoreError> {
    let email: String = sqlx::query("SELECT email FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(db)
        .await?
        .get(0);
    Ok(email.split('@').next().unwrap_or("viewer").to_owned())
}
