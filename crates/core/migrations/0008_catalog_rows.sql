-- The catalog cache as rows, kept current with the store's paging, `since` and ETag: every
-- signed answer the app applied (a page of the feed, or the titles changed since a version) is
-- kept as the store signed it, and each title names the answer that holds its newest state.
-- An answer no title names any more is deleted. The offline copy stays verifiable: every title
-- shown comes from an answer whose signature is checked when the cache is read.
CREATE TABLE catalog_pages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    feed            TEXT NOT NULL,
    signature       TEXT NOT NULL
);

CREATE TABLE catalog_titles (
    -- The search index's rowid for this title: stable, so one title's entry is replaced alone.
    n               INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    version         INTEGER NOT NULL,
    page            INTEGER NOT NULL REFERENCES catalog_pages (seq)
);
CREATE INDEX catalog_titles_page ON catalog_titles (page);

-- Where the cache stands: the store it is of, the catalog version it is current with, and
-- the ETag of the last question asked (sent again as If-None-Match).
CREATE TABLE catalog_sync (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    store_key       TEXT NOT NULL,
    version         INTEGER NOT NULL,
    etag_query      TEXT,
    etag            TEXT
);

-- The index is rebuilt row by row from the first sync on (its rowids are now catalog_titles.n).
DELETE FROM catalog_fts;
-- `catalog_cache` (the one-entry feed of older versions) is read once, by the app, into the
-- rows above, then emptied: an upgrade made offline still shows the catalog.
