//! Keeping licences honest over time: the store's signed time, the licences it revoked, and
//! first frames reported to it (retried when the store was unreachable).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use marquee_licence::DeviceId;
use marquee_protocol::StoreClient;
use rand::RngCore;

use crate::error::Result;
use crate::library::{Library, LibraryRow};
use crate::licences::revocations::Revocations;
use crate::licences::Licences;

/// The exchange with the store about licences, and when it last happened.
pub(crate) struct LicenceSync {
    store: StoreClient,
    library: Library,
    licences: Arc<Licences>,
    device_id: DeviceId,
    /// When the store last told us its time and revocations.
    last_sync: Mutex<Option<Instant>>,
    /// Revoked licences, shared with the playback server so that running streams stop.
    revocations: Revocations,
}

impl LicenceSync {
    pub(crate) fn new(
        store: StoreClient,
        library: Library,
        licences: Arc<Licences>,
        device_id: DeviceId,
        revocations: Revocations,
    ) -> LicenceSync {
        LicenceSync {
            store,
            library,
            licences,
            device_id,
            last_sync: Mutex::new(None),
            revocations,
        }
    }

    /// [`LicenceSync::sync`], unless it ran in the last minute: playback asks before every
    /// paid title opens, and must not pay a round trip each time.
    pub(crate) async fn sync_recent(&self) -> Result<()> {
        let fresh = self
            .last_sync
            .lock()
            .expect("sync lock")
            .is_some_and(|t| t.elapsed() < Duration::from_secs(60));
        // Offline there is nothing to learn, and the reconnection syncs before it says so.
        let offline = self.store.unreachable_now();
        if fresh || offline {
            return Ok(());
        }
        self.sync().await
    }

    /// Asks the store for its time, the licences it revoked and the first plays it recorded;
    /// marks revoked titles, keeps the earlier first frame, and reports first frames the store
    /// has not heard of. Offline, or signed out, there is nothing to learn: licences then play
    /// within their own windows on the trusted clock. A store that answers with an error is
    /// treated the same way (never as "nothing was revoked"), and the error is returned.
    pub(crate) async fn sync(&self) -> Result<()> {
        if self.store.token().is_none() {
            return Ok(());
        }
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let status = match self
            .store
            .licence_status(&self.device_id.to_hex(), &hex::encode(nonce))
            .await
        {
            Ok(s) => s,
            Err(marquee_protocol::ClientError::Unreachable(_)) => return Ok(()),
            Err(e) => {
                let e = crate::error::Error::from(e);
                if matches!(
                    e,
                    crate::error::Error::SignInRequired(_)
                        | crate::error::Error::DeviceNotRegistered(_)
                ) {
                    self.licences.set_session_refused(true).await?;
                }
                return Err(e);
            }
        };
        self.licences.accept_store_time(&status.time, &nonce)?;
        self.licences.set_session_refused(false).await?;
        *self.last_sync.lock().expect("sync lock") = Some(Instant::now());
        self.licences.trusted_now().await.ok();
        for row in self.library.list().await? {
            // An edited record plays nothing and is not written over; restoring replaces it.
            if row.tampered {
                continue;
            }
            let Some(licence) = row
                .licence
                .as_deref()
                .and_then(|b| self.licences.signed(b).ok())
            else {
                continue;
            };
            let id = hex::encode(licence.licence_id);
            if status.revoked.contains(&id) {
                if !row.revoked {
                    self.library.mark_revoked(&row.title.id).await?;
                    tracing::info!(title = %row.title.id, "licence revoked by the store");
                }
                // After the library knows, so a reopen cannot slip in between.
                self.revocations.revoke(licence.licence_id);
            }
            if let Some(play) = status.first_plays.iter().find(|p| p.licence_id == id) {
                if row.first_frame_at.is_none_or(|mine| play.at < mine) {
                    self.library
                        .learn_first_frame(&row.title.id, play.at)
                        .await?;
                }
                continue;
            }
            if let (Some(at), false) = (row.first_frame_at, row.first_frame_reported) {
                if let Ok(recorded) = self.store.first_frame(&id, at).await {
                    self.library
                        .learn_first_frame(&row.title.id, recorded)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Reports a first frame to the store in the background; retried by [`LicenceSync::sync`]
    /// when it fails.
    pub(crate) fn report_first_frame(&self, row: &LibraryRow, at: i64) {
        let Some(licence) = row
            .licence
            .as_deref()
            .and_then(|b| self.licences.signed(b).ok())
        else {
            return;
        };
        let (store, library, title_id) = (
            self.store.clone(),
            self.library.clone(),
            row.title.id.clone(),
        );
        tokio::spawn(async move {
            let id = hex::encode(licence.licence_id);
            // The store's record is the one that counts (it clamps to its clock): adopt it.
            if let Ok(recorded) = store.first_frame(&id, at).await {
                let _ = library.learn_first_frame(&title_id, recorded).await;
            }
        });
    }
}
