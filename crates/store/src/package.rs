//! Packaging: a studio's video becomes an encrypted container (paid titles) or stays clear
//! (free titles), gets a torrent, is registered in the catalog and seeded.

use std::io::{BufReader, BufWriter};
use std::path::Path;

use anyhow::Context;
use librqbit::{AddTorrent, AddTorrentOptions, CreateTorrentOptions};
use marquee_licence::container::{self, ContentKey};
use serde::Deserialize;

use crate::api::{FeedTitle, OfferKind, RentalTerms, SeriesRef};
use crate::db::{self, Db};
use crate::State;

/// One entry of a demo `catalog.json`.
#[derive(Debug, Deserialize)]
pub struct CatalogEntry {
    /// Stable id.
    pub id: String,
    /// film, episode, music_video, game.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// About the title.
    pub synopsis: String,
    /// Release year.
    pub year: i32,
    /// Running time, seconds.
    pub runtime_s: u32,
    /// Genre.
    pub genre: String,
    /// Studio.
    pub studio: String,
    /// New release.
    pub new_release: bool,
    /// rent, buy or free.
    pub offer: OfferKind,
    /// Price in cents.
    pub price_cents: i64,
    /// Series info for episodes.
    pub series: Option<SeriesRef>,
    /// Artist for music videos.
    pub artist: Option<String>,
    /// Media file name in the media folder.
    pub media: String,
    /// MIME type of the media.
    pub mime: String,
    /// Poster file name.
    pub poster: String,
    /// Backdrop file name.
    pub backdrop: Option<String>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Licence for sharing, for free titles.
    pub licence_to_share: Option<String>,
    /// `sd` or `hd` for one variant of a work sold in both.
    #[serde(default)]
    pub variant: Option<String>,
    /// For a variant: the work's id, shared by its variants.
    #[serde(default)]
    pub work: Option<String>,
}

/// Packages every title of a demo folder that is not packaged yet.
pub(crate) async fn load_demo(db: &Db, demo: &Path, packages: &Path) -> anyhow::Result<()> {
    let catalog_path = demo.join("catalog.json");
    let entries: Vec<CatalogEntry> = serde_json::from_slice(
        &std::fs::read(&catalog_path)
            .with_context(|| format!("reading {}", catalog_path.display()))?,
    )
    .with_context(|| format!("parsing {}", catalog_path.display()))?;
    let media_dir = demo.join("media");
    let mut existing = db::catalog::packaged_titles(db).await?;
    // A data folder moved with its files (the app's settings move the profile, the embedded
    // demo store's folder with it): the packages are in this run's packages folder under their
    // names, and the database learns where. Packaging them again would give the paid titles new
    // keys, and every licence already issued for them would open nothing.
    for (id, path) in &mut existing {
        let recorded = Path::new(path.as_str());
        if path.is_empty() || recorded.exists() {
            continue;
        }
        let Some(name) = recorded.file_name() else {
            continue;
        };
        let here = packages.join(name);
        if here.is_file() {
            let here = here.to_string_lossy().into_owned();
            db::catalog::set_package_path(db, id, &here).await?;
            tracing::info!(title = %id, from = %path, to = %here, "package found in the moved data folder");
            *path = here;
        }
    }
    for entry in &entries {
        let packaged = existing
            .iter()
            .any(|(id, path)| *id == entry.id && Path::new(path).exists());
        if packaged {
            continue;
        }
        let media = media_dir.join(&entry.media);
        if !media.is_file() {
            // A title without its media is not offered: nothing could be delivered.
            tracing::warn!(title = %entry.id, media = %media.display(), "media missing; not on sale");
            continue;
        }
        package(db, entry, &media, packages)
            .await
            .with_context(|| format!("packaging {}", entry.id))?;
    }
    Ok(())
}

