//! The downloads the person controls: every torrent of the library with its progress, speeds,
//! peers and time left; pause, resume and remove; and the global transfer limits.
//!
//! librqbit's own persistence is off (the library decides what the session holds), so what the
//! person decides outlives the run in the library: a paused title is re-added paused at start,
//! a removed one is not re-added until the person watches or gets it again. The limits are
//! settings, applied to the session at start and whenever they change.
//!
//! Removing never touches a licence or the library entry, and deletes nothing outside the
//! torrent's own folder, `downloads/<info hash>/` (an installed game's files stay). Removing a
//! title while the playback server is sending it is refused rather than cutting the picture
//! off mid-frame: the person closes the player first, and nothing has changed.

use std::sync::Arc;

use crate::api::{
    DownloadItem, DownloadLimits, DownloadProgress, DownloadState, TitleKind, TitleOrigin,
};
use crate::db::Settings;
use crate::error::{Error, Result};
use crate::library::{DownloadHold, Library};
use crate::orders::Orders;
use crate::playback::Playback;
use crate::torrents::Torrents;

/// The settings keys of the two limits (KiB/s; absent is unlimited).
const DOWNLOAD_LIMIT_KEY: &str = "download_limit_kib_s";
const UPLOAD_LIMIT_KEY: &str = "upload_limit_kib_s";

/// The smallest limit, KiB/s. librqbit asks its rate limiter for a whole 16 KiB block at once,
/// and the limiter refuses any request larger than a second's quota: below this, transfers
/// would not slow down, they would fail.
pub const MIN_LIMIT_KIB_S: u32 = 16;

/// The largest limit, KiB/s: librqbit counts bytes per second in 32 bits.
pub const MAX_LIMIT_KIB_S: u32 = u32::MAX / 1024;

/// The downloads view and what it changes.
pub(crate) struct Downloads {
    library: Library,
    settings: Settings,
    torrents: Arc<Torrents>,
    orders: Arc<Orders>,
    playback: Arc<Playback>,
}

impl Downloads {
    pub(crate) fn new(
        library: Library,
        settings: Settings,
        torrents: Arc<Torrents>,
        orders: Arc<Orders>,
        playback: Arc<Playback>,
    ) -> Downloads {
        Downloads {
            library,
            settings,
            torrents,
            orders,
            playback,
        }
    }

