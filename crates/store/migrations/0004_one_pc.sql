-- Accounts people share a store with: the device a session registered (deactivating a
-- device ends its sessions).
ALTER TABLE sessions ADD COLUMN device_id TEXT;
CREATE INDEX sessions_device ON sessions (device_id);
