CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('tracking_serial', 0);

CREATE TABLE couriers (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id),
    post_office_id BIGINT NOT NULL REFERENCES post_offices(id),
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    shift_start TEXT NOT NULL,
    shift_end TEXT NOT NULL,
    vehicle TEXT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE citizens (
    id BIGSERIAL PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    id_number TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE citizen_places (
    id BIGSERIAL PRIMARY KEY,
    citizen_id BIGINT NOT NULL REFERENCES citizens(id),
    ward_code TEXT NOT NULL REFERENCES wards(code),
    street TEXT NOT NULL,
    street_folded TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    from_gps BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (citizen_id, ward_code, street_folded)
);

CREATE TABLE dossiers (
    id BIGSERIAL PRIMARY KEY,
    tracking_code TEXT NOT NULL UNIQUE,
    citizen_id BIGINT NOT NULL REFERENCES citizens(id),
    citizen_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    id_number TEXT,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    province_code TEXT NOT NULL REFERENCES provinces(code),
    street TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    location_approximate BOOLEAN NOT NULL,
    procedure_code TEXT NOT NULL REFERENCES procedures(code),
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    service TEXT NOT NULL,
    return_method TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    pickup_from TIMESTAMP,
    pickup_to TIMESTAMP,
    postal_fee_vnd BIGINT NOT NULL,
    agency_fee_vnd BIGINT NOT NULL,
    total_vnd BIGINT NOT NULL,
    note TEXT,
    agency_dossier_code TEXT,
    appointment_date DATE,
    outcome TEXT,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dossiers_status ON dossiers(status);
CREATE INDEX dossiers_phone ON dossiers(phone);
CREATE INDEX dossiers_agency ON dossiers(agency_id);
CREATE INDEX dossiers_ward ON dossiers(ward_code);
CREATE INDEX dossiers_created ON dossiers(created_at);

CREATE TABLE tasks (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    courier_id BIGINT REFERENCES couriers(id),
    seq INTEGER,
    window_from TIMESTAMP,
    window_to TIMESTAMP,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    eta TIMESTAMP,
    attempts INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tasks_dossier ON tasks(dossier_id);
CREATE INDEX tasks_courier ON tasks(courier_id, status);
CREATE INDEX tasks_status ON tasks(status);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    task_id BIGINT REFERENCES tasks(id),
    kind TEXT NOT NULL,
    status_after TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users(id),
    actor_role TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    note TEXT,
    data TEXT NOT NULL
);
CREATE INDEX events_dossier ON events(dossier_id, id);

CREATE FUNCTION events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'events are append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
