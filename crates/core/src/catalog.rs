//! The store's catalog: the signed feed fetched and verified, cached for offline browsing,
//! indexed for search, and turned into the titles the UI shows.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use ed25519_dalek::VerifyingKey;
use marquee_protocol::api::{CatalogFeed, FeedTitle, SignedFeed};
use marquee_protocol::sign::{verify, SignatureContext};
use marquee_protocol::StoreClient;
use sqlx::{Row, SqlitePool};

use crate::api::{Offer, Title, TitleKind, TitleOrigin};
use crate::error::{Error, Result};
use crate::title::LibraryTitle;

/// The verified catalog feed of one store, its offline copy and its search index.
pub(crate) struct Catalog {
    store: StoreClient,
    store_key: VerifyingKey,
    index: SearchIndex,
    /// The last verified feed of this run.
    feed: RwLock<Option<Arc<CatalogFeed>>>,
    /// Where the titles' pictures are shown from.
    art: Arc<crate::art::Art>,
}

impl Catalog {
    pub(crate) fn new(
        store: StoreClient,
        store_key: VerifyingKey,
        db: SqlitePool,
        art: Arc<crate::art::Art>,
    ) -> Catalog {
        Catalog {
            store,
            store_key,
            index: SearchIndex { db },
            feed: RwLock::default(),
            art,
        }
    }

    /// The visible titles, verified against the store's signature; the last verified copy when
    /// the store cannot be reached.
    pub(crate) async fn list(&self) -> Result<Vec<Title>> {
        let feed = self.refresh().await?;
        // Hidden titles are the operator's tombstones: never shown.
        Ok(feed
            .titles
            .iter()
            .filter(|t| !t.hidden)
            .map(|t| self.view(t))
            .collect())
    }

    /// Titles matching what the person typed, best first.
    pub(crate) async fn search(&self, query: &str) -> Result<Vec<Title>> {
        let feed = match self.cached() {
            Some(f) => f,
            None => self.refresh().await?,
        };
        let ids = self.index.search(query, 60).await?;
        let by_id: HashMap<&str, &FeedTitle> =
            feed.titles.iter().map(|t| (t.id.as_str(), t)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .map(|t| self.view(t))
            .collect())
    }

    /// One title of the feed, fetching the feed again when this run has not seen it.
    pub(crate) async fn title(&self, title_id: &str) -> Result<FeedTitle> {
        let feed = match self.cached() {
            Some(f) if f.titles.iter().any(|t| t.id == title_id) => f,
            _ => self.refresh().await?,
        };
        feed.titles
            .iter()
            .find(|t| t.id == title_id)
            .cloned()
            .ok_or_else(|| Error::UnknownTitle(title_id.to_owned()))
    }

    /// The name of the title carrying this content in the feed seen this run, if any.
    pub(crate) fn name_by_info_hash(&self, info_hash: &str) -> Option<String> {
        self.cached().and_then(|f| {
            f.titles
                .iter()
                .find(|t| t.info_hash == info_hash)
                .map(|t| t.name.clone())
        })
    }

    /// The feed seen this run, taken out of the lock (never held across an await).
    fn cached(&self) -> Option<Arc<CatalogFeed>> {
        self.feed.read().expect("feed lock").clone()
    }

    /// Fetches and verifies the feed and caches it; offline, the cached copy if it was signed
    /// by the same key.
    pub(crate) async fn refresh(&self) -> Result<Arc<CatalogFeed>> {
        if self.store.unreachable_now() {
            // The copy already verified this run, without waiting on a connection that is not
            // there; the reconnection refreshes it.
            if let Some(feed) = self.cached() {
                return Ok(feed);
            }
        }
        let key_hex = hex::encode(self.store_key.to_bytes());
        let signed = match self.store.catalog().await {
            Ok(signed) => {
                let feed = verify_feed(&self.store_key, &signed)?;
                self.index
                    .cache_feed(&key_hex, &signed.feed, &signed.signature)
                    .await?;
                return Ok(self.set_feed(feed));
            }
            Err(marquee_protocol::ClientError::Unreachable(why)) => {
                match self.index.cached_feed().await? {
                    Some((key, feed, signature)) if key == key_hex => {
                        SignedFeed { feed, signature }
                    }
                    _ => return Err(Error::StoreUnreachable(why)),
                }
            }
            Err(e) => return Err(e.into()),
        };
        let feed = verify_feed(&self.store_key, &signed)?;
        Ok(self.set_feed(feed))
    }

