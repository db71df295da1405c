//! Trusted time for rental windows. The local clock can be set back to stretch a rental, so the
//! core keeps a high-water mark of the latest time it has trusted (persisted in the library), fed
//! by the store's signed time when online and by the local clock otherwise. A local clock more
//! than [`TOLERANCE_S`] behind the mark refuses paid playback until the store confirms the time.
//!
//! Once the store confirmed the time, "now" is never earlier than that confirmation plus the
//! time the monotonic clock has counted since: a wall clock set back a week while the app stays
//! running offline moves nothing. (The monotonic clock stops while the computer sleeps; the wall
//! clock, which does not, then carries time forward.)

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use marquee_protocol::clock::Clock;

/// How far behind the high-water mark the local clock may be (unix seconds, so time zones do
/// not matter; this covers adjustments such as NTP corrections).
pub const TOLERANCE_S: i64 = 10 * 60;

/// The local clock is behind the latest trusted time.
#[derive(Debug, PartialEq, Eq)]
pub struct ClockBehind {
    /// The local clock, unix seconds.
    pub local: i64,
    /// The latest trusted time, unix seconds.
    pub trusted: i64,
}

/// A monotonic view of trusted time.
#[derive(Debug, Default)]
pub struct TrustedClock {
    /// Latest trusted time seen (unix seconds).
    high_water: AtomicI64,
    /// Store time minus local time, once the store confirmed the time this run.
    offset: AtomicI64,
    confirmed: AtomicBool,
    /// This computer's clock: the system's, or the one a test set.
    local: Clock,
    /// This computer's monotonic clock (seconds from any start), which setting the date does
    /// not move.
    monotonic: Clock,
    /// The store's time at its last confirmation, and the monotonic clock then.
    anchor_store: AtomicI64,
    anchor_monotonic: AtomicI64,
}

impl TrustedClock {
    /// Starts from a persisted high-water mark, reading this computer's time from `local` and
    /// its monotonic clock from `monotonic` ([`Clock::monotonic`] unless a test moves it).
    pub fn new(high_water: i64, local: Clock, monotonic: Clock) -> TrustedClock {
        TrustedClock {
            high_water: AtomicI64::new(high_water),
            offset: AtomicI64::new(0),
            confirmed: AtomicBool::new(false),
            local,
            monotonic,
            anchor_store: AtomicI64::new(0),
            anchor_monotonic: AtomicI64::new(0),
        }
    }

    /// This computer's clock, untrusted: for records (when a licence was stored), never for a
    /// rental's window.
    pub fn local_now(&self) -> i64 {
        self.local.now()
    }

    /// Trusted "now" on this computer's clock: [`TrustedClock::now`] of [`Self::local_now`].
    pub fn current(&self) -> Result<i64, ClockBehind> {
        self.now(self.local.now())
    }

    /// Records the store's (already verified, nonce-fresh) time, read when the local clock said
    /// `local`. The mark never moves backwards, not even for the store: a store time behind it
    /// (a mark left ahead by a clock once set forward) only means "now" follows the store's
    /// time this run, so an honest user is not locked out while online, and a rental's window
    /// is judged by the later of the two.
    pub fn confirm(&self, store_time: i64, local: i64) {
        self.anchor_store.store(store_time, Ordering::SeqCst);
        self.anchor_monotonic
            .store(self.monotonic.now(), Ordering::SeqCst);
        self.offset.store(store_time - local, Ordering::SeqCst);
        self.confirmed.store(true, Ordering::SeqCst);
        self.high_water.fetch_max(store_time, Ordering::SeqCst);
    }

    /// True once the store confirmed the time in this run.
    pub fn confirmed(&self) -> bool {
        self.confirmed.load(Ordering::SeqCst)
    }

    /// The latest trusted time.
    pub fn high_water(&self) -> i64 {
        self.high_water.load(Ordering::SeqCst)
    }

