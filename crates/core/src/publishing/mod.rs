//! Publishing a viewer's videos to the community shelf, and sharing free titles outside the
//! store: magnet links, `.torrent` files, exported files, and titles added from them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use librqbit::{AddTorrent, ManagedTorrent};

use crate::api::*;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::library::{Library, LibraryRow, LibraryTitle};
use crate::licences::Licences;
use crate::playback::{OpenTitle, Playback};
use crate::torrents::{Added, Torrents};
use marquee_protocol::StoreClient;

pub mod file;
pub mod probe;
use crate::torrent_file;

use file as publish;
pub use file::PublishError;

/// Files handed to the core by the shell (drag and drop, file picker), known to the page only
/// by id; and drafts being published.
#[derive(Default)]
struct Drops {
    files: Mutex<HashMap<String, PathBuf>>,
    /// Magnet links opened, by drop id.
    magnets: Mutex<HashMap<String, OpenedMagnet>>,
    cancels: Mutex<HashMap<String, Arc<AtomicBool>>>,
    drafts: Mutex<HashMap<String, Draft>>,
}

/// A magnet link opened, and its torrent once its peers described it.
#[derive(Clone)]
struct OpenedMagnet {
    link: String,
    torrent: Option<Vec<u8>>,
}

struct Draft {
    prepared: publish::PreparedFile,
    torrent: Vec<u8>,
    info_hash: String,
    handle: Arc<ManagedTorrent>,
}

/// Upper bound of a poster image.
const MAX_POSTER_BYTES: usize = 4 * 1024 * 1024;
/// How long a magnet link may take to find its metadata.
const MAGNET_TIMEOUT: Duration = Duration::from_secs(60);

/// Publishing and sharing from this computer: dropped files, drafts, and the titles they
/// become.
pub(crate) struct Publishing {
    drops: Drops,
    store: StoreClient,
    identity: Arc<Identity>,
    catalog: Arc<Catalog>,
    library: Library,
    licences: Arc<Licences>,
    torrents: Arc<Torrents>,
    playback: Arc<Playback>,
    /// Where the name this computer last published under is kept, to offer it again.
    settings: crate::db::Settings,
}

/// The setting that keeps the name last published under.
const PUBLISHER_NAME: &str = "publisher_name";

impl Publishing {
    pub(crate) fn new(
        store: StoreClient,
        identity: Arc<Identity>,
        catalog: Arc<Catalog>,
        library: Library,
        licences: Arc<Licences>,
        torrents: Arc<Torrents>,
        playback: Arc<Playback>,
    ) -> Publishing {
        Publishing {
            settings: library.settings(),
            drops: Drops::default(),
            store,
            identity,
            catalog,
            library,
            licences,
            torrents,
            playback,
        }
    }

