CREATE TABLE zones (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    post_office_id BIGINT NOT NULL REFERENCES post_offices(id),
    area TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX zones_post_office ON zones(post_office_id);

CREATE TABLE courier_zones (
    courier_id BIGINT NOT NULL REFERENCES couriers(id),
    zone_id BIGINT NOT NULL REFERENCES zones(id),
    PRIMARY KEY (courier_id, zone_id)
);

ALTER TABLE couriers ADD COLUMN days_off TEXT NOT NULL DEFAULT '[]';

CREATE TABLE courier_positions (
    courier_id BIGINT PRIMARY KEY NOT NULL REFERENCES couriers(id),
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    at TIMESTAMP NOT NULL,
    accuracy_m DOUBLE,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE position_trail (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    courier_id BIGINT NOT NULL REFERENCES couriers(id),
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    at TIMESTAMP NOT NULL,
    accuracy_m DOUBLE
);
CREATE INDEX position_trail_courier_at ON position_trail(courier_id, at);
CREATE INDEX position_trail_at ON position_trail(at);

ALTER TABLE tasks ADD COLUMN zone_id BIGINT REFERENCES zones(id);
ALTER TABLE tasks ADD COLUMN outside_zone BOOLEAN NOT NULL DEFAULT FALSE;
