//! Swarms: a title's torrent as the store serves it (naming the store's tracker), who is
//! watching a title, and the tracker's announce. The tracker itself is [`crate::tracker`].

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;

use super::shared::{bearer, Account, Client, Route, St};
use crate::api::*;
use crate::error::StoreError;
use crate::{db, tracker};

/// This domain's part of the route table.
pub(super) fn table() -> Vec<Route> {
    vec![
        ("GET", "/api/v1/titles/{id}/torrent", get(torrent)),
        ("GET", "/api/v1/titles/{id}/peers", get(peers)),
        ("GET", "/announce", get(announce)),
        ("GET", "/announce/{passkey}", get(announce_with_passkey)),
    ]
}

/// Who may announce the title with this info hash (hex); `None` when the tracker does not
/// track it (hidden, or not the store's).
fn access_of(s: &crate::State, info_hash: &str) -> Option<tracker::Access> {
    let mut ih = [0u8; 20];
    hex::decode_to_slice(info_hash, &mut ih).ok()?;
    s.tracker.access(&ih)
}

/// The peers of a title an account may be told of: everyone in an open swarm; in a paid
/// title's, everyone if the account holds a live licence of it, otherwise only the store's
/// seeder. Nothing for a title the store does not track.
pub(super) async fn peers_of(
    s: &crate::State,
    title_id: &str,
    account: i64,
) -> Result<Vec<String>, StoreError> {
    let t = db::catalog::title(&s.db, title_id).await?;
    let mut ih = [0u8; 20];
    if hex::decode_to_slice(&t.info_hash, &mut ih).is_err() {
        return Ok(vec![]);
    }
    let everyone = match s.tracker.access(&ih) {
        None => return Ok(vec![]),
        Some(tracker::Access::Open) => true,
        Some(tracker::Access::Licensed(id)) => {
            db::licences::holds_title(&s.db, account, &id).await?
        }
    };
    let mut peers = vec![s.seeder_addr.to_string()];
    if everyone {
        peers.extend(
            s.tracker
                .peers(&ih)
                .into_iter()
                .filter(|p| *p != s.seeder_addr)
                .map(|p| p.to_string()),
        );
    }
    Ok(peers)
}

/// A title's torrent, naming the store's tracker: for a paid title, with the signed-in
/// account's passkey (the swarm is private). A hidden title's is not served.
async fn torrent(
    State(s): St,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, StoreError> {
    let t = db::catalog::title(&s.db, &id).await?;
    // A synthetic title (scale tests) has no torrent at all: nothing to name a tracker in.
    if t.torrent.is_empty() {
        return Ok((
            [(header::CONTENT_TYPE, "application/x-bittorrent")],
            t.torrent,
        )
            .into_response());
    }
    let open = match access_of(&s, &t.info_hash) {
        None => return Err(StoreError::UnknownTitle(id)),
        Some(access) => access == tracker::Access::Open,
    };
    // A token that is sent must be good: a torrent saved without the passkey would never
    // find its swarm again.
    let account = match bearer(&headers) {
        Some(token) if !open => Some(db::accounts::account_of_token(&s.db, token, s.now()).await?),
        _ => None,
    };
    let body = s
        .served_torrent(&t.torrent, &s.announce_url(account), open)
        .map_err(|e| {
            StoreError::Internal(format!("the stored torrent of {id} cannot be served: {e}"))
        })?;
    Ok(([(header::CONTENT_TYPE, "application/x-bittorrent")], body).into_response())
}

/// Who is watching a title is for signed-in accounts only, and in a paid title's swarm for
/// the accounts that hold it.
async fn peers(
    State(s): St,
    Account(account): Account,
    Path(id): Path<String>,
) -> Result<Json<PeersResponse>, StoreError> {
    let t = db::catalog::title(&s.db, &id).await?;
    let open = access_of(&s, &t.info_hash) == Some(tracker::Access::Open);
    Ok(Json(PeersResponse {
        peers: peers_of(&s, &id, account).await?,
        announce_url: s.announce_url((!open).then_some(account)),
        store_seeders: vec![s.seeder_addr.to_string()],
    }))
}

async fn announce(State(s): St, Client(client): Client, RawQuery(query): RawQuery) -> Response {
    answer(&s, client, None, query.as_deref()).await
}

async fn announce_with_passkey(
    State(s): St,
    Client(client): Client,
    Path(passkey): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(&s, client, Some(&passkey), query.as_deref()).await
}

/// An announce, answered in bencode as trackers answer: the swarm's other peers, or a failure
/// reason a BitTorrent client shows as it is.
async fn answer(
    s: &crate::State,
    client: std::net::IpAddr,
    passkey: Option<&str>,
    query: Option<&str>,
) -> Response {
    let body = match allowed(s, passkey, query.unwrap_or("")).await {
        Ok(a) => match s.tracker.announce(client, &a) {
            Ok(peers) => tracker::encode_response(&peers),
            Err(reason) => tracker::encode_failure(reason),
        },
        Err(reason) => tracker::encode_failure(&reason),
    };
    ([(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

/// The announce, if this caller may make it: anyone for a free title; for a paid one, a
/// passkey of an account holding a live licence of it.
async fn allowed(
    s: &crate::State,
    passkey: Option<&str>,
    query: &str,
) -> Result<tracker::Announce, String> {
    let a = tracker::parse_announce(query)?;
    match s.tracker.access(&a.info_hash) {
        None => Err(tracker::UNKNOWN_TORRENT.into()),
        Some(tracker::Access::Open) => Ok(a),
        Some(tracker::Access::Licensed(title)) => {
            let account = passkey
                .and_then(|k| s.passkeys.account(k))
                .ok_or(tracker::PASSKEY_NEEDED)?;
            if account == tracker::OPERATOR {
                return Ok(a);
            }
            match db::licences::holds_title(&s.db, account, &title).await {
                Ok(true) => Ok(a),
                Ok(false) => Err(tracker::NOT_LICENSED.into()),
                Err(e) => {
                    tracing::warn!(error = %e, "the tracker could not check a licence");
                    Err(
                        "the tracker cannot check licences right now: your client will try again"
                            .into(),
                    )
                }
            }
        }
    }
}
