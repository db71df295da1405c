//! Serving HTTP/1.1 with bounds, for the store and the app's playback server alike: a client
//! that opens connections and never finishes a request must not hold them for ever.
//!
//! What `axum::serve` and a bare `hyper` connection do not do by themselves (hyper's header
//! timeout needs a timer nobody sets): here every connection gets
//! - a **header-read timeout**, which also bounds a connection kept alive with nothing asked
//!   on it (hyper starts the timer when it waits for the next request's first byte);
//! - a place among at most [`ServerLimits::connections`]: past that, new connections wait in
//!   the kernel's backlog until one ends (at the latest when its header timeout ends it), so a
//!   flood of idle sockets costs neither file descriptors nor memory;
//! - a graceful end when the server stops.
//!
//! The request timeout (a slow body, a handler that hangs) is each server's own, since only it
//! knows how to answer it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How much one HTTP server holds at once, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections open at once.
    pub connections: usize,
    /// From a connection's start, or the end of its last response, to the end of the next
    /// request's headers.
    pub header_read: Duration,
}

/// Serves `listener` until `stop` resolves: each accepted connection is answered by the
/// service `service_for(peer)` makes for it, within `limits`. On `stop` no connection is
/// accepted any more, and those open finish the request in hand, then close.
pub async fn serve<S, B, F>(
    listener: TcpListener,
    limits: ServerLimits,
    stop: impl Future<Output = ()>,
    service_for: F,
) where
    F: Fn(SocketAddr) -> S,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let places = Arc::new(Semaphore::new(limits.connections.max(1)));
    let (stopping, stopped) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        // A place first, then the connection: at the bound the kernel's backlog holds the rest.
        let place = tokio::select! {
            _ = &mut stop => break,
            place = places.clone().acquire_owned() => match place {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: the next accept may work.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = service_for(peer);
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _place = place;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            // A client that goes away mid-response, or one timed out, is normal: nothing to
            // report.
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = async { stopped.wait_for(|s| *s).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = stopping.send(true);
}
