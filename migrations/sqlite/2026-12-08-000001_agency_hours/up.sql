-- Desk hours of an agency as times (HH:MM), for planning hand-overs and result
-- collections; opening_hours stays the free text shown to people.
ALTER TABLE agencies ADD COLUMN opens_at TEXT;
ALTER TABLE agencies ADD COLUMN closes_at TEXT;
ALTER TABLE agencies ADD COLUMN lunch_start TEXT;
ALTER TABLE agencies ADD COLUMN lunch_end TEXT;
