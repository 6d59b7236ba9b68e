-- A courier's shift-end hand-over of the day's cash to the post office cashier
-- (đối soát thu hộ): one per courier and day, taken by a conditional insert.
CREATE TABLE cash_handovers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    courier_id BIGINT NOT NULL REFERENCES couriers(id),
    day DATE NOT NULL,
    amount_vnd BIGINT NOT NULL,
    collected_vnd BIGINT NOT NULL,
    cashier_name TEXT NOT NULL,
    note TEXT,
    recorded_by BIGINT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (courier_id, day)
);
CREATE INDEX cash_handovers_day ON cash_handovers (day);
