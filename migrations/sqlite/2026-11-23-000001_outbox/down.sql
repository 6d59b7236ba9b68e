DROP TABLE complaints;
DROP TABLE one_stop_events;
DROP TABLE sms_opt_outs;
DROP TABLE outbox;
DROP TABLE webhooks;
