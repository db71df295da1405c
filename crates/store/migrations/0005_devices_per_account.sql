-- A computer is registered per account: two accounts on one shared or resold PC each have their
-- own row (with their own key and limit), nobody can squat a device id another account will
-- need, and deactivating a computer releases nothing anyone else waits for. SQLite cannot
-- change a primary key in place: the table is copied.
CREATE TABLE devices_per_account (
    device_id       TEXT NOT NULL,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    public_key      BLOB NOT NULL,
    registered_at   INTEGER NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    publisher_key   BLOB,
    PRIMARY KEY (account_id, device_id)
);
INSERT INTO devices_per_account (device_id, account_id, public_key, registered_at, active, publisher_key)
    SELECT device_id, account_id, public_key, registered_at, active, publisher_key FROM devices;
DROP TABLE devices;
ALTER TABLE devices_per_account RENAME TO devices;
