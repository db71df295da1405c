//! The store's integration tests, one binary (`cargo test -p marquee-store --test integration`):
//! a real store on loopback, spoken to over HTTP as the app and any other client would.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

// The store under abuse: floods of sign-ins (against the store as its own process) and of
// announces, account enumeration, Host and Content-Type checks, CORS, file modes.
mod abuse;
// The HTTP API end to end on SQLite: accounts, devices, orders, licences, the catalog feed, and
// the answers checked against `openapi.json`.
mod api;
// The same store on a PostgreSQL server the test starts itself.
mod postgres;
// `marquee-store seed` as its own process, serving a viewer.
mod seed;

/// Polls `check` until it returns `Ok`, and fails after `timeout` saying what never happened and
/// what `check` saw last. The interval is short: the check is what waits, not the interval.
async fn wait_for<T, E: Debug, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(done) => return done,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("{what} did not happen within {timeout:?}; last seen: {last:?}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
