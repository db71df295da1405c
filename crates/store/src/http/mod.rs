//! The store's HTTP API (axum): the route table and the router built from it.
//!
//! Each domain's module lists its own part of the table next to its handlers; the queries
//! behind them are in the same-named module of [`crate::db`]. What every domain shares (the
//! extractors with the store's error format, the signed-in account, the body limit) is in
//! [`shared`], a leaf that imports no domain, so no module of the API imports one that imports
//! it back.

mod accounts;
mod catalog;
mod channels;
mod community;
mod devices;
mod issuing;
mod licences;
mod media;
mod orders;
mod shared;
mod store;
mod tracker;
mod wallet;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, Method, Uri};
use axum::response::IntoResponse;
use axum::Router;

use crate::error::StoreError;
use shared::{Route, MAX_BODY};

/// Every route: (method, path in axum's syntax, handler), each domain's part in turn. The
/// router is built from this table and [`routes`] lists it, so the OpenAPI test sees exactly
/// what is served.
fn table() -> Vec<Route> {
    [
        store::table(),
        community::table(),
        accounts::table(),
        devices::table(),
        catalog::table(),
        wallet::table(),
        orders::table(),
        licences::table(),
        tracker::table(),
        channels::table(),
        media::table(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The router as one connection's service: each request carries the peer's address (for
/// [`axum::extract::ConnectInfo`]) and gets `timeout` from its headers to its response's
/// headers (its body read, its handler run); past it the answer is 408 and the connection
/// closes.
pub(crate) fn service(
    app: Router,
    peer: std::net::SocketAddr,
    timeout: std::time::Duration,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl std::future::Future<
        Output = Result<axum::response::Response, std::convert::Infallible>,
    > + Send,
> + Send
       + 'static {
    hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let app = app.clone();
        async move {
            use tower::ServiceExt as _;
            match tokio::time::timeout(timeout, app.oneshot(req)).await {
                Ok(answer) => answer,
                Err(_) => {
                    let mut resp = StoreError::BadRequest(format!(
                        "the request did not arrive within {} s: send it again",
                        timeout.as_secs()
                    ))
                    .into_response();
                    *resp.status_mut() = axum::http::StatusCode::REQUEST_TIMEOUT;
                    resp.headers_mut().insert(
                        header::CONNECTION,
                        axum::http::HeaderValue::from_static("close"),
                    );
                    Ok(resp)
                }
            }
        }
    })
}

/// Every route the store serves, as (method, path) with `{name}` path parameters.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// Which names a store on loopback answers to (the `Host` of a request): its loopback names
/// with its port, and the name of its public address when it has one (a proxy on the same
/// machine forwarding to it). Anything else is a web page that reached 127.0.0.1 through a DNS
/// name of its own (DNS rebinding), refused before any handler runs.
#[derive(Clone, Debug)]
pub(crate) struct LoopbackHosts {
    /// The port the store listens on.
    pub(crate) port: u16,
    /// The host name of the store's public URL, lower case.
    pub(crate) public: Option<String>,
}

impl LoopbackHosts {
    fn allows(&self, req: &axum::extract::Request) -> bool {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            // HTTP/2 carries the host in the URI instead.
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        let Some(host) = host else {
            return false;
        };
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !port.contains(']') => (name, port.parse::<u16>().ok()),
            _ => (host, None),
        };
        let loopback =
            name == "127.0.0.1" || name == "[::1]" || name.eq_ignore_ascii_case("localhost");
        (loopback && port == Some(self.port))
            || self
                .public
                .as_deref()
                .is_some_and(|public| name.eq_ignore_ascii_case(public))
    }
}

/// The store's router. With `hosts`, only requests addressed to those names are answered (see
/// [`LoopbackHosts`]).
///
/// No route sends CORS headers, on purpose: a web page may not read the store's answers, and a
/// JSON body (which must say `Content-Type: application/json`) cannot be sent from one without
/// a preflight, which is never granted.
pub(crate) fn router(
    state: Arc<crate::State>,
    hosts: Option<LoopbackHosts>,
    live_channels: bool,
) -> Router {
    // Routing the same path twice merges the two method routers.
    let router = table()
        .into_iter()
        // A store without live channels serves none of the directory: 404 like any unknown path.
        .filter(|(_, path, _)| live_channels || !channels::serves(path))
        .fold(Router::new(), |r, (_, path, handler)| {
            r.route(path, handler)
        })
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    match hosts {
        Some(hosts) => router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let allowed = hosts.allows(&req);
                async move {
                    if allowed {
                        next.run(req).await
                    } else {
                        StoreError::ForeignHost.into_response()
                    }
                }
            },
        )),
        None => router,
    }
}

async fn not_found(uri: Uri) -> StoreError {
    StoreError::NotFound(uri.path().to_owned())
}

async fn method_not_allowed(method: Method, uri: Uri) -> StoreError {
    StoreError::MethodNotAllowed(format!("{method} {}", uri.path()))
}
