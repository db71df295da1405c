//! Orders: renting, buying or getting a title from the store, one at a time, and starting its
//! download.

use std::sync::Arc;

use base64::Engine;
use marquee_licence::DeviceId;
use marquee_protocol::api::OrderRequest;
use marquee_protocol::StoreClient;

use crate::api::{TitleOrigin, Wallet};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::games::Games;
use crate::library::{Library, LibraryRow, LibraryTitle};
use crate::licences::Licences;
use crate::time;
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
    pub(crate) fn new(
        store: StoreClient,
        device_id: DeviceId,
        catalog: Arc<Catalog>,
        library: Library,
        licences: Arc<Licences>,
        torrents: Arc<Torrents>,
        games: Arc<Games>,
    ) -> Orders {
        Orders {
            store,
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
        let w = self.store.wallet().await?;
        Ok(Wallet {
            balance_cents: w.balance_cents,
            currency: w.currency,
        })
    }

    /// Rents, buys or gets a free title, then starts its download. A title already in the
    /// library with a licence that still plays is not ordered again; a retry with the same
    /// `client_order_id` is never charged twice by the store.
    pub(crate) async fn acquire(&self, title_id: &str, client_order_id: &str) -> Result<Acquired> {
        let _one_at_a_time = self.one_at_a_time.lock().await;
        if let Some(row) = self.library.get(title_id).await? {
            if self.licences.playable(&row).await? {
                self.start_download(&row, None).await?;
                return Ok(Acquired {
                    row,
                    charged_cents: 0,
                    wallet: self.wallet().await?,
                });
            }
        }

        let title = LibraryTitle::from(&self.catalog.title(title_id).await?);
        let order = self
            .store
            .order(&OrderRequest {
                client_order_id: client_order_id.to_owned(),
                title_id: title_id.to_owned(),
                device_id: self.device_id.to_hex(),
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
                time::unix_now(),
            )
            .await?;
        let row = self.library.row(title_id).await?;
        let peers = order.peers.iter().filter_map(|p| p.parse().ok()).collect();
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
