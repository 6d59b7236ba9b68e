-- Notifications and webhook deliveries, written in the transaction of the event that
-- causes them and sent by the outbox worker (at least once, with a stable delivery id).
CREATE TABLE webhooks (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('sms', 'webhook')),
    target TEXT NOT NULL,
    webhook_id BIGINT REFERENCES webhooks(id),
    event_type TEXT NOT NULL,
    dossier_id BIGINT REFERENCES dossiers(id),
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'skipped')),
    lease_owner TEXT,
    lease_until TIMESTAMP,
    last_error TEXT,
    queued_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_dossier ON outbox(dossier_id);

CREATE TABLE sms_opt_outs (
    dossier_id BIGINT PRIMARY KEY NOT NULL REFERENCES dossiers(id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE one_stop_events (
    event_id TEXT PRIMARY KEY NOT NULL,
    signature TEXT NOT NULL UNIQUE,
    dossier_id BIGINT REFERENCES dossiers(id),
    kind TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE complaints (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    content TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'answered')),
    received_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    answer TEXT,
    answered_at TIMESTAMP,
    answered_by BIGINT REFERENCES users(id),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX complaints_dossier ON complaints(dossier_id);
CREATE INDEX complaints_status ON complaints(status, due_at);
