-- The work a title is a variant of (its SD and HD variants share one): an account holding one
-- variant gets the others without a second charge, and the one-PC rules span all of them.
-- A title that names no work is its own.
ALTER TABLE titles ADD COLUMN work TEXT;
UPDATE titles SET work = COALESCE(json_extract(meta_json, '$.work'), id);
CREATE INDEX titles_work ON titles (work);
