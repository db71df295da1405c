//! The live crate's integration tests: one binary, a module per concern.

use std::sync::{Mutex, MutexGuard};

/// CPU-heavy tests take turns. On two cores, the viewer processes (whose figures depend on
/// timing) beside a 100-viewer simulation measure the scheduler: in a run where the two
/// overlapped, misses before the kill rose from the usual 20–150 to 286 and continuity fell
/// to 0.88.
static HEAVY: Mutex<()> = Mutex::new(());

/// Waits for this test's turn among the CPU-heavy ones.
fn heavy() -> MutexGuard<'static, ()> {
    // A test that panicked while holding the turn poisons the lock; the turn is still free.
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

// Relays exchanging real signed chunks: forged and altered chunks never play.
mod relay;
// The simulator at 100 viewers: the figures stay within bounds, and a seed replays exactly.
mod simulation;
// Real processes over iroh on loopback: a broadcaster and a swarm of `marquee-live watch`
// viewers play, and keep playing when some of them are killed.
mod processes;
// The network layer in one process: a hostile peer's forged chunks never play, and garbage on
// the wire closes its connection.
mod net;
