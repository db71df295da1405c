-- Full-text search over the cached catalog (titles, series, studios, synopses).
CREATE VIRTUAL TABLE catalog_fts USING fts5(
    title_id UNINDEXED,
    name,
    series,
    studio,
    genre,
    synopsis,
    tokenize = 'unicode61 remove_diacritics 2'
);
