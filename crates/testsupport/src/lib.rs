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

/// The path of a tool the tests need from the system (a standard BitTorrent client from
/// Debian). Missing, the test fails and says so: `cargo xtask test` installs it.
pub fn tool(name: &str) -> std::path::PathBuf {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    found.unwrap_or_else(|| panic!("{name} is not installed; `cargo xtask test` installs it"))
}

/// aria2c (Debian's BitTorrent client) kept on loopback and to itself: no DHT, no local
/// discovery, no peer exchange, IPv4 on 127.0.0.1 only; it writes into `dir`, listens on
/// `port`, and prints only warnings.
pub fn aria2c(dir: &std::path::Path, port: u16) -> std::process::Command {
    let mut c = std::process::Command::new(tool("aria2c"));
    c.arg(format!("--dir={}", dir.display()))
        .args([
            "--enable-dht=false",
            "--enable-dht6=false",
            "--bt-enable-lpd=false",
            "--enable-peer-exchange=false",
            "--disable-ipv6=true",
            "--interface=127.0.0.1",
            "--console-log-level=warn",
            "--summary-interval=0",
            "--follow-torrent=false",
        ])
        .arg(format!("--listen-port={port}"));
    c
}

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
