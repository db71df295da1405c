//! Time as both sides of the wire count it: Unix seconds. The store signs its clock readings
//! ([`crate::api::SignedTime`]); both sides read their own through here.

use std::sync::Arc;

/// Unix seconds now, from this computer's clock (0 for a clock set before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A clock in Unix seconds, passed to what needs the time: [`Clock::system`] unless configured
/// otherwise. Every time the store writes or compares comes from its clock, so a test can move
/// time on (expire a session, age a licence) without waiting for it.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The computer's clock.
    pub fn system() -> Clock {
        Clock::from_fn(unix_now)
    }

    /// Seconds on this computer's monotonic clock, from an arbitrary start (the first reading
    /// in this process): it never goes back, whatever the wall clock is set to. Not Unix time:
    /// only differences between two readings mean anything.
    pub fn monotonic() -> Clock {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let start = *START.get_or_init(std::time::Instant::now);
        Clock::from_fn(move || start.elapsed().as_secs() as i64)
    }

    /// A clock that reads the time from `now`.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_reads_what_it_is_given() {
        let fixed = Clock::from_fn(|| 1_700_000_000);
        assert_eq!(fixed.now(), 1_700_000_000);
        assert_eq!(format!("{fixed:?}"), "Clock(1700000000)");
    }
}
