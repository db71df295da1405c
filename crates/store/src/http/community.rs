//! The community shelf's routes: publishing a video (`POST /api/v1/community`) and the operator
//! hiding one (`POST /api/v1/titles/{id}/hide`). The checks of a publication are in
//! [`crate::community`], its queries in [`crate::db::community`].

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::post;
use axum::Json;
use marquee_protocol::sign::{verify, SignatureContext};
use subtle::ConstantTimeEq;

use super::shared::check_device_id;
use super::shared::{with_body_limit, Account, JsonBody, Route, St};
use crate::api::{CommunityPayload, CommunityRequest, FeedTitle, OfferKind};
use crate::error::StoreError;
use crate::{community, db};

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        (
            "POST",
            "/api/v1/community",
            with_body_limit(post(publish), community::MAX_REQUEST),
        ),
        ("POST", "/api/v1/titles/{id}/hide", post(hide)),
    ]
}

/// `POST /api/v1/community`.
async fn publish(
    State(s): St,
    Account(account): Account,
    JsonBody(req): JsonBody<CommunityRequest>,
) -> Result<(StatusCode, Json<FeedTitle>), StoreError> {
    check_device_id(&req.device_id)?;
    let key = db::community::publisher_key(&s.db, account, &req.device_id).await?;
    verify(
        &key,
        SignatureContext::Publish,
        req.payload.as_bytes(),
        &req.signature,
    )
    .map_err(|_| StoreError::BadSignature)?;
    // One account lists a handful of videos a day, not a flood: counted before any work.
    let now = s.now();
    let day = db::community::publications_since(&s.db, account, now - 86_400).await?;
    if day.count >= u64::from(s.publications_per_day) {
        return Err(StoreError::RateLimited {
            what: "publications from this account today",
            retry_after_s: (day.oldest + 86_400 - now).max(1) as u64,
        });
    }
    let payload: CommunityPayload = serde_json::from_str(&req.payload)
        .map_err(|e| StoreError::MalformedJson(format!("the payload: {e}")))?;
    let (torrent, poster) = community::validate(&payload)?;

    if let Some(existing) = db::community::name_of_info_hash(&s.db, &payload.info_hash).await? {
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
    // The name the publisher chose, checked by `validate`: never anything of their account.
    let publisher = payload.publisher_name.trim().to_owned();
    let year = community::year_of(payload.published_at, s.now());
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
        work: None,
        publisher: Some(publisher),
        hidden: false,
    };
    db::community::list(&s.db, &title, &torrent).await?;
    db::community::record_publication(&s.db, &id, account, &req, s.now()).await?;
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
async fn hide(
    State(s): St,
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
    let (mut title, torrent) = db::community::listing(&s.db, &id).await?;
    title.hidden = true;
    title.for_sale = false;
    db::community::list(&s.db, &title, &torrent).await?;
    db::community::mark_hidden(&s.db, &id).await?;
    s.refresh_catalog().await?;
    tracing::info!(title = %id, "community title hidden by the operator");
    Ok(StatusCode::NO_CONTENT)
}
