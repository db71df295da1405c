//! The local library in SQLite (sqlx, with migrations): titles rented, bought or got, their
//! licences, download state and playback position.

use std::path::Path;

use anyhow::Context;
use marquee_protocol::api::FeedTitle;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
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
    /// Opens (creating and migrating) the library at `path`.
    pub async fn open(path: &Path) -> Result<Library> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let db = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .with_context(|| format!("opening the library at {}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&db)
            .await
            .context("migrating the library")?;
        Ok(Library { db })
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

    fn row(r: sqlx::sqlite::SqliteRow) -> Result<LibraryRow> {
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
            .map(Self::row)
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
        .map(Self::row)
        .collect()
    }

    /// One title.
    pub async fn get(&self, title_id: &str) -> Result<Option<LibraryRow>> {
        sqlx::query(&format!("{} WHERE l.title_id = ?", Self::SELECT))
            .bind(title_id)
            .fetch_optional(&self.db)
            .await?
            .map(Self::row)
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

    /// Stores the last verified catalog feed.
    pub async fn cache_feed(&self, store_key: &str, feed: &str, signature: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO catalog_cache (id, store_key, feed, signature) VALUES (1, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET store_key = excluded.store_key, feed = excluded.feed, signature = excluded.signature",
        )
        .bind(store_key)
        .bind(feed)
        .bind(signature)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// The cached feed: (store key, feed JSON, signature).
    pub async fn cached_feed(&self) -> Result<Option<(String, String, String)>> {
        Ok(
            sqlx::query("SELECT store_key, feed, signature FROM catalog_cache WHERE id = 1")
                .fetch_optional(&self.db)
                .await?
                .map(|r| (r.get(0), r.get(1), r.get(2))),
        )
    }

    /// Replaces the search index with these titles, in one transaction.
    pub async fn index_catalog(&self, titles: &[FeedTitle]) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM catalog_fts")
            .execute(&mut *tx)
            .await?;
        for t in titles.iter().filter(|t| !t.hidden) {
            sqlx::query(
                "INSERT INTO catalog_fts (title_id, name, series, studio, genre, synopsis) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&t.id)
            .bind(&t.name)
            .bind(t.series.as_ref().map(|s| s.series.as_str()).unwrap_or(""))
            .bind(t.artist.as_deref().map_or(t.studio.clone(), |a| format!("{} {a}", t.studio)))
            .bind(&t.genre)
            .bind(&t.synopsis)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Title ids matching every word of `query` (as a prefix), best first: matches in the name
    /// weigh most, then series and studio, then genre and synopsis.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<String>> {
        let Some(expr) = fts_query(query) else {
            return Ok(vec![]);
        };
        Ok(sqlx::query(
            "SELECT title_id FROM catalog_fts WHERE catalog_fts MATCH ?
             ORDER BY bm25(catalog_fts, 0.0, 10.0, 5.0, 4.0, 2.0, 1.0) LIMIT ?",
        )
        .bind(expr)
        .bind(limit as i64)
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(|r| r.get(0))
        .collect())
    }

    /// A setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.db)
            .await?
            .map(|r| r.get(0)))
    }

    /// Sets a setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.db)
        .await?;
        Ok(())
    }
}

fn origin_str(o: TitleOrigin) -> &'static str {
    match o {
        TitleOrigin::Store => "store",
        TitleOrigin::Published => "published",
        TitleOrigin::External => "external",
    }
}

/// Turns what a person typed into an FTS5 query: each word quoted (so FTS5 syntax in the input
/// is never interpreted) and matched as a prefix, all words required.
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_input_never_reaches_fts5_as_syntax() {
        assert_eq!(
            fts_query("Neon harb").as_deref(),
            Some("\"neon\"* AND \"harb\"*")
        );
        assert_eq!(
            fts_query("a\" OR 1=1 --").as_deref(),
            Some("\"a\"* AND \"or\"* AND \"1\"* AND \"1\"*")
        );
        assert_eq!(fts_query("  ... "), None);
    }

    #[tokio::test]
    async fn finds_titles_by_words_of_name_series_and_synopsis() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(&dir.path().join("l.db")).await.unwrap();
        let mut titles = marquee_store::generate::synthetic_catalog(300);
        titles[7].name = "Neon Harbor".into();
        titles[8].synopsis = "A dock inspector in the neon district.".into();
        lib.index_catalog(&titles).await.unwrap();
        let hits = lib.search("neon harb", 10).await.unwrap();
        assert_eq!(hits.first(), Some(&titles[7].id));
        let hits = lib.search("neon", 10).await.unwrap();
        assert!(hits.contains(&titles[7].id) && hits.contains(&titles[8].id));
        assert_eq!(
            hits[0], titles[7].id,
            "a name match ranks above a synopsis match"
        );
        assert!(lib.search("zzzqqq", 10).await.unwrap().is_empty());
    }
}
