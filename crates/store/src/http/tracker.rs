//! Swarms: a title's torrent as the store serves it (naming the store's tracker), who is
//! watching a title, and the tracker's announce. The tracker itself is [`crate::tracker`].

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;

use super::shared::{Account, Client, Route, St};
use crate::api::*;
use crate::error::StoreError;
use crate::{db, tracker};

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/titles/{id}/torrent", get(torrent)),
        ("GET", "/api/v1/titles/{id}/peers", get(peers)),
        ("GET", "/announce", get(announce)),
    ]
}

pub(super) async fn peers_of(s: &crate::State, title_id: &str) -> Vec<String> {
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

async fn announce(State(s): St, Client(client): Client, RawQuery(query): RawQuery) -> Response {
    let body = match tracker::parse_announce(query.as_deref().unwrap_or("")) {
        Ok(a) => match s.tracker.announce(client, &a) {
            Ok(peers) => tracker::encode_response(&peers),
            Err(reason) => tracker::encode_failure(reason),
        },
        Err(reason) => tracker::encode_failure(&reason),
    };
    ([(header::CONTENT_TYPE, "text/plain")], body).into_response()
}
