//! Orders: renting, buying or getting a title from the store, one at a time, and starting its
//! download.

use std::sync::Arc;

use base64::Engine;
use marquee_licence::DeviceId;
use marquee_protocol::api::OrderRequest;
use marquee_protocol::StoreClient;

use crate::account::Accounts;
use crate::api::{AcquireResult, RestoreResult};
use crate::api::{TitleOrigin, Wallet};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::games::Games;
use crate::library::{Library, LibraryRow, LibraryTitle};
use crate::licences::Licences;
use crate::torrents::Torrents;

/// What an acquisition did.
pub(crate) struct Acquired {
    /// The title in the library.
    pub row: LibraryRow,
    /// What the store charged (0 when the title was already playable).
    pub charged_cents: i64,
    /// The wallet afterwards.
    pub wallet: Wallet,
}

/// Orders placed from this computer.
pub(crate) struct Orders {
    store: StoreClient,
    accounts: Arc<Accounts>,
    device_id: DeviceId,
    catalog: Arc<Catalog>,
    library: Library,
    licences: Arc<Licences>,
    torrents: Arc<Torrents>,
    games: Arc<Games>,
    /// One acquisition at a time: a double click must not add a title twice.
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl Orders {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: StoreClient,
        accounts: Arc<Accounts>,
        device_id: DeviceId,
        catalog: Arc<Catalog>,
        library: Library,
        licences: Arc<Licences>,
        torrents: Arc<Torrents>,
        games: Arc<Games>,
    ) -> Orders {
        Orders {
            store,
            accounts,
            device_id,
            catalog,
            library,
            licences,
            torrents,
            games,
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    /// The wallet.
    pub(crate) async fn wallet(&self) -> Result<Wallet> {
        self.accounts.wallet().await
    }

    /// Rents, buys or gets a free title, then starts its download. A title already in the
    /// library with a licence that still plays is not ordered again; a retry with the same
    /// `client_order_id` is never charged twice by the store; what the account already holds
    /// for this computer comes back uncharged. `move_here` moves a purchase that plays on
    /// another computer of the account (the store refuses the order without it).
    pub(crate) async fn acquire(
        &self,
        title_id: &str,
        client_order_id: &str,
        move_here: bool,
    ) -> Result<Acquired> {
        self.accounts.require_registered().await?;
        let _one_at_a_time = self.one_at_a_time.lock().await;
        let held = self.library.get(title_id).await?;
        if let Some(row) = &held {
            if !move_here && self.licences.playable(row).await? {
                self.start_download(row, None).await?;
                let row = row.clone();
                return Ok(Acquired {
                    row,
                    charged_cents: 0,
                    wallet: self.wallet().await?,
                });
            }
        }

        let title = LibraryTitle::from(&self.catalog.title(title_id).await?);
        // "Move it here" never buys anything: a rental stays where it was rented.
        if move_here && title.offer != crate::api::OfferKind::Buy {
            return Err(Error::NotMovable);
        }
        // Before the store charges: a title the disk cannot hold is refused here, not when the
        // disk fills. A title already held has its files (or some of them) on disk.
        if held.is_none() {
            self.torrents.check_space(&title.name, title.size_bytes)?;
        }
        let order = self
            .store
            .order(&OrderRequest {
                client_order_id: client_order_id.to_owned(),
                title_id: title_id.to_owned(),
                device_id: self.device_id.to_hex(),
                move_here,
            })
            .await?;
        let licence = match (&order.licence, title.encrypted) {
            (Some(b64), true) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| Error::LicenceInvalid("not base64".into()))?;
                self.licences.verified(&title, &bytes)?;
                Some(bytes)
            }
            (None, false) => None,
            _ => return Err(Error::LicenceInvalid("the store sent no licence".into())),
        };
        let torrent = self.store.torrent(title_id).await?;
        self.library
            .add(
                &title,
                &order.order_id,
                &torrent,
                licence.as_deref(),
                TitleOrigin::Store,
                self.licences.local_now(),
            )
            .await?;
        if let Some(at) = order.first_frame_at {
            self.library.learn_first_frame(title_id, at).await?;
        }
        let row = self.library.row(title_id).await?;
        let peers = order.peers.iter().filter_map(|p| p.parse().ok()).collect();
        self.torrents.note_store_seeders(&order.store_seeders);
        self.start_download(&row, Some(peers)).await?;
        tracing::info!(title = %title_id, charged = order.charged_cents, "acquired");
        Ok(Acquired {
            row,
            charged_cents: order.charged_cents,
            wallet: Wallet {
                balance_cents: order.balance_cents,
                currency: order.currency,
            },
        })
    }

