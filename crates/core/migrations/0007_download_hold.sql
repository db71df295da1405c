-- What the person decided about a title's download, kept across restarts (librqbit's own
-- persistence is off: the library decides what the session re-adds at start). NULL: download
-- and seed as usual; 'paused': re-added paused; 'removed': left out of the session until the
-- person watches or gets the title again. Not part of the licence seal: it grants nothing.
ALTER TABLE library ADD COLUMN download_hold TEXT CHECK (download_hold IN ('paused', 'removed'));
