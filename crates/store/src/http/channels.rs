//! Live channels: the directory a broadcaster lists its channel in and keeps it alive through,
//! and where a viewer joins (and reports while it watches) to be handed peers. The directory
//! itself is [`crate::channels`]; the signed bodies are [`marquee_protocol::channels`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Json;
use marquee_protocol::channels::{
    ChannelSignal, ChannelSignalKind, ChannelsResponse, JoinResponse, SignedChannel,
    SignedViewerReport,
};
use serde_json::{json, Value};

use super::shared::{Account, JsonBody, Route, St};
use crate::error::StoreError;

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/channels", get(list)),
        ("POST", "/api/v1/channels", post(register)),
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
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Account(account): Account,
    JsonBody(signed): JsonBody<SignedChannel>,
) -> Result<(StatusCode, Json<Value>), StoreError> {
    calls_from(&signed.record.broadcaster.addr, remote)?;
    let channel = signed.record.channel.clone();
    s.channels.register(account, signed)?;
    tracing::info!(%channel, account, "channel live");
    Ok((StatusCode::CREATED, Json(json!({ "channel": channel }))))
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
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
    JsonBody(report): JsonBody<SignedViewerReport>,
) -> Result<Json<JoinResponse>, StoreError> {
    calls_from(&report.report.viewer.addr, remote)?;
    if s.channels.is_new_viewer(&report) {
        s.joins_by_address
            .check(&crate::limit::address_key(remote.ip()))
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
fn calls_from(addr: &str, remote: SocketAddr) -> Result<(), StoreError> {
    let named: SocketAddr = addr
        .parse()
        .map_err(|_| StoreError::BadRequest(format!("the address {addr:?} is not ip:port")))?;
    let key = crate::limit::address_key;
    if key(named.ip()) != key(remote.ip()) {
        return Err(StoreError::BadRequest(format!(
            "a node can list only the address it calls the store from ({}), not {}",
            remote.ip(),
            named.ip()
        )));
    }
    Ok(())
}