    /// Puts back in the library what the account holds on this computer (after a reinstall or
    /// a deleted profile): purchases and rentals still in their window, issued again by the
    /// store for this computer's key, with no charge. Returns the titles restored.
    pub(crate) async fn restore(&self) -> Result<Vec<String>> {
        self.accounts.require_registered().await?;
        let _one_at_a_time = self.one_at_a_time.lock().await;
        let answer = self.store.restore(&self.device_id.to_hex()).await?;
        let mut restored = Vec::new();
        for item in answer.restored {
            // A title the catalog no longer lists cannot be downloaded: skip it, keep the rest.
            let title = match self.catalog.title(&item.title_id).await {
                Ok(t) => LibraryTitle::from(&t),
                Err(e) => {
                    tracing::warn!(title = %item.title_id, error = %e, "not restored");
                    continue;
                }
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&item.licence)
                .map_err(|_| Error::LicenceInvalid("not base64".into()))?;
            self.licences.verified(&title, &bytes)?;
            let kept = self.library.get(&title.id).await?;
            match kept {
                // Already here with its download: only the licence changes.
                Some(row) if row.licence.is_some() && !row.tampered => {
                    self.library
                        .replace_licence(&title.id, &bytes, self.licences.local_now())
                        .await?
                }
                _ => {
                    let torrent = self.store.torrent(&title.id).await?;
                    self.library
                        .add(
                            &title,
                            &item.order_id,
                            &torrent,
                            Some(&bytes),
                            TitleOrigin::Store,
                            self.licences.local_now(),
                        )
                        .await?;
                }
            }
            if let Some(at) = item.first_frame_at {
                self.library.learn_first_frame(&title.id, at).await?;
            }
            let row = self.library.row(&title.id).await?;
            self.start_download(&row, None).await?;
            restored.push(title.id);
        }
        tracing::info!(restored = restored.len(), "restored from the account");
        Ok(restored)
    }

    /// Adds a library title's torrent to the session (a game is installed when it completes).
    pub(crate) async fn start_download(
        &self,
        row: &LibraryRow,
        peers: Option<Vec<std::net::SocketAddr>>,
    ) -> Result<()> {
        let (handle, added) = self.torrents.ensure(row, peers).await?;
        if added {
            self.games.install_when_done(row, &handle);
        }
        Ok(())
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// Puts back in the library what the account holds on this computer (a reinstall, a
    /// deleted profile), issued again for this computer's key, without a charge.
    pub async fn library_restore(&self) -> Result<RestoreResult> {
        let restored = self.orders.restore().await?;
        self.keep_download_queue().await;
        Ok(RestoreResult { restored })
    }

    /// The wallet.
    pub async fn wallet_get(&self) -> Result<Wallet> {
        self.orders.wallet().await
    }

    /// Rents, buys or gets a free title, then starts its download. A title already in the
    /// library with a licence that still plays is not ordered again; a retry with the same
    /// `client_order_id` is never charged twice by the store.
    pub async fn title_acquire(
        &self,
        title_id: &str,
        client_order_id: &str,
    ) -> Result<AcquireResult> {
        self.downloads.before_acquire(title_id).await?;
        let done = self
            .orders
            .acquire(title_id, client_order_id, false)
            .await?;
        // It joined the end of the queue: it starts now if there is room.
        self.keep_download_queue().await;
        Ok(AcquireResult {
            entry: self.entry(&done.row),
            charged_cents: done.charged_cents,
            wallet: done.wallet,
        })
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}