    /// Every download and seed, most recently acquired first: each library title except those
    /// the person removed. A title not in the session yet (start-up adds them one by one) is
    /// queued.
    pub(crate) async fn list(&self) -> Result<Vec<DownloadItem>> {
        let rows = self.library.list().await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let progress = self.torrents.progress_of(row);
                (progress.state != DownloadState::Removed).then(|| DownloadItem {
                    name: row.title.name.clone(),
                    kind: TitleKind::parse(&row.title.kind),
                    origin: row.origin,
                    height: row.title.height,
                    eta_s: eta_s(&progress),
                    files_deletable: row.origin != TitleOrigin::Published,
                    progress,
                })
            })
            .collect())
    }

    /// Until `stop` turns true, looks every `every` for downloads stopped by a full disk and
    /// starts each again once the disk has room for what it still needs (or 256 MB, for a
    /// large one: enough to make real progress). librqbit checks the pieces on disk again
    /// first, so nothing written before the disk filled is fetched twice or trusted unchecked.
    pub(crate) async fn resume_when_space(
        &self,
        every: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        const ENOUGH: u64 = 256_000_000;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            for (id, handle) in self.torrents.handles() {
                let p = crate::torrents::progress(&id, &handle);
                if p.state != DownloadState::DiskFull {
                    continue;
                }
                let needed = p.total_bytes.saturating_sub(p.downloaded_bytes).min(ENOUGH);
                match self.torrents.free_bytes() {
                    Ok(free) if free > needed => {
                        tracing::info!(title = %id, free, "room on the disk again: resuming");
                        if let Err(e) = self.torrents.resume(&handle).await {
                            tracing::warn!(title = %id, error = %e, "resuming after a full disk");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "reading the free space"),
                }
            }
        }
    }

    /// Pauses a title's download (or seeding), now and in later runs.
    pub(crate) async fn pause(&self, title_id: &str) -> Result<()> {
        self.library.row(title_id).await?;
        // Recorded first: a title not in the session yet is then added paused.
        self.library
            .set_hold(title_id, Some(DownloadHold::Paused))
            .await?;
        let row = self.library.row(title_id).await?;
        let (handle, _) = self.torrents.ensure(&row, None).await?;
        self.torrents.pause(&handle).await
    }

    /// Resumes a paused title, or downloads a removed one again (the files it kept are checked,
    /// not fetched again).
    pub(crate) async fn resume(&self, title_id: &str) -> Result<()> {
        self.library.row(title_id).await?;
        self.library.set_hold(title_id, None).await?;
        let row = self.library.row(title_id).await?;
        self.orders.start_download(&row, None).await?;
        if let Some(handle) = self.torrents.get(title_id) {
            self.torrents.resume(&handle).await?;
        }
        Ok(())
    }

    /// Removes a title from the downloads, keeping its files or deleting its folder. The
    /// library entry and its licence stay.
    pub(crate) async fn remove(&self, title_id: &str, delete_files: bool) -> Result<()> {
        let row = self.library.row(title_id).await?;
        if delete_files && row.origin == TitleOrigin::Published {
            return Err(Error::DownloadRefused(
                "A video you published is seeded from its only copy in Marquee's data folder, so \
                 its files cannot be deleted from here. Remove it and keep the files."
                    .into(),
            ));
        }
        let server = self.playback.server();
        if server.streaming(title_id) {
            return Err(Error::DownloadRefused(
                "This title is playing. Close the player, then remove it; nothing was removed."
                    .into(),
            ));
        }
        // Its URL stops answering: a later request must not read a torrent that is gone.
        server.close(title_id);
        self.library
            .set_hold(title_id, Some(DownloadHold::Removed))
            .await?;
        if let Some(handle) = self.torrents.forget(title_id) {
            self.torrents.remove(&handle, false).await;
        }
        if delete_files {
            // The folder is `downloads/<40 hex digits>/` (`title_folder` refuses anything
            // else), and `remove_dir_all` does not follow symbolic links out of it.
            let folder = self.torrents.folder(row.origin, &row.title.info_hash)?;
            match std::fs::remove_dir_all(&folder) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::DownloadRefused(format!(
                        "The download was removed, but its files in {} could not be deleted \
                         ({e}). Delete that folder yourself, or try again.",
                        folder.display()
                    )))
                }
            }
        }
        tracing::info!(title = %title_id, delete_files, "removed from the downloads");
        Ok(())
    }

    /// Watching a title means now: a paused or removed download starts again.
    pub(crate) async fn before_watch(&self, title_id: &str) -> Result<()> {
        match self.library.get(title_id).await? {
            Some(row) if row.hold.is_some() => self.resume(title_id).await,
            _ => Ok(()),
        }
    }

    /// Getting a title again undoes its removal (the order starts its download).
    pub(crate) async fn before_acquire(&self, title_id: &str) -> Result<()> {
        match self.library.get(title_id).await? {
            Some(row) if row.hold == Some(DownloadHold::Removed) => {
                self.library.set_hold(title_id, None).await
            }
            _ => Ok(()),
        }
    }

    /// The global transfer limits.
    pub(crate) async fn limits(&self) -> Result<DownloadLimits> {
        let read = |v: Option<String>| v.and_then(|s| s.parse().ok());
        Ok(DownloadLimits {
            download_kib_s: read(self.settings.get(DOWNLOAD_LIMIT_KEY).await?),
            upload_kib_s: read(self.settings.get(UPLOAD_LIMIT_KEY).await?),
        })
    }

    /// Checks, stores and applies the global transfer limits.
    pub(crate) async fn set_limits(&self, limits: DownloadLimits) -> Result<DownloadLimits> {
        check_limit("download", limits.download_kib_s)?;
        check_limit("upload", limits.upload_kib_s)?;
        for (key, value) in [
            (DOWNLOAD_LIMIT_KEY, limits.download_kib_s),
            (UPLOAD_LIMIT_KEY, limits.upload_kib_s),
        ] {
            match value {
                Some(v) => self.settings.set(key, &v.to_string()).await?,
                None => self.settings.remove(key).await?,
            }
        }
        self.torrents.set_limits(limits);
        Ok(limits)
    }

    /// Applies the stored limits to the session (at start).
    pub(crate) async fn apply_limits(&self) -> Result<()> {
        self.torrents.set_limits(self.limits().await?);
        Ok(())
    }
}

fn check_limit(which: &str, kib_s: Option<u32>) -> Result<()> {
    match kib_s {
        Some(v) if !(MIN_LIMIT_KIB_S..=MAX_LIMIT_KIB_S).contains(&v) => {
            Err(Error::DownloadRefused(format!(
                "A {which} limit must be between {MIN_LIMIT_KIB_S} and {MAX_LIMIT_KIB_S} KiB/s \
                 ({v} was given). Leave it empty for no limit."
            )))
        }
        _ => Ok(()),
    }
}

