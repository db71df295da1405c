//! The offline copy of the catalog as rows: each signed answer the app applied, kept as the
//! store signed it, and one row per title naming the answer that holds its newest state (see
//! `migrations/0008_catalog_rows.sql`). Reading the copy checks every answer's signature again,
//! so what is shown offline is what the store signed.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use marquee_protocol::api::{FeedTitle, SignedFeed};
use sqlx::{Row, SqlitePool};

use crate::catalog::search;
use crate::catalog::signed;
use crate::error::Result;

/// The titles of one store's catalog by id.
#[derive(Clone, Default)]
pub(crate) struct Titles {
    /// Every title by id, hidden ones (the operator's tombstones) included.
    pub(crate) by_id: HashMap<String, Arc<FeedTitle>>,
}

impl Titles {
    /// Takes `t` unless a newer state of the same title is known.
    pub(crate) fn apply(&mut self, t: Arc<FeedTitle>) {
        use std::collections::hash_map::Entry;
        match self.by_id.entry(t.id.clone()) {
            Entry::Occupied(mut known) => {
                if known.get().version <= t.version {
                    known.insert(t);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(t);
            }
        }
    }
}

/// What reading the offline copy found.
pub(crate) enum Loaded {
    /// No copy of this store's catalog.
    Nothing,
    /// The copy, verified.
    Titles(Titles),
    /// A copy that no longer verified (why): it was emptied.
    Refused(String),
}

/// Where the cache stands with its store.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct SyncState {
    /// The catalog version the cache is current with.
    pub(crate) version: i64,
    /// The question last asked and its answer's ETag.
    pub(crate) etag: Option<(String, String)>,
}

/// The catalog cache in the profile's database.
#[derive(Clone)]
pub(crate) struct Cache {
    db: SqlitePool,
}

impl Cache {
    pub(crate) fn new(db: SqlitePool) -> Cache {
        Cache { db }
    }

    /// Where the cache of the store with `store_key` (hex) stands; `None` when it holds no
    /// catalog of that store.
    pub(crate) async fn state(&self, store_key: &str) -> Result<Option<SyncState>> {
        let row = sqlx::query(
            "SELECT store_key, version, etag_query, etag FROM catalog_sync WHERE id = 1",
        )
        .fetch_optional(&self.db)
        .await?;
        Ok(row.and_then(|r| {
            let key: String = r.get(0);
            (key == store_key).then(|| SyncState {
                version: r.get(1),
                etag: match (r.get(2), r.get(3)) {
                    (Some(q), Some(e)) => Some((q, e)),
                    _ => None,
                },
            })
        }))
    }

