//! What Marquee's test binaries share, for tests only: the core's and the store's integration
//! tests (`crates/{core,store}/tests/main.rs`) and the app's window tests (`tests/window/`).
//!
//! Each of those is its own test binary in its own crate, so a helper they all need was copied
//! into each until it lived here: [`wait_for`] (polling a condition within a timeout, the way
//! every test waits instead of sleeping), [`start_store`] (a store on loopback in the test's own
//! process, selling the demo catalog), [`StoreProcess`] (`marquee-store serve` as its own
//! process) and [`Guard`] (a child process stopped when the test ends, pass or fail).
//!
//! It is never a dependency of anything that ships: only a `[dev-dependencies]` entry, and not
//! published. What needs WebDriver (the page, the window's flows) stays in
//! `tests/window/common.rs`, so no other crate's tests build fantoccini.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

mod process;
mod store;

pub use process::Guard;
pub use store::{start_store, start_store_with, store_bin, StoreProcess};

/// Polls `check` until it returns `Ok`, and fails after `timeout` saying what never happened and
/// what `check` saw last. The interval is short: the check is what waits, not the interval.
pub async fn wait_for<T, E: Debug, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
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