/// Seconds left at the current download speed, rounded up; `None` unless it is downloading
/// with bytes arriving.
pub fn eta_s(p: &DownloadProgress) -> Option<u64> {
    if p.state != DownloadState::Downloading || p.down_bytes_per_s == 0 {
        return None;
    }
    let left = p.total_bytes.checked_sub(p.downloaded_bytes)?;
    (left > 0).then(|| left.div_ceil(p.down_bytes_per_s))
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// Resumes the library's downloads, and from then on restarts those a full disk stopped
    /// once there is room, both in the background until shutdown.
    pub(crate) fn resume_downloads_in_background(&self) {
        let (downloads, stop) = (self.downloads.clone(), self.stopping.subscribe());
        tokio::spawn(async move {
            downloads
                .resume_when_space(std::time::Duration::from_secs(2), stop)
                .await
        });
        let resuming = self.clone();
        tokio::spawn(async move {
            if let Err(e) = resuming.resume_downloads().await {
                tracing::warn!(error = %e, "resuming downloads");
            }
        });
    }

    async fn resume_downloads(&self) -> Result<()> {
        for listed in self.library.list().await? {
            // Read again just before adding: adding one title after another takes a while, and
            // the person may have paused or removed a later one in the Downloads tab meanwhile.
            let Some(row) = self.library.get(&listed.title.id).await? else {
                continue;
            };
            if row.hold == Some(DownloadHold::Removed) {
                continue;
            }
            if let Err(e) = self.orders.start_download(&row, None).await {
                tracing::warn!(title = %row.title.id, error = %e, "could not resume");
            }
        }
        Ok(())
    }

    /// Download progress of every title in the session.
    pub fn downloads(&self) -> Vec<DownloadProgress> {
        self.torrents.all_progress()
    }

    /// Every download and seed with its name, state, progress, speeds, peers and time left.
    pub async fn downloads_list(&self) -> Result<Vec<DownloadItem>> {
        self.downloads.list().await
    }

    /// Pauses a title's download or seeding; it stays paused after a restart.
    pub async fn download_pause(&self, title_id: &str) -> Result<()> {
        self.downloads.pause(title_id).await
    }

    /// Resumes a paused title, or downloads a removed one again.
    pub async fn download_resume(&self, title_id: &str) -> Result<()> {
        self.downloads.resume(title_id).await
    }

    /// Removes a title from the downloads, keeping its files or deleting its folder
    /// (`downloads/<info hash>/`, nothing else). Its library entry and licence stay; watching or
    /// getting it again downloads it again. Refused while the title is playing.
    pub async fn download_remove(&self, title_id: &str, delete_files: bool) -> Result<()> {
        self.downloads.remove(title_id, delete_files).await
    }

    /// The global download and upload limits.
    pub async fn downloads_limits_get(&self) -> Result<DownloadLimits> {
        self.downloads.limits().await
    }

    /// Sets, keeps and applies the global download and upload limits (KiB/s, `None` for none).
    pub async fn downloads_limits_set(&self, limits: DownloadLimits) -> Result<DownloadLimits> {
        self.downloads.set_limits(limits).await
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(state: DownloadState, done: u64, total: u64, speed: u64) -> DownloadProgress {
        DownloadProgress {
            title_id: "t".into(),
            state,
            downloaded_bytes: done,
            total_bytes: total,
            down_bytes_per_s: speed,
            up_bytes_per_s: 0,
            peers: 1,
            error: None,
        }
    }

    #[test]
    fn time_left_is_what_remains_over_the_speed_rounded_up() {
        let d = DownloadState::Downloading;
        assert_eq!(eta_s(&progress(d, 0, 1000, 100)), Some(10));
        assert_eq!(eta_s(&progress(d, 1, 1000, 100)), Some(10));
        assert_eq!(eta_s(&progress(d, 999, 1000, 100)), Some(1));
        // Stalled, done, or not downloading: nothing to promise.
        assert_eq!(eta_s(&progress(d, 0, 1000, 0)), None);
        assert_eq!(eta_s(&progress(d, 1000, 1000, 100)), None);
        assert_eq!(eta_s(&progress(d, 2000, 1000, 100)), None);
        assert_eq!(eta_s(&progress(DownloadState::Paused, 0, 1000, 100)), None);
    }

    #[test]
    fn limits_below_one_block_a_second_are_refused_in_words() {
        assert!(check_limit("download", None).is_ok());
        assert!(check_limit("download", Some(MIN_LIMIT_KIB_S)).is_ok());
        assert!(check_limit("upload", Some(MAX_LIMIT_KIB_S)).is_ok());
        for bad in [0, MIN_LIMIT_KIB_S - 1, MAX_LIMIT_KIB_S + 1] {
            let e = check_limit("upload", Some(bad)).unwrap_err();
            assert!(e.to_string().contains("Leave it empty"), "{e}");
        }
    }
}
