ALTER TABLE agencies DROP COLUMN lunch_end;
ALTER TABLE agencies DROP COLUMN lunch_start;
ALTER TABLE agencies DROP COLUMN closes_at;
ALTER TABLE agencies DROP COLUMN opens_at;
