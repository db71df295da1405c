//! Licences: verifying a licence for this computer, this title and this container; the state
//! the UI shows; moving a purchase to this computer; and the trusted clock rental windows run
//! on.

pub mod clock;
pub(crate) mod revocations;

use std::sync::Arc;

use base64::Engine;
use ed25519_dalek::VerifyingKey;
use marquee_licence::{Licence, SignedLicence, Validity};
use marquee_protocol::api::SignedTime;
use marquee_protocol::clock::Clock;
use marquee_protocol::sign::{verify, SignatureContext};
use marquee_protocol::StoreClient;

use crate::api::LibraryEntry;
use crate::api::{LicenceState, LicenceStatus, OfferKind};
use crate::db::Settings;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::library::{Library, LibraryRow, LibraryTitle};
use clock::TrustedClock;

/// The settings key of the trusted clock's high-water mark.
const HIGH_WATER_KEY: &str = "clock_high_water";

/// The settings key set while the store refuses this computer's session (it ended, or the
/// computer was deactivated), until a licence check succeeds again.
const REFUSED_KEY: &str = "session_refused";

/// Checks a signed time from the store: its signature, and that it answers `nonce`, the one
/// this request sent, so a reading recorded earlier cannot be replayed to move the clock.
pub(crate) fn verify_store_time(key: &VerifyingKey, t: &SignedTime, nonce: &[u8]) -> Result<()> {
    if t.nonce.as_deref() != Some(hex::encode(nonce).as_str()) {
        return Err(Error::CatalogUntrusted(
            "its clock reading answers another request".into(),
        ));
    }
    verify(
        key,
        SignatureContext::Time,
        &SignedTime::signed_bytes(t.time, Some(nonce)),
        &t.signature,
    )
    .map_err(|e| Error::CatalogUntrusted(format!("its clock reading: {e}")))
}

/// The store's licence key, this computer's identity and the trusted clock.
pub(crate) struct Licences {
    store: StoreClient,
    store_key: VerifyingKey,
    identity: Arc<Identity>,
    library: Library,
    settings: Settings,
    clock: Arc<TrustedClock>,
}

impl Licences {
    /// Licences signed by `store_key` for `identity`, with the clock's mark loaded from the
    /// settings (a restart must not forget it).
    pub(crate) async fn open(
        store: StoreClient,
        store_key: VerifyingKey,
        identity: Arc<Identity>,
        library: Library,
        settings: Settings,
        local_clock: Clock,
        monotonic: Clock,
    ) -> Result<Licences> {
        let mut licences = Licences {
            store,
            store_key,
            identity,
            library,
            settings,
            clock: Arc::new(TrustedClock::new(0, local_clock.clone(), monotonic.clone())),
        };
        let high_water = match licences.get_sealed(HIGH_WATER_KEY).await? {
            Some(Ok(v)) => v.parse().unwrap_or(0),
            // Edited, or kept by a version that did not seal it: the latest time the sealed
            // library vouches for (first plays) is a floor nobody could have lowered.
            Some(Err(())) => licences.library_floor().await?,
            None => 0,
        };
        licences.clock = Arc::new(TrustedClock::new(high_water, local_clock, monotonic));
        Ok(licences)
    }

    /// The latest first play among the library's sealed records.
    async fn library_floor(&self) -> Result<i64> {
        Ok(self
            .library
            .list()
            .await?
            .iter()
            .filter(|r| !r.tampered)
            .filter_map(|r| r.first_frame_at)
            .max()
            .unwrap_or(0))
    }

