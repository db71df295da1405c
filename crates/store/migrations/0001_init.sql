-- The store's durable state. Money is integer cents; times are unix seconds.
CREATE TABLE titles (
    id              TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    offer           TEXT NOT NULL,          -- rent | buy | free
    price_cents     INTEGER NOT NULL,
    meta_json       TEXT NOT NULL,          -- the descriptive fields of the catalog feed
    media_path      TEXT NOT NULL,          -- the studio's source file
    package_path    TEXT NOT NULL,          -- what the torrent holds: the container, or the clear file for free titles
    encrypted       INTEGER NOT NULL,
    content_key     BLOB,                   -- secret; never logged, never sent except wrapped in a licence
    key_commitment  BLOB,
    info_hash       TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    torrent         BLOB NOT NULL
);

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    balance_cents   INTEGER NOT NULL CHECK (balance_cents >= 0),
    currency        TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    expires_at      INTEGER NOT NULL
);

CREATE TABLE devices (
    device_id       TEXT PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    public_key      BLOB NOT NULL,
    registered_at   INTEGER NOT NULL
);

CREATE TABLE orders (
    id              TEXT PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    client_order_id TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    title_id        TEXT NOT NULL REFERENCES titles(id),
    device_id       TEXT NOT NULL,
    charged_cents   INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (account_id, client_order_id)
);

CREATE TABLE licences (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders(id),
    title_id        TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    issued_at       INTEGER NOT NULL,
    revoked         INTEGER NOT NULL DEFAULT 0,
    bytes           BLOB NOT NULL
);

-- Every change of a balance, so a charge can always be explained.
CREATE TABLE ledger (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    delta_cents     INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    order_id        TEXT,
    created_at      INTEGER NOT NULL
);

CREATE TABLE store_keys (
    name            TEXT PRIMARY KEY,
    secret          BLOB NOT NULL
);
