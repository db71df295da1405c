//! The profile's library: titles rented, bought, got, published or added from outside the
//! store, their licences, download state and playback position.

use std::path::Path;

use anyhow::Context;
use sqlx::{Row, SqlitePool};

use crate::api::{LibraryEntry, OfferKind, SeriesInfo, TitleOrigin};
pub use crate::title::LibraryTitle;
use sha2::Digest;

use crate::error::{Error, Result};

/// The part of a row the seal covers.
struct SealedState {
    offer: String,
    first_frame_at: Option<i64>,
    revoked: bool,
    licence: Option<Vec<u8>>,
}

/// One row of the library.
#[derive(Clone, Debug)]
pub struct LibraryRow {
    /// The title as acquired.
    pub title: LibraryTitle,
    /// Unix seconds.
    pub acquired_at: i64,
    /// Torrent file bytes.
    pub torrent: Vec<u8>,
    /// Resume position.
    pub position_s: f64,
    /// First frame time, unix seconds.
    pub first_frame_at: Option<i64>,
    /// The signed licence, for paid titles.
    pub licence: Option<Vec<u8>>,
    /// Where it comes from.
    pub origin: TitleOrigin,
    /// The store revoked its licence.
    pub revoked: bool,
    /// The first frame was reported to the store.
    pub first_frame_reported: bool,
    /// Its licence state (first frame, revocation, licence) was changed outside Marquee: its
    /// seal does not match. A tampered paid title does not play until restored.
    pub tampered: bool,
    /// What the person decided about its download (paused, removed), if anything.
    pub hold: Option<DownloadHold>,
}

/// A title's place in the download queue, as the library keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueueEntry {
    /// The title.
    pub(crate) title_id: String,
    /// What the person decided about its download, if anything.
    pub(crate) hold: Option<DownloadHold>,
}

/// A decision about a title's download that outlives the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownloadHold {
    /// Paused: re-added paused at start.
    Paused,
    /// Removed from the downloads: not re-added at start (the licence and the library entry
    /// stay; watching or getting the title again downloads it again).
    Removed,
}

/// The key that seals each title's licence state (see [`Library::seal_of`]).
pub(crate) type SealKey = [u8; 32];

/// The purpose the seal key is derived for, from the device key.
pub(crate) const SEAL_PURPOSE: &[u8] = b"library licence state";

/// The settings key marking a library whose rows are all sealed: after it is set, a row with
/// no seal is a tampered one, not an old one.
const SEALED_KEY: &str = "library_sealed";

/// The library database.
#[derive(Clone)]
pub struct Library {
    db: SqlitePool,
    /// `None` reads a library without checking seals (tools that read a copied profile).
    seal: Option<SealKey>,
}

impl Library {
    /// The profile's settings, kept in the same database.
    pub(crate) fn settings(&self) -> crate::db::Settings {
        crate::db::Settings::new(self.db.clone())
    }

    /// The library in the profile's database, its rows sealed with `seal`. Rows from before
    /// sealing are sealed now, once.
    pub(crate) async fn new(db: SqlitePool, seal: SealKey) -> Result<Library> {
        let library = Library {
            db,
            seal: Some(seal),
        };
        library.seal_old_rows().await?;
        Ok(library)
    }

