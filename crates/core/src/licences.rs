//! Keeping licences honest over time: trusted time from the store, first frames reported to
//! the store, revocations honoured, and purchases moved to this computer.

use base64::Engine;
use marquee_licence::{Licence, SignedLicence};
use marquee_protocol::api::SignedTime;
use marquee_protocol::sign::{verify, SignatureContext};

use crate::api::LibraryEntry;
use crate::error::{Error, Result};
use crate::library::LibraryRow;
use crate::{time, Core};

/// The settings key of the trusted clock's high-water mark.
const HIGH_WATER_KEY: &str = "clock_high_water";

impl Core {
    /// Trusted "now": the store's time when it confirmed it this run, else the local clock,
    /// refused when the clock was set back past the latest trusted time.
    pub(crate) async fn trusted_now(&self) -> Result<i64> {
        let before = self.inner.clock.high_water();
        let now = self
            .inner
            .clock
            .now(time::now_s())
            .map_err(|b| Error::ClockBehind {
                local: time::human_utc(b.local),
                trusted: time::human_utc(b.trusted),
            })?;
        // Persist the mark when it moved by a minute or more: a restart must not forget it.
        if self.inner.clock.high_water() >= before + 60 {
            self.inner
                .library
                .set_setting(HIGH_WATER_KEY, &self.inner.clock.high_water().to_string())
                .await?;
        }
        Ok(now)
    }

    /// Loads the persisted high-water mark.
    pub(crate) async fn load_high_water(library: &crate::library::Library) -> Result<i64> {
        Ok(library
            .setting(HIGH_WATER_KEY)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Verifies the store's signed time and lets it confirm the clock.
    fn accept_store_time(&self, t: &SignedTime) -> Result<()> {
        verify(
            &self.inner.store_key,
            SignatureContext::Time,
            &t.time.to_be_bytes(),
            &t.signature,
        )
        .map_err(|e| Error::CatalogUntrusted(format!("its clock reading: {e}")))?;
        self.inner.clock.confirm(t.time, time::now_s());
        Ok(())
    }

    /// [`Core::licences_sync`], unless it ran in the last minute: playback asks before every
    /// paid title opens, and must not pay a round trip each time.
    pub(crate) async fn licences_sync_recent(&self) -> Result<()> {
        let fresh = self
            .inner
            .last_sync
            .lock()
            .expect("sync lock")
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(60));
        if fresh {
            return Ok(());
        }
        self.licences_sync().await
    }

    /// Asks the store for its time and for revoked licences; marks revoked titles and reports
    /// first frames the store has not heard of. Quietly does nothing offline.
    pub async fn licences_sync(&self) -> Result<()> {
        let status = match self
            .inner
            .store
            .licence_status(&self.inner.identity.device_id.to_hex())
            .await
        {
            Ok(s) => s,
            Err(marquee_protocol::ClientError::Unreachable(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        self.accept_store_time(&status.time)?;
        *self.inner.last_sync.lock().expect("sync lock") = Some(std::time::Instant::now());
        self.trusted_now().await.ok();
        for row in self.inner.library.list().await? {
            let Some(licence) = row
                .licence
                .as_deref()
                .and_then(|b| self.signed_licence(b).ok())
            else {
                continue;
            };
            let id = hex::encode(licence.licence_id);
            if status.revoked.contains(&id) && !row.revoked {
                self.inner.library.mark_revoked(&row.title.id).await?;
                tracing::info!(title = %row.title.id, "licence revoked by the store");
            }
            if let (Some(at), false) = (row.first_frame_at, row.first_frame_reported) {
                if self.inner.store.first_frame(&id, at).await.is_ok() {
                    self.inner
                        .library
                        .mark_first_frame_reported(&row.title.id)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// A licence whose signature is the store's (whatever device it is for).
    pub(crate) fn signed_licence(&self, bytes: &[u8]) -> Result<Licence> {
        SignedLicence::from_bytes(bytes.to_vec())
            .map_err(Error::from_licence)?
            .verify(&self.inner.store_key)
            .map_err(Error::from_licence)
    }

    /// Reports a first frame to the store in the background; retried by
    /// [`Core::licences_sync`] when it fails.
    pub(crate) fn report_first_frame(&self, row: &LibraryRow, at: i64) {
        let Some(licence) = row
            .licence
            .as_deref()
            .and_then(|b| self.signed_licence(b).ok())
        else {
            return;
        };
        let (core, title_id) = (self.clone(), row.title.id.clone());
        tokio::spawn(async move {
            let id = hex::encode(licence.licence_id);
            if core.inner.store.first_frame(&id, at).await.is_ok() {
                let _ = core
                    .inner
                    .library
                    .mark_first_frame_reported(&title_id)
                    .await;
            }
        });
    }

    /// Moves a purchase licensed to another computer of this account to this one: the store
    /// issues a licence for this device and revokes the other.
    pub async fn licence_move(&self, title_id: &str) -> Result<LibraryEntry> {
        let row = self.library_row(title_id).await?;
        let old = row
            .licence
            .as_deref()
            .ok_or_else(|| Error::LicenceInvalid("no licence is stored for it".into()))?;
        let old = self.signed_licence(old)?;
        let moved = self
            .inner
            .store
            .licence_move(
                &hex::encode(old.licence_id),
                &self.inner.identity.device_id.to_hex(),
            )
            .await?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&moved.licence)
            .map_err(|_| Error::LicenceInvalid("not base64".into()))?;
        self.verified_licence(&row.title, &bytes)?;
        self.inner
            .library
            .replace_licence(title_id, &bytes, time::now_s())
            .await?;
        let row = self.library_row(title_id).await?;
        Ok(self.entry(&row))
    }
}
