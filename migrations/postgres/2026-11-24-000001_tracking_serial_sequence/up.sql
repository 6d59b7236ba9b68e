-- Tracking serials come from a sequence: nextval takes no row lock, so concurrent
-- intakes no longer queue on the counter row until their commit. A rolled-back intake
-- leaves a gap in the serials, which tracking codes allow.
CREATE SEQUENCE tracking_serial;
SELECT setval('tracking_serial', GREATEST(value, 1), value > 0)
  FROM counters WHERE name = 'tracking_serial';
DELETE FROM counters WHERE name = 'tracking_serial';
