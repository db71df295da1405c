-- What this computer received and gave, per title and slot of time: a minute for the last two
-- days, a (UTC) day before that. The Downloads tab shows it ("give back"); the seeding policy
-- reads a title's ratio and seeding time from it.
CREATE TABLE give_back (
    title_id TEXT NOT NULL,
    -- Unix seconds at the start of the slot.
    slot_s INTEGER NOT NULL,
    from_viewers INTEGER NOT NULL DEFAULT 0,
    from_store INTEGER NOT NULL DEFAULT 0,
    given INTEGER NOT NULL DEFAULT 0,
    -- Seconds it spent complete and seeding.
    seeding_s INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (title_id, slot_s)
) WITHOUT ROWID;
CREATE INDEX give_back_by_slot ON give_back (slot_s);
