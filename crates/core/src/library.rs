//! The profile's library: titles rented, bought, got, published or added from outside the
//! store, their licences, download state and playback position.

use std::path::Path;

use anyhow::Context;
use marquee_protocol::api::FeedTitle;
use sqlx::{Row, SqlitePool};

use crate::api::TitleOrigin;
use crate::error::Result;

/// One row of the library.
#[derive(Clone, Debug)]
pub struct LibraryRow {
    /// The store's feed entry.
    pub title: FeedTitle,
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
}

/// The library database.
#[derive(Clone)]
pub struct Library {
    db: SqlitePool,
}

impl Library {
    /// The library in the profile's database.
    pub(crate) fn new(db: SqlitePool) -> Library {
        Library { db }
    }

    /// Opens (creating and migrating) the profile database at `path` for its library alone.
    pub async fn open(path: &Path) -> Result<Library> {
        Ok(Library::new(crate::db::open(path).await?))
    }

    /// Adds a title with its licence (or replaces both): one transaction, so a library row
    /// never exists without the licence it needs.
    pub async fn add(
        &self,
        title: &FeedTitle,
        order_id: &str,
        torrent: &[u8],
        licence: Option<&[u8]>,
        origin: TitleOrigin,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO library (title_id, title_json, offer, acquired_at, order_id, info_hash, torrent, encrypted, origin)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (title_id) DO UPDATE SET title_json = excluded.title_json, offer = excluded.offer,
                acquired_at = excluded.acquired_at, order_id = excluded.order_id, info_hash = excluded.info_hash,
                torrent = excluded.torrent, encrypted = excluded.encrypted, origin = excluded.origin,
                first_frame_at = NULL, revoked = 0, first_frame_reported = 0",
        )
        .bind(&title.id)
        .bind(serde_json::to_string(title).context("title json")?)
        .bind(serde_json::to_value(title.offer).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
        .bind(now)
        .bind(order_id)
        .bind(&title.info_hash)
        .bind(torrent)
        .bind(title.encrypted as i64)
        .bind(origin_str(origin))
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

    fn from_sql(r: sqlx::sqlite::SqliteRow) -> Result<LibraryRow> {
        let json: String = r.get("title_json");
        Ok(LibraryRow {
            title: serde_json::from_str(&json).context("a library title does not parse")?,
            acquired_at: r.get("acquired_at"),
            torrent: r.get("torrent"),
            position_s: r.get("position_s"),
            first_frame_at: r.get("first_frame_at"),
            licence: r.get("licence"),
            revoked: r.get::<i64, _>("revoked") != 0,
            first_frame_reported: r.get::<i64, _>("first_frame_reported") != 0,
            origin: match r.get::<String, _>("origin").as_str() {
                "published" => TitleOrigin::Published,
                "external" => TitleOrigin::External,
                _ => TitleOrigin::Store,
            },
        })
    }

    const SELECT: &'static str = "SELECT l.title_json, l.acquired_at, l.torrent, l.position_s, l.first_frame_at, l.origin, l.revoked, l.first_frame_reported, c.bytes AS licence
           FROM library l LEFT JOIN licences c ON c.title_id = l.title_id";

    /// The title with this info hash, if any.
    pub async fn by_info_hash(&self, info_hash: &str) -> Result<Option<LibraryRow>> {
        sqlx::query(&format!("{} WHERE l.info_hash = ?", Self::SELECT))
            .bind(info_hash)
            .fetch_optional(&self.db)
            .await?
            .map(Self::from_sql)
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
        .map(Self::from_sql)
        .collect()
    }

    /// One title.
    pub async fn get(&self, title_id: &str) -> Result<Option<LibraryRow>> {
        sqlx::query(&format!("{} WHERE l.title_id = ?", Self::SELECT))
            .bind(title_id)
            .fetch_optional(&self.db)
            .await?
            .map(Self::from_sql)
            .transpose()
    }

    /// Records the playback position, and the first frame if this is the first.
    pub async fn report_playback(
        &self,
        title_id: &str,
        position_s: f64,
        first_frame_at: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE library SET position_s = ?, first_frame_at = COALESCE(first_frame_at, ?) WHERE title_id = ?",
        )
        .bind(position_s)
        .bind(first_frame_at)
        .bind(title_id)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Marks titles whose licence the store revoked.
    pub async fn mark_revoked(&self, title_id: &str) -> Result<()> {
        sqlx::query("UPDATE library SET revoked = 1 WHERE title_id = ?")
            .bind(title_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Records that the store knows the first frame.
    pub async fn mark_first_frame_reported(&self, title_id: &str) -> Result<()> {
        sqlx::query("UPDATE library SET first_frame_reported = 1 WHERE title_id = ?")
            .bind(title_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Replaces a title's licence (a purchase moved to this computer).
    pub async fn replace_licence(&self, title_id: &str, bytes: &[u8], now: i64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE licences SET bytes = ?, received_at = ? WHERE title_id = ?")
            .bind(bytes)
            .bind(now)
            .bind(title_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE library SET revoked = 0 WHERE title_id = ?")
            .bind(title_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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

fn origin_str(o: TitleOrigin) -> &'static str {
    match o {
        TitleOrigin::Store => "store",
        TitleOrigin::Published => "published",
        TitleOrigin::External => "external",
    }
}
