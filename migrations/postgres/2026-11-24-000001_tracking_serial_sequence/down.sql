INSERT INTO counters (name, value)
  SELECT 'tracking_serial', CASE WHEN is_called THEN last_value ELSE last_value - 1 END
  FROM tracking_serial;
DROP SEQUENCE tracking_serial;
