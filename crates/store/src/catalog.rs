//! The catalog feed as served: an in-memory snapshot of every title ordered by the catalog
//! version each last changed in, cut into signed pages.
//!
//! Ordering by version (not by name or id) is what makes paging and incremental updates one
//! mechanism: the `after` cursor and `since` are both versions, a title that changes while a
//! client walks the pages moves to the end (so the walk still sees its newest state), and a
//! client that finished a walk at version *v* asks `?since=v` next time.

use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::api::{CatalogQuery, FeedTitle, SignedFeed, MAX_CATALOG_PAGE};
use crate::error::StoreError;
use marquee_protocol::sign::SignatureContext;

/// One immutable state of the catalog.
pub(crate) struct Snapshot {
    /// The catalog version (the highest title version).
    pub(crate) version: i64,
    /// When this snapshot was made; part of every page, so pages of one snapshot are byte-equal.
    pub(crate) generated_at: i64,
    /// Every title, by ascending `version`.
    pub(crate) titles: Vec<Arc<FeedTitle>>,
    /// The whole feed in one answer, made on first demand (the answer without parameters).
    full: OnceLock<Arc<SignedFeed>>,
}

/// The wire form of [`crate::api::CatalogFeed`], borrowing the titles instead of cloning them.
#[derive(Serialize)]
struct FeedOut<'a> {
    version: i64,
    generated_at: i64,
    titles: Vec<&'a FeedTitle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
}

impl Snapshot {
    /// An empty catalog, made at `now`.
    pub(crate) fn empty(now: i64) -> Snapshot {
        Snapshot {
            version: 0,
            generated_at: now,
            titles: Vec::new(),
            full: OnceLock::new(),
        }
    }

    /// This snapshot with `changed` titles (all newer than it, ascending) applied.
    pub(crate) fn apply(&self, changed: Vec<FeedTitle>, now: i64) -> Snapshot {
        let changed_ids: std::collections::HashSet<&str> =
            changed.iter().map(|t| t.id.as_str()).collect();
        let mut titles: Vec<Arc<FeedTitle>> = self
            .titles
            .iter()
            .filter(|t| !changed_ids.contains(t.id.as_str()))
            .cloned()
            .collect();
        let version = changed.last().map(|t| t.version).unwrap_or(self.version);
        titles.extend(changed.into_iter().map(Arc::new));
        Snapshot {
            version: version.max(self.version),
            generated_at: now,
            titles,
            full: OnceLock::new(),
        }
    }

    /// The strong ETag of the answer to `q`: the bytes of an answer depend only on the snapshot
    /// and the query, and the snapshot on its version and time of making.
    pub(crate) fn etag(&self, q: &CatalogQuery) -> String {
        format!(
            "\"c{}.{}.{}.{}.{}\"",
            self.version,
            self.generated_at,
            q.limit.map(|l| l.to_string()).unwrap_or_default(),
            q.after.as_deref().unwrap_or(""),
            q.since.map(|s| s.to_string()).unwrap_or_default(),
        )
    }

    /// The signed answer to `q`.
    pub(crate) fn answer(
        &self,
        q: &CatalogQuery,
        sign: impl Fn(&[u8]) -> String,
    ) -> Result<Arc<SignedFeed>, StoreError> {
        if q == &CatalogQuery::default() {
            let full = self
                .full
                .get_or_init(|| Arc::new(self.page(q, &sign).expect("no query, no error")));
            return Ok(full.clone());
        }
        self.page(q, &sign).map(Arc::new)
    }

    fn page(
        &self,
        q: &CatalogQuery,
        sign: &impl Fn(&[u8]) -> String,
    ) -> Result<SignedFeed, StoreError> {
        let after = check_query(q)?;
        let since = q.since.unwrap_or(0);
        // Titles are sorted by version: both bounds are binary searches.
        let from_since = self.titles.partition_point(|t| t.version <= since);
        let from = self
            .titles
            .partition_point(|t| t.version <= after.max(since));
        let rest = &self.titles[from..];
        let take = q
            .limit
            .map(|l| l as usize)
            .unwrap_or(rest.len())
            .min(rest.len());
        let titles: Vec<&FeedTitle> = rest[..take].iter().map(|t| &**t).collect();
        let next_after = (take < rest.len()).then(|| titles[take - 1].version.to_string());
        let paged = q.limit.is_some() || q.after.is_some() || q.since.is_some();
        let out = FeedOut {
            version: self.version,
            generated_at: self.generated_at,
            titles,
            next_after,
            since: q.since,
            total: paged.then_some((self.titles.len() - from_since) as u64),
        };
        let feed = serde_json::to_string(&out).map_err(|e| StoreError::Internal(e.to_string()))?;
        let signature = sign(feed.as_bytes());
        Ok(SignedFeed { feed, signature })
    }
}