    /// Registers a file the shell received from a drop or the file picker. Only the shell calls
    /// this: the page never hands the core a path.
    pub(crate) fn drop_register(&self, path: PathBuf) -> DroppedFile {
        let drop_id = uuid::Uuid::new_v4().to_string();
        let name = publish::display_name(&path);
        let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("torrent") => DroppedKind::Torrent,
            _ => DroppedKind::Video,
        };
        self.drops
            .files
            .lock()
            .expect("drops")
            .insert(drop_id.clone(), path);
        DroppedFile {
            drop_id,
            name,
            size_bytes,
            kind,
        }
    }

    /// A dropped file's name as the sheets show it (a magnet link's `dn`).
    fn dropped_name(&self, drop_id: &str) -> Result<String> {
        if let Some(m) = self.drops.magnets.lock().expect("drops").get(drop_id) {
            return Ok(magnet_name(&m.link));
        }
        Ok(publish::display_name(&self.dropped_path(drop_id)?))
    }

    pub(crate) fn dropped_path(&self, drop_id: &str) -> Result<PathBuf> {
        self.drops
            .files
            .lock()
            .expect("drops")
            .get(drop_id)
            .cloned()
            .ok_or(Error::FileGone)
    }

    /// Cancels preparing a dropped file.
    pub(crate) fn publish_cancel(&self, drop_id: &str) {
        if let Some(c) = self.drops.cancels.lock().expect("drops").get(drop_id) {
            c.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Checks a dropped video, copies it into the data folder (the original is only read),
    /// makes its torrent and starts seeding it, and opens it for the sheet's preview.
    pub(crate) async fn publish_prepare(
        &self,
        drop_id: &str,
        progress: impl Fn(PublishProgress) + Send + Sync + 'static,
    ) -> Result<PublishDraft> {
        let source = self.dropped_path(drop_id)?;
        let cancel = Arc::new(AtomicBool::new(false));
        self.drops
            .cancels
            .lock()
            .expect("drops")
            .insert(drop_id.to_owned(), cancel.clone());
        let dir = self.torrents.published_folder();
        let progress = Arc::new(progress);
        let report = progress.clone();
        let id = drop_id.to_owned();
        let prepared = tokio::task::spawn_blocking(move || {
            publish::prepare(&source, &dir, &cancel, |done, total| {
                report(PublishProgress {
                    drop_id: id.clone(),
                    stage: PublishStage::Copying,
                    done_bytes: done,
                    total_bytes: total,
                })
            })
        })
        .await
        .map_err(|e| Error::Internal(e.into()));
        self.drops.cancels.lock().expect("drops").remove(drop_id);
        let prepared = prepared??;

        progress(PublishProgress {
            drop_id: drop_id.to_owned(),
            stage: PublishStage::Hashing,
            done_bytes: 0,
            total_bytes: prepared.size,
        });
        let torrent = librqbit::create_torrent(
            &prepared.path,
            librqbit::CreateTorrentOptions {
                name: None,
                trackers: vec![self.announce_url()],
                piece_length: Some(marquee_protocol::swarm::piece_length(prepared.size)),
            },
            &librqbit::spawn_utils::BlockingSpawner::new(1),
        )
        .await
        .map_err(|e| Error::Download(format!("{e:#}")))?;
        let info_hash = torrent.info_hash().as_string();
        let torrent_bytes = torrent
            .as_bytes()
            .map_err(|e| Error::Internal(e.context("encoding the torrent")))?
            .to_vec();
        progress(PublishProgress {
            drop_id: drop_id.to_owned(),
            stage: PublishStage::Hashing,
            done_bytes: prepared.size,
            total_bytes: prepared.size,
        });

        if let Some(existing) = self.published_as(&info_hash).await? {
            // Someone else's title: our copy serves nothing. (Our own title shares the copy's
            // name, since it is named by its content, so that copy stays.)
            if self.library.by_info_hash(&info_hash).await?.is_none() {
                let _ = std::fs::remove_file(&prepared.path);
            }
            return Err(PublishError::Duplicate {
                name: publish::display_name(&prepared.path),
                existing,
            }
            .into());
        }

        let handle = self
            .torrents
            .add_source(
                AddTorrent::from_bytes(torrent_bytes.clone()),
                &self.torrents.published_folder(),
                Added::running(vec![], vec![self.announce_url()]),
            )
            .await?;
        let draft_id = uuid::Uuid::new_v4().to_string();
        self.playback.server().open(
            &preview_id(&draft_id),
            OpenTitle {
                torrent: handle.clone(),
                mime: prepared.media.mime.to_owned(),
                opener: None,
                plaintext_len: prepared.size,
                licence: None,
                first_frame_at: AtomicI64::new(0),
                clock: self.licences.clock(),
            },
        );
        let draft = PublishDraft {
            draft_id: draft_id.clone(),
            suggested_name: prepared.suggested_name.clone(),
            mime: prepared.media.mime.to_owned(),
            video_codec: prepared.media.video_codec.clone(),
            audio_codec: prepared.media.audio_codec.clone(),
            width: prepared.media.width,
            height: prepared.media.height,
            duration_s: prepared.media.duration_s,
            size_bytes: prepared.size,
            preview_url: self.playback.server().url(&preview_id(&draft_id)),
            publisher_name: self
                .settings
                .get(PUBLISHER_NAME)
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
        };
        self.drops.drafts.lock().expect("drops").insert(
            draft_id,
            Draft {
                prepared,
                torrent: torrent_bytes,
                info_hash,
                handle,
            },
        );
        Ok(draft)
    }

    /// The name of a title already carrying this content, in the library or the catalog.
    async fn published_as(&self, info_hash: &str) -> Result<Option<String>> {
        if let Some(row) = self.library.by_info_hash(info_hash).await? {
            return Ok(Some(row.title.name));
        }
        Ok(self.catalog.name_by_info_hash(info_hash))
    }

    /// Drops a draft: stops seeding it and deletes its copy (the original is untouched).
    pub(crate) async fn publish_discard(&self, draft_id: &str) -> Result<()> {
        let draft = self.drops.drafts.lock().expect("drops").remove(draft_id);
        if let Some(d) = draft {
            let shared = self.library.by_info_hash(&d.info_hash).await?.is_some();
            if !shared {
                self.torrents.remove(&d.handle, true).await;
                let _ = std::fs::remove_file(&d.prepared.path);
            }
        }
        Ok(())
    }

    /// Publishes a draft to the store's community shelf, signed by this device's publishing
    /// key, and keeps seeding it.
    pub(crate) async fn publish_submit(
        &self,
        draft_id: &str,
        form: PublishForm,
    ) -> Result<LibraryRow> {
        let name = form.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(PublishError::BadName.into());
        }
        if let Some(problem) = marquee_protocol::api::publisher_name_problem(&form.publisher_name) {
            return Err(PublishError::BadPublisherName(problem).into());
        }
        let publisher_name = form.publisher_name.trim().to_owned();
        let poster = match &form.poster_data_url {
            Some(url) => Some(decode_poster(url)?),
            None => None,
        };
        let (torrent, info_hash, prepared, handle) = {
            let drafts = self.drops.drafts.lock().expect("drops");
            let d = drafts.get(draft_id).ok_or(Error::FileGone)?;
            (
                d.torrent.clone(),
                d.info_hash.clone(),
                d.prepared.clone(),
                d.handle.clone(),
            )
        };
        let payload = marquee_protocol::api::CommunityPayload {
            name: name.to_owned(),
            synopsis: form.description.trim().to_owned(),
            language: form.language.trim().to_owned(),
            licence_to_share: form.licence_to_share.trim().to_owned(),
            mime: prepared.media.mime.to_owned(),
            width: prepared.media.width,
            height: prepared.media.height,
            runtime_s: prepared.media.duration_s.unwrap_or(0.0).round() as u32,
            size_bytes: prepared.size,
            info_hash: info_hash.clone(),
            torrent: base64::engine::general_purpose::STANDARD.encode(&torrent),
            poster: poster.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
            published_at: self.licences.local_now(),
            publisher_name: publisher_name.clone(),
        };
        let title = self
            .store
            .community_publish(
                &payload,
                &self.identity.device_id.to_hex(),
                &self.identity.keys.publisher_key(),
            )
            .await?;
        // Offered again next time; not fatal if it cannot be kept.
        if let Err(e) = self.settings.set(PUBLISHER_NAME, &publisher_name).await {
            tracing::warn!(error = %e, "keeping the name published under");
        }
        let title = LibraryTitle::from(&title);
        self.library
            .add(
                &title,
                "published",
                &torrent,
                None,
                TitleOrigin::Published,
                self.licences.local_now(),
            )
            .await?;
        self.torrents.insert(&title.id, handle);
        self.drops.drafts.lock().expect("drops").remove(draft_id);
        self.catalog.refresh().await.ok();
        self.library.row(&title.id).await
    }

    fn announce_url(&self) -> String {
        self.torrents.announce_url()
    }

    /// A magnet link for a free title (paid titles are not shared this way).
    pub(crate) async fn share_links(&self, title_id: &str) -> Result<ShareLinks> {
        let row = self.free_row(title_id).await?;
        let id: librqbit::dht::Id20 = row.title.info_hash.parse().map_err(|_| {
            Error::Internal(anyhow::anyhow!(
                "the library holds a malformed info hash for {title_id}"
            ))
        })?;
        let mut magnet =
            librqbit::Magnet::from_id20(id, vec![self.announce_url()], None).to_string();
        magnet.push_str("&dn=");
        magnet.push_str(&url_encode(&row.title.name));
        Ok(ShareLinks { magnet })
    }

    /// File names to suggest when saving a free title: (video file, `.torrent` file), from its
    /// name, made safe to save on any system (see [`export_base_name`]).
    pub(crate) async fn export_names(&self, title_id: &str) -> Result<(String, String)> {
        let row = self.free_row(title_id).await?;
        let base = export_base_name(&row.title.name, title_id);
        let ext = match row.title.mime.as_str() {
            "video/mp4" => "mp4",
            "video/x-matroska" => "mkv",
            _ => "webm",
        };
        Ok((format!("{base}.{ext}"), format!("{base}.torrent")))
    }

    /// The `.torrent` file of a free title, as it is saved for other clients: a title of the
    /// store (studio or community) names the store's tracker as `announce` and first in
    /// `announce-list`, then the further trackers the store's torrent listed. Torrents kept
    /// from before stores wrote trackers have none, and a client given such a file finds no
    /// peer. A stranger's torrent (imported) is saved as it came: the store's tracker answers
    /// only for the store's titles. The info hash does not change either way.
    pub(crate) async fn torrent_file(&self, title_id: &str) -> Result<Vec<u8>> {
        let row = self.free_row(title_id).await?;
        if row.origin == TitleOrigin::External {
            return Ok(row.torrent);
        }
        let further: Vec<String> = marquee_protocol::trackers::tiers_of(&row.torrent)
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect();
        let tiers = marquee_protocol::trackers::store_tiers(&self.announce_url(), &further);
        marquee_protocol::trackers::with_trackers(&row.torrent, &tiers).map_err(|e| {
            Error::Internal(anyhow::anyhow!(
                "the library's torrent of {title_id} cannot be saved: {e}"
            ))
        })
    }

    /// Copies a free title's downloaded file (its largest, for a torrent of a folder) to
    /// `dest`. The file's path comes from the title's torrent, which may be a stranger's: each
    /// part is checked as an import checks it before it is joined to the title's folder, so an
    /// export never reads from elsewhere (a title imported before the checks existed, say).
    pub(crate) async fn title_export(&self, title_id: &str, dest: &Path) -> Result<()> {
        let row = self.free_row(title_id).await?;
        let relative = exported_path(&row.torrent)?;
        let (handle, _) = self.torrents.ensure(&row, None).await?;
        if !handle.stats().finished {
            return Err(Error::Download("the download is not complete yet".into()));
        }
        let src = self
            .torrents
            .folder(row.origin, &row.title.info_hash)?
            .join(relative);
        tokio::fs::copy(&src, dest)
            .await
            .map_err(|e| Error::Internal(anyhow::Error::from(e).context("exporting")))?;
        Ok(())
    }

    async fn free_row(&self, title_id: &str) -> Result<LibraryRow> {
        let row = self.library.row(title_id).await?;
        if row.title.encrypted || row.title.offer != OfferKind::Free {
            return Err(Error::NotShareable);
        }
        Ok(row)
    }

    /// Reads a `.torrent` file the shell received, and checks it: the bytes and what they hold,
    /// or why they cannot be added. `Err` only when there is nothing to judge (the file went
    /// away, or cannot be read).
    async fn read_dropped_torrent(
        &self,
        drop_id: &str,
    ) -> Result<(
        Vec<u8>,
        std::result::Result<torrent_file::TorrentFile, torrent_file::TorrentFileError>,
    )> {
        let magnet = self
            .drops
            .magnets
            .lock()
            .expect("drops")
            .get(drop_id)
            .cloned();
        if let Some(OpenedMagnet { link, torrent }) = magnet {
            let bytes = match torrent {
                Some(bytes) => bytes,
                None => {
                    let bytes = self
                        .torrents
                        .magnet_metadata(&link, vec![self.announce_url()], MAGNET_TIMEOUT)
                        .await?;
                    if let Some(entry) = self.drops.magnets.lock().expect("drops").get_mut(drop_id)
                    {
                        entry.torrent = Some(bytes.clone());
                    }
                    bytes
                }
            };
            let checked = torrent_file::inspect(&bytes);
            if let Ok(t) = &checked {
                if !magnet_info_hash(&link).is_some_and(|h| h.eq_ignore_ascii_case(&t.info_hash)) {
                    return Err(Error::BadTorrent(
                        "the torrent that arrived is not the one this link names".into(),
                    ));
                }
            }
            return Ok((bytes, checked));
        }
        let path = self.dropped_path(drop_id)?;
        let unreadable = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => Error::FileGone,
            _ => Error::BadTorrent(format!("the file could not be read ({e})")),
        };
        // Size first: a large file dropped by mistake is refused without reading it.
        let size = tokio::fs::metadata(&path).await.map_err(unreadable)?.len();
        if size > torrent_file::MAX_TORRENT_FILE as u64 {
            let too_large = torrent_file::TorrentFileError::TooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
            };
            return Ok((Vec::new(), Err(too_large)));
        }
        let bytes = tokio::fs::read(&path).await.map_err(unreadable)?;
        let checked = torrent_file::inspect(&bytes);
        Ok((bytes, checked))
    }

    /// What a `.torrent` file the shell received holds, and whether it can be added: shown to
    /// the person before [`Publishing::torrent_import`]. Nothing is added or written.
    pub(crate) async fn torrent_preview(&self, drop_id: &str) -> Result<TorrentPreview> {
        let (_, checked) = self.read_dropped_torrent(drop_id).await?;
        match checked {
            Ok(t) => {
                let in_library = self
                    .library
                    .by_info_hash(&t.info_hash)
                    .await?
                    .map(|row| row.title.name);
                Ok(TorrentPreview {
                    drop_id: drop_id.to_owned(),
                    files: t
                        .files
                        .iter()
                        .filter(|f| !f.padding)
                        .map(|f| TorrentPreviewFile {
                            path: f.path.join("/"),
                            size_bytes: f.length,
                        })
                        .collect(),
                    name: t.name,
                    total_bytes: t.total_size,
                    trackers: t.announce,
                    info_hash: Some(t.info_hash),
                    refusal: None,
                    in_library,
                })
            }
            Err(e) => {
                let name = self.dropped_name(drop_id)?;
                Ok(TorrentPreview {
                    drop_id: drop_id.to_owned(),
                    name,
                    files: Vec::new(),
                    total_bytes: 0,
                    trackers: Vec::new(),
                    info_hash: None,
                    refusal: Some(Error::BadTorrent(e.to_string()).to_string()),
                    in_library: None,
                })
            }
        }
    }

    /// Adds a `.torrent` file the shell received (drop or file association) as a free title
    /// that is not from the store.
    pub(crate) async fn torrent_import(&self, drop_id: &str) -> Result<LibraryRow> {
        let (bytes, checked) = self.read_dropped_torrent(drop_id).await?;
        // librqbit trusts what it parses (it panics on names that are not UTF-8, say): only a
        // torrent that passes our own checks reaches it.
        let t = checked.map_err(|e| Error::BadTorrent(e.to_string()))?;
        if self.library.by_info_hash(&t.info_hash).await?.is_none() {
            self.torrents.check_space(&t.name, t.total_size)?;
        }
        self.import(bytes, &t.info_hash).await
    }

    /// Opens a magnet link: a title already in the library comes back as it is; any other link
    /// becomes a dropped file of kind `magnet`, whose torrent is asked of its peers when its
    /// preview is (nothing is added before the person has seen what it holds).
    pub(crate) async fn magnet_open(
        &self,
        link: &str,
    ) -> Result<std::result::Result<LibraryRow, DroppedFile>> {
        let link = link.trim();
        let info_hash = magnet_info_hash(link).ok_or_else(|| {
            Error::BadTorrent(if librqbit::Magnet::parse(link).is_err() {
                "this is not a magnet link".into()
            } else {
                "this magnet link gives no BitTorrent v1 info hash, which Marquee needs".into()
            })
        })?;
        if let Some(row) = self.library.by_info_hash(&info_hash).await? {
            return Ok(Ok(row));
        }
        let drop_id = uuid::Uuid::new_v4().to_string();
        self.drops.magnets.lock().expect("drops").insert(
            drop_id.clone(),
            OpenedMagnet {
                link: link.to_owned(),
                torrent: None,
            },
        );
        Ok(Err(DroppedFile {
            drop_id,
            name: magnet_name(link),
            size_bytes: 0,
            kind: DroppedKind::Magnet,
        }))
    }

    /// Adds a torrent from outside the store, with the info hash it announces, into its own
    /// folder.
    async fn import(&self, torrent: Vec<u8>, info_hash_wanted: &str) -> Result<LibraryRow> {
        if let Some(row) = self.library.by_info_hash(info_hash_wanted).await? {
            return Ok(row);
        }
        let folder = self
            .torrents
            .folder(TitleOrigin::External, info_hash_wanted)?;
        // The torrent's details are in hand (a magnet link's were asked of its peers for the
        // preview): adding it waits on nobody. Held back when the download queue is full (the
        // queue starts it in its turn).
        let handle = self
            .torrents
            .add_source(
                AddTorrent::from_bytes(torrent),
                &folder,
                self.torrents
                    .added_in_turn(vec![], vec![self.announce_url()]),
            )
            .await
            .map_err(|e| Error::BadTorrent(e.to_string()))?;
        let meta = handle
            .metadata
            .load_full()
            .ok_or_else(|| Error::BadTorrent("the torrent has no details".into()))?;
        let info_hash = handle.info_hash().as_string();
        if !info_hash.eq_ignore_ascii_case(info_hash_wanted) {
            // Not what was asked for (the folder is named by the hash asked for): remove it.
            self.torrents.remove(&handle, true).await;
            return Err(Error::BadTorrent(
                "the torrent added is not the one shown before it was added".into(),
            ));
        }
        let file = meta
            .file_infos
            .iter()
            .max_by_key(|f| f.len)
            .ok_or_else(|| Error::BadTorrent("the torrent holds no files".into()))?;
        let file_name = file.relative_filename.to_string_lossy().into_owned();
        let name = handle
            .name()
            .map(|n| publish::suggested_name(Path::new(&n)))
            .unwrap_or_else(|| publish::suggested_name(Path::new(&file_name)));
        let title = LibraryTitle {
            id: format!("ext-{}", &info_hash[..16]),
            kind: "community_video".into(),
            name,
            synopsis: "Added from a magnet link or torrent file: not from the store.".into(),
            year: 0,
            runtime_s: 0,
            genre: String::new(),
            studio: String::new(),
            artist: None,
            new_release: false,
            offer: OfferKind::Free,
            price_cents: 0,
            currency: String::new(),
            series: None,
            poster_path: String::new(),
            backdrop_path: None,
            width: 0,
            height: 0,
            mime: marquee_protocol::api::mime_of(&file_name)
                .unwrap_or("application/octet-stream")
                .to_owned(),
            size_bytes: meta.file_infos.iter().map(|f| f.len).sum(),
            info_hash: info_hash.clone(),
            encrypted: false,
            key_commitment: None,
            licence_to_share: None,
            for_sale: true,
            rental: None,
            variant: None,
            work: None,
            publisher: None,
        };
        self.library
            .add(
                &title,
                "external",
                &meta.torrent_bytes,
                None,
                TitleOrigin::External,
                self.licences.local_now(),
            )
            .await?;
        self.torrents.insert(&title.id, handle);
        self.library.row(&title.id).await
    }
}

