CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE provinces (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    name_folded TEXT NOT NULL
);

CREATE TABLE wards (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces(code),
    name_folded TEXT NOT NULL,
    centre_lat DOUBLE PRECISION,
    centre_lon DOUBLE PRECISION
);
CREATE INDEX wards_province ON wards(province_code);

CREATE TABLE agencies (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'commune')),
    ward_code TEXT NOT NULL REFERENCES wards(code),
    province_code TEXT NOT NULL REFERENCES provinces(code),
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    opening_hours TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX agencies_province ON agencies(province_code);

CREATE TABLE post_offices (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    ward_code TEXT NOT NULL REFERENCES wards(code),
    province_code TEXT NOT NULL REFERENCES provinces(code),
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX post_offices_province ON post_offices(province_code);

CREATE TABLE procedures (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    agency_level TEXT NOT NULL CHECK (agency_level IN ('province', 'commune')),
    agency_fee_vnd BIGINT NOT NULL CHECK (agency_fee_vnd >= 0),
    processing_days INTEGER NOT NULL CHECK (processing_days >= 0),
    required_documents TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE holidays (
    day DATE PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    full_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'operator', 'courier', 'clerk')),
    post_office_id BIGINT REFERENCES post_offices(id),
    agency_id BIGINT REFERENCES agencies(id),
    phone TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE refresh_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    family TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family);
