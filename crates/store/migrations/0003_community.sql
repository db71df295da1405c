-- Community publishing: each device's Ed25519 publishing key, and the signed record of every
-- video a viewer published (kept for audit and moderation).
ALTER TABLE devices ADD COLUMN publisher_key BLOB;

CREATE TABLE community (
    title_id        TEXT PRIMARY KEY REFERENCES titles(id),
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    device_id       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    signature       TEXT NOT NULL,
    hidden          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
