//! Rate limits of the store's costly, guessable calls (sign-in, sign-up): small in-process token
//! buckets keyed by client address and by e-mail, read against the store's clock.
//!
//! Why not a crate: the buckets must read the store's [`Clock`] (tests move it instead of
//! waiting) and must stay bounded however many distinct keys a flood brings; both are a few
//! lines here.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::Clock;

/// A token bucket's rule: `burst` attempts at once, then one more every `every_s` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Attempts allowed at once (the bucket's size).
    pub burst: u32,
    /// Seconds for one attempt to come back.
    pub every_s: u32,
}

/// The store's limits on sign-in, sign-up and password hashing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Failed sign-ins from one address (IPv4, or an IPv6 /64), whatever e-mail they name. Each
    /// attempt takes one before its password is checked (so a burst of guesses waits for no
    /// hash); a success gives its one back.
    pub sign_in_per_address: Rate,
    /// Failed sign-ins naming one e-mail from one address: guessing one account from one place
    /// meets this long before the address's own limit. A success clears it. There is no limit
    /// per e-mail alone, on purpose: strangers' wrong guesses from elsewhere would lock the
    /// owner out.
    pub sign_in_per_email_and_address: Rate,
    /// Sign-ups from one address. Sign-up says whether an e-mail has an account (the app tells
    /// the person to sign in instead), so this is also what bounds probing for accounts.
    pub sign_up_per_address: Rate,
    /// New viewers of live channels from one address. Reports of a viewer already counted
    /// are not limited here (each must be newer than the last, so one a second at most).
    pub joins_per_address: Rate,
    /// Videos one account may publish to the community shelf in any 24 hours.
    pub publications_per_day: u32,
    /// Most distinct keys each table keeps (addresses, e-mails). Beyond it, new keys share one
    /// bucket, so a flood of distinct keys neither grows memory nor escapes the limit.
    pub max_keys: usize,
    /// Passwords hashed at once (each takes 19 MiB for its duration). `0` means twice the
    /// number of cores.
    pub hashing_permits: usize,
    /// How long a sign-in or sign-up waits for a hashing slot before it is refused with
    /// `rate_limited`, milliseconds.
    pub hashing_wait_ms: u64,
    /// HTTP connections open at once; more wait in the kernel's backlog until one ends.
    pub connections: usize,
    /// From a connection's start (or its last response) to the end of the next request's
    /// headers, milliseconds: a half-sent request or an idle connection is closed after it.
    pub header_read_ms: u64,
    /// From a request's headers to its response's headers (its body read, its handler run),
    /// milliseconds; past it the store answers 408.
    pub request_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // 20 at once, then one every 3 s (20 a minute): a household or an office behind
            // one address mistyping passwords never meets it; a guessing script does at once.
            sign_in_per_address: Rate {
                burst: 20,
                every_s: 3,
            },
            // 10 at once, then 2 a minute: a person who forgot which password they used tries
            // a handful; a script guessing one account from one address is slowed to a crawl.
            sign_in_per_email_and_address: Rate {
                burst: 10,
                every_s: 30,
            },
            // 5 at once, then one every 10 minutes: an address can learn whether about a
            // dozen e-mails have accounts in its first hour, and 6 an hour after that.
            sign_up_per_address: Rate {
                burst: 5,
                every_s: 600,
            },
            // 30 at once, then one every 2 s: a household or an office starting to watch
            // together never meets it; a script minting node ids to fill a channel's list of
            // peers does at once.
            joins_per_address: Rate {
                burst: 30,
                every_s: 2,
            },
            // A creator posting a series in one sitting, not an account filling the shelf.
            publications_per_day: 10,
            max_keys: 10_000,
            hashing_permits: 0,
            hashing_wait_ms: 2_000,
            // A file descriptor each, far below the usual 1,024 soft limit once the database,
            // the seeder's peers and the tracker take theirs.
            connections: 512,
            // A browser or the app sends its headers at once; a phone on a bad line within a
            // few seconds.
            header_read_ms: 10_000,
            // The largest body the store takes (a publication's poster) over a slow line.
            request_ms: 30_000,
        }
    }
}

impl Limits {
    /// The number of passwords hashed at once.
    pub fn hashing_permits(&self) -> usize {
        if self.hashing_permits > 0 {
            self.hashing_permits
        } else {
            2 * std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: u32,
    /// When `tokens` was last brought up to date (Unix seconds).
    at: i64,
}

impl Bucket {
    /// Brings the bucket up to `now`; true when it is full (and so no different from absent).
    fn refill(&mut self, rate: Rate, now: i64) -> bool {
        let every = i64::from(rate.every_s.max(1));
        if now < self.at {
            // The clock went back: start the interval again rather than refill early.
            self.at = now;
        }
        let gained = (now - self.at) / every;
        if gained > 0 {
            let tokens = i64::from(self.tokens) + gained;
            self.tokens = tokens.min(i64::from(rate.burst)) as u32;
            self.at += gained * every;
        }
        if self.tokens >= rate.burst {
            self.at = now;
            true
        } else {
            false
        }
    }

    /// Takes one attempt, or says how many seconds until one comes back.
    fn take(&mut self, rate: Rate, now: i64) -> Result<(), u64> {
        self.refill(rate, now);
        if self.tokens > 0 {
            self.tokens -= 1;
            Ok(())
        } else {
            let every = i64::from(rate.every_s.max(1));
            Err((every - (now - self.at)).max(1) as u64)
        }
    }
}

struct Table<K> {
    buckets: HashMap<K, Bucket>,
    /// The bucket new keys share while the table is full.
    overflow: Bucket,
    /// When full buckets were last swept out (at most once a second of the clock).
    swept_at: i64,
}

/// Token buckets of one [`Rate`], one per key, at most `max_keys` of them.
pub(crate) struct Limiter<K> {
    rate: Rate,
    max_keys: usize,
    clock: Clock,
    table: Mutex<Table<K>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub(crate) fn new(rate: Rate, max_keys: usize, clock: Clock) -> Limiter<K> {
        let now = clock.now();
        let full = Bucket {
            tokens: rate.burst,
            at: now,
        };
        Limiter {
            rate,
            max_keys: max_keys.max(1),
            clock,
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                overflow: full,
                swept_at: i64::MIN,
            }),
        }
    }

