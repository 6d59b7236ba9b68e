ALTER TABLE tasks DROP COLUMN outside_zone;
ALTER TABLE tasks DROP COLUMN zone_id;
DROP TABLE position_trail;
DROP TABLE courier_positions;
ALTER TABLE couriers DROP COLUMN days_off;
DROP TABLE courier_zones;
DROP TABLE zones;
