-- The store as a service: catalog versions and sale state, device deactivation, licence
-- first frames, moves and revocation, and vouchers.
ALTER TABLE titles ADD COLUMN for_sale INTEGER NOT NULL DEFAULT 1;
CREATE INDEX titles_seq ON titles (seq);

ALTER TABLE devices ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
CREATE INDEX devices_account ON devices (account_id);

ALTER TABLE licences ADD COLUMN first_frame_at INTEGER;
-- The licence this one replaced on another device (a moved purchase); NULL for the licence
-- the order itself issued.
ALTER TABLE licences ADD COLUMN moved_from TEXT;
CREATE INDEX licences_order ON licences (order_id);
CREATE INDEX licences_device ON licences (device_id);

CREATE INDEX orders_account ON orders (account_id, created_at);
CREATE INDEX sessions_account ON sessions (account_id);

-- Only a hash of each code is kept: a copy of the database redeems nothing.
CREATE TABLE vouchers (
    code_hash       TEXT PRIMARY KEY,
    value_cents     INTEGER NOT NULL CHECK (value_cents > 0),
    created_at      INTEGER NOT NULL,
    redeemed_by     INTEGER REFERENCES accounts(id),
    redeemed_at     INTEGER
);
