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
//!
//! A limit on active downloads makes a queue ([`queue`] has its rules): the first titles in
//! queue order download, the others wait paused and start in turn as one finishes, is paused or
//! removed. The order lives in the library, so it outlives the run; the queue is looked at after
//! each change the person makes and every second (a download finishing is noticed there).

pub(crate) mod give_back;
mod queue;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use marquee_protocol::clock::Clock;

use crate::api::{
    DownloadItem, DownloadLimits, DownloadProgress, DownloadState, GiveBack, GiveBackSpan,
    LimitsSchedule, SeedingPolicy, SpeedsInForce, TitleKind, TitleOrigin, DEFAULT_ACTIVE_DOWNLOADS,
};
use crate::db::Settings;
use crate::error::{Error, Result};
use crate::library::{DownloadHold, Library, QueueEntry};
use crate::orders::Orders;
use crate::playback::Playback;
use crate::torrents::Torrents;

/// The settings keys of the two limits (KiB/s; absent is unlimited).
const DOWNLOAD_LIMIT_KEY: &str = "download_limit_kib_s";
const UPLOAD_LIMIT_KEY: &str = "upload_limit_kib_s";
/// The settings key of the limit on active downloads: absent is
/// [`DEFAULT_ACTIVE_DOWNLOADS`], 0 is no limit.
const ACTIVE_DOWNLOADS_KEY: &str = "active_downloads";
/// The settings key of the speed limits' schedule, "FROM-UNTIL" in minutes after local
/// midnight; absent is always.
const SCHEDULE_KEY: &str = "limits_schedule";
/// Minutes in a day.
const DAY_MINUTES: u16 = 24 * 60;
/// The settings keys of the seeding policy: `share` is "false" when the person opted out;
/// the limits are absent when none.
const SHARE_KEY: &str = "seeding_share";
const UNTIL_RATIO_KEY: &str = "seeding_until_ratio";
const UNTIL_HOURS_KEY: &str = "seeding_until_hours";

/// The highest ratio the seeding policy takes: past it, "no limit" is what anyone means.
pub const MAX_SEED_RATIO: f64 = 100.0;
/// The longest the seeding policy's time limit can be: a year, in hours.
pub const MAX_SEED_HOURS: u32 = 8_760;

/// The most titles the person may let download at once: more is no limit in practice, and a
/// typo of 30000 is not what anyone meant.
pub const MAX_ACTIVE_DOWNLOADS: u32 = 100;

/// How long a title counts as watched after the playback server last sent any of it: a
/// `<video>` asks for the next range a while after the last one ended (or after the person
/// paused the picture), and a title put back in line meanwhile would stall the player.
const WATCH_GRACE: Duration = Duration::from_secs(60);

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
    /// The limit on active downloads in force; 0 is none.
    active_limit: AtomicU32,
    /// When each title was last seen being watched (opened to play, or sent by the playback
    /// server).
    watched: Mutex<HashMap<String, Instant>>,
    /// Held while the queue is looked at, and while the person changes a download: the queue
    /// reads what the person decided and the session's states, then acts on them, and a pause
    /// landing in between would be undone.
    queue_turn: tokio::sync::Mutex<()>,
    /// What this computer received and gave, title by title.
    give_back: give_back::Ledger,
    /// The computer's clock, for the give-back slots.
    clock: Clock,
    /// The seeding policy in force, as stored (read at start, changed by the person).
    seeding: std::sync::RwLock<SeedingPolicy>,
    /// The person's limits, as stored, and the speeds applied to the session from them at the
    /// last look at the schedule.
    limits: std::sync::Mutex<(DownloadLimits, Option<SpeedsInForce>)>,
}

impl Downloads {
    pub(crate) fn new(
        library: Library,
        settings: Settings,
        torrents: Arc<Torrents>,
        orders: Arc<Orders>,
        playback: Arc<Playback>,
        give_back: give_back::Ledger,
        clock: Clock,
    ) -> Downloads {
        Downloads {
            library,
            settings,
            torrents,
            orders,
            playback,
            active_limit: AtomicU32::new(DEFAULT_ACTIVE_DOWNLOADS),
            watched: Mutex::default(),
            queue_turn: tokio::sync::Mutex::new(()),
            give_back,
            clock,
            seeding: std::sync::RwLock::new(SeedingPolicy::default()),
            limits: std::sync::Mutex::new((DownloadLimits::default(), None)),
        }
    }