/// Packages one video: encrypts it into the container (paid titles) or copies it (free
/// titles) into `packages`, makes its torrent and registers the title. Returns the feed entry.
pub(crate) async fn package(
    db: &Db,
    entry: &CatalogEntry,
    media: &Path,
    packages: &Path,
) -> anyhow::Result<FeedTitle> {
    let encrypted = entry.offer != OfferKind::Free;
    // The torrent names its one file so, and every viewer's app saves it under that name: one
    // Windows or macOS would save elsewhere, under another name or not at all is refused here
    // (the apps refuse it too, so the title would list and never download).
    let file_name = if encrypted {
        format!("{}.mqc", entry.id)
    } else {
        media
            .file_name()
            .and_then(|n| n.to_str())
            .context("the video's file name is not UTF-8 text: rename it")?
            .to_owned()
    };
    if let Some(problem) = marquee_protocol::torrent_file::name_problem(&file_name) {
        anyhow::bail!(
            "viewers would save this title as “{file_name}”, which {problem}: {}",
            if encrypted {
                "give it another --id"
            } else {
                "rename the file and package it again"
            }
        );
    }
    let (package_path, key, commitment) = if encrypted {
        let out = packages.join(&file_name);
        let key = ContentKey::generate();
        let header = {
            let (media, out, key) = (media.to_path_buf(), out.clone(), key.clone());
            tokio::task::spawn_blocking(move || encrypt_file(&key, &media, &out)).await??
        };
        (out, Some(*key.as_bytes()), Some(header.key_commitment))
    } else {
        // Free titles are seeded in the clear, from our own copy: seeding opens files
        // read-write, and the studio's original must never be touched.
        let out = packages.join(&file_name);
        tokio::fs::copy(media, &out)
            .await
            .with_context(|| format!("copying {}", media.display()))?;
        (out, None, None)
    };
    let size = std::fs::metadata(&package_path)?.len();
    let torrent = librqbit::create_torrent(
        &package_path,
        CreateTorrentOptions {
            name: None,
            trackers: vec![],
            piece_length: Some(marquee_protocol::swarm::piece_length(size)),
        },
        &librqbit::spawn_utils::BlockingSpawner::new(1),
    )
    .await
    .context("making the torrent")?;
    let torrent_bytes = torrent.as_bytes()?;
    let feed = FeedTitle {
        id: entry.id.clone(),
        kind: entry.kind.clone(),
        name: entry.name.clone(),
        synopsis: entry.synopsis.clone(),
        year: entry.year,
        runtime_s: entry.runtime_s,
        genre: entry.genre.clone(),
        studio: entry.studio.clone(),
        artist: entry.artist.clone(),
        new_release: entry.new_release,
        offer: entry.offer,
        price_cents: if entry.offer == OfferKind::Free {
            0
        } else {
            entry.price_cents
        },
        currency: crate::CURRENCY.to_owned(),
        series: entry.series.clone(),
        poster_path: format!("/media/{}", entry.poster),
        backdrop_path: entry.backdrop.as_ref().map(|b| format!("/media/{b}")),
        width: entry.width,
        height: entry.height,
        mime: entry.mime.clone(),
        size_bytes: size,
        info_hash: torrent.info_hash().as_string(),
        encrypted,
        key_commitment: commitment.map(hex::encode),
        licence_to_share: entry.licence_to_share.clone(),
        rental: (entry.offer == OfferKind::Rent).then(|| {
            let rules = marquee_licence::RentalRules::default();
            RentalTerms {
                start_within_s: rules.start_within_s,
                play_window_s: rules.play_window_s,
            }
        }),
        version: 0,
        for_sale: true,
        variant: entry.variant.clone(),
        work: entry.work.clone(),
        publisher: None,
        hidden: false,
    };
    db::catalog::upsert_titles(
        db,
        &[db::catalog::NewTitle {
            feed: &feed,
            media_path: &media.to_string_lossy(),
            package_path: &package_path.to_string_lossy(),
            content_key: key.as_ref(),
            key_commitment: commitment.as_ref(),
            torrent: &torrent_bytes,
        }],
    )
    .await?;
    tracing::info!(title = %entry.id, size, encrypted, "packaged");
    Ok(feed)
}

fn encrypt_file(key: &ContentKey, media: &Path, out: &Path) -> anyhow::Result<container::Header> {
    let input =
        std::fs::File::open(media).with_context(|| format!("opening {}", media.display()))?;
    let len = input.metadata()?.len();
    // Write to a temporary name first: a crash mid-way must not leave a file that looks packaged.
    let tmp = out.with_extension("mqc.part");
    let output = std::fs::File::create(&tmp)?;
    let mut writer = BufWriter::with_capacity(1 << 20, output);
    let header = container::encrypt(
        key,
        len,
        BufReader::with_capacity(1 << 20, input),
        &mut writer,
    )?;
    let output = writer.into_inner().map_err(|e| e.into_error())?;
    output.sync_all()?;
    std::fs::rename(&tmp, out)?;
    Ok(header)
}

