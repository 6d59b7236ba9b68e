DROP TABLE task_otps;
DROP TABLE dispatch_leases;
