//! Games: once a game's download completes, it is decrypted (every chunk verified) into the
//! games folder, so the player gets a file they can open.

use std::path::PathBuf;
use std::sync::Arc;

use librqbit::ManagedTorrent;
use marquee_licence::container::{Header, HEADER_LEN};

use crate::api::TitleKind;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::library::{Library, LibraryRow};
use crate::licences::Licences;

/// The games folder of the profile.
pub(crate) struct Games {
    data_dir: PathBuf,
    library: Library,
    licences: Arc<Licences>,
    identity: Arc<Identity>,
}

impl Games {
    pub(crate) fn new(
        data_dir: PathBuf,
        library: Library,
        licences: Arc<Licences>,
        identity: Arc<Identity>,
    ) -> Games {
        Games {
            data_dir,
            library,
            licences,
            identity,
        }
    }

    /// Where a game is installed: the clear download, decrypted with this computer's licence.
    fn path(&self, title_id: &str) -> PathBuf {
        self.data_dir
            .join("games")
            .join(title_id)
            .join(format!("{title_id}.zip"))
    }

    /// The installed game's file, once it exists.
    pub(crate) fn installed(&self, title_id: &str) -> Option<String> {
        Some(self.path(title_id))
            .filter(|p| p.exists())
            .map(|p| p.to_string_lossy().into_owned())
    }

    /// Installs a game in the background once its torrent (just added) completes; other kinds
    /// are left alone.
    pub(crate) fn install_when_done(
        self: &Arc<Self>,
        row: &LibraryRow,
        handle: &Arc<ManagedTorrent>,
    ) {
        if TitleKind::parse(&row.title.kind) != TitleKind::Game {
            return;
        }
        let (games, row, handle) = (self.clone(), row.clone(), handle.clone());
        tokio::spawn(async move {
            if let Err(e) = games.install(&row, &handle).await {
                tracing::warn!(title = %row.title.id, error = %e, "installing the game");
            }
        });
    }

    async fn install(&self, row: &LibraryRow, handle: &Arc<ManagedTorrent>) -> Result<PathBuf> {
        handle
            .wait_until_completed()
            .await
            .map_err(|e| Error::Download(format!("{e:#}")))?;
        let out = self.path(&row.title.id);
        if out.exists() {
            return Ok(out);
        }
        let name = handle
            .name()
            .ok_or_else(|| Error::Download("the torrent has no name".into()))?;
        let download =
            crate::torrents::title_folder(&self.data_dir, row.origin, &row.title.info_hash)?
                .join(name);
        let licence = match &row.licence {
            Some(bytes) => Some(self.licences.verified(&row.title, bytes)?),
            None => None,
        };
        let keys = self.identity.keys.clone();
        let target = out.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            let dir = target.parent().expect("a games folder");
            std::fs::create_dir_all(dir).map_err(anyhow::Error::from)?;
            let part = target.with_extension("part");
            match licence {
                Some(licence) => {
                    let mut input = std::io::BufReader::new(
                        std::fs::File::open(&download).map_err(anyhow::Error::from)?,
                    );
                    let mut head = [0u8; HEADER_LEN];
                    std::io::Read::read_exact(&mut input, &mut head)
                        .map_err(anyhow::Error::from)?;
                    // Not playback: a game is installed, and a damaged download is downloaded again.
                    let header = Header::parse(&head).map_err(|e| {
                        Error::Download(format!("the game's download is damaged ({e})"))
                    })?;
                    let key = licence
                        .unwrap_key(&keys, &header.nonce_prefix)
                        .map_err(Error::from_licence)?;
                    let input = std::io::Read::chain(&head[..], input);
                    let output = std::fs::File::create(&part).map_err(anyhow::Error::from)?;
                    marquee_licence::container::decrypt(
                        &key,
                        input,
                        std::io::BufWriter::new(output),
                    )
                    .map_err(|e| Error::Download(e.to_string()))?;
                }
                None => {
                    std::fs::copy(&download, &part).map_err(anyhow::Error::from)?;
                }
            }
            std::fs::rename(&part, &target).map_err(anyhow::Error::from)?;
            Ok(())
        })
        .await
        .map_err(|e| Error::Internal(e.into()))??;
        self.library.mark_completed(&row.title.id).await?;
        tracing::info!(title = %row.title.id, path = %out.display(), "game installed");
        Ok(out)
    }
}
