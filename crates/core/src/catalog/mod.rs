//! The store's catalog: the signed feed fetched and verified, kept current incrementally with
//! the store's paging, `since` and ETag ([`cache`]), indexed for search ([`search`]), and turned
//! into the titles the UI shows.

mod cache;
mod search;
mod signed;

use std::sync::{Arc, RwLock};

use ed25519_dalek::VerifyingKey;
use marquee_protocol::api::{CatalogQuery, FeedTitle};
use marquee_protocol::{CatalogPage, StoreClient};
use sqlx::SqlitePool;

pub use search::{fts_query, SearchIndex};
pub use signed::verify_feed;

use crate::api::{Offer, Title, TitleKind, TitleOrigin};
use crate::error::{Error, Result};
use crate::title::LibraryTitle;
use cache::{Cache, Loaded, SyncState, Titles};

/// Titles asked for per page of the feed: about 1.5 MB on the wire, well inside the client's
/// 30-second timeout on a slow line, and few round trips for a first sync at 100,000 titles.
pub const SYNC_PAGE: u32 = 2000;

/// What one sync with the store did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Answers fetched (a `304 Not Modified` counts as one).
    pub requests: u32,
    /// Body bytes received.
    pub bytes: u64,
    /// Titles received (new, changed or hidden).
    pub titles: u64,
    /// True when the store answered that nothing changed.
    pub not_modified: bool,
}

