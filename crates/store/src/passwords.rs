//! Password hashing, bounded: Argon2id (the crate's defaults: 19 MiB, 2 passes) in at most
//! [`Limits::hashing_permits`] slots at once, each with a 19 MiB buffer of its own that is
//! reused, never allocated per request.
//!
//! Why: each hash needs 19 MiB for its duration. Unbounded (one blocking task per request, as
//! before), 300 simultaneous sign-ins asked for 5.7 GiB; here the store's hashing memory is at
//! most `permits × 19 MiB` whatever arrives, and a request that finds every slot busy for
//! [`Limits::hashing_wait_ms`] is refused with `rate_limited` instead of queueing without end.
//! (The buffers are ours rather than the allocator's: freed 19 MiB blocks tend to stay in the
//! allocator's per-thread arenas, so the bound would otherwise hold only for the hashing,
//! not for the process.)

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::StoreError;
use crate::limit::Limits;

/// The hashing slots and their buffers.
pub(crate) struct Passwords {
    slots: Arc<Semaphore>,
    wait: Duration,
    buffers: Arc<Mutex<Vec<Box<[Block]>>>>,
}

/// What one hashing job does with its buffer.
type Job<T> = Box<dyn FnOnce(&mut Vec<Block>) -> T + Send>;

impl Passwords {
    pub(crate) fn new(limits: &Limits) -> Passwords {
        Passwords {
            slots: Arc::new(Semaphore::new(limits.hashing_permits())),
            wait: Duration::from_millis(limits.hashing_wait_ms),
            buffers: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs `job` on a blocking thread with a hashing buffer, once a slot is free.
    async fn run<T: Send + 'static>(&self, job: Job<T>) -> Result<T, StoreError> {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::RateLimited {
                what: "sign-ins at once (the store is checking as many passwords as it can)",
                retry_after_s: 5,
            })?
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let buffers = self.buffers.clone();
        // The permit moves into the blocking task: if the request is dropped mid-hash, the
        // slot stays taken until the hash ends, so the bound holds for the work, not just for
        // the requests.
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            // At most one buffer per slot exists: a slot takes one or makes one, and gives it
            // back.
            let mut buffer: Vec<Block> = buffers
                .lock()
                .expect("hash buffers")
                .pop()
                .map(Vec::from)
                .unwrap_or_default();
            let out = job(&mut buffer);
            buffers
                .lock()
                .expect("hash buffers")
                .push(buffer.into_boxed_slice());
            out
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))
    }

    /// Hashes a new password (PHC string, the same as `Argon2::default().hash_password`).
    pub(crate) async fn hash(&self, password: &str) -> Result<String, StoreError> {
        let password = password.to_owned();
        self.run(Box::new(move |buffer| hash_with(&password, buffer)))
            .await?
    }

    /// Checks a password against a stored hash; `None` (no such account) checks it against a
    /// dummy hash of the same cost, so an unknown e-mail takes as long as a wrong password.
    pub(crate) async fn verify(
        &self,
        stored: Option<String>,
        password: &str,
    ) -> Result<bool, StoreError> {
        let password = password.to_owned();
        self.run(Box::new(move |buffer| {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| dummy_hash(buffer).to_owned());
            verify_with(&stored, &password, buffer) && known
        }))
        .await
    }
}

/// A hash of a random password made once, with the same parameters as every account's.
fn dummy_hash(buffer: &mut Vec<Block>) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(d) = DUMMY.get() {
        return d;
    }
    let made = hash_with(&uuid::Uuid::new_v4().to_string(), buffer).expect("hashing a dummy");
    DUMMY.get_or_init(|| made)
}

/// Hashes with `Argon2::default()` into `buffer` (grown to the size the parameters need).
fn hash_with(password: &str, buffer: &mut Vec<Block>) -> Result<String, StoreError> {
    let fail = |e: &dyn std::fmt::Display| StoreError::Internal(format!("hashing a password: {e}"));
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| fail(&e))?;
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            sized(buffer, params.block_count()),
        )
        .map_err(|e| fail(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(hash.to_string())
}

/// Verifies like `PasswordHash::verify_password` with Argon2, in `buffer`.
fn verify_with(stored: &str, password: &str, buffer: &mut Vec<Block>) -> bool {
    let mut check = || -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .ok()?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = parsed.salt?.decode_b64(&mut salt_bytes).ok()?;
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                &mut out,
                sized(buffer, params.block_count()),
            )
            .ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

/// The first `blocks` blocks of `buffer`, growing it if a stored hash asks for more memory than
/// the defaults (never the case for hashes this store made).
fn sized(buffer: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if buffer.len() < blocks {
        buffer.resize(blocks, Block::default());
    }
    &mut buffer[..blocks]
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        let mut buffer = Vec::new();
        let ours = hash_with("correct horse", &mut buffer).unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        let theirs = Argon2::default()
            .hash_password(
                b"battery staple",
                &SaltString::generate(&mut rand::rngs::OsRng),
            )
            .unwrap()
            .to_string();
        assert!(verify_with(&theirs, "battery staple", &mut buffer));
        assert!(!verify_with(&theirs, "battery stapler", &mut buffer));
        assert!(!verify_with("not a hash", "x", &mut buffer));
        assert_eq!(
            buffer.len(),
            Params::DEFAULT_M_COST as usize,
            "one 19 MiB buffer"
        );
    }

    #[tokio::test]
    async fn an_unknown_account_is_checked_against_a_dummy_and_never_passes() {
        let p = Passwords::new(&Limits::default());
        let stored = p.hash("secret password").await.unwrap();
        assert!(p
            .verify(Some(stored.clone()), "secret password")
            .await
            .unwrap());
        assert!(!p.verify(Some(stored), "wrong").await.unwrap());
        assert!(!p.verify(None, "secret password").await.unwrap());
        assert!(dummy_hash(&mut Vec::new()).starts_with("$argon2id$"));
    }

    #[tokio::test]
    async fn a_full_house_is_refused_not_queued() {
        let p = Passwords::new(&Limits {
            hashing_permits: 1,
            hashing_wait_ms: 10,
            ..Limits::default()
        });
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let busy = p.run(Box::new(move |_| {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        }));
        let refused = async {
            // Only once the one slot is taken.
            tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
                .await
                .unwrap();
            let got = p.hash("x").await;
            release_tx.send(()).unwrap();
            got
        };
        let (busy, refused) = tokio::join!(busy, refused);
        busy.unwrap();
        assert!(
            matches!(refused, Err(StoreError::RateLimited { .. })),
            "{refused:?}"
        );
    }
}
