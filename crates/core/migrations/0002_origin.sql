-- Where a library title comes from: the store, published from this computer, or added from a
-- magnet link or torrent file (not from the store).
ALTER TABLE library ADD COLUMN origin TEXT NOT NULL DEFAULT 'store';
