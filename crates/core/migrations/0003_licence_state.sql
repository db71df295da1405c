-- Licence state the store tells us about: revoked licences never play again, and a first frame
-- that could not be reported yet is retried.
ALTER TABLE library ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN first_frame_reported INTEGER NOT NULL DEFAULT 0;
