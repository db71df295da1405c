-- Community publishing: each device's Ed25519 publishing key, and the signed record of every
-- video a viewer published (kept for audit and moderation).
ALTER TABLE devices ADD COLUMN publisher_key BYTEA;

CREATE TABLE community (
    title_id        TEXT PRIMARY KEY REFERENCES titles(id),
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    device_id       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    signature       TEXT NOT NULL,
    hidden          BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
