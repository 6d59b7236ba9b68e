-- One planning run (route plan or auto-assignment) per post office and day at a time,
-- across every node: taken by a conditional write, freed at the end or on expiry.
CREATE TABLE dispatch_leases (
    post_office_id BIGINT NOT NULL REFERENCES post_offices(id),
    day DATE NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (post_office_id, day)
);

-- One-time codes sent to the citizen's phone for a pickup or a delivery: stored as a
-- keyed hash, valid until expires_at, a few tries, used once.
CREATE TABLE task_otps (
    id BIGSERIAL PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    code_hash TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    tries INTEGER NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_otps_task ON task_otps (task_id, id);
