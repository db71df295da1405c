-- The download queue: when the person limits how many titles download at once, the others wait
-- and start in this order (lowest first). A new title goes to the end; the person moves titles
-- in the Downloads tab. Titles already in the library keep the order they were acquired in.
ALTER TABLE library ADD COLUMN queue_order INTEGER NOT NULL DEFAULT 0;
UPDATE library SET queue_order = (
    SELECT COUNT(*) FROM library AS earlier
    WHERE earlier.acquired_at < library.acquired_at
       OR (earlier.acquired_at = library.acquired_at AND earlier.title_id <= library.title_id)
);