    /// Records that the cache of the store `store_key` is current with `state`.
    pub(crate) async fn set_state(&self, store_key: &str, state: &SyncState) -> Result<()> {
        let (query, etag) = state.etag.clone().unzip();
        sqlx::query(
            "INSERT INTO catalog_sync (id, store_key, version, etag_query, etag) VALUES (1, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET store_key = excluded.store_key, version = excluded.version,
                 etag_query = excluded.etag_query, etag = excluded.etag",
        )
        .bind(store_key)
        .bind(state.version)
        .bind(query)
        .bind(etag)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Forgets the whole cache and its search index (another store, or a copy that no longer
    /// verifies): the next sync fetches everything again.
    pub(crate) async fn clear(&self) -> Result<()> {
        let mut tx = self.db.begin().await?;
        for table in [
            "catalog_fts",
            "catalog_titles",
            "catalog_pages",
            "catalog_sync",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Keeps one verified answer (`signed`, its titles with distinct ids): its signed bytes, a
    /// row per title it brings (unless a newer state of that title is kept) and the titles'
    /// search entries, in one transaction. An answer that no row names any more is deleted.
    pub(crate) async fn apply(&self, signed: &SignedFeed) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let seq: i64 =
            sqlx::query("INSERT INTO catalog_pages (feed, signature) VALUES (?, ?) RETURNING seq")
                .bind(&signed.feed)
                .bind(&signed.signature)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
        // The answers that held these titles until now: deleted below once none is named.
        let mut left: BTreeSet<i64> = sqlx::query(
            "SELECT DISTINCT c.page FROM json_each(?, '$.titles') j
             CROSS JOIN catalog_titles c ON c.id = json_extract(j.value, '$.id')",
        )
        .bind(&signed.feed)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
        left.insert(seq);
        // A title's newest state wins: an older one (a replayed answer) changes nothing.
        sqlx::query(
            "INSERT INTO catalog_titles (id, version, page)
             SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.version'), ?2
               FROM json_each(?1, '$.titles') j WHERE true
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, page = excluded.page
               WHERE excluded.version >= catalog_titles.version",
        )
        .bind(&signed.feed)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        search::index_page(&mut tx, &signed.feed, seq).await?;
        for page in left {
            sqlx::query(
                "DELETE FROM catalog_pages WHERE seq = ?1
                   AND NOT EXISTS (SELECT 1 FROM catalog_titles WHERE page = ?1)",
            )
            .bind(page)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Reads the cache of the store whose key is `key`, checking every kept answer's signature.
    /// A kept answer that no longer verifies (a damaged or altered file) empties the cache,
    /// which the next sync fills again.
    pub(crate) async fn load(&self, key: &VerifyingKey) -> Result<Loaded> {
        let key_hex = hex::encode(key.to_bytes());
        self.import_single_feed(key, &key_hex).await?;
        if self.state(&key_hex).await?.is_none() {
            return Ok(Loaded::Nothing);
        }
        let key = *key;
        // Hashing and parsing tens of megabytes: off the async workers, on every core, while
        // the next answers are still being read from the database.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (send, pages) = tokio::sync::mpsc::channel(threads * 2);
        let readers = tokio::task::spawn_blocking(move || verify_all(&key, pages, threads));
        let mut rows =
            sqlx::query("SELECT feed, signature FROM catalog_pages ORDER BY seq").fetch(&self.db);
        let mut kept = 0usize;
        while let Some(r) = futures::TryStreamExt::try_next(&mut rows).await? {
            let page = SignedFeed {
                feed: r.get(0),
                signature: r.get(1),
            };
            if send.send((kept, page)).await.is_err() {
                break; // An answer did not verify: the readers stopped.
            }
            kept += 1;
        }
        drop((send, rows));
        let read = readers
            .await
            .map_err(|e| anyhow::anyhow!("reading the catalog copy: {e}"))?;
        match read {
            Ok(titles) => Ok(Loaded::Titles(titles)),
            Err(e) => {
                tracing::warn!(error = %e, "the catalog's offline copy does not verify: emptied, to fetch again");
                self.clear().await?;
                Ok(Loaded::Refused(e.to_string()))
            }
        }
    }

    /// Moves the one-entry feed older versions kept (`catalog_cache`) into rows, once, so an
    /// upgrade made offline still shows the catalog.
    async fn import_single_feed(&self, key: &VerifyingKey, key_hex: &str) -> Result<()> {
        let Some(old) = sqlx::query("SELECT store_key, feed, signature FROM catalog_cache")
            .fetch_optional(&self.db)
            .await?
        else {
            return Ok(());
        };
        let (old_key, signed): (String, SignedFeed) = (
            old.get(0),
            SignedFeed {
                feed: old.get(1),
                signature: old.get(2),
            },
        );
        if old_key == key_hex && self.state(key_hex).await?.is_none() {
            if let Ok(feed) = signed::verify_feed(key, &signed) {
                self.apply(&signed).await?;
                self.set_state(
                    key_hex,
                    &SyncState {
                        version: feed.version,
                        etag: None,
                    },
                )
                .await?;
            }
        }
        sqlx::query("DELETE FROM catalog_cache")
            .execute(&self.db)
            .await?;
        Ok(())
    }
}

/// Kept answers read by one thread: (order of keeping, titles).
type ReadPages = Vec<(usize, Vec<Arc<FeedTitle>>)>;

/// Verifies and parses the kept answers sent on `pages` (numbered in order of keeping) on
/// `threads` threads, then applies them in that order, so a title's newest state wins. Stops at
/// the first answer that does not verify.
fn verify_all(
    key: &VerifyingKey,
    pages: tokio::sync::mpsc::Receiver<(usize, SignedFeed)>,
    threads: usize,
) -> Result<Titles> {
    let pages = std::sync::Mutex::new(pages);
    let parsed: Vec<Result<ReadPages>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut read = Vec::new();
                    loop {
                        let next = pages.lock().expect("pages lock").blocking_recv();
                        let Some((n, page)) = next else {
                            return Ok(read);
                        };
                        match signed::verify_feed(key, &page) {
                            Ok(feed) => {
                                read.push((n, feed.titles.into_iter().map(Arc::new).collect()))
                            }
                            Err(e) => {
                                pages.lock().expect("pages lock").close();
                                return Err(e);
                            }
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a catalog reader panicked"))
            .collect()
    });
    let mut read = Vec::new();
    for worker in parsed {
        read.extend(worker?);
    }
    read.sort_unstable_by_key(|(n, _)| *n);
    let mut titles = Titles::default();
    titles
        .by_id
        .reserve(read.iter().map(|(_, page)| page.len()).sum());
    for (_, page) in read {
        page.into_iter().for_each(|t| titles.apply(t));
    }
    Ok(titles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::search::SearchIndex;
    use ed25519_dalek::SigningKey;
    use marquee_protocol::api::CatalogFeed;
    use marquee_protocol::sign::{sign, SignatureContext};

    fn signed(key: &SigningKey, version: i64, titles: Vec<FeedTitle>) -> (SignedFeed, CatalogFeed) {
        let feed = CatalogFeed {
            version,
            generated_at: 1_700_000_000,
            titles,
            next_after: None,
            since: None,
            total: None,
        };
        let json = serde_json::to_string(&feed).unwrap();
        let signature = sign(key, SignatureContext::Feed, json.as_bytes());
        (
            SignedFeed {
                feed: json,
                signature,
            },
            feed,
        )
    }

    /// The one-entry feed an older version kept is moved into rows once, so an upgrade made
    /// offline still shows the catalog; one of another store is dropped.
    #[tokio::test]
    async fn an_older_versions_single_feed_is_read_into_rows_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open(&dir.path().join("l.db")).await.unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut titles = marquee_store::generate::synthetic_catalog(40);
        for (i, t) in titles.iter_mut().enumerate() {
            t.version = i as i64 + 1;
        }
        let (old, _) = signed(&key, 40, titles);
        sqlx::query(
            "INSERT INTO catalog_cache (id, store_key, feed, signature) VALUES (1, ?, ?, ?)",
        )
        .bind(hex::encode(key.verifying_key().to_bytes()))
        .bind(&old.feed)
        .bind(&old.signature)
        .execute(&db)
        .await
        .unwrap();
        let cache = Cache::new(db.clone());
        let Loaded::Titles(loaded) = cache.load(&key.verifying_key()).await.unwrap() else {
            panic!("the old copy is read");
        };
        assert_eq!(loaded.by_id.len(), 40);
        let key_hex = hex::encode(key.verifying_key().to_bytes());
        assert_eq!(cache.state(&key_hex).await.unwrap().unwrap().version, 40);
        let left: i64 = sqlx::query("SELECT COUNT(*) FROM catalog_cache")
            .fetch_one(&db)
            .await
            .unwrap()
            .get(0);
        assert_eq!(left, 0, "read once");
        let found = SearchIndex { db: db.clone() }
            .search(&loaded.by_id.values().next().unwrap().name, 60)
            .await
            .unwrap();
        assert!(!found.is_empty(), "indexed for search too");

        // Another store's key: nothing of this copy is shown.
        let other = SigningKey::from_bytes(&[9; 32]);
        assert!(matches!(
            cache.load(&other.verifying_key()).await.unwrap(),
            Loaded::Nothing
        ));
    }

    /// A newer state of a title is never replaced by an older one, and an answer that no title
    /// names any more is deleted.
    #[tokio::test]
    async fn rows_keep_the_newest_state_and_superseded_answers_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open(&dir.path().join("l.db")).await.unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let key_hex = hex::encode(key.verifying_key().to_bytes());
        let cache = Cache::new(db.clone());
        let mut t = marquee_store::generate::synthetic_catalog(1).remove(0);
        t.version = 5;
        t.price_cents = 300;
        let (a, _) = signed(&key, 5, vec![t.clone()]);
        cache.apply(&a).await.unwrap();
        t.version = 9;
        t.price_cents = 200;
        let (b, _) = signed(&key, 9, vec![t.clone()]);
        cache.apply(&b).await.unwrap();
        // The older answer again (a replay): kept nowhere.
        cache.apply(&a).await.unwrap();
        cache
            .set_state(
                &key_hex,
                &SyncState {
                    version: 9,
                    etag: None,
                },
            )
            .await
            .unwrap();
        let pages: i64 = sqlx::query("SELECT COUNT(*) FROM catalog_pages")
            .fetch_one(&db)
            .await
            .unwrap()
            .get(0);
        assert_eq!(pages, 1, "only the answer holding the newest state is kept");
        let Loaded::Titles(loaded) = cache.load(&key.verifying_key()).await.unwrap() else {
            panic!("the copy is read");
        };
        assert_eq!(loaded.by_id[&t.id].price_cents, 200);
    }
}