    /// Seals the rows written before sealing existed, and marks the library sealed (the mark is
    /// sealed too, so it cannot be forged to ask for a reseal of edited rows).
    async fn seal_old_rows(&self) -> Result<()> {
        let expected = hex::encode(self.mac(&[b"sealed"]));
        let mark: Option<String> = sqlx::query("SELECT value FROM settings WHERE key = ?")
            .bind(SEALED_KEY)
            .fetch_optional(&self.db)
            .await?
            .map(|r| r.get(0));
        if mark.as_deref() == Some(expected.as_str()) {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let rows = sqlx::query(
            "SELECT l.title_id, l.offer, l.first_frame_at, l.revoked, c.bytes FROM library l
             LEFT JOIN licences c ON c.title_id = l.title_id WHERE l.seal IS NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let id: String = r.get(0);
            let state = SealedState {
                offer: r.get(1),
                first_frame_at: r.get(2),
                revoked: r.get::<i64, _>(3) != 0,
                licence: r.get(4),
            };
            sqlx::query("UPDATE library SET seal = ? WHERE title_id = ?")
                .bind(self.seal_of(&id, &state))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(SEALED_KEY)
        .bind(expected)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.seal.unwrap_or_default())
            .expect("HMAC takes a key of any length");
        for part in parts {
            // Length-prefixed, so no two different records read the same.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// The seal of a title's licence state: HMAC-SHA256 under the device-derived key over its
    /// id, offer, first frame, revocation and the hash of its licence.
    fn seal_of(&self, title_id: &str, state: &SealedState) -> Vec<u8> {
        let licence = state
            .licence
            .as_deref()
            .map(|l| sha2::Sha256::digest(l).to_vec())
            .unwrap_or_default();
        let first = state.first_frame_at.map(|t| t.to_be_bytes().to_vec());
        self.mac(&[
            b"library licence state v1",
            title_id.as_bytes(),
            state.offer.as_bytes(),
            first.as_deref().unwrap_or(b"none"),
            &[u8::from(state.revoked)],
            &licence,
        ])
    }

    /// Marks a row whose seal does not match what it holds.
    fn checked(&self, mut row: LibraryRow, seal: Option<Vec<u8>>) -> LibraryRow {
        if self.seal.is_some() {
            let state = SealedState {
                offer: row.title.offer.as_str().to_owned(),
                first_frame_at: row.first_frame_at,
                revoked: row.revoked,
                licence: row.licence.clone(),
            };
            let expected = self.seal_of(&row.title.id, &state);
            let ok = seal.is_some_and(|s| {
                subtle::ConstantTimeEq::ct_eq(s.as_slice(), expected.as_slice()).into()
            });
            if !ok {
                tracing::warn!(title = %row.title.id, "library record edited outside Marquee");
                row.tampered = true;
            }
        }
        row
    }

    /// Changes a title's sealed licence state in one transaction: reads it, refuses a record
    /// whose seal does not match (so an edit is never sealed over), applies `change`, writes it
    /// back with its new seal.
    async fn update_sealed(
        &self,
        title_id: &str,
        change: impl FnOnce(&mut SealedState),
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let Some(r) = sqlx::query(
            "SELECT l.offer, l.first_frame_at, l.revoked, c.bytes, l.seal FROM library l
             LEFT JOIN licences c ON c.title_id = l.title_id WHERE l.title_id = ?",
        )
        .bind(title_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(());
        };
        let mut state = SealedState {
            offer: r.get(0),
            first_frame_at: r.get(1),
            revoked: r.get::<i64, _>(2) != 0,
            licence: r.get(3),
        };
        if self.seal.is_some() {
            let seal: Option<Vec<u8>> = r.get(4);
            if seal.as_deref() != Some(self.seal_of(title_id, &state).as_slice()) {
                return Err(Error::LibraryTampered);
            }
        }
        change(&mut state);
        sqlx::query(
            "UPDATE library SET first_frame_at = ?, revoked = ?, seal = ? WHERE title_id = ?",
        )
        .bind(state.first_frame_at)
        .bind(state.revoked)
        .bind(self.seal_of(title_id, &state))
        .bind(title_id)
        .execute(&mut *tx)
        .await?;
        if let Some(bytes) = &state.licence {
            sqlx::query("UPDATE licences SET bytes = ? WHERE title_id = ?")
                .bind(bytes)
                .bind(title_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closes the profile's database (every part of the core shares this pool): waits for the
    /// connections to finish and SQLite to fold its write-ahead log into `library.db`, so the
    /// profile on disk is complete when the core has shut down.
    pub(crate) async fn close(&self) {
        self.db.close().await;
    }

    /// Opens (creating and migrating) the profile database at `path` for its library alone,
    /// read without checking seals (the device key is not at hand).
    pub async fn open(path: &Path) -> Result<Library> {
        Ok(Library {
            db: crate::db::open(path).await?,
            seal: None,
        })
    }

    /// Adds a title with its licence (or replaces both): one transaction, so a library row
    /// never exists without the licence it needs.
    pub async fn add(
        &self,
        title: &LibraryTitle,
        order_id: &str,
        torrent: &[u8],
        licence: Option<&[u8]>,
        origin: TitleOrigin,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO library (title_id, offer, acquired_at, order_id, info_hash, torrent, encrypted, origin,
                kind, name, synopsis, year, runtime_s, genre, studio, artist, new_release, price_cents, currency,
                series, season, episode, poster_path, backdrop_path, width, height, mime, size_bytes,
                key_commitment, licence_to_share, publisher, for_sale, seal, queue_order)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                (SELECT COALESCE(MAX(queue_order), 0) + 1 FROM library))
             ON CONFLICT (title_id) DO UPDATE SET offer = excluded.offer,
                acquired_at = excluded.acquired_at, order_id = excluded.order_id, info_hash = excluded.info_hash,
                torrent = excluded.torrent, encrypted = excluded.encrypted, origin = excluded.origin,
                kind = excluded.kind, name = excluded.name, synopsis = excluded.synopsis, year = excluded.year,
                runtime_s = excluded.runtime_s, genre = excluded.genre, studio = excluded.studio,
                artist = excluded.artist, new_release = excluded.new_release, price_cents = excluded.price_cents,
                currency = excluded.currency, series = excluded.series, season = excluded.season,
                episode = excluded.episode, poster_path = excluded.poster_path,
                backdrop_path = excluded.backdrop_path, width = excluded.width, height = excluded.height,
                mime = excluded.mime, size_bytes = excluded.size_bytes, key_commitment = excluded.key_commitment,
                licence_to_share = excluded.licence_to_share, publisher = excluded.publisher,
                for_sale = excluded.for_sale, seal = excluded.seal,
                first_frame_at = NULL, revoked = 0, first_frame_reported = 0",
            // A new title joins the end of the download queue; one got again keeps its place.
        )
        .bind(&title.id)
        .bind(title.offer.as_str())
        .bind(now)
        .bind(order_id)
        .bind(&title.info_hash)
        .bind(torrent)
        .bind(title.encrypted)
        .bind(origin_str(origin))
        .bind(&title.kind)
        .bind(&title.name)
        .bind(&title.synopsis)
        .bind(title.year)
        .bind(title.runtime_s)
        .bind(&title.genre)
        .bind(&title.studio)
        .bind(&title.artist)
        .bind(title.new_release)
        .bind(title.price_cents)
        .bind(&title.currency)
        .bind(title.series.as_ref().map(|s| s.series.as_str()))
        .bind(title.series.as_ref().map(|s| s.season))
        .bind(title.series.as_ref().map(|s| s.episode))
        .bind(&title.poster_path)
        .bind(&title.backdrop_path)
        .bind(title.width)
        .bind(title.height)
        .bind(&title.mime)
        .bind(i64::try_from(title.size_bytes).context("title size")?)
        .bind(&title.key_commitment)
        .bind(&title.licence_to_share)
        .bind(&title.publisher)
        .bind(title.for_sale)
        .bind(self.seal.map(|_| {
            self.seal_of(
                &title.id,
                &SealedState {
                    offer: title.offer.as_str().to_owned(),
                    first_frame_at: None,
                    revoked: false,
                    licence: licence.map(<[u8]>::to_vec),
                },
            )
        }))
        .execute(&mut *tx)
        .await?;
        match licence {
            Some(bytes) => {
                sqlx::query(
                    "INSERT INTO licences (title_id, bytes, received_at) VALUES (?, ?, ?)
                     ON CONFLICT (title_id) DO UPDATE SET bytes = excluded.bytes, received_at = excluded.received_at",
                )
                .bind(&title.id)
                .bind(bytes)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM licences WHERE title_id = ?")
                    .bind(&title.id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    fn row_checked(&self, r: sqlx::sqlite::SqliteRow) -> Result<LibraryRow> {
        let seal: Option<Vec<u8>> = r.get("seal");
        Ok(self.checked(Self::from_sql(r)?, seal))
    }

    fn from_sql(r: sqlx::sqlite::SqliteRow) -> Result<LibraryRow> {
        let series: Option<String> = r.get("series");
        let title = LibraryTitle {
            id: r.get("title_id"),
            kind: r.get("kind"),
            name: r.get("name"),
            synopsis: r.get("synopsis"),
            year: r.get("year"),
            runtime_s: r.get("runtime_s"),
            genre: r.get("genre"),
            studio: r.get("studio"),
            artist: r.get("artist"),
            new_release: r.get("new_release"),
            series: series.map(|series| SeriesInfo {
                series,
                season: r.get::<Option<u32>, _>("season").unwrap_or(0),
                episode: r.get::<Option<u32>, _>("episode").unwrap_or(0),
            }),
            offer: OfferKind::from_stored(r.get::<String, _>("offer").as_str()),
            price_cents: r.get("price_cents"),
            currency: r.get("currency"),
            poster_path: r.get("poster_path"),
            backdrop_path: r.get("backdrop_path"),
            width: r.get("width"),
            height: r.get("height"),
            mime: r.get("mime"),
            size_bytes: u64::try_from(r.get::<i64, _>("size_bytes")).unwrap_or(0),
            info_hash: r.get("info_hash"),
            encrypted: r.get("encrypted"),
            key_commitment: r.get("key_commitment"),
            licence_to_share: r.get("licence_to_share"),
            publisher: r.get("publisher"),
            for_sale: r.get("for_sale"),
            rental: None,
            variant: None,
            work: None,
        };
        Ok(LibraryRow {
            title,
            acquired_at: r.get("acquired_at"),
            torrent: r.get("torrent"),
            position_s: r.get("position_s"),
            first_frame_at: r.get("first_frame_at"),
            licence: r.get("licence"),
            revoked: r.get::<i64, _>("revoked") != 0,
            first_frame_reported: r.get::<i64, _>("first_frame_reported") != 0,
            tampered: false,
            hold: hold_from_sql(r.get("download_hold")),
            origin: match r.get::<String, _>("origin").as_str() {
                "published" => TitleOrigin::Published,
                "external" => TitleOrigin::External,
                _ => TitleOrigin::Store,
            },
        })
    }

    const SELECT: &'static str = "SELECT l.title_id, l.kind, l.name, l.synopsis, l.year, l.runtime_s, l.genre,
             l.studio, l.artist, l.new_release, l.series, l.season, l.episode, l.offer, l.price_cents, l.currency,
             l.poster_path, l.backdrop_path, l.width, l.height, l.mime, l.size_bytes, l.info_hash, l.encrypted,
             l.key_commitment, l.licence_to_share, l.publisher, l.for_sale, l.acquired_at, l.torrent, l.position_s, l.first_frame_at, l.origin, l.revoked, l.first_frame_reported, c.bytes AS licence, l.seal, l.download_hold
           FROM library l LEFT JOIN licences c ON c.title_id = l.title_id";

    /// The title with this info hash, if any.
    pub async fn by_info_hash(&self, info_hash: &str) -> Result<Option<LibraryRow>> {
        sqlx::query(&format!("{} WHERE l.info_hash = ?", Self::SELECT))
            .bind(info_hash)
            .fetch_optional(&self.db)
            .await?
            .map(|r| self.row_checked(r))
            .transpose()
    }

    /// Every title, most recent first.
    pub async fn list(&self) -> Result<Vec<LibraryRow>> {
        sqlx::query(&format!(
            "{} ORDER BY l.acquired_at DESC, l.title_id",
            Self::SELECT
        ))
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| self.row_checked(r))
        .collect()
    }

    /// One title.
    pub async fn get(&self, title_id: &str) -> Result<Option<LibraryRow>> {
        sqlx::query(&format!("{} WHERE l.title_id = ?", Self::SELECT))
            .bind(title_id)
            .fetch_optional(&self.db)
            .await?
            .map(|r| self.row_checked(r))
            .transpose()
    }

    /// Records (or, with `None`, clears) what the person decided about a title's download.
    pub async fn set_hold(&self, title_id: &str, hold: Option<DownloadHold>) -> Result<()> {
        let value = hold.map(|h| match h {
            DownloadHold::Paused => "paused",
            DownloadHold::Removed => "removed",
        });
        sqlx::query("UPDATE library SET download_hold = ? WHERE title_id = ?")
            .bind(value)
            .bind(title_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// The titles made to be shared, each with whether this computer published it: the
    /// store's free titles (free, DRM-free) and the videos published here. The seeding policy's
    /// limits never stop them; a person who opts out of sharing stops all but their own videos,
    /// which have no other copy.
    pub(crate) async fn made_to_share(&self) -> Result<Vec<(String, bool)>> {
        Ok(sqlx::query(
            "SELECT title_id, origin = 'published' FROM library
             WHERE origin = 'published' OR (origin = 'store' AND offer = 'free')",
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
    }

    /// Every title's place in the download queue, first to start first.
    pub(crate) async fn queue(&self) -> Result<Vec<QueueEntry>> {
        Ok(sqlx::query(
            "SELECT title_id, download_hold FROM library ORDER BY queue_order, acquired_at, title_id",
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| QueueEntry {
            title_id: r.get(0),
            hold: hold_from_sql(r.get(1)),
        })
        .collect())
    }

    /// Puts the titles in this download queue order, numbered from 1. A title added meanwhile
    /// took a number past every earlier one, so it stays at the end.
    pub(crate) async fn set_queue(&self, order: &[String]) -> Result<()> {
        let mut tx = self.db.begin().await?;
        for (at, title_id) in (1i64..).zip(order) {
            sqlx::query("UPDATE library SET queue_order = ? WHERE title_id = ?")
                .bind(at)
                .bind(title_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves a title to the end of the download queue: downloading it again after the person
    /// removed it is a new download.
    pub(crate) async fn queue_at_end(&self, title_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE library SET queue_order = (SELECT COALESCE(MAX(queue_order), 0) + 1 FROM library)
             WHERE title_id = ?",
        )
        .bind(title_id)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Records the playback position, and the first frame if this is the first.
    pub async fn report_playback(
        &self,
        title_id: &str,
        position_s: f64,
        first_frame_at: Option<i64>,
    ) -> Result<()> {
        sqlx::query("UPDATE library SET position_s = ? WHERE title_id = ?")
            .bind(position_s)
            .bind(title_id)
            .execute(&self.db)
            .await?;
        if let Some(at) = first_frame_at {
            self.update_sealed(title_id, |s| {
                s.first_frame_at.get_or_insert(at);
            })
            .await?;
        }
        Ok(())
    }

    /// Records the first play of a title, unless one is recorded (the first one stays).
    pub async fn start_window(&self, title_id: &str, at: i64) -> Result<()> {
        self.update_sealed(title_id, |s| {
            s.first_frame_at.get_or_insert(at);
        })
        .await
    }

    /// Marks titles whose licence the store revoked.
    pub async fn mark_revoked(&self, title_id: &str) -> Result<()> {
        self.update_sealed(title_id, |s| s.revoked = true).await
    }

    /// Learns a first frame the store recorded: the earlier of it and this library's own
    /// record wins, so a row edited to forget its first frame does not reset a window.
    pub async fn learn_first_frame(&self, title_id: &str, at: i64) -> Result<()> {
        self.update_sealed(title_id, |s| {
            s.first_frame_at = Some(s.first_frame_at.map_or(at, |mine| mine.min(at)));
        })
        .await?;
        self.mark_first_frame_reported(title_id).await
    }

    /// Records that the store knows the first frame.
    pub async fn mark_first_frame_reported(&self, title_id: &str) -> Result<()> {
        sqlx::query("UPDATE library SET first_frame_reported = 1 WHERE title_id = ?")
            .bind(title_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Replaces a title's licence (a purchase moved to this computer, a restored one).
    pub async fn replace_licence(&self, title_id: &str, bytes: &[u8], now: i64) -> Result<()> {
        self.update_sealed(title_id, |s| {
            s.licence = Some(bytes.to_vec());
            s.revoked = false;
        })
        .await?;
        sqlx::query("UPDATE licences SET received_at = ? WHERE title_id = ?")
            .bind(now)
            .bind(title_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Marks a title's download complete.
    pub async fn mark_completed(&self, title_id: &str) -> Result<()> {
        sqlx::query("UPDATE library SET completed = 1 WHERE title_id = ?")
            .bind(title_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// A title of the library, or a "not in your library" error.
    pub(crate) async fn row(&self, title_id: &str) -> Result<LibraryRow> {
        self.get(title_id)
            .await?
            .ok_or_else(|| crate::error::Error::NotInLibrary(title_id.to_owned()))
    }
}

/// A download hold as the library stores it.
fn hold_from_sql(stored: Option<String>) -> Option<DownloadHold> {
    match stored.as_deref() {
        Some("paused") => Some(DownloadHold::Paused),
        Some("removed") => Some(DownloadHold::Removed),
        _ => None,
    }
}

fn origin_str(o: TitleOrigin) -> &'static str {
    match o {
        TitleOrigin::Store => "store",
        TitleOrigin::Published => "published",
        TitleOrigin::External => "external",
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// A library title as the UI shows it: its view, licence, download and installed game.
    pub(crate) fn entry(&self, row: &LibraryRow) -> LibraryEntry {
        LibraryEntry {
            title: self.catalog.library_view(&row.title, row.origin),
            acquired_at_ms: row.acquired_at * 1000,
            licence: self.licences.state(row),
            download: self.torrents.progress_of(row),
            position_s: row.position_s,
            local_path: self.games.installed(&row.title.id),
        }
    }

    /// Every title in the library.
    pub async fn library_list(&self) -> Result<Vec<LibraryEntry>> {
        Ok(self
            .library
            .list()
            .await?
            .iter()
            .map(|r| self.entry(r))
            .collect())
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_protocol::api::FeedTitle;

    /// A library made by the app at 8100c10 keeps every title field, its torrent, its licence
    /// bytes and its state through migration 0005: each migrated title equals the one its old
    /// JSON converts to.
    #[tokio::test]
    async fn a_library_from_8100c10_migrates_every_field() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile-8100c10/library.db");
        let dir = tempfile::tempdir().unwrap();
        let (old_copy, new_copy) = (dir.path().join("old.db"), dir.path().join("new.db"));
        std::fs::copy(&fixture, &old_copy).unwrap();
        std::fs::copy(&fixture, &new_copy).unwrap();

        // What the old rows held, read without migrating.
        let old =
            SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&old_copy))
                .await
                .unwrap();
        type OldRow = (String, String, Vec<u8>, i64, String, Option<Vec<u8>>);
        let rows: Vec<OldRow> = sqlx::query_as(
            "SELECT l.title_id, l.title_json, l.torrent, l.acquired_at, l.origin, c.bytes
             FROM library l LEFT JOIN licences c ON c.title_id = l.title_id",
        )
        .fetch_all(&old)
        .await
        .unwrap();
        assert_eq!(rows.len(), 2, "the fixture holds a free and a rented title");
        assert_eq!(rows.iter().filter(|r| r.5.is_some()).count(), 1);

        let library = Library::open(&new_copy).await.unwrap();
        assert_eq!(library.list().await.unwrap().len(), rows.len());
        for (id, json, torrent, acquired_at, origin, licence) in rows {
            let feed: FeedTitle = serde_json::from_str(&json).unwrap();
            let row = library.get(&id).await.unwrap().expect("the row survives");
            // Every field but a rental's terms (the licence carries the rules of what was
            // rented) and the variant's place in its work, which the library does not keep.
            let expected = LibraryTitle {
                rental: None,
                variant: None,
                work: None,
                ..LibraryTitle::from(&feed)
            };
            assert_eq!(row.title, expected, "{id}");
            assert_eq!(row.torrent, torrent);
            assert_eq!(row.acquired_at, acquired_at);
            assert_eq!(origin_str(row.origin), origin);
            assert_eq!(row.licence, licence, "the licence bytes of {id}");
            assert!(!row.revoked && row.first_frame_at.is_none());
        }
        let rented = library.get("neon-harbor").await.unwrap().unwrap();
        assert_eq!(rented.title.offer, OfferKind::Rent);
        assert!(rented.title.encrypted && rented.title.key_commitment.is_some());
        assert_eq!(rented.title.price_cents, 400);
    }
}