    /// Every download and seed: those downloading first, then those waiting their turn, both in
    /// queue order, then the rest (seeding, paused, stopped) most recently acquired first. Each
    /// title except those the person removed; one not in the session yet (start-up adds them
    /// one by one) is queued.
    pub(crate) async fn list(&self) -> Result<Vec<DownloadItem>> {
        let rows = self.library.list().await?;
        let queue = self.library.queue().await?;
        let given = self.give_back.by_title().await?;
        let positions: HashMap<&str, u32> = queue
            .iter()
            .zip(self.turns(&queue))
            .filter_map(|(q, turn)| Some((q.title_id.as_str(), turn.position()?)))
            .collect();
        let mut items: Vec<DownloadItem> = rows
            .iter()
            .filter_map(|row| {
                let mut progress = self.torrents.progress_of(row);
                // The queue's last look (every second, and after each change) decided which
                // titles the policy no longer shares.
                if progress.state == DownloadState::Done && self.torrents.is_unshared(&row.title.id)
                {
                    progress.state = DownloadState::Shared;
                }
                (progress.state != DownloadState::Removed).then(|| DownloadItem {
                    name: row.title.name.clone(),
                    kind: TitleKind::parse(&row.title.kind),
                    origin: row.origin,
                    height: row.title.height,
                    eta_s: eta_s(&progress),
                    files_deletable: row.origin != TitleOrigin::Published,
                    queue_position: positions.get(row.title.id.as_str()).copied(),
                    give_back: given.get(&row.title.id).copied().unwrap_or_default(),
                    progress,
                })
            })
            .collect();
        // Stable: the rest keep the library's order.
        items.sort_by_key(|d| match d.queue_position {
            Some(at) if d.progress.state != DownloadState::Queued => (0, at),
            Some(at) => (1, at),
            None => (2, 0),
        });
        Ok(items)
    }

