-- The licence state of each title (first frame, revocation, licence bytes), sealed with a MAC
-- under a key derived from the device key, so an edit outside Marquee is detected. NULL for
-- rows written before sealing existed; those are sealed once, at the first start that has it.
ALTER TABLE library ADD COLUMN seal BLOB;