/// The v1 info hash a magnet link names, lower-case hex.
fn magnet_info_hash(link: &str) -> Option<String> {
    librqbit::Magnet::parse(link.trim())
        .ok()?
        .as_id20()
        .map(|id| id.as_string())
}

/// What a magnet link calls its torrent (`dn`), or a short form of its hash.
fn magnet_name(link: &str) -> String {
    let named = link
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("dn="))
        .map(url_decode)
        .map(|n| {
            n.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    named.unwrap_or_else(|| match magnet_info_hash(link) {
        Some(hash) => format!("Magnet link {}…", &hash[..8]),
        None => "Magnet link".into(),
    })
}

/// `%xx` escapes and `+` decoded; invalid UTF-8 replaced.
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A title's name as the base of a file name to save it under, on any system: characters file
/// systems refuse replaced, no dot or space at the end (Windows drops them), not a name Windows
/// keeps for a device (`CON`, `AUX`…, which gets a `-` added), at most 200 characters; the
/// title's id when nothing is left.
fn export_base_name(name: &str, title_id: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    let mut base = replaced
        .trim_start()
        .trim_end_matches(['.', ' '])
        .trim_start_matches('.')
        .to_owned();
    if matches!(
        torrent_file::name_problem(&base),
        Some(torrent_file::NameProblem::Reserved)
    ) {
        // After the part Windows compares ("CON.x" -> "CON-.x"), so the name stays readable.
        let at = base.find('.').unwrap_or(base.len());
        base.insert(at, '-');
    }
    if base.is_empty() || torrent_file::name_problem(&base).is_some() {
        return title_id.to_owned();
    }
    base
}

/// The path, inside the title's folder, of the file an export copies: the torrent's own file,
/// or the largest file of its folder. Refused when the torrent's names do not pass the
/// import's checks: they are then not safe to join to a path.
fn exported_path(torrent: &[u8]) -> Result<PathBuf> {
    let t =
        torrent_file::inspect_names(torrent).map_err(|e| Error::ExportRefused(e.to_string()))?;
    let file = t
        .files
        .iter()
        .filter(|f| !f.padding)
        .max_by_key(|f| f.length)
        .ok_or_else(|| Error::ExportRefused("its torrent holds no files".into()))?;
    let mut path = PathBuf::new();
    if t.multi_file {
        path.push(&t.name);
    }
    path.extend(&file.path);
    Ok(path)
}

fn preview_id(draft_id: &str) -> String {
    format!("draft-{draft_id}")
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes the poster frame the sheet sends as a JPEG or PNG data URL.
fn decode_poster(url: &str) -> Result<Vec<u8>> {
    let refuse = |why: &'static str| Error::from(PublishError::BadPoster(why));
    let b64 = url
        .strip_prefix("data:image/jpeg;base64,")
        .or_else(|| url.strip_prefix("data:image/png;base64,"))
        .ok_or_else(|| refuse("it must be a JPEG or PNG image"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| refuse("it is not valid base64"))?;
    if bytes.len() > MAX_POSTER_BYTES {
        return Err(refuse("it is larger than 4 MB"));
    }
    let jpeg = bytes.starts_with(&[0xFF, 0xD8, 0xFF]);
    let png = bytes.starts_with(b"\x89PNG\r\n\x1a\n");
    if !jpeg && !png {
        return Err(refuse("it is not a JPEG or PNG image"));
    }
    Ok(bytes)
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// Registers a file the shell received from a drop or the file picker. Only the shell calls
    /// this: the page never hands the core a path.
    pub fn drop_register(&self, path: PathBuf) -> DroppedFile {
        self.publishing.drop_register(path)
    }

    /// Cancels preparing a dropped file.
    pub fn publish_cancel(&self, drop_id: &str) {
        self.publishing.publish_cancel(drop_id)
    }

    /// Checks a dropped video, copies it into the data folder (the original is only read),
    /// makes its torrent and starts seeding it, and opens it for the sheet's preview.
    pub async fn publish_prepare(
        &self,
        drop_id: &str,
        progress: impl Fn(PublishProgress) + Send + Sync + 'static,
    ) -> Result<PublishDraft> {
        self.publishing.publish_prepare(drop_id, progress).await
    }

    /// Drops a draft: stops seeding it and deletes its copy (the original is untouched).
    pub async fn publish_discard(&self, draft_id: &str) -> Result<()> {
        self.publishing.publish_discard(draft_id).await
    }

    /// Publishes a draft to the store's community shelf, signed by this device's publishing
    /// key, and keeps seeding it.
    pub async fn publish_submit(&self, draft_id: &str, form: PublishForm) -> Result<LibraryEntry> {
        Ok(self.entry(&self.publishing.publish_submit(draft_id, form).await?))
    }

    /// A magnet link for a free title (paid titles are not shared this way).
    pub async fn share_links(&self, title_id: &str) -> Result<ShareLinks> {
        self.publishing.share_links(title_id).await
    }

    /// File names to suggest when saving a free title: (video file, `.torrent` file), from its
    /// name, with characters file systems refuse replaced.
    pub async fn export_names(&self, title_id: &str) -> Result<(String, String)> {
        self.publishing.export_names(title_id).await
    }

    /// The `.torrent` file of a free title.
    pub async fn torrent_file(&self, title_id: &str) -> Result<Vec<u8>> {
        self.publishing.torrent_file(title_id).await
    }

    /// Copies a free title's downloaded file to `dest`.
    pub async fn title_export(&self, title_id: &str, dest: &Path) -> Result<()> {
        self.publishing.title_export(title_id, dest).await
    }

    /// What a `.torrent` file the shell received holds, and why it cannot be added if it
    /// cannot: shown before [`Core::torrent_import`], which adds it. Adds and writes nothing.
    pub async fn torrent_preview(&self, drop_id: &str) -> Result<TorrentPreview> {
        self.publishing.torrent_preview(drop_id).await
    }

    /// Adds a `.torrent` file the shell received (drop or file association) as a free title
    /// that is not from the store.
    pub async fn torrent_import(&self, drop_id: &str) -> Result<LibraryEntry> {
        let row = self.publishing.torrent_import(drop_id).await?;
        // It joined the end of the queue running: held back now if there is no room.
        self.keep_download_queue().await;
        Ok(self.entry(&row))
    }

    /// Opens a magnet link: the title if it is in the library, else a file to preview (see
    /// [`MagnetOpened`]).
    pub async fn magnet_open(&self, link: &str) -> Result<MagnetOpened> {
        Ok(match self.publishing.magnet_open(link).await? {
            Ok(row) => MagnetOpened::InLibrary {
                entry: Box::new(self.entry(&row)),
            },
            Err(file) => MagnetOpened::Preview { file },
        })
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}

#[cfg(test)]
mod tests {
    #[test]
    fn a_magnet_link_is_named_by_its_dn_or_its_hash() {
        let hash = "c9e15763f722f23e98a29decdfae341b98d53056";
        assert_eq!(
            super::magnet_name(&format!(
                "magnet:?xt=urn:btih:{hash}&dn=Glass+rain%20%C3%A9t%C3%A9&tr=x"
            )),
            "Glass rain été"
        );
        assert_eq!(
            super::magnet_name(&format!("magnet:?xt=urn:btih:{hash}")),
            "Magnet link c9e15763…"
        );
        assert_eq!(super::magnet_name("magnet:?dn=%E9%%zz%0A"), "\u{fffd}%%zz");
        assert_eq!(
            super::magnet_info_hash(&format!(" magnet:?xt=urn:btih:{} ", hash.to_uppercase()))
                .as_deref(),
            Some(hash)
        );
    }

    use super::*;

    #[test]
    fn export_names_are_safe_to_save_anywhere() {
        for (name, base) in [
            ("Open Skies", "Open Skies"),
            ("Film: the sequel", "Film- the sequel"),
            ("a/b\\c*?\"<>|", "a-b-c------"),
            ("line\nbreak", "line-break"),
            // Windows drops a final dot or space; a leading dot hides a file elsewhere.
            ("  Ends with dots... ", "Ends with dots"),
            ("..hidden", "hidden"),
            // Device names keep their look but stop being device names.
            ("CON", "CON-"),
            ("aux.live", "aux-.live"),
            ("LPT9", "LPT9-"),
            ("Console", "Console"),
            // Nothing left: the title's id.
            ("...", "ext-0123"),
            ("", "ext-0123"),
        ] {
            let got = export_base_name(name, "ext-0123");
            assert_eq!(got, base, "{name:?}");
            assert_eq!(torrent_file::name_problem(&format!("{got}.webm")), None);
        }
        assert_eq!(
            export_base_name(&"x".repeat(500), "id").chars().count(),
            200
        );
    }

    /// A bencoded torrent of `files` (path parts, length) under `name`, 16 KiB pieces.
    fn torrent(name: &str, files: &[(&[&str], u64)]) -> Vec<u8> {
        let s = |t: &str| format!("{}:{t}", t.len());
        let total: u64 = files.iter().map(|f| f.1).sum();
        let list: String = files
            .iter()
            .map(|(path, len)| {
                let parts: String = path.iter().map(|p| s(p)).collect();
                format!("d6:lengthi{len}e4:pathl{parts}ee")
            })
            .collect();
        let pieces = "x".repeat(20 * total.div_ceil(16384) as usize);
        format!(
            "d4:infod5:filesl{list}e4:name{}12:piece lengthi16384e6:pieces{}ee",
            s(name),
            s(&pieces)
        )
        .into_bytes()
    }

    #[test]
    fn an_export_copies_a_checked_path_inside_the_title_folder() {
        let folder = torrent("Orbital", &[(&["notes.txt"], 10), (&["Ep 1.webm"], 40_000)]);
        assert_eq!(
            exported_path(&folder).unwrap(),
            Path::new("Orbital").join("Ep 1.webm")
        );
        // A torrent no import would accept (one added before the checks existed) is not read
        // from: its names could point anywhere.
        for hostile in [
            torrent("..", &[(&["a.webm"], 1)]),
            torrent("x", &[(&["..", "..", "a.webm"], 1)]),
            torrent("x", &[(&["CON.webm"], 1)]),
        ] {
            let e = exported_path(&hostile).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ExportRefused, "{e}");
            assert!(
                e.to_string().starts_with("This title cannot be exported: "),
                "{e}"
            );
        }
    }
}