    /// The queue's decision for each title of `queue`, one for one, from where each stands
    /// in the session now.
    fn turns(&self, queue: &[QueueEntry]) -> Vec<queue::Turn> {
        let candidates: Vec<queue::Candidate> = queue
            .iter()
            .map(|q| queue::Candidate {
                standing: self.standing(q),
                watched: self.is_watched(&q.title_id),
            })
            .collect();
        let limit = match self.active_limit.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n),
        };
        queue::turns(&candidates, limit)
    }

    /// Where a title stands, as the queue sees it.
    fn standing(&self, q: &QueueEntry) -> queue::Standing {
        if q.hold.is_some() {
            return queue::Standing::Aside;
        }
        let Some(handle) = self.torrents.get(&q.title_id) else {
            // Still joining the session (start-up adds the titles one by one).
            return queue::Standing::Incomplete;
        };
        match crate::torrents::progress(&q.title_id, &handle).state {
            DownloadState::Seeding | DownloadState::Done | DownloadState::Shared => {
                queue::Standing::Complete
            }
            DownloadState::DiskFull => queue::Standing::DiskFull,
            DownloadState::Error | DownloadState::Removed => queue::Standing::Aside,
            DownloadState::Queued | DownloadState::Downloading | DownloadState::Paused => {
                queue::Standing::Incomplete
            }
        }
    }

    /// Whether the person is watching the title: the playback server is sending it, or did
    /// (or it was opened to play) within [`WATCH_GRACE`].
    fn is_watched(&self, title_id: &str) -> bool {
        let mut watched = self.watched.lock().expect("watched");
        if self.playback.server().streaming(title_id) {
            watched.insert(title_id.to_owned(), Instant::now());
            return true;
        }
        watched
            .get(title_id)
            .is_some_and(|at| at.elapsed() < WATCH_GRACE)
    }

    /// Looks at the queue: starts the titles whose turn it is and the complete ones (to seed),
    /// holds back the others.
    pub(crate) async fn keep_queue(&self) -> Result<()> {
        let _turn = self.queue_turn.lock().await;
        self.keep_queue_held().await
    }

    /// [`Self::keep_queue`], with the queue's lock already held.
    async fn keep_queue_held(&self) -> Result<()> {
        let queue = self.library.queue().await?;
        let turns = self.turns(&queue);
        let shared = self.sharing_done(&queue).await?;
        self.torrents.set_unshared(shared.clone());
        let held: HashSet<String> = queue
            .iter()
            .zip(&turns)
            .filter(|(_, t)| matches!(t, queue::Turn::Wait { .. }))
            .map(|(q, _)| q.title_id.clone())
            .collect();
        // First, so that a title about to be paused reads as waiting, not paused by the person.
        self.torrents.set_held_back(held);
        for (q, turn) in queue.iter().zip(turns) {
            let Some(handle) = self.torrents.get(&q.title_id) else {
                continue;
            };
            let acted = match turn {
                queue::Turn::Seed if shared.contains(&q.title_id) => {
                    if crate::torrents::running(&handle) {
                        tracing::info!(title = %q.title_id, "shared as long as the seeding policy asks");
                        self.torrents.pause(&handle).await
                    } else {
                        Ok(())
                    }
                }
                queue::Turn::Download { .. } | queue::Turn::Seed
                    if crate::torrents::paused(&handle) =>
                {
                    tracing::info!(title = %q.title_id, ?turn, "its turn in the download queue");
                    self.torrents.resume(&handle).await
                }
                queue::Turn::Wait { .. } if crate::torrents::running(&handle) => {
                    tracing::info!(title = %q.title_id, ?turn, "waiting its turn in the download queue");
                    self.torrents.pause(&handle).await
                }
                _ => Ok(()),
            };
            if let Err(e) = acted {
                tracing::warn!(title = %q.title_id, error = %e, "keeping the download queue");
            }
        }
        Ok(())
    }

    /// Until `stop` turns true, looks at the queue every `every`: a download that finished
    /// hands its turn on, a title the person started watching downloads; and counts what moved
    /// for the give-back ledger.
    pub(crate) async fn keep_queue_until(
        &self,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            if let Err(e) = self.keep_queue().await {
                tracing::warn!(error = %e, "keeping the download queue");
            }
            self.keep_schedule();
            let transfers = self.torrents.transfers();
            if let Err(e) = self.give_back.count(&transfers, self.clock.now()).await {
                tracing::warn!(error = %e, "counting what this computer gives back");
            }
        }
    }

    /// Writes what the give-back ledger counted and has not written yet.
    pub(crate) async fn write_give_back(&self) {
        if let Err(e) = self.give_back.write().await {
            tracing::warn!(error = %e, "writing what this computer gives back");
        }
    }

    /// Moves a title to place `to_position` (from 1) in the download queue; past the end is
    /// the end. The titles between shift by one; a title out of the queue (seeding, paused,
    /// stopped) has no place to move from.
    pub(crate) async fn move_to(&self, title_id: &str, to_position: u32) -> Result<()> {
        self.library.row(title_id).await?;
        let _turn = self.queue_turn.lock().await;
        let queue = self.library.queue().await?;
        let in_queue: Vec<bool> = self
            .turns(&queue)
            .iter()
            .map(|t| t.position().is_some())
            .collect();
        let from = queue
            .iter()
            .position(|q| q.title_id == title_id)
            .filter(|at| in_queue[*at])
            .ok_or_else(|| {
                Error::DownloadRefused(
                    "Only a title that is downloading or waiting its turn has a place in the \
                     queue; nothing was moved."
                        .into(),
                )
            })?;
        let ids: Vec<String> = queue.into_iter().map(|q| q.title_id).collect();
        self.library
            .set_queue(&queue::moved(&ids, &in_queue, from, to_position))
            .await?;
        tracing::info!(title = %title_id, to_position, "moved in the download queue");
        self.keep_queue_held().await
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
                // One the queue holds back starts in its turn, not when the disk has room.
                if p.state != DownloadState::DiskFull || self.torrents.is_held_back(&id) {
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

    /// Pauses a title's download (or seeding), now and in later runs; the next title in the
    /// queue takes its turn.
    pub(crate) async fn pause(&self, title_id: &str) -> Result<()> {
        self.library.row(title_id).await?;
        let _turn = self.queue_turn.lock().await;
        // Recorded first: a title not in the session yet is then added paused.
        self.library
            .set_hold(title_id, Some(DownloadHold::Paused))
            .await?;
        let row = self.library.row(title_id).await?;
        let (handle, _) = self.torrents.ensure(&row, None).await?;
        self.torrents.pause(&handle).await?;
        self.keep_queue_held().await
    }

    /// Resumes a paused title, or downloads a removed one again (the files it kept are checked,
    /// not fetched again; it joins the end of the queue). It downloads when its turn in the
    /// queue comes, at once if it is ahead of the titles downloading.
    pub(crate) async fn resume(&self, title_id: &str) -> Result<()> {
        let before = self.library.row(title_id).await?;
        let _turn = self.queue_turn.lock().await;
        self.library.set_hold(title_id, None).await?;
        if before.hold == Some(DownloadHold::Removed) {
            self.library.queue_at_end(title_id).await?;
        }
        let row = self.library.row(title_id).await?;
        self.orders.start_download(&row, None).await?;
        if let Some(handle) = self.torrents.get(title_id) {
            // Stopped by an error: checked again and started, as the person asked; the queue
            // holds it back again if it is not its turn. A paused one waits for the queue.
            if crate::torrents::errored(&handle) {
                self.torrents.resume(&handle).await?;
            }
        }
        self.keep_queue_held().await
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
        let _turn = self.queue_turn.lock().await;
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
        self.keep_queue_held().await
    }

    /// Watching a title means now: a paused or removed download starts again, and one waiting
    /// its turn in the queue downloads at once, past the limit.
    pub(crate) async fn before_watch(&self, title_id: &str) -> Result<()> {
        self.watched
            .lock()
            .expect("watched")
            .insert(title_id.to_owned(), Instant::now());
        match self.library.get(title_id).await? {
            Some(row) if row.hold.is_some() => self.resume(title_id).await,
            Some(row) => {
                let _turn = self.queue_turn.lock().await;
                self.orders.start_download(&row, None).await?;
                self.keep_queue_held().await
            }
            None => Ok(()),
        }
    }

    /// Getting a title again undoes its removal (the order starts its download).
    pub(crate) async fn before_acquire(&self, title_id: &str) -> Result<()> {
        match self.library.get(title_id).await? {
            Some(row) if row.hold == Some(DownloadHold::Removed) => {
                self.library.set_hold(title_id, None).await?;
                self.library.queue_at_end(title_id).await
            }
            _ => Ok(()),
        }
    }

    /// The titles of `queue` the seeding policy no longer shares (once complete): all but those
    /// made to be shared when the person opted out; otherwise those past the policy's ratio or
    /// time that are not made to be shared. A title the person paused or removed is theirs,
    /// not the policy's.
    async fn sharing_done(&self, queue: &[QueueEntry]) -> Result<HashSet<String>> {
        let policy = *self.seeding.read().expect("seeding");
        if policy.share && policy.until_ratio.is_none() && policy.until_hours.is_none() {
            return Ok(HashSet::new());
        }
        let made_to_share: HashMap<String, bool> =
            self.library.made_to_share().await?.into_iter().collect();
        let shared = self.give_back.shared().await?;
        Ok(queue
            .iter()
            .filter(|q| q.hold.is_none())
            .filter(|q| {
                let size = self
                    .torrents
                    .get(&q.title_id)
                    .map_or(0, |h| h.stats().total_bytes);
                let s = shared.get(&q.title_id).copied().unwrap_or_default();
                !still_shared(&policy, made_to_share.get(&q.title_id).copied(), s, size)
            })
            .map(|q| q.title_id.clone())
            .collect())
    }

    /// The seeding policy, as stored.
    pub(crate) async fn seeding(&self) -> Result<SeedingPolicy> {
        let ratio = self.settings.get(UNTIL_RATIO_KEY).await?;
        let hours = self.settings.get(UNTIL_HOURS_KEY).await?;
        Ok(SeedingPolicy {
            share: self.settings.get(SHARE_KEY).await?.as_deref() != Some("false"),
            until_ratio: ratio.and_then(|s| s.parse().ok()),
            until_hours: hours.and_then(|s| s.parse().ok()),
        })
    }

    /// Checks, stores and applies the seeding policy: titles past it stop sharing now, titles
    /// it allows again start sharing again.
    pub(crate) async fn set_seeding(&self, policy: SeedingPolicy) -> Result<SeedingPolicy> {
        check_seeding(&policy)?;
        self.settings
            .set(SHARE_KEY, if policy.share { "true" } else { "false" })
            .await?;
        match policy.until_ratio {
            Some(r) => self.settings.set(UNTIL_RATIO_KEY, &r.to_string()).await?,
            None => self.settings.remove(UNTIL_RATIO_KEY).await?,
        }
        match policy.until_hours {
            Some(h) => self.settings.set(UNTIL_HOURS_KEY, &h.to_string()).await?,
            None => self.settings.remove(UNTIL_HOURS_KEY).await?,
        }
        *self.seeding.write().expect("seeding") = policy;
        tracing::info!(?policy, "seeding policy");
        self.keep_queue().await?;
        Ok(policy)
    }

    /// The global transfer limits.
    pub(crate) async fn limits(&self) -> Result<DownloadLimits> {
        let read = |v: Option<String>| v.and_then(|s| s.parse().ok());
        let active = match self.settings.get(ACTIVE_DOWNLOADS_KEY).await? {
            None => Some(DEFAULT_ACTIVE_DOWNLOADS),
            Some(stored) => stored.parse().ok().filter(|n| *n > 0),
        };
        let schedule = self.settings.get(SCHEDULE_KEY).await?;
        Ok(DownloadLimits {
            download_kib_s: read(self.settings.get(DOWNLOAD_LIMIT_KEY).await?),
            upload_kib_s: read(self.settings.get(UPLOAD_LIMIT_KEY).await?),
            active_downloads: active,
            schedule: schedule.as_deref().and_then(parse_schedule),
        })
    }

    /// Checks, stores and applies the global transfer limits (an active downloads limit of 0
    /// is none, and is answered as `None`).
    pub(crate) async fn set_limits(&self, limits: DownloadLimits) -> Result<DownloadLimits> {
        check_limit("download", limits.download_kib_s)?;
        check_limit("upload", limits.upload_kib_s)?;
        check_active(limits.active_downloads)?;
        check_schedule(limits.schedule)?;
        let limits = DownloadLimits {
            active_downloads: limits.active_downloads.filter(|n| *n > 0),
            ..limits
        };
        for (key, value) in [
            (DOWNLOAD_LIMIT_KEY, limits.download_kib_s),
            (UPLOAD_LIMIT_KEY, limits.upload_kib_s),
        ] {
            match value {
                Some(v) => self.settings.set(key, &v.to_string()).await?,
                None => self.settings.remove(key).await?,
            }
        }
        // Kept even when none: absent means the default.
        let active = limits.active_downloads.unwrap_or(0);
        self.settings
            .set(ACTIVE_DOWNLOADS_KEY, &active.to_string())
            .await?;
        match limits.schedule {
            Some(w) => {
                let stored = format!("{}-{}", w.from_minute, w.until_minute);
                self.settings.set(SCHEDULE_KEY, &stored).await?
            }
            None => self.settings.remove(SCHEDULE_KEY).await?,
        }
        self.apply(limits);
        self.keep_queue().await?;
        Ok(limits)
    }

    /// Applies the stored limits to the session and the queue, and the stored seeding policy
    /// (at start).
    pub(crate) async fn apply_limits(&self) -> Result<()> {
        self.apply(self.limits().await?);
        *self.seeding.write().expect("seeding") = self.seeding().await?;
        let queue = self.library.queue().await?;
        self.torrents.set_unshared(self.sharing_done(&queue).await?);
        Ok(())
    }

    fn apply(&self, limits: DownloadLimits) {
        let active = limits.active_downloads.unwrap_or(0);
        self.active_limit.store(active, Ordering::SeqCst);
        self.torrents.set_active_limit(active);
        *self.limits.lock().expect("limits") = (limits, None);
        self.keep_schedule();
    }

    /// Applies the speeds the schedule asks for now, if they changed since the last look.
    fn keep_schedule(&self) {
        let minute = local_minute(self.clock.now());
        let mut held = self.limits.lock().expect("limits");
        let now = speeds_at(&held.0, minute);
        if held.1 != Some(now) {
            if held.1.is_some() {
                tracing::info!(?now, "the speed limits' schedule");
            }
            self.torrents
                .set_limits(now.download_kib_s, now.upload_kib_s);
            held.1 = Some(now);
        }
    }

    /// The speed limits in force now.
    pub(crate) fn speeds_in_force(&self) -> SpeedsInForce {
        self.keep_schedule();
        let held = self.limits.lock().expect("limits");
        held.1
            .unwrap_or_else(|| speeds_at(&held.0, local_minute(self.clock.now())))
    }
}

/// Whether the seeding policy still shares a complete title of `size` bytes that gave and
/// seeded as much as `shared`; `made_to_share` is `Some(published)` for a title made to be
/// shared (the store's free titles, and videos this computer published).
fn still_shared(
    policy: &SeedingPolicy,
    made_to_share: Option<bool>,
    shared: give_back::Shared,
    size: u64,
) -> bool {
    if !policy.share {
        // Opted out: only a video published here, which has no other copy.
        return made_to_share == Some(true);
    }
    if made_to_share.is_some() {
        return true;
    }
    let past_ratio = policy
        .until_ratio
        .is_some_and(|r| size > 0 && shared.given as f64 >= r * size as f64);
    let past_time = policy
        .until_hours
        .is_some_and(|h| shared.seeding_s >= i64::from(h) * 3600);
    !(past_ratio || past_time)
}

/// The speeds `limits` ask for at `minute` after local midnight.
fn speeds_at(limits: &DownloadLimits, minute: u16) -> SpeedsInForce {
    let outside = limits.schedule.is_some_and(|w| !w.applies_at(minute));
    SpeedsInForce {
        download_kib_s: limits.download_kib_s.filter(|_| !outside),
        upload_kib_s: limits.upload_kib_s.filter(|_| !outside),
        outside_schedule: outside,
    }
}

/// Minutes after local midnight at unix second `now_s`, in the computer's time zone.
fn local_minute(now_s: i64) -> u16 {
    use chrono::{TimeZone as _, Timelike as _};
    chrono::Local
        .timestamp_opt(now_s, 0)
        .earliest()
        .map_or(0, |t| (t.hour() * 60 + t.minute()) as u16)
}

/// A stored schedule, "FROM-UNTIL" in minutes; anything else is none.
fn parse_schedule(stored: &str) -> Option<LimitsSchedule> {
    let (from, until) = stored.split_once('-')?;
    let w = LimitsSchedule {
        from_minute: from.parse().ok()?,
        until_minute: until.parse().ok()?,
    };
    check_schedule(Some(w)).ok().map(|()| w)
}

fn check_schedule(schedule: Option<LimitsSchedule>) -> Result<()> {
    match schedule {
        Some(w) if w.from_minute >= DAY_MINUTES || w.until_minute >= DAY_MINUTES => {
            Err(Error::DownloadRefused(
                "A time of day is from 00:00 to 23:59. Leave both times empty for limits at \
                 every hour."
                    .into(),
            ))
        }
        Some(w) if w.from_minute == w.until_minute => Err(Error::DownloadRefused(
            "The limits would start and stop at the same minute. Leave both times empty for \
             limits at every hour."
                .into(),
        )),
        _ => Ok(()),
    }
}

fn check_seeding(policy: &SeedingPolicy) -> Result<()> {
    if let Some(r) = policy.until_ratio {
        if !(r.is_finite() && r > 0.0 && r <= MAX_SEED_RATIO) {
            return Err(Error::DownloadRefused(format!(
                "A ratio to share until is a number above 0 and at most {MAX_SEED_RATIO} ({r} \
                 was given). Leave it empty for no limit."
            )));
        }
    }
    match policy.until_hours {
        Some(h) if h == 0 || h > MAX_SEED_HOURS => Err(Error::DownloadRefused(format!(
            "A time to share for is from 1 to {MAX_SEED_HOURS} hours ({h} was given). Leave it \
             empty for no limit."
        ))),
        _ => Ok(()),
    }
}

fn check_active(active: Option<u32>) -> Result<()> {
    match active {
        Some(n) if n > MAX_ACTIVE_DOWNLOADS => Err(Error::DownloadRefused(format!(
            "At most {MAX_ACTIVE_DOWNLOADS} titles can download at once ({n} was given). Leave \
             it empty for no limit."
        ))),
        _ => Ok(()),
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
        let (downloads, stop) = (self.downloads.clone(), self.stopping.subscribe());
        tokio::spawn(async move {
            downloads
                .keep_queue_until(std::time::Duration::from_secs(1), stop)
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
        self.downloads.keep_queue().await
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

    /// Moves a title to place `to_position` (from 1) in the download queue: the titles still to
    /// download, in the order they start. Refused for a title out of the queue (seeding, paused
    /// or stopped).
    pub async fn download_move(&self, title_id: &str, to_position: u32) -> Result<()> {
        self.downloads.move_to(title_id, to_position).await
    }

    /// Looks at the download queue now (after a title joins it): starts the titles whose turn
    /// it is, holds back the others.
    pub(crate) async fn keep_download_queue(&self) {
        if let Err(e) = self.downloads.keep_queue().await {
            tracing::warn!(error = %e, "keeping the download queue");
        }
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

    /// Sets, keeps and applies the global limits: download and upload speeds (KiB/s) and how
    /// many titles download at once (`None` for none).
    pub async fn downloads_limits_set(&self, limits: DownloadLimits) -> Result<DownloadLimits> {
        self.downloads.set_limits(limits).await
    }

    /// The speed limits in force now: the person's, inside their schedule (or always without
    /// one), none outside it.
    pub fn downloads_speeds_in_force(&self) -> SpeedsInForce {
        self.downloads.speeds_in_force()
    }

    /// When complete titles stop being shared.
    pub async fn downloads_seeding_get(&self) -> Result<SeedingPolicy> {
        self.downloads.seeding().await
    }

    /// Sets, keeps and applies when complete titles stop being shared: titles past it stop
    /// now, titles it allows again share again.
    pub async fn downloads_seeding_set(&self, policy: SeedingPolicy) -> Result<SeedingPolicy> {
        self.downloads.set_seeding(policy).await
    }

    /// What this computer received (from other viewers, from the store) and gave to others: in
    /// total, and slot by slot over `span`.
    pub async fn downloads_give_back(&self, span: GiveBackSpan) -> Result<GiveBack> {
        self.downloads
            .give_back
            .give_back(span, self.downloads.clock.now())
            .await
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
    fn the_seeding_policy_stops_at_its_ratio_or_time_but_never_a_title_made_to_be_shared() {
        use give_back::Shared;
        let limits = SeedingPolicy {
            share: true,
            until_ratio: Some(1.5),
            until_hours: Some(2),
        };
        let gave = |given, hours: i64| Shared {
            given,
            seeding_s: hours * 3600,
        };
        assert!(still_shared(&limits, None, gave(149, 1), 100));
        assert!(
            !still_shared(&limits, None, gave(150, 1), 100),
            "at the ratio"
        );
        assert!(
            !still_shared(&limits, None, gave(0, 2), 100),
            "after the time"
        );
        // A size not known yet (still joining the session) stops nothing by ratio.
        assert!(still_shared(&limits, None, gave(10, 0), 0));
        // Free titles and this computer's own videos are shared whatever the limits.
        assert!(still_shared(&limits, Some(false), gave(1000, 50), 100));
        assert!(still_shared(&limits, Some(true), gave(1000, 50), 100));
        // No limits: shared for ever.
        let forever = SeedingPolicy::default();
        assert!(still_shared(
            &forever,
            None,
            gave(u64::MAX, i64::MAX / 7200),
            1
        ));
        // Opted out: nothing is shared but a video published here.
        let opted_out = SeedingPolicy {
            share: false,
            ..forever
        };
        assert!(!still_shared(&opted_out, None, gave(0, 0), 100));
        assert!(!still_shared(&opted_out, Some(false), gave(0, 0), 100));
        assert!(still_shared(&opted_out, Some(true), gave(0, 0), 100));
    }

    #[test]
    fn a_seeding_policy_out_of_range_is_refused_in_words() {
        let with = |until_ratio, until_hours| SeedingPolicy {
            share: true,
            until_ratio,
            until_hours,
        };
        for good in [
            with(None, None),
            with(Some(0.1), Some(1)),
            with(Some(MAX_SEED_RATIO), Some(MAX_SEED_HOURS)),
        ] {
            assert!(check_seeding(&good).is_ok(), "{good:?}");
        }
        for bad in [
            with(Some(0.0), None),
            with(Some(-1.0), None),
            with(Some(f64::NAN), None),
            with(Some(f64::INFINITY), None),
            with(Some(MAX_SEED_RATIO + 1.0), None),
            with(None, Some(0)),
            with(None, Some(MAX_SEED_HOURS + 1)),
        ] {
            let e = check_seeding(&bad).unwrap_err();
            assert!(e.to_string().contains("Leave it empty"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn the_speed_limits_apply_only_inside_their_schedule_even_past_midnight() {
        let limits = |schedule| DownloadLimits {
            download_kib_s: Some(64),
            upload_kib_s: None,
            active_downloads: None,
            schedule,
        };
        let at = |l: &DownloadLimits, hh: u16, mm: u16| speeds_at(l, hh * 60 + mm);
        let always = limits(None);
        assert_eq!(at(&always, 3, 0).download_kib_s, Some(64));
        assert!(!at(&always, 3, 0).outside_schedule);
        // Evenings: 18:00 until 23:30.
        let evenings = limits(Some(LimitsSchedule {
            from_minute: 18 * 60,
            until_minute: 23 * 60 + 30,
        }));
        assert_eq!(at(&evenings, 17, 59).download_kib_s, None);
        assert!(at(&evenings, 17, 59).outside_schedule);
        assert_eq!(at(&evenings, 18, 0).download_kib_s, Some(64));
        assert_eq!(at(&evenings, 23, 29).download_kib_s, Some(64));
        assert_eq!(at(&evenings, 23, 30).download_kib_s, None);
        // Nights: 22:00 until 06:00, past midnight.
        let nights = limits(Some(LimitsSchedule {
            from_minute: 22 * 60,
            until_minute: 6 * 60,
        }));
        for (hh, limited) in [
            (21, false),
            (22, true),
            (0, true),
            (5, true),
            (6, false),
            (12, false),
        ] {
            assert_eq!(
                at(&nights, hh, 0).download_kib_s.is_some(),
                limited,
                "{hh}:00"
            );
        }
        // Stored and read back; a stored value that is not a schedule is none.
        assert_eq!(parse_schedule("1320-360"), nights.schedule);
        for bad in ["", "1320", "a-b", "1440-0", "60-60", "-1-5"] {
            assert_eq!(parse_schedule(bad), None, "{bad}");
        }
        assert!(check_schedule(Some(LimitsSchedule {
            from_minute: 0,
            until_minute: 1440
        }))
        .is_err());
    }

    #[test]
    fn more_active_downloads_than_the_most_are_refused_in_words() {
        for good in [None, Some(0), Some(1), Some(MAX_ACTIVE_DOWNLOADS)] {
            assert!(check_active(good).is_ok(), "{good:?}");
        }
        let e = check_active(Some(MAX_ACTIVE_DOWNLOADS + 1)).unwrap_err();
        assert!(e.to_string().contains("Leave it empty"), "{e}");
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