/// The verified catalog of one store, its offline copy and its search index.
pub(crate) struct Catalog {
    store: StoreClient,
    store_key: VerifyingKey,
    index: SearchIndex,
    cache: Cache,
    /// The titles as this run knows them: `None` until the offline copy is read or a first
    /// sync ends.
    titles: RwLock<Option<Arc<Titles>>>,
    /// Reads the offline copy once per run.
    loaded: tokio::sync::OnceCell<()>,
    /// Why the offline copy read at start did not verify, if it did not.
    refused_copy: std::sync::Mutex<Option<String>>,
    /// One sync at a time: a caller that waited then asks again, cheaply (an ETag).
    syncing: tokio::sync::Mutex<()>,
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
            index: SearchIndex { db: db.clone() },
            cache: Cache::new(db),
            titles: RwLock::default(),
            loaded: tokio::sync::OnceCell::new(),
            refused_copy: std::sync::Mutex::default(),
            syncing: tokio::sync::Mutex::new(()),
            art,
        }
    }

    /// The visible titles, in the feed's order (by the version each last changed in), current
    /// with the store; the offline copy when the store cannot be reached.
    pub(crate) async fn list(&self) -> Result<Vec<Title>> {
        let titles = self.refresh().await?;
        let mut shown: Vec<&Arc<FeedTitle>> = titles
            .by_id
            .values()
            // Hidden titles are the operator's tombstones: never shown.
            .filter(|t| !t.hidden)
            .collect();
        shown.sort_by(|a, b| (a.version, &a.id).cmp(&(b.version, &b.id)));
        Ok(shown.into_iter().map(|t| self.view(t)).collect())
    }

    /// Titles matching what the person typed, best first.
    pub(crate) async fn search(&self, query: &str) -> Result<Vec<Title>> {
        let titles = match self.cached() {
            Some(t) => t,
            None => self.refresh().await?,
        };
        let ids = self.index.search(query, 60).await?;
        Ok(ids
            .iter()
            .filter_map(|id| titles.by_id.get(id.as_str()))
            .filter(|t| !t.hidden)
            .map(|t| self.view(t))
            .collect())
    }

    /// One title of the feed, syncing again when this run has not seen it.
    pub(crate) async fn title(&self, title_id: &str) -> Result<FeedTitle> {
        let titles = match self.cached() {
            Some(t) if t.by_id.contains_key(title_id) => t,
            _ => self.refresh().await?,
        };
        titles
            .by_id
            .get(title_id)
            .map(|t| (**t).clone())
            .ok_or_else(|| Error::UnknownTitle(title_id.to_owned()))
    }

    /// The name of the title carrying this content in the catalog seen this run, if any.
    pub(crate) fn name_by_info_hash(&self, info_hash: &str) -> Option<String> {
        self.cached().and_then(|c| {
            c.by_id
                .values()
                .find(|t| t.info_hash == info_hash)
                .map(|t| t.name.clone())
        })
    }

    /// The titles known this run, taken out of the lock (never held across an await).
    fn cached(&self) -> Option<Arc<Titles>> {
        self.titles.read().expect("catalog lock").clone()
    }

    fn publish(&self, titles: Titles) -> Arc<Titles> {
        let titles = Arc::new(titles);
        *self.titles.write().expect("catalog lock") = Some(titles.clone());
        titles
    }

    /// Reads the offline copy into memory, once per run.
    async fn load(&self) -> Result<()> {
        self.loaded
            .get_or_try_init(|| async {
                match self.cache.load(&self.store_key).await? {
                    Loaded::Titles(titles) => {
                        self.publish(titles);
                    }
                    Loaded::Refused(why) => {
                        *self.refused_copy.lock().expect("refused lock") = Some(why);
                    }
                    Loaded::Nothing => {}
                }
                Ok::<_, Error>(())
            })
            .await
            .map(drop)
    }

    /// Brings the catalog up to date with the store; offline, the copy verified before.
    pub(crate) async fn refresh(&self) -> Result<Arc<Titles>> {
        self.load().await?;
        let _one_at_a_time = self.syncing.lock().await;
        if self.store.unreachable_now() {
            // The verified copy, without waiting on a connection that is not there; the
            // reconnection refreshes it.
            if let Some(titles) = self.cached() {
                return Ok(titles);
            }
        }
        match self.sync().await {
            Ok(_) => Ok(self.cached().unwrap_or_default()),
            Err(Error::StoreUnreachable(why)) => self.cached().ok_or_else(|| {
                // Offline with a copy that did not verify: say so, not only "unreachable".
                match self.refused_copy.lock().expect("refused lock").clone() {
                    Some(refused) => Error::CatalogUntrusted(format!(
                        "the catalog saved on this computer was altered ({refused}); it is fetched again when the store answers"
                    )),
                    None => Error::StoreUnreachable(why),
                }
            }),
            Err(e) => Err(e),
        }
    }

    /// Asks the store what changed since the version the cache is current with (everything, the
    /// first time), page by page, and keeps each verified answer. The version moves on only
    /// when the last page is in, so a walk cut short is asked again (and what it kept is
    /// simply received again).
    async fn sync(&self) -> Result<SyncReport> {
        let key_hex = hex::encode(self.store_key.to_bytes());
        let state = match self.cache.state(&key_hex).await? {
            Some(state) => state,
            None => {
                // Nothing of this store is kept: whatever is there is another store's.
                self.cache.clear().await?;
                SyncState::default()
            }
        };
        // Copied from what is shown only when something arrives.
        let mut titles: Option<Titles> = None;
        let mut report = SyncReport::default();
        let mut query = CatalogQuery {
            limit: Some(SYNC_PAGE),
            after: None,
            since: (state.version > 0).then_some(state.version),
        };
        let mut first_etag = None;
        let result = loop {
            let asked = question(&query);
            // Only the walk's first question is asked again as it was.
            let etag = match (&query.after, &state.etag) {
                (None, Some((q, e))) if *q == asked => Some(e.as_str()),
                _ => None,
            };
            report.requests += 1;
            let page = match self.store.catalog_page(&query, etag).await {
                Ok(page) => page,
                Err(e) => break Err(e.into()),
            };
            let (signed, etag, bytes) = match page {
                CatalogPage::NotModified => {
                    report.not_modified = true;
                    return Ok(report);
                }
                CatalogPage::Changed {
                    signed,
                    etag,
                    bytes,
                } => (signed, etag, bytes),
            };
            report.bytes += bytes;
            let feed = match verify_feed(&self.store_key, &signed) {
                Ok(feed) => feed,
                Err(e) => break Err(e),
            };
            let mut ids = std::collections::HashSet::with_capacity(feed.titles.len());
            if !feed.titles.iter().all(|t| ids.insert(t.id.as_str())) {
                break Err(Error::StoreIncompatible(
                    "the catalog lists one title twice in an answer".into(),
                ));
            }
            if feed.since != query.since {
                break Err(Error::StoreIncompatible(
                    "the catalog answered another question than the one asked".into(),
                ));
            }
            if query.after.is_none() {
                first_etag = etag.map(|e| (asked, e));
            }
            if let Err(e) = self.cache.apply(&signed).await {
                break Err(e);
            }
            report.titles += feed.titles.len() as u64;
            let (version, next) = (feed.version, feed.next_after.clone());
            if !feed.titles.is_empty() {
                let titles = titles
                    .get_or_insert_with(|| self.cached().map(|t| (*t).clone()).unwrap_or_default());
                feed.titles
                    .into_iter()
                    .for_each(|t| titles.apply(Arc::new(t)));
            }
            match next {
                Some(after) => query.after = Some(after),
                None => {
                    // Every title up to this answer's version is in.
                    let done = SyncState {
                        version,
                        etag: first_etag.take(),
                    };
                    break self.cache.set_state(&key_hex, &done).await;
                }
            }
        };
        // What was received is shown even when the walk was cut short.
        match titles {
            Some(titles) => {
                self.publish(titles);
            }
            // A first sync of an empty catalog: shown as such.
            None if result.is_ok() && self.cached().is_none() => {
                self.publish(Titles::default());
            }
            None => {}
        }
        result.map(|()| report)
    }

    /// Syncs now and says what it took (the benchmark's and the tests' view of a sync).
    pub(crate) async fn sync_now(&self) -> Result<SyncReport> {
        self.load().await?;
        let _one_at_a_time = self.syncing.lock().await;
        self.sync().await
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
        let work = t.work.clone().unwrap_or_else(|| t.id.clone());
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
            variant: t.variant,
            work,
        }
    }
}

/// The words of a feed question, to know when the same one is asked again.
fn question(q: &CatalogQuery) -> String {
    format!(
        "limit={}&after={}&since={}",
        q.limit.unwrap_or(0),
        q.after.as_deref().unwrap_or(""),
        q.since.unwrap_or(0)
    )
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

    /// Brings the catalog up to date with the store now and says what that took: the app
    /// syncs on its own whenever it lists; the benchmark and tests ask this.
    pub async fn catalog_sync(&self) -> Result<SyncReport> {
        self.catalog.sync_now().await
    }
}