    fn setting_mac(&self, key: &str, value: &str) -> String {
        use hmac::Mac;
        let seal = self.identity.keys.local_seal_key(b"licence settings");
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(&seal).expect("HMAC takes any key");
        for part in [key.as_bytes(), value.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// A setting kept with a MAC under the device-derived key: `None` when absent, `Err` when
    /// it does not carry its seal (edited outside Marquee, or written before sealing).
    async fn get_sealed(&self, key: &str) -> Result<Option<std::result::Result<String, ()>>> {
        Ok(self
            .settings
            .get(key)
            .await?
            .map(|stored| match stored.rsplit_once('.') {
                Some((value, mac)) if mac == self.setting_mac(key, value) => Ok(value.to_owned()),
                _ => Err(()),
            }))
    }

    async fn set_sealed(&self, key: &str, value: &str) -> Result<()> {
        let stored = format!("{value}.{}", self.setting_mac(key, value));
        self.settings.set(key, &stored).await
    }

    /// Records whether the store refuses this computer's session. While it does, paid titles
    /// do not play: the store can no longer tell this computer what it revoked (a deactivated
    /// computer ends its sessions), so "no answer" must not read as "nothing was revoked".
    pub(crate) async fn set_session_refused(&self, refused: bool) -> Result<()> {
        self.set_sealed(REFUSED_KEY, if refused { "1" } else { "0" })
            .await
    }

    /// Fails while the store refuses this computer's session (see
    /// [`Licences::set_session_refused`]).
    pub(crate) async fn require_checked(&self) -> Result<()> {
        match self.get_sealed(REFUSED_KEY).await? {
            // Refused, or edited (a forged "0" must not lift it): a licence check lifts it.
            Some(Ok(v)) if v == "1" => Err(Error::SessionRefused),
            Some(Err(())) => Err(Error::SessionRefused),
            _ => Ok(()),
        }
    }

    /// This computer's clock, untrusted: for records, never for a rental's window.
    pub(crate) fn local_now(&self) -> i64 {
        self.clock.local_now()
    }

    /// The trusted clock, for the playback server's first frames.
    pub(crate) fn clock(&self) -> Arc<TrustedClock> {
        self.clock.clone()
    }

    /// Trusted "now": the store's time when it confirmed it this run, else the local clock,
    /// refused when the clock was set back past the latest trusted time.
    pub(crate) async fn trusted_now(&self) -> Result<i64> {
        let before = self.clock.high_water();
        let now = self.clock.current().map_err(|b| Error::ClockBehind {
            local: b.local,
            trusted: b.trusted,
        })?;
        // Persist the mark when it moved by a minute or more: a restart must not forget it.
        if self.clock.high_water() >= before + 60 {
            self.set_sealed(HIGH_WATER_KEY, &self.clock.high_water().to_string())
                .await?;
        }
        Ok(now)
    }

    /// "Now" for a report that must never fail: the trusted mark when the clock is behind it.
    pub(crate) fn now_or_mark(&self) -> i64 {
        self.clock.current().unwrap_or_else(|b| b.trusted)
    }

    /// Verifies the store's signed time (see [`verify_store_time`]) and lets it confirm the
    /// clock.
    pub(crate) fn accept_store_time(&self, t: &SignedTime, nonce: &[u8]) -> Result<()> {
        verify_store_time(&self.store_key, t, nonce)?;
        self.clock.confirm(t.time, self.clock.local_now());
        Ok(())
    }

    /// A licence whose signature is the store's (whatever device it is for).
    pub(crate) fn signed(&self, bytes: &[u8]) -> Result<Licence> {
        SignedLicence::from_bytes(bytes.to_vec())
            .map_err(Error::from_licence)?
            .verify(&self.store_key)
            .map_err(Error::from_licence)
    }

    /// Verifies a licence's signature and that it is for this title, this computer and this
    /// container.
    pub(crate) fn verified(&self, title: &LibraryTitle, bytes: &[u8]) -> Result<Licence> {
        let licence = self.signed(bytes)?;
        if licence.title_id != title.id {
            return Err(Error::LicenceInvalid("it is for another title".into()));
        }
        licence
            .check_device(&self.identity.device_id)
            .map_err(Error::from_licence)?;
        if title.key_commitment.as_deref() != Some(hex::encode(licence.key_commitment).as_str()) {
            return Err(Error::LicenceInvalid(
                "it is for another version of this title".into(),
            ));
        }
        Ok(licence)
    }

    /// Whether a library title plays now: free titles always (a clock set back never blocks
    /// them), licensed ones while their licence verifies and its window is open.
    pub(crate) async fn playable(&self, row: &LibraryRow) -> Result<bool> {
        Ok(match &row.licence {
            None => true,
            Some(_) if row.revoked => false,
            Some(_) if row.tampered || self.require_checked().await.is_err() => false,
            Some(bytes) => {
                let now = self.trusted_now().await?;
                self.verified(&row.title, bytes)
                    .and_then(|l| {
                        l.check_time(now, row.first_frame_at)
                            .map_err(Error::from_licence)
                    })
                    .is_ok()
            }
        })
    }

    /// The licence of a library title as the UI shows it. Never refuses: a clock set back
    /// shows the state at the trusted mark.
    pub(crate) fn state(&self, row: &LibraryRow) -> LicenceState {
        let kind = row.title.offer;
        let mut state = LicenceState {
            kind,
            status: match kind {
                OfferKind::Free => LicenceStatus::Free,
                OfferKind::Buy => LicenceStatus::Owned,
                OfferKind::Rent => LicenceStatus::NotStarted,
            },
            start_by_ms: None,
            ends_at_ms: None,
        };
        if kind == OfferKind::Buy && row.licence.is_some() {
            if row.revoked {
                state.status = LicenceStatus::Revoked;
            } else if let Some(Err(Error::LicenceOtherDevice)) =
                row.licence.as_deref().map(|b| self.verified(&row.title, b))
            {
                state.status = LicenceStatus::OtherDevice;
            }
        }
        if kind != OfferKind::Rent {
            return state;
        }
        if row.revoked {
            state.status = LicenceStatus::Revoked;
            return state;
        }
        let licence = match row.licence.as_deref().map(|b| self.verified(&row.title, b)) {
            Some(Ok(l)) => l,
            Some(Err(Error::LicenceOtherDevice)) => {
                state.status = LicenceStatus::OtherDevice;
                return state;
            }
            _ => {
                state.status = LicenceStatus::Expired;
                return state;
            }
        };
        let now = self.clock.local_now().max(self.clock.high_water());
        match licence.check_time(now, row.first_frame_at) {
            Ok(Validity::NotStarted { start_by }) => state.start_by_ms = Some(start_by * 1000),
            Ok(Validity::Running { ends_at }) => {
                state.status = LicenceStatus::Running;
                state.ends_at_ms = Some(ends_at * 1000);
            }
            Ok(Validity::Unlimited) => state.status = LicenceStatus::Owned,
            Err(marquee_licence::LicenceError::Expired { ended_at }) => {
                state.status = LicenceStatus::Expired;
                state.ends_at_ms = Some(ended_at * 1000);
            }
            Err(_) => state.status = LicenceStatus::Expired,
        }
        state
    }

    /// Moves a purchase licensed to another computer of this account to this one: the store
    /// issues a licence for this device and revokes the other. Returns the updated row.
    pub(crate) async fn move_here(&self, title_id: &str) -> Result<LibraryRow> {
        let row = self.library.row(title_id).await?;
        let old = row
            .licence
            .as_deref()
            .ok_or_else(|| Error::LicenceInvalid("no licence is stored for it".into()))?;
        let old = self.signed(old)?;
        let moved = self
            .store
            .licence_move(
                &hex::encode(old.licence_id),
                &self.identity.device_id.to_hex(),
            )
            .await?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&moved.licence)
            .map_err(|_| Error::LicenceInvalid("not base64".into()))?;
        self.verified(&row.title, &bytes)?;
        self.library
            .replace_licence(title_id, &bytes, self.clock.local_now())
            .await?;
        self.library.row(title_id).await
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// Moves a purchase that plays on another computer of this account to this one: the store
    /// issues a licence for this device and revokes the other's. Works whether or not this
    /// profile holds the other computer's licence (a copied profile, or a purchase made there).
    pub async fn licence_move(&self, title_id: &str) -> Result<LibraryEntry> {
        let local = self.library.get(title_id).await?;
        if local.as_ref().is_some_and(|r| r.licence.is_some()) {
            if let Ok(row) = self.licences.move_here(title_id).await {
                return Ok(self.entry(&row));
            }
        }
        let order_id = uuid::Uuid::new_v4().to_string();
        let done = self.orders.acquire(title_id, &order_id, true).await?;
        Ok(self.entry(&done.row))
    }

    /// Asks the store for its time and for revoked licences; marks revoked titles and reports
    /// first frames the store has not heard of. Quietly does nothing offline.
    pub async fn licences_sync(&self) -> Result<()> {
        self.sync.sync().await
    }

    /// The first [`Core::licences_sync`] of a run, before the first playback: the store's time
    /// and revocations are learnt now; a failure is logged and playback checks again later.
    ///
    /// [`Core::licences_sync`]: crate::Core::licences_sync
    pub(crate) async fn licences_sync_at_start(&self) {
        if let Err(e) = self.licences_sync().await {
            tracing::warn!(error = %e, "checking licences with the store");
        }
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(key: &ed25519_dalek::SigningKey, time: i64, nonce: &[u8]) -> SignedTime {
        SignedTime {
            time,
            nonce: Some(hex::encode(nonce)),
            signature: marquee_protocol::sign::sign(
                key,
                SignatureContext::Time,
                &SignedTime::signed_bytes(time, Some(nonce)),
            ),
        }
    }

    #[test]
    fn a_replayed_or_altered_signed_time_is_refused() {
        let store = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let key = store.verifying_key();
        let old = reading(&store, 1_000, b"nonce of yesterday");
        assert!(verify_store_time(&key, &old, b"nonce of yesterday").is_ok());
        // Replayed as the answer to today's request: refused, even with the nonce rewritten.
        assert!(verify_store_time(&key, &old, b"nonce of today").is_err());
        let mut rewritten = old.clone();
        rewritten.nonce = Some(hex::encode(b"nonce of today"));
        assert!(verify_store_time(&key, &rewritten, b"nonce of today").is_err());
        // A reading with no nonce at all (an old store, or a stripped answer): refused.
        let mut bare = old.clone();
        bare.nonce = None;
        assert!(verify_store_time(&key, &bare, b"nonce of yesterday").is_err());
        // Another time under the same signature: refused.
        let mut moved = old;
        moved.time = 500;
        assert!(verify_store_time(&key, &moved, b"nonce of yesterday").is_err());
        // The mark never goes back, even for a genuine reading that is behind it.
        let clock = TrustedClock::new(2_000, Clock::system(), Clock::monotonic());
        clock.confirm(1_000, 1_000);
        assert_eq!(clock.high_water(), 2_000);
    }
}
