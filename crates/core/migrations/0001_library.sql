-- The local library: what this profile rented, bought or got, and where playback stopped.
CREATE TABLE library (
    title_id        TEXT PRIMARY KEY,
    title_json      TEXT NOT NULL,      -- the store's feed entry, as verified when acquired
    offer           TEXT NOT NULL,      -- rent | buy | free
    acquired_at     INTEGER NOT NULL,   -- unix seconds
    order_id        TEXT,
    info_hash       TEXT NOT NULL,
    torrent         BLOB NOT NULL,
    encrypted       INTEGER NOT NULL,
    position_s      REAL NOT NULL DEFAULT 0,
    first_frame_at  INTEGER,            -- unix seconds: the rental window starts here
    completed       INTEGER NOT NULL DEFAULT 0
);

-- Signed licences as received from the store; verified again on every use.
CREATE TABLE licences (
    title_id        TEXT PRIMARY KEY REFERENCES library(title_id),
    bytes           BLOB NOT NULL,
    received_at     INTEGER NOT NULL
);

-- The last verified catalog feed, for offline browsing.
CREATE TABLE catalog_cache (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    store_key       TEXT NOT NULL,
    feed            TEXT NOT NULL,
    signature       TEXT NOT NULL
);

CREATE TABLE settings (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);