    fn set_feed(&self, feed: CatalogFeed) -> Arc<CatalogFeed> {
        let feed = Arc::new(feed);
        let changed = self
            .cached()
            .is_none_or(|old| old.version != feed.version || old.titles.len() != feed.titles.len());
        if changed {
            // Re-index in the background: browsing must not wait for search.
            let (index, indexed) = (self.index.clone(), feed.clone());
            tokio::spawn(async move {
                if let Err(e) = index.index_catalog(&indexed.titles).await {
                    tracing::warn!(error = %e, "indexing the catalog for search");
                }
            });
        }
        *self.feed.write().expect("feed lock") = Some(feed.clone());
        feed
    }

    /// A feed title as the storefront shows it.
    pub(crate) fn view(&self, t: &FeedTitle) -> Title {
        self.title_of(LibraryTitle::from(t), TitleOrigin::Store)
    }

    /// A library title as the UI shows it: the same shape as a catalog title, with the
    /// artwork on this store.
    pub(crate) fn library_view(&self, t: &LibraryTitle, origin: TitleOrigin) -> Title {
        self.title_of(t.clone(), origin)
    }

    /// The one conversion to the UI's title, for store and library titles alike.
    fn title_of(&self, t: LibraryTitle, origin: TitleOrigin) -> Title {
        Title {
            id: t.id,
            kind: TitleKind::parse(&t.kind),
            name: t.name,
            synopsis: t.synopsis,
            year: t.year,
            runtime_s: t.runtime_s,
            genre: t.genre,
            studio: t.studio,
            artist: t.artist,
            new_release: t.new_release,
            // Titles from outside the store have no poster; the UI draws one.
            poster_url: if t.poster_path.is_empty() {
                String::new()
            } else {
                self.art.url(&t.poster_path)
            },
            backdrop_url: t.backdrop_path.map(|p| self.art.url(&p)),
            series: t.series,
            offer: Offer {
                kind: t.offer,
                price_cents: t.price_cents,
                currency: t.currency,
            },
            width: t.width,
            height: t.height,
            size_bytes: t.size_bytes,
            licence_to_share: t.licence_to_share,
            origin,
            publisher: t.publisher,
            for_sale: t.for_sale,
            rental: t.rental,
        }
    }
}

/// Verifies a signed feed and parses it.
pub fn verify_feed(key: &VerifyingKey, signed: &SignedFeed) -> Result<CatalogFeed> {
    verify(
        key,
        SignatureContext::Feed,
        signed.feed.as_bytes(),
        &signed.signature,
    )
    .map_err(|e| Error::CatalogUntrusted(e.to_string()))?;
    serde_json::from_str(&signed.feed)
        .map_err(|e| Error::StoreIncompatible(format!("the catalog does not parse: {e}")))
}

/// The offline copy of the feed and the full-text search index over it, in the profile's
/// database.
#[derive(Clone)]
pub struct SearchIndex {
    db: SqlitePool,
}

impl SearchIndex {
    /// Opens (creating and migrating) the profile database at `path` for its search index
    /// alone: the search benchmark's way in.
    pub async fn open(path: &Path) -> Result<SearchIndex> {
        Ok(SearchIndex {
            db: crate::db::open(path).await?,
        })
    }

    /// Stores the last verified catalog feed.
    async fn cache_feed(&self, store_key: &str, feed: &str, signature: &str) -> Result<()> {
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
    async fn cached_feed(&self) -> Result<Option<(String, String, String)>> {
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

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {
    /// The catalog, verified against the store's signature; the last verified copy when the
    /// store cannot be reached.
    pub async fn catalog_list(&self) -> Result<Vec<Title>> {
        self.catalog.list().await
    }

    /// Titles matching what the person typed, best first.
    pub async fn catalog_search(&self, query: &str) -> Result<Vec<Title>> {
        self.catalog.search(query).await
    }
}

/// The operations of this domain that the app offers, on the core facade.
impl crate::Core {}

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
