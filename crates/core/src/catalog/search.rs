//! The full-text search index over the cached catalog (SQLite FTS5 in the profile's database),
//! kept current title by title as the catalog syncs.

use std::path::Path;

use marquee_protocol::api::FeedTitle;
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::error::Result;

/// The full-text search index over the cached catalog.
#[derive(Clone)]
pub struct SearchIndex {
    pub(super) db: SqlitePool,
}

impl SearchIndex {
    /// Opens (creating and migrating) the profile database at `path` for its search index
    /// alone: the search benchmark's way in.
    pub async fn open(path: &Path) -> Result<SearchIndex> {
        Ok(SearchIndex {
            db: crate::db::open(path).await?,
        })
    }

    /// Replaces the whole index with these titles, in one transaction (the benchmark's and the
    /// tests' way to fill it; the app indexes title by title as it syncs).
    pub async fn index_catalog(&self, titles: &[FeedTitle]) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM catalog_fts")
            .execute(&mut *tx)
            .await?;
        let json = serde_json::json!({ "titles": titles }).to_string();
        sqlx::query(&format!(
            "INSERT INTO catalog_fts (rowid, title_id, name, series, studio, genre, synopsis)
             SELECT j.key + 1, {FTS_COLUMNS} FROM json_each(?1, '$.titles') j WHERE {SHOWN}"
        ))
        .bind(json)
        .execute(&mut *tx)
        .await?;
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
}

/// The index's columns of one title, read from its JSON in the feed (`j.value` of a
/// `json_each`): one definition of the words, for a page of the feed and a list of titles alike.
/// Music videos are found by their artist as by their studio.
const FTS_COLUMNS: &str = "json_extract(j.value, '$.id'), json_extract(j.value, '$.name'),
    coalesce(json_extract(j.value, '$.series.series'), ''),
    json_extract(j.value, '$.studio') || coalesce(' ' || json_extract(j.value, '$.artist'), ''),
    json_extract(j.value, '$.genre'), json_extract(j.value, '$.synopsis')";

/// A hidden title (an operator's tombstone) has no entry.
const SHOWN: &str = "NOT coalesce(json_extract(j.value, '$.hidden'), 0)";

/// Replaces the entries of the titles whose newest state the cache's answer `page` holds (its
/// signed JSON is `feed`), in SQLite's own JSON reader: a page of 2,000 titles is two
/// statements, not four thousand.
pub(super) async fn index_page(db: &mut SqliteConnection, feed: &str, page: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM catalog_fts WHERE rowid IN (SELECT n FROM catalog_titles WHERE page = ?)",
    )
    .bind(page)
    .execute(&mut *db)
    .await?;
    // CROSS JOIN keeps SQLite walking the page and finding each title by its unique id.
    sqlx::query(&format!(
        "INSERT INTO catalog_fts (rowid, title_id, name, series, studio, genre, synopsis)
         SELECT c.n, {FTS_COLUMNS} FROM json_each(?1, '$.titles') j
         CROSS JOIN catalog_titles c ON c.id = json_extract(j.value, '$.id')
         WHERE c.page = ?2 AND {SHOWN}"
    ))
    .bind(feed)
    .bind(page)
    .execute(&mut *db)
    .await?;
    Ok(())
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
        let index = SearchIndex::open(&dir.path().join("l.db")).await.unwrap();
        let mut titles = marquee_store::generate::synthetic_catalog(300);
        titles[7].name = "Neon Harbor".into();
        titles[8].synopsis = "A dock inspector in the neon district.".into();
        index.index_catalog(&titles).await.unwrap();
        let hits = index.search("neon harb", 10).await.unwrap();
        assert_eq!(hits.first(), Some(&titles[7].id));
        let hits = index.search("neon", 10).await.unwrap();
        assert!(hits.contains(&titles[7].id) && hits.contains(&titles[8].id));
        assert_eq!(
            hits[0], titles[7].id,
            "a name match ranks above a synopsis match"
        );
        assert!(index.search("zzzqqq", 10).await.unwrap().is_empty());
    }
}
