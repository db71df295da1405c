//! Live channels: the directory a broadcaster lists its channel in and keeps it alive through,
//! and where a viewer joins (and reports while it watches) to be handed peers. The directory
//! itself is [`crate::channels`]; the signed bodies are [`marquee_protocol::channels`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Json;
use marquee_protocol::channels::{
    ChannelPoster, ChannelSignal, ChannelSignalKind, ChannelsResponse, JoinResponse, SignedChannel,
    SignedViewerReport, MAX_POSTER_BYTES,
};
use serde_json::{json, Value};
use sha2::Digest as _;

use super::shared::{Account, Client, JsonBody, Route, St};
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/channels", get(list)),
        ("POST", "/api/v1/channels", post(register)),
        ("POST", "/api/v1/channels/poster", post(poster)),
        (
            "POST",
            "/api/v1/channels/{channel}/heartbeat",
            post(
                |State(s): St, Path(c): Path<String>, JsonBody(b): JsonBody<ChannelSignal>| {
                    signal(s, c, ChannelSignalKind::Heartbeat, b)
                },
            ),
        ),
        (
            "POST",
            "/api/v1/channels/{channel}/end",
            post(
                |State(s): St, Path(c): Path<String>, JsonBody(b): JsonBody<ChannelSignal>| {
                    signal(s, c, ChannelSignalKind::End, b)
                },
            ),
        ),
        ("POST", "/api/v1/channels/{channel}/viewers", post(viewer)),
    ]
}

/// Whether `path` is one of this domain's routes (a store without live channels leaves them out).
pub(super) fn serves(path: &str) -> bool {
    path == "/api/v1/channels" || path.starts_with("/api/v1/channels/")
}

/// The channels live now: anyone may look.
async fn list(State(s): St) -> Json<ChannelsResponse> {
    Json(ChannelsResponse {
        channels: s.channels.list(),
        relay: s.live_relay.clone(),
    })
}

/// Going live is for signed-in accounts; the record is signed by the channel's own key.
async fn register(
    State(s): St,
    Client(client): Client,
    Account(account): Account,
    JsonBody(signed): JsonBody<SignedChannel>,
) -> Result<(StatusCode, Json<Value>), StoreError> {
    calls_from(&signed.record.broadcaster.addr, client)?;
    let channel = signed.record.channel.clone();
    s.channels.register(account, signed)?;
    tracing::info!(%channel, account, "channel live");
    Ok((StatusCode::CREATED, Json(json!({ "channel": channel }))))
}

/// `POST /api/v1/channels/poster`: a signed-in account's channel poster. Kept under a name made
/// of the account and the picture's hash; the account's earlier channel posters are deleted, so
/// an account holds one on disk however often it uploads. Answers the path to list in the
/// channel's record.
async fn poster(
    State(s): St,
    Account(account): Account,
    JsonBody(body): JsonBody<ChannelPoster>,
) -> Result<(StatusCode, Json<Value>), StoreError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&body.image)
        .map_err(|_| StoreError::BadRequest("the poster is not base64".into()))?;
    if bytes.len() > MAX_POSTER_BYTES {
        return Err(StoreError::BadRequest(format!(
            "a channel's poster is at most {} KiB",
            MAX_POSTER_BYTES / 1024
        )));
    }
    let ext = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "jpg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else {
        return Err(StoreError::BadRequest(
            "the poster must be a JPEG or PNG image".into(),
        ));
    };
    let prefix = format!("live-{account}-");
    let hash = hex::encode(&sha2::Sha256::digest(&bytes)[..8]);
    let file = format!("{prefix}{hash}.{ext}");
    let internal = |e: std::io::Error| StoreError::Internal(e.to_string());
    tokio::fs::create_dir_all(&s.media_dir)
        .await
        .map_err(internal)?;
    let mut old = tokio::fs::read_dir(&s.media_dir).await.map_err(internal)?;
    while let Some(entry) = old.next_entry().await.map_err(internal)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name != file {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
    tokio::fs::write(s.media_dir.join(&file), &bytes)
        .await
        .map_err(internal)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "poster": format!("/media/{file}") })),
    ))
}

/// A heartbeat or an end, signed by the channel's key; answers the viewers counted.
async fn signal(
    s: Arc<crate::State>,
    channel: String,
    kind: ChannelSignalKind,
    signal: ChannelSignal,
) -> Result<Json<Value>, StoreError> {
    let viewers = s.channels.signal(&channel, kind, &signal)?;
    if kind == ChannelSignalKind::End {
        tracing::info!(%channel, viewers, "channel ended");
    }
    Ok(Json(json!({ "viewers": viewers })))
}

/// A viewer joins or reports. New viewers from one address are rate limited: node ids cost
/// nothing to make, addresses do.
async fn viewer(
    State(s): St,
    Client(client): Client,
    Path(channel): Path<String>,
    JsonBody(report): JsonBody<SignedViewerReport>,
) -> Result<Json<JoinResponse>, StoreError> {
    calls_from(&report.report.viewer.addr, client)?;
    if s.channels.is_new_viewer(&report) {
        s.joins_by_address
            .check(&crate::limit::address_key(client))
            .map_err(|retry_after_s| StoreError::RateLimited {
                what: "viewers joining from here",
                retry_after_s,
            })?;
    }
    let joined = s.channels.report(&channel, report)?;
    Ok(Json(JoinResponse {
        channel: joined.channel,
        peers: joined.peers,
        viewers: joined.viewers,
    }))
}

/// A node may list only an address on the machine it calls from: the store hands that address
/// to every joiner, who dials it, so naming someone else's would point a swarm at them.
fn calls_from(addr: &str, client: std::net::IpAddr) -> Result<(), StoreError> {
    let named: SocketAddr = addr
        .parse()
        .map_err(|_| StoreError::BadRequest(format!("the address {addr:?} is not ip:port")))?;
    let key = crate::limit::address_key;
    if key(named.ip()) != key(client) {
        return Err(StoreError::BadRequest(format!(
            "a node can list only the address it calls the store from ({client}), not {}",
            named.ip()
        )));
    }
    Ok(())
}