/// Adds every deliverable title changed after catalog version `since` to the seeder and lists
/// the seeder on the tracker.
pub(crate) async fn seed_since(state: &State, since: i64) -> anyhow::Result<()> {
    for t in db::catalog::deliverable_titles_since(&state.db, since).await? {
        if t.package_path.is_empty() {
            // A community title: its publisher seeds it; the store only lists and tracks it.
            continue;
        }
        if !Path::new(&t.package_path).exists() {
            tracing::warn!(title = %t.id, "package missing; not seeding");
            continue;
        }
        let added = state
            .seeder
            .add_torrent(
                AddTorrent::from_bytes(t.torrent.clone()),
                Some(AddTorrentOptions {
                    overwrite: true,
                    output_folder: Some(state.packages.to_string_lossy().into_owned()),
                    ..Default::default()
                }),
            )
            .await
            .with_context(|| format!("seeding {}", t.id))?;
        drop(added);
        let mut ih = [0u8; 20];
        hex::decode_to_slice(&t.info_hash, &mut ih).context("bad info hash")?;
        state.tracker.add_peer(ih, state.seeder_addr);
        tracing::debug!(title = %t.id, version = t.seq, "seeding");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo `catalog.json` is read as it is written: the same file must keep loading.
    #[test]
    fn the_demo_catalog_reads_as_written() {
        let path = crate::bundled_demo_dir().join("catalog.json");
        let entries: Vec<CatalogEntry> =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(entries.len(), 11);
        let by_id = |id: &str| entries.iter().find(|e| e.id == id).unwrap();
        let film = by_id("neon-harbor");
        assert_eq!(
            (
                film.kind.as_str(),
                film.name.as_str(),
                film.year,
                film.runtime_s
            ),
            ("film", "Neon Harbor", 2026, 34)
        );
        assert_eq!((film.offer, film.price_cents), (OfferKind::Rent, 400));
        assert_eq!(
            (film.genre.as_str(), film.studio.as_str()),
            ("Thriller", "Halcyon Pictures")
        );
        assert!(film.new_release && film.synopsis.starts_with("On the last night"));
        assert_eq!(
            (
                film.media.as_str(),
                film.mime.as_str(),
                film.poster.as_str()
            ),
            ("neon-harbor.webm", "video/webm", "neon-harbor.jpg")
        );
        assert_eq!(film.backdrop.as_deref(), Some("neon-harbor-backdrop.jpg"));
        assert_eq!((film.width, film.height), (1280, 720));
        assert_eq!(film.series, None);
        assert_eq!(
            by_id("orbital-s01e02").series,
            Some(SeriesRef {
                series: "Orbital".into(),
                season: 1,
                episode: 2
            })
        );
        assert_eq!(by_id("glass-rain").artist.as_deref(), Some("Lumen Drive"));
        let free = by_id("open-skies");
        assert_eq!((free.offer, free.price_cents), (OfferKind::Free, 0));
        assert_eq!(free.licence_to_share.as_deref(), Some("CC BY 4.0"));
    }

    /// Optional fields may be left out of an entry, and a required one may not.
    #[test]
    fn a_catalog_entry_needs_only_what_it_must_have() {
        let mut entry = serde_json::json!({
            "id": "t", "kind": "film", "name": "T", "synopsis": "S", "year": 2026,
            "runtime_s": 1, "genre": "G", "studio": "St", "new_release": false,
            "offer": "buy", "price_cents": 100, "media": "t.webm", "mime": "video/webm",
            "poster": "t.jpg", "width": 2, "height": 3
        });
        let parsed: CatalogEntry = serde_json::from_value(entry.clone()).unwrap();
        assert_eq!((parsed.artist, parsed.series), (None, None));
        assert_eq!((parsed.backdrop, parsed.licence_to_share), (None, None));
        entry.as_object_mut().unwrap().remove("name");
        let e = serde_json::from_value::<CatalogEntry>(entry).unwrap_err();
        assert!(e.to_string().contains("missing field `name`"), "{e}");
    }
}