    /// Trusted "now" given the local clock: the store's time when it confirmed it this run,
    /// else the local clock, refused when it is behind the high-water mark.
    pub fn now(&self, local: i64) -> Result<i64, ClockBehind> {
        if self.confirmed() {
            // The store's own time this run: never "behind", whatever the mark says; and never
            // before the last confirmation plus what the monotonic clock counted since, however
            // far the local clock was set back after it.
            let counted = self.monotonic.now() - self.anchor_monotonic.load(Ordering::SeqCst);
            let floor = self.anchor_store.load(Ordering::SeqCst) + counted.max(0);
            let t = (local + self.offset.load(Ordering::SeqCst)).max(floor);
            self.high_water.fetch_max(t, Ordering::SeqCst);
            return Ok(t);
        }
        let t = local;
        let trusted = self.high_water();
        if t + TOLERANCE_S < trusted {
            return Err(ClockBehind { local: t, trusted });
        }
        self.high_water.fetch_max(t, Ordering::SeqCst);
        Ok(t.max(trusted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_only_moves_forward_and_a_clock_set_back_is_refused() {
        let c = TrustedClock::new(1_000_000, Clock::system(), Clock::monotonic());
        assert_eq!(c.now(1_000_100), Ok(1_000_100));
        assert_eq!(c.high_water(), 1_000_100);
        // A little behind (an NTP correction): allowed, reported at the mark.
        assert_eq!(c.now(1_000_100 - 60), Ok(1_000_100));
        // Set back a day: refused, and the mark stays.
        let back = 1_000_100 - 86_400;
        assert_eq!(
            c.now(back),
            Err(ClockBehind {
                local: back,
                trusted: 1_000_100
            })
        );
        assert_eq!(c.high_water(), 1_000_100);
    }

    #[test]
    fn store_time_overrides_a_wrong_local_clock() {
        let c = TrustedClock::new(2_000_000, Clock::system(), Clock::monotonic());
        // The local clock is a day behind, but the store says the real time.
        let local = 2_000_000 - 86_400;
        assert!(c.now(local).is_err());
        c.confirm(2_000_050, local);
        assert_eq!(c.now(local), Ok(2_000_050));
        assert_eq!(c.now(local + 10), Ok(2_000_060));
        // A mark left ahead by a clock once set forward: the store's time puts it right.
        let d = TrustedClock::new(3_000_000 + 86_400, Clock::system(), Clock::monotonic());
        assert!(d.now(3_000_000).is_err());
        d.confirm(3_000_000, 3_000_000);
        assert_eq!(d.now(3_000_000), Ok(3_000_000));
        // ...but the mark itself never moves back, not even for the store.
        assert_eq!(d.high_water(), 3_000_000 + 86_400);
    }

    #[test]
    fn a_clock_set_back_after_a_confirmation_moves_nothing() {
        use std::sync::atomic::AtomicI64;
        use std::sync::Arc;
        let mono = Arc::new(AtomicI64::new(500));
        let monotonic = {
            let mono = mono.clone();
            Clock::from_fn(move || mono.load(Ordering::SeqCst))
        };
        let c = TrustedClock::new(0, Clock::system(), monotonic);
        let week = 7 * 86_400;
        c.confirm(5_000_000, 5_000_000);
        mono.fetch_add(60, Ordering::SeqCst);
        assert_eq!(c.now(5_000_060), Ok(5_000_060));
        // The wall clock set back a week, the app still running and offline: an hour later it
        // is an hour later, not a week earlier.
        mono.fetch_add(3_600, Ordering::SeqCst);
        assert_eq!(c.now(5_003_660 - week), Ok(5_003_660));
        // The computer slept a day (the monotonic clock stood still, the wall clock did not).
        assert_eq!(c.now(5_003_660 + 86_400), Ok(5_003_660 + 86_400));
        assert_eq!(c.high_water(), 5_003_660 + 86_400);
    }
}