/// Signs feed bytes with the store key.
pub(crate) fn signer(state: &crate::State) -> impl Fn(&[u8]) -> String + '_ {
    move |bytes| state.sign(SignatureContext::Feed, bytes)
}

/// True when an `If-None-Match` header value names `etag` (or is `*`).
pub(crate) fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|tag| {
        // Weak comparison, as RFC 9110 prescribes for If-None-Match.
        tag == "*" || tag.trim_start_matches("W/") == etag
    })
}

/// Checks a feed query as OpenAPI describes it (before any ETag is compared, so a malformed
/// query is refused even when the feed did not change); returns the `after` cursor (0 for
/// none).
pub(crate) fn check_query(q: &CatalogQuery) -> Result<i64, StoreError> {
    let after = match q.after.as_deref() {
        None => 0,
        // A cursor is a catalog version this store wrote: digits only, as the document says.
        Some(a) if (1..=18).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_digit()) => {
            a.parse::<i64>().unwrap_or(0)
        }
        Some(_) => {
            return Err(StoreError::BadRequest(
                "after must be the next_after of a previous page".into(),
            ))
        }
    };
    if let Some(limit) = q.limit {
        if limit == 0 || limit > MAX_CATALOG_PAGE {
            return Err(StoreError::BadRequest(format!(
                "limit must be 1 to {MAX_CATALOG_PAGE}"
            )));
        }
    }
    if q.since.is_some_and(|v| v < 0) {
        return Err(StoreError::BadRequest(
            "since must be a catalog version: 0 or more".into(),
        ));
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CatalogFeed, OfferKind};

    fn title(id: &str, version: i64) -> FeedTitle {
        FeedTitle {
            id: id.into(),
            kind: "film".into(),
            name: id.into(),
            synopsis: String::new(),
            year: 2020,
            runtime_s: 1,
            genre: "Drama".into(),
            studio: "S".into(),
            artist: None,
            new_release: false,
            offer: OfferKind::Rent,
            price_cents: 300,
            currency: "USD".into(),
            series: None,
            poster_path: String::new(),
            backdrop_path: None,
            width: 1,
            height: 1,
            mime: "video/webm".into(),
            size_bytes: 1,
            info_hash: String::new(),
            encrypted: true,
            key_commitment: None,
            licence_to_share: None,
            rental: None,
            version,
            for_sale: true,
            variant: None,
            work: None,
            publisher: None,
            hidden: false,
        }
    }

    fn parse(f: &SignedFeed) -> CatalogFeed {
        serde_json::from_str(&f.feed).unwrap()
    }

    #[test]
    fn pages_walk_everything_once_and_changes_move_to_the_end() {
        let snap =
            Snapshot::empty(0).apply((1..=10).map(|v| title(&format!("t{v}"), v)).collect(), 1);
        let sign = |_: &[u8]| String::new();
        let mut seen = vec![];
        let mut after = None;
        loop {
            let q = CatalogQuery {
                limit: Some(3),
                after: after.clone(),
                since: None,
            };
            let page = parse(&snap.answer(&q, sign).unwrap());
            assert_eq!(page.total, Some(10));
            seen.extend(page.titles.into_iter().map(|t| t.id));
            match page.next_after {
                Some(a) => after = Some(a),
                None => break,
            }
        }
        assert_eq!(seen.len(), 10);

        let changed = snap.apply(vec![title("t2", 11)], 2);
        assert_eq!(changed.version, 11);
        assert_eq!(changed.titles.len(), 10);
        let q = CatalogQuery {
            since: Some(10),
            ..Default::default()
        };
        let inc = parse(&changed.answer(&q, sign).unwrap());
        assert_eq!(inc.titles.len(), 1);
        assert_eq!(inc.titles[0].id, "t2");
        assert_eq!(inc.titles[0].version, 11);
        assert!(changed.etag(&q) != snap.etag(&q));
        assert!(matches_etag(
            &format!("W/{}, \"x\"", changed.etag(&q)),
            &changed.etag(&q)
        ));
    }

    #[test]
    fn bad_paging_is_refused() {
        let snap = Snapshot::empty(0);
        let sign = |_: &[u8]| String::new();
        for q in [
            CatalogQuery {
                limit: Some(0),
                ..Default::default()
            },
            CatalogQuery {
                after: Some("x".into()),
                ..Default::default()
            },
        ] {
            assert_eq!(
                snap.answer(&q, sign).unwrap_err().code(),
                crate::api::ErrorCode::BadRequest
            );
        }
    }
}