    /// Takes one attempt for `key`; `Err` holds the seconds to wait.
    pub(crate) fn check(&self, key: &K) -> Result<(), u64> {
        let now = self.clock.now();
        let rate = self.rate;
        let mut t = self.table.lock().expect("limiter lock");
        if let Some(b) = t.buckets.get_mut(key) {
            return b.take(rate, now);
        }
        if t.buckets.len() >= self.max_keys && t.swept_at != now {
            // A full bucket is the same as no bucket: forget those. Once a second at most, so
            // a flood of new keys against a table of busy ones costs one sweep a second.
            t.swept_at = now;
            t.buckets.retain(|_, b| !b.refill(rate, now));
        }
        if t.buckets.len() >= self.max_keys {
            return t.overflow.take(rate, now);
        }
        let mut fresh = Bucket {
            tokens: rate.burst,
            at: now,
        };
        let taken = fresh.take(rate, now);
        t.buckets.insert(key.clone(), fresh);
        taken
    }

    /// Gives back one attempt taken for `key` (a sign-in that succeeded does not count against
    /// its address).
    pub(crate) fn give_back(&self, key: &K) {
        let mut t = self.table.lock().expect("limiter lock");
        let burst = self.rate.burst;
        if let Some(b) = t.buckets.get_mut(key) {
            b.tokens = (b.tokens + 1).min(burst);
        }
    }

    /// Forgets `key`'s attempts: its bucket is full again.
    pub(crate) fn clear(&self, key: &K) {
        self.table.lock().expect("limiter lock").buckets.remove(key);
    }

    /// How many keys the table holds (the overflow bucket not counted).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.lock().expect("limiter lock").buckets.len()
    }
}

/// The key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's whole network:
/// counting its 2^64 addresses one by one would limit nothing).
pub(crate) fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The key of an e-mail: a hash of its normalised form (trimmed, lower case), so the table
/// has a fixed size per entry and holds no e-mail addresses.
pub(crate) fn email_key(email: &str) -> [u8; 16] {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    digest[..16].try_into().expect("16 of 32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    fn clock() -> (Arc<AtomicI64>, Clock) {
        let now = Arc::new(AtomicI64::new(1_000));
        let c = now.clone();
        (now, Clock::from_fn(move || c.load(Ordering::SeqCst)))
    }

    #[test]
    fn a_bucket_allows_its_burst_then_one_per_interval() {
        let (now, clock) = clock();
        let l = Limiter::new(
            Rate {
                burst: 3,
                every_s: 10,
            },
            100,
            clock,
        );
        for _ in 0..3 {
            assert_eq!(l.check(&1), Ok(()));
        }
        assert_eq!(l.check(&1), Err(10));
        assert_eq!(l.check(&2), Ok(()), "another key has its own bucket");
        now.fetch_add(4, Ordering::SeqCst);
        assert_eq!(l.check(&1), Err(6));
        now.fetch_add(6, Ordering::SeqCst);
        assert_eq!(l.check(&1), Ok(()));
        assert_eq!(l.check(&1), Err(10));
        now.fetch_add(1_000, Ordering::SeqCst);
        for _ in 0..3 {
            assert_eq!(l.check(&1), Ok(()), "refills to the burst, no further");
        }
        assert!(l.check(&1).is_err());
    }

    #[test]
    fn a_success_gives_back_or_clears_its_own_attempts_only() {
        let (_now, clock) = clock();
        let rate = Rate {
            burst: 2,
            every_s: 60,
        };
        let l = Limiter::new(rate, 100, clock);
        assert_eq!(l.check(&1), Ok(()));
        assert_eq!(l.check(&1), Ok(()));
        l.give_back(&1);
        assert_eq!(l.check(&1), Ok(()));
        assert!(l.check(&1).is_err());
        l.give_back(&1);
        l.give_back(&1);
        l.give_back(&1);
        assert_eq!(l.check(&1), Ok(()));
        assert_eq!(l.check(&1), Ok(()));
        assert!(
            l.check(&1).is_err(),
            "given back up to the burst, no further"
        );
        assert_eq!(l.check(&2), Ok(()));
        l.clear(&1);
        assert_eq!(l.check(&1), Ok(()));
        assert_eq!(l.check(&2), Ok(()));
        assert!(l.check(&2).is_err(), "clearing one key leaves the others");
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_bounded_and_limited() {
        let (now, clock) = clock();
        let rate = Rate {
            burst: 2,
            every_s: 60,
        };
        let l = Limiter::new(rate, 1_000, clock);
        let mut allowed = 0;
        for key in 0..100_000u32 {
            if l.check(&key).is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(l.len(), 1_000, "the table never grows past its bound");
        // 1,000 keys with their own bucket, then all the others share one of 2.
        assert_eq!(allowed, 1_000 + 2);
        // Once their buckets are full again, old keys are swept and new ones get their own.
        now.fetch_add(120, Ordering::SeqCst);
        assert_eq!(l.check(&200_000), Ok(()));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn keys_normalise() {
        assert_eq!(email_key(" Ann@Example.com "), email_key("ann@example.com"));
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(address_key(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
